/* test_checkpoint.c - opening checkpoints: sharded folders and their index
 * (valid and hostile), and the config.json rewrite that travels with them. */
#include "tests/unit/check.h"

#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/io/checkpoint.h"
#include "runtime/io/hfconfig.h"

static char tmp_root[64];

static int rm_cb(const char *p, const struct stat *sb, int type, struct FTW *ftw) {
    (void)sb;
    (void)ftw;
    return type == FTW_DP ? rmdir(p) : unlink(p);
}

static void write_file(const char *dir, const char *name, const void *data, size_t len) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) return;
    fwrite(data, 1, len, f);
    fclose(f);
}

static void write_text(const char *dir, const char *name, const char *text) {
    write_file(dir, name, text, strlen(text));
}

/* A safetensors file holding F32 tensors of shape [2] named in `names`
 * (comma-separated), element values base, base+1, ... in file order. */
static void write_shard(const char *dir, const char *file, const char *names, float base) {
    char header[1024] = "{\"__metadata__\":{\"format\":\"pt\"}";
    char list[256];
    snprintf(list, sizeof list, "%s", names);
    size_t n = 0;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","), n++) {
        size_t l = strlen(header);
        snprintf(header + l, sizeof header - l, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[%zu,%zu]}",
                 tok, n * 8, n * 8 + 8);
    }
    strcat(header, "}");
    size_t h = strlen(header);
    size_t len = 8 + h + n * 8;
    unsigned char *b = calloc(1, len);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    for (size_t i = 0; i < 2 * n; i++) {
        float v = base + (float)i;
        memcpy(b + 8 + h + 4 * i, &v, 4);
    }
    write_file(dir, file, b, len);
    free(b);
}

static char *new_dir(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", tmp_root, name);
    mkdir(buf, 0755);
    return buf;
}

static bool contains(const char *hay, const char *needle) {
    return strstr(hay, needle) != NULL;
}

/* ckpt_open must fail with a message containing each of the phrases. */
static bool open_fails(const char *dir, const char *p1, const char *p2) {
    ErrBuf err = {""};
    Ckpt *c = ckpt_open(dir, &err);
    bool ok = c == NULL && contains(err.msg, p1) && (!p2 || contains(err.msg, p2));
    if (!ok) printf("  %s -> %s\n", dir, c ? "(opened)" : err.msg);
    ckpt_close(c);
    return ok;
}

static void test_valid_sharded(void) {
    char dir[256];
    new_dir(dir, sizeof dir, "valid");
    write_shard(dir, "model-00001-of-00002.safetensors", "b,a,unlisted", 1.0f);
    write_shard(dir, "model-00002-of-00002.safetensors", "c", 10.0f);
    write_text(dir, "model.safetensors.index.json",
               "{\"metadata\":{\"total_size\":24},\"weight_map\":{"
               "\"c\":\"model-00002-of-00002.safetensors\","
               "\"a\":\"model-00001-of-00002.safetensors\","
               "\"b\":\"model-00001-of-00002.safetensors\"}}");
    ErrBuf err = {""};
    Ckpt *c = ckpt_open(dir, &err);
    CHECK(c != NULL);
    if (!c) {
        printf("  %s\n", err.msg);
        return;
    }
    CHECK(c->n_shards == 2);    /* each shard opened once */
    CHECK(c->n_tensors == 3);   /* "unlisted" is not in the weight_map */
    CHECK(ckpt_find(c, "unlisted") == NULL);
    CHECK_STR(c->tensors[0].name, "a");
    CHECK_STR(c->tensors[2].name, "c");
    CHECK_STR(c->dir, dir);
    const CkptTensor *a = ckpt_find(c, "a"), *cc = ckpt_find(c, "c");
    float v[2] = {0, 0};
    CHECK(a && a->file == c->shards[1] && a->shape.rank == 1 && a->nbytes == 8);
    if (a) {
        ckpt_read_f32(a, v);
        CHECK(v[0] == 3.0f && v[1] == 4.0f); /* second in its file */
    }
    CHECK(cc && contains(cc->file->path, "model-00002-of-00002.safetensors"));
    if (cc) {
        ckpt_read_f32(cc, v);
        CHECK(v[0] == 10.0f && v[1] == 11.0f);
    }
    ckpt_close(c);

    /* A trailing slash is fine; model.safetensors wins over the index. */
    char p[300];
    snprintf(p, sizeof p, "%s/", dir);
    write_shard(dir, "model.safetensors", "solo", 5.0f);
    c = ckpt_open(p, &err);
    CHECK(c && c->n_tensors == 1 && ckpt_find(c, "solo"));
    if (c) CHECK_STR(c->dir, dir);
    ckpt_close(c);
}

static void test_bad_shard_names(void) {
    char dir[256];
    new_dir(dir, sizeof dir, "names");
    write_shard(tmp_root, "outside.safetensors", "a", 1.0f);
    write_text(dir, "model.safetensors.index.json", "{\"weight_map\":{\"a\":\"../outside.safetensors\"}}");
    CHECK(open_fails(dir, "shard name '../outside.safetensors'", "tensor 'a'"));
    CHECK(open_fails(dir, "model.safetensors.index.json", "plain file name"));
    char abs[300], idx[600];
    snprintf(abs, sizeof abs, "%s/outside.safetensors", tmp_root);
    snprintf(idx, sizeof idx, "{\"weight_map\":{\"a\":\"%s\"}}", abs);
    write_text(dir, "model.safetensors.index.json", idx);
    CHECK(open_fails(dir, "plain file name", "tensor 'a'"));
    write_text(dir, "model.safetensors.index.json", "{\"weight_map\":{\"a\":\"sub/x.safetensors\"}}");
    CHECK(open_fails(dir, "plain file name", NULL));
    write_text(dir, "model.safetensors.index.json", "{\"weight_map\":{\"a\":\"..\"}}");
    CHECK(open_fails(dir, "plain file name", NULL));
    write_text(dir, "model.safetensors.index.json", "{\"weight_map\":{\"a\":\"\"}}");
    CHECK(open_fails(dir, "plain file name", NULL));
    write_text(dir, "model.safetensors.index.json", "{\"weight_map\":{\"a\":3}}");
    CHECK(open_fails(dir, "must be a string", "tensor 'a'"));
}

static void test_missing_shard(void) {
    char dir[256];
    new_dir(dir, sizeof dir, "missing");
    write_shard(dir, "s1.safetensors", "a", 1.0f);
    write_text(dir, "model.safetensors.index.json",
               "{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}}");
    CHECK(open_fails(dir, "shard 's2.safetensors' does not exist", "tensor 'b'"));
}

static void test_tensor_not_in_shard(void) {
    char dir[256];
    new_dir(dir, sizeof dir, "lacks");
    write_shard(dir, "s1.safetensors", "a", 1.0f);
    write_shard(dir, "s2.safetensors", "b", 1.0f);
    write_text(dir, "model.safetensors.index.json",
               "{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\"}}");
    CHECK(open_fails(dir, "tensor 'b' is mapped to shard 's1.safetensors', which does not contain it", NULL));
}

static void test_bad_index(void) {
    char dir[256];
    new_dir(dir, sizeof dir, "badindex");
    write_shard(dir, "s1.safetensors", "a", 1.0f);
    write_text(dir, "model.safetensors.index.json",
               "{\"weight_map\":{\"a\":\"s1.safetensors\",\"a\":\"s1.safetensors\"}}");
    CHECK(open_fails(dir, "tensor 'a' is listed twice", NULL));
    write_text(dir, "model.safetensors.index.json", "{\"weight_map\":");
    CHECK(open_fails(dir, "model.safetensors.index.json: not valid JSON", NULL));
    write_text(dir, "model.safetensors.index.json", "{\"metadata\":{}}");
    CHECK(open_fails(dir, "weight_map", NULL));
    write_text(dir, "model.safetensors.index.json", "[]");
    CHECK(open_fails(dir, "weight_map", NULL));
    /* A broken shard: its own error, naming the shard file. */
    write_text(dir, "s1.safetensors", "xx");
    write_text(dir, "model.safetensors.index.json", "{\"weight_map\":{\"a\":\"s1.safetensors\"}}");
    CHECK(open_fails(dir, "s1.safetensors: too short", NULL));

    char empty[256];
    new_dir(empty, sizeof empty, "empty");
    char want[600];
    snprintf(want, sizeof want, "folder %s has no checkpoint: neither model.safetensors nor model.safetensors.index.json, nor PyTorch's pytorch_model.bin or pytorch_model.bin.index.json", empty);
    CHECK(open_fails(empty, want, NULL));
}

static void test_hfconfig(void) {
    char dir[256];
    new_dir(dir, sizeof dir, "config");
    char *out = NULL;
    size_t len = 0;
    ErrBuf err = {""};
    CHECK(hfconfig_rewrite(dir, "bfloat16", 3, -1, &out, &len, &err) == 1 && out == NULL);

    write_text(dir, "config.json",
               "{\"architectures\":[\"LlamaForCausalLM\"],\"num_hidden_layers\":4,\"torch_dtype\":\"float32\","
               "\"vocab_size\":64}");
    CHECK(hfconfig_rewrite(dir, "bfloat16", 2, -1, &out, &len, &err) == 0);
    CHECK(out && len == strlen(out));
    if (out) {
        const char *a = strstr(out, "architectures"), *n = strstr(out, "\"num_hidden_layers\":\t2"),
                   *t = strstr(out, "\"torch_dtype\":\t\"bfloat16\""), *v = strstr(out, "vocab_size");
        CHECK(a && n && t && v && a < n && n < t && t < v); /* order kept */
    }
    free(out);
    out = NULL;

    /* Missing keys are added; NULL / -1 leave things alone. */
    write_text(dir, "config.json", "{\"model_type\":\"llama\"}");
    CHECK(hfconfig_rewrite(dir, "float16", -1, -1, &out, &len, &err) == 0);
    CHECK(out && contains(out, "\"torch_dtype\":\t\"float16\"") && !contains(out, "num_hidden_layers"));
    free(out);
    out = NULL;
    /* A depth with no key to hold it is an error, not a second key. */
    CHECK(hfconfig_rewrite(dir, NULL, 7, -1, &out, &len, &err) < 0 && out == NULL);
    CHECK(contains(err.msg, "config.json") && contains(err.msg, "7 blocks"));

    /* GPT-2 family: n_layer is updated, no num_hidden_layers added. */
    write_text(dir, "config.json", "{\"model_type\":\"gpt2\",\"n_layer\":4,\"vocab_size\":64}");
    CHECK(hfconfig_rewrite(dir, NULL, 6, 80, &out, &len, &err) == 0);
    CHECK(out && contains(out, "\"n_layer\":\t6") && !contains(out, "num_hidden_layers") &&
          contains(out, "\"vocab_size\":\t80"));
    free(out);
    out = NULL;

    /* Gemma 3 style: the nested text_config holds depth, vocabulary and
     * dtype; the vision tower's depth is left alone. */
    write_text(dir, "config.json",
               "{\"model_type\":\"gemma3\",\"text_config\":{\"num_hidden_layers\":4,\"vocab_size\":64,"
               "\"torch_dtype\":\"float32\"},\"vision_config\":{\"num_hidden_layers\":2}}");
    CHECK(hfconfig_rewrite(dir, "bfloat16", 6, 70, &out, &len, &err) == 0);
    if (out) {
        const char *v = strstr(out, "vision_config");
        const char *t = strstr(out, "\"num_hidden_layers\":\t6");
        CHECK(v && t && t < v);          /* the text depth, inside text_config */
        CHECK(strstr(v, "\"num_hidden_layers\":\t2") != NULL);
        CHECK(contains(out, "\"vocab_size\":\t70") && !strstr(v, "vocab_size"));
        /* top-level torch_dtype added, the nested one updated: both bfloat16 */
        CHECK(!contains(out, "float32"));
        const char *first = strstr(out, "\"num_hidden_layers\"");
        CHECK(first == t);               /* no top-level copy added */
    }
    free(out);
    out = NULL;

    /* Two spellings present: both updated, so they cannot disagree. */
    write_text(dir, "config.json", "{\"num_hidden_layers\":4,\"n_layer\":4,\"dtype\":\"float32\"}");
    CHECK(hfconfig_rewrite(dir, "float16", 3, -1, &out, &len, &err) == 0);
    CHECK(out && contains(out, "\"num_hidden_layers\":\t3") && contains(out, "\"n_layer\":\t3") &&
          contains(out, "\"dtype\":\t\"float16\"") && !contains(out, "torch_dtype"));
    free(out);
    out = NULL;

    write_text(dir, "config.json", "[1]");
    CHECK(hfconfig_rewrite(dir, "float16", 1, -1, &out, &len, &err) < 0 && contains(err.msg, "config.json"));
    write_text(dir, "config.json", "{");
    CHECK(hfconfig_rewrite(dir, "float16", 1, -1, &out, &len, &err) < 0 && out == NULL);
}

int main(void) {
    snprintf(tmp_root, sizeof tmp_root, "/tmp/mergelang-ckpt-XXXXXX");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 2;
    }
    RUN_TEST(test_valid_sharded);
    RUN_TEST(test_bad_shard_names);
    RUN_TEST(test_missing_shard);
    RUN_TEST(test_tensor_not_in_shard);
    RUN_TEST(test_bad_index);
    RUN_TEST(test_hfconfig);
    nftw(tmp_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return CHECK_DONE();
}
