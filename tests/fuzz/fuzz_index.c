/* fuzz_index.c - libFuzzer target: the model.safetensors.index.json parser.
 *
 * Once per process a temporary folder is filled with two valid shards and
 * with traps an index may point at: a file that is not a safetensors file,
 * a folder, a symlink to itself. Each input is written to that folder as
 * model.safetensors.index.json and the folder is opened with ckpt_open. A
 * refusal must carry a message; an accepted checkpoint must list sorted,
 * findable tensors whose bytes can be decoded. The folder is removed at exit.
 *
 * Built by `make fuzz`; replayed on tests/fuzz/corpus/index by
 * tests/unit/test_fuzz_replay.c, which includes this file with
 * LLVMFuzzerTestOneInput renamed (hence the xf_ prefix on every static). */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/io/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char xf_dir[64];
static char xf_index[128];

static int xf_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void xf_cleanup(void) {
    if (xf_dir[0]) nftw(xf_dir, xf_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int xf_write(const char *name, const void *bytes, size_t len) {
    char path[160];
    snprintf(path, sizeof path, "%s/%s", xf_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    ssize_t w = write(fd, bytes, len);
    close(fd);
    return w == (ssize_t)len ? 0 : -1;
}

/* A safetensors file from its JSON header and data section. */
static int xf_shard(const char *name, const char *header, const void *body, size_t body_len) {
    size_t hlen = strlen(header);
    unsigned char buf[512];
    if (8 + hlen + body_len > sizeof buf) return -1;
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, header, hlen);
    memcpy(buf + 8 + hlen, body, body_len);
    return xf_write(name, buf, 8 + hlen + body_len);
}

static bool xf_setup(void) {
    static int state; /* 0 not tried, 1 ready, -1 failed */
    if (state) return state > 0;
    state = -1;
    snprintf(xf_dir, sizeof xf_dir, "/tmp/mergelang-fuzz-index-XXXXXX");
    if (!mkdtemp(xf_dir)) {
        xf_dir[0] = '\0';
        return false;
    }
    atexit(xf_cleanup);
    snprintf(xf_index, sizeof xf_index, "%s/model.safetensors.index.json", xf_dir);
    float f32[4] = { 1, 2, 3, 4 };
    unsigned char body1[20];
    memcpy(body1, f32, 16);
    body1[16] = 0x80, body1[17] = 0x3f, body1[18] = 0x00, body1[19] = 0x40; /* bf16 1, 2 */
    unsigned char body2[6 + 8 + 8] = { 0x00, 0x3c, 0x00, 0x40, 0x00, 0xbc }; /* f16 1, 2, -1 */
    double one = 1.0;
    memcpy(body2 + 6, &one, 8);
    body2[14] = 7; /* i64 7 */
    char dirpath[160], looppath[160];
    snprintf(dirpath, sizeof dirpath, "%s/dir.safetensors", xf_dir);
    snprintf(looppath, sizeof looppath, "%s/loop.safetensors", xf_dir);
    if (xf_shard("model-00001-of-00002.safetensors",
                 "{\"model.embed_tokens.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                 "\"model.layers.0.w\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[16,20]}}",
                 body1, sizeof body1) != 0 ||
        xf_shard("model-00002-of-00002.safetensors",
                 "{\"__metadata__\":{\"format\":\"pt\"},"
                 "\"model.norm.weight\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                 "\"lm_head.weight\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[6,14]},"
                 "\"extra\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[14,22]}}",
                 body2, sizeof body2) != 0 ||
        xf_write("junk.safetensors", "not a safetensors file\n", 23) != 0 ||
        mkdir(dirpath, 0755) != 0 || symlink("loop.safetensors", looppath) != 0)
        return false;
    state = 1;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!xf_setup()) abort();
    if (xf_write("model.safetensors.index.json", data, size) != 0) abort();
    ErrBuf err;
    err.msg[0] = '\0';
    Ckpt *c = ckpt_open(xf_dir, &err);
    if (!c) {
        if (!err.msg[0] || !memchr(err.msg, '\0', sizeof err.msg)) abort();
        return 0;
    }
    for (size_t i = 0; i < c->n_tensors; i++) {
        const CkptTensor *t = &c->tensors[i];
        if (i > 0 && strcmp(c->tensors[i - 1].name, t->name) >= 0) abort();
        if (ckpt_find(c, t->name) != t || !t->file) abort();
        int64_t n = shape_numel(&t->shape);
        if (n < 0 || !dtype_is_computable(t->dtype)) continue;
        float *dst = malloc((size_t)(n ? n : 1) * sizeof *dst);
        if (!dst) continue;
        ckpt_read_f32(t, dst);
        free(dst);
    }
    ckpt_close(c);
    return 0;
}
