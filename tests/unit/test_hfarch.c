/* test_hfarch.c - reading the architecture fields of config.json
 * (runtime/io/hfarch.h): present, nested text_config, absent, of the wrong
 * type, no config.json, and a file that is not JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/check.h"
#include "runtime/io/hfarch.h"

static char dir[64];

/* Writes dir/config.json with text (or removes it when text is NULL). */
static void put_config(const char *text) {
    char path[128];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (!text) {
        unlink(path);
        return;
    }
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void test_fields(void) {
    HfArch a;
    ErrBuf err;
    put_config("{\"architectures\": [\"LlamaForCausalLM\", \"X\"], \"model_type\": \"llama\", "
               "\"hidden_size\": 4096, \"tie_word_embeddings\": true}");
    CHECK(hfarch_read(dir, &a, &err) == 0);
    CHECK_STR(a.architectures, "LlamaForCausalLM, X");
    CHECK_STR(a.model_type, "llama");
    CHECK(a.hidden_size == 4096);
    CHECK(a.tie_word_embeddings == 1);
}

static void test_text_config(void) {
    HfArch a;
    ErrBuf err;
    put_config("{\"model_type\": \"llava\", \"text_config\": {\"hidden_size\": 5120}, "
               "\"tie_word_embeddings\": false}");
    CHECK(hfarch_read(dir, &a, &err) == 0);
    CHECK_STR(a.architectures, "");
    CHECK(a.hidden_size == 5120);
    CHECK(a.tie_word_embeddings == 0);
}

static void test_absent_and_wrong_types(void) {
    HfArch a;
    ErrBuf err;
    put_config("{\"architectures\": \"LlamaForCausalLM\", \"model_type\": 3, \"hidden_size\": 1.5, "
               "\"tie_word_embeddings\": \"yes\"}");
    CHECK(hfarch_read(dir, &a, &err) == 0);
    CHECK_STR(a.architectures, "");
    CHECK_STR(a.model_type, "");
    CHECK(a.hidden_size == -1);
    CHECK(a.tie_word_embeddings == -1);
}

static void test_missing_and_broken(void) {
    HfArch a;
    ErrBuf err;
    put_config(NULL);
    CHECK(hfarch_read(dir, &a, &err) == 1);
    put_config("[1, 2]");
    CHECK(hfarch_read(dir, &a, &err) == -1);
    CHECK(strstr(err.msg, "config.json: not a JSON object") != NULL);
    put_config("{\"model_type\": ");
    CHECK(hfarch_read(dir, &a, &err) == -1);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/test_hfarch.XXXXXX");
    if (!mkdtemp(dir)) return 1;
    RUN_TEST(test_fields);
    RUN_TEST(test_text_config);
    RUN_TEST(test_absent_and_wrong_types);
    RUN_TEST(test_missing_and_broken);
    put_config(NULL);
    rmdir(dir);
    return CHECK_DONE();
}
