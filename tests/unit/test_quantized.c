/* test_quantized.c - quant_find_scaled: each scale convention is found with
 * its weight and counted, and plain checkpoints (a float weight with a
 * learned NAME_scale among them) are not. */
#include "tests/unit/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/io/quantized.h"

/* A safetensors file with that header and zero data, opened as a Ckpt. */
static Ckpt *open_header(const char *header, size_t data_bytes) {
    char path[] = "/tmp/test_quantized_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "wb");
    uint64_t n = strlen(header);
    unsigned char len[8];
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)(n >> (8 * i));
    fwrite(len, 1, 8, f);
    fwrite(header, 1, n, f);
    for (size_t i = 0; i < data_bytes; i++) fputc(0, f);
    fclose(f);
    ErrBuf err;
    char named[64];
    snprintf(named, sizeof named, "%s.safetensors", path);
    rename(path, named);
    Ckpt *c = ckpt_open(named, &err);
    unlink(named);
    return c;
}

static void test_block_scaled(void) {
    Ckpt *c = open_header("{\"a.weight\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]},"
                          "\"a.weight_scale_inv\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                          "\"b.weight\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[8,12]},"
                          "\"b.weight_scale_inv\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}",
                          16);
    CHECK(c != NULL);
    QuantFinding q;
    CHECK(quant_find_scaled(c, &q) && q.count == 2);
    CHECK_STR(q.weight->name, "a.weight");
    CHECK_STR(q.companion->name, "a.weight_scale_inv");
    CHECK(strstr(q.kind, "weight_scale_inv") != NULL);
    ckpt_close(c);
}

static void test_weight_scale_and_mxfp4(void) {
    Ckpt *c = open_header("{\"l.weight\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                          "\"l.weight_scale\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                          8);
    QuantFinding q;
    CHECK(c && quant_find_scaled(c, &q) && q.count == 1 && strcmp(q.weight->name, "l.weight") == 0);
    ckpt_close(c);
    c = open_header("{\"e.up_blocks\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                    "\"e.up_scales\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[4,5]}}",
                    5);
    CHECK(c && quant_find_scaled(c, &q) && q.count == 1 && strcmp(q.weight->name, "e.up_blocks") == 0);
    CHECK(strstr(q.kind, "MXFP4") != NULL);
    ckpt_close(c);
}

/* Plain FP8 and a float weight with a learned scale: nothing to refuse. */
static void test_plain_not_found(void) {
    Ckpt *c = open_header("{\"a.weight\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]},"
                          "\"n.weight\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]},"
                          "\"n.weight_scale\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]}}",
                          12);
    QuantFinding q;
    CHECK(c && !quant_find_scaled(c, &q) && q.count == 0);
    ckpt_close(c);
}

int main(void) {
    RUN_TEST(test_block_scaled);
    RUN_TEST(test_weight_scale_and_mxfp4);
    RUN_TEST(test_plain_not_found);
    return CHECK_DONE();
}
