/* test_safetensors.c - the safetensors writer and reader: round trips
 * through files and shards, the atomic folder replacement, and header
 * validation against hostile in-memory images. */
#include "tests/unit/check.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/io/checkpoint.h"
#include "runtime/io/safetensors.h"

static char tmp_root[64];

static int rm_cb(const char *p, const struct stat *sb, int type, struct FTW *ftw) {
    (void)sb;
    (void)ftw;
    return type == FTW_DP ? rmdir(p) : unlink(p);
}

static void rm_tree(const char *p) {
    nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_in(char *buf, size_t n, const char *rel) {
    snprintf(buf, n, "%s/%s", tmp_root, rel);
    return buf;
}

static bool exists(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0;
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    closedir(d);
    return n;
}

static char *slurp(const char *p, size_t *len) {
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    b[n] = '\0';
    fclose(f);
    if (len) *len = (size_t)n;
    return b;
}

static bool contains(const char *hay, const char *needle) {
    return hay && strstr(hay, needle) != NULL;
}

/* ---- writing and reading back --------------------------------------------------- */

#define N_SPECS 7
static const StwSpec specs[N_SPECS] = {
    {"model.embed_tokens.weight", DT_F32, {2, {4, 3}}},
    {"weird \"name\" \\ with ü", DT_BF16, {1, {5}}},
    {"half", DT_F16, {2, {2, 2}}},
    {"ids", DT_I64, {1, {3}}},
    {"scalar", DT_F64, {0, {0}}},
    {"empty", DT_F32, {2, {0, 4}}},
    {"a.last", DT_F32, {1, {10}}},
};

/* Deterministic bytes for tensor i. */
static void fill_bytes(size_t i, unsigned char *b, size_t n) {
    for (size_t k = 0; k < n; k++) b[k] = (unsigned char)(i * 31 + k * 7 + 1);
}

static uint64_t spec_bytes(const StwSpec *s) {
    return (uint64_t)shape_numel(&s->shape) * dtype_size(s->dtype);
}

static int write_all(StWriter *w, ErrBuf *err) {
    for (size_t i = 0; i < N_SPECS; i++) {
        unsigned char b[256];
        fill_bytes(i, b, (size_t)spec_bytes(&specs[i]));
        if (stw_write(w, i, b, err) < 0) return -1;
    }
    return 0;
}

static void check_tensors(const Ckpt *c) {
    CHECK(c->n_tensors == N_SPECS);
    for (size_t i = 1; i < c->n_tensors; i++) CHECK(strcmp(c->tensors[i - 1].name, c->tensors[i].name) < 0);
    for (size_t i = 0; i < N_SPECS; i++) {
        const CkptTensor *t = ckpt_find(c, specs[i].name);
        CHECK(t != NULL);
        if (!t) continue;
        CHECK(t->dtype == specs[i].dtype && shape_equal(&t->shape, &specs[i].shape));
        unsigned char b[256];
        size_t n = (size_t)spec_bytes(&specs[i]);
        fill_bytes(i, b, n);
        CHECK(t->nbytes == n && memcmp(t->data, b, n) == 0);
    }
    CHECK(ckpt_find(c, "nope") == NULL);
}

static void test_round_trip_single(void) {
    char dir[256], file[300];
    path_in(dir, sizeof dir, "single");
    ErrBuf err = {""};
    const char *meta[] = {"recipe", "x = \"y\"\n", "mergelang", "0.1", NULL};
    StWriter *w = stw_create(dir, specs, N_SPECS, 0, meta, false, &err);
    CHECK(w != NULL);
    if (!w) { printf("  %s\n", err.msg); return; }
    CHECK(stw_shard_count(w) == 1);
    CHECK(!exists(dir)); /* nothing under the target name before commit */
    CHECK(count_entries(tmp_root) == 1);
    CHECK(write_all(w, &err) == 0);
    CHECK(stw_add_file(w, "config.json", "{}\n", 3, &err) == 0);
    CHECK(stw_commit(w, &err) == 0);
    CHECK(count_entries(tmp_root) == 1); /* the temporary folder became the target */
    CHECK(count_entries(dir) == 2);

    snprintf(file, sizeof file, "%s/model.safetensors", dir);
    StFile *f = st_open(file, &err);
    CHECK(f != NULL);
    if (!f) { printf("  %s\n", err.msg); return; }
    CHECK(f->n_tensors == N_SPECS);
    CHECK(f->n_metadata == 3);
    if (f->n_metadata == 3) {
        CHECK_STR(f->metadata_keys[0], "format");
        CHECK_STR(f->metadata_values[0], "pt");
        CHECK_STR(f->metadata_keys[1], "recipe");
        CHECK_STR(f->metadata_values[1], "x = \"y\"\n");
        CHECK_STR(f->metadata_keys[2], "mergelang");
    }
    /* Header: length a multiple of 8, metadata first, tensors in the given order. */
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | f->map[i];
    CHECK(hlen % 8 == 0);
    char *h = strndup((const char *)f->map + 8, (size_t)hlen);
    CHECK(strncmp(h, "{\"__metadata__\":{\"format\":\"pt\"", 30) == 0);
    const char *p0 = strstr(h, "model.embed_tokens"), *p1 = strstr(h, "weird"), *p6 = strstr(h, "a.last");
    CHECK(p0 && p1 && p6 && p0 < p1 && p1 < p6);
    CHECK(contains(h, "\"shape\":[4,3]") && contains(h, "\"data_offsets\":[0,48]"));
    CHECK(contains(h, "\"scalar\":{\"dtype\":\"F64\",\"shape\":[]"));
    free(h);
    const StTensor *t = st_find(f, "empty");
    CHECK(t && t->nbytes == 0 && t->shape.rank == 2 && t->shape.dims[0] == 0);
    st_close(f);

    Ckpt *c = ckpt_open(dir, &err);
    CHECK(c != NULL);
    if (c) {
        check_tensors(c);
        CHECK(c->n_shards == 1);
        CHECK_STR(c->dir, dir);
        ckpt_close(c);
    }
    c = ckpt_open(file, &err); /* the file itself */
    CHECK(c != NULL);
    if (c) {
        check_tensors(c);
        CHECK_STR(c->dir, dir);
        ckpt_close(c);
    }
    char *cfg = slurp(strcat(dir, "/config.json"), NULL);
    CHECK_STR(cfg, "{}\n");
    free(cfg);
}

static void test_round_trip_sharded(void) {
    char dir[256], p[400];
    path_in(dir, sizeof dir, "sharded/");
    ErrBuf err = {""};
    /* Sizes 48, 10, 8, 24, 8, 0, 40 with at most 48 per shard:
     * [48] [10 8 24] [8 0 40]. */
    StWriter *w = stw_create(dir, specs, N_SPECS, 48, NULL, false, &err);
    CHECK(w != NULL);
    if (!w) { printf("  %s\n", err.msg); return; }
    CHECK(stw_shard_count(w) == 3);
    /* Written in reverse: order must not matter. */
    for (size_t k = N_SPECS; k-- > 0;) {
        unsigned char b[256];
        fill_bytes(k, b, (size_t)spec_bytes(&specs[k]));
        CHECK(stw_write(w, k, b, &err) == 0);
    }
    CHECK(stw_commit(w, &err) == 0);
    path_in(dir, sizeof dir, "sharded");
    CHECK(count_entries(dir) == 4);

    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    char *idx = slurp(p, NULL);
    cJSON *root = idx ? cJSON_Parse(idx) : NULL;
    CHECK(root != NULL);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(meta, "total_size");
    CHECK(cJSON_IsNumber(total) && total->valuedouble == 48 + 10 + 8 + 24 + 8 + 0 + 40);
    CHECK(cJSON_GetArraySize(map) == N_SPECS);
    const char *want[N_SPECS] = {
        "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
        "model-00002-of-00003.safetensors", "model-00002-of-00003.safetensors",
        "model-00003-of-00003.safetensors", "model-00003-of-00003.safetensors",
        "model-00003-of-00003.safetensors"};
    for (size_t i = 0; i < N_SPECS; i++)
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(map, specs[i].name)), want[i]);
    cJSON_Delete(root);
    free(idx);

    snprintf(p, sizeof p, "%s/model-00002-of-00003.safetensors", dir);
    StFile *f = st_open(p, &err);
    CHECK(f && f->n_tensors == 3);
    if (f) {
        const StTensor *t = st_find(f, "half");
        CHECK(t && t->data == f->map + f->map_size - 32); /* after the 10-byte BF16 tensor */
        st_close(f);
    }
    Ckpt *c = ckpt_open(dir, &err);
    CHECK(c != NULL);
    if (c) {
        CHECK(c->n_shards == 3);
        check_tensors(c);
        ckpt_close(c);
    } else {
        printf("  %s\n", err.msg);
    }
}

static void test_atomic(void) {
    char dir[256], p[400];
    ErrBuf err = {""};
    const StwSpec one[1] = {{"w", DT_F32, {1, {2}}}};
    const float v[2] = {1, 2};

    /* Abort leaves nothing behind. */
    path_in(dir, sizeof dir, "atomic");
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/out", dir);
    StWriter *w = stw_create(p, one, 1, 0, NULL, false, &err);
    CHECK(w && count_entries(dir) == 1 && !exists(p));
    stw_abort(w);
    CHECK(count_entries(dir) == 0);

    /* A commit with a tensor never written fails and cleans up. */
    w = stw_create(p, one, 1, 0, NULL, false, &err);
    CHECK(w != NULL);
    CHECK(stw_commit(w, &err) < 0);
    CHECK(contains(err.msg, "tensor 'w' was never written"));
    CHECK(count_entries(dir) == 0);

    /* An empty existing folder is replaced without --force. */
    mkdir(p, 0755);
    w = stw_create(p, one, 1, 0, NULL, false, &err);
    CHECK(w != NULL);
    CHECK(w && stw_write(w, 0, v, &err) == 0);
    CHECK(w && stw_commit(w, &err) == 0);
    CHECK(count_entries(p) == 1 && count_entries(dir) == 1);

    /* A non-empty one is refused without overwrite... */
    w = stw_create(p, one, 1, 0, NULL, false, &err);
    CHECK(w == NULL);
    char want[600];
    snprintf(want, sizeof want, "'%s' already exists and is not empty (use --force to replace it)", p);
    CHECK_STR(err.msg, want);
    CHECK(count_entries(dir) == 1);

    /* ...and replaced with it: the old contents go, no leftovers. */
    char extra[500];
    snprintf(extra, sizeof extra, "%s/stale.txt", p);
    FILE *fp = fopen(extra, "w");
    if (fp) fclose(fp);
    w = stw_create(p, one, 1, 0, NULL, true, &err);
    CHECK(w != NULL);
    CHECK(w && stw_write(w, 0, v, &err) == 0);
    CHECK(w && stw_add_file(w, "../escape", "x", 1, &err) < 0);
    CHECK(w && stw_add_file(w, "model.safetensors", "x", 1, &err) < 0);
    CHECK(w && stw_commit(w, &err) == 0);
    CHECK(!exists(extra) && count_entries(p) == 1 && count_entries(dir) == 1);

    /* A file in the way is refused too, without overwrite. */
    snprintf(extra, sizeof extra, "%s/file", dir);
    fp = fopen(extra, "w");
    if (fp) fclose(fp);
    CHECK(stw_create(extra, one, 1, 0, NULL, false, &err) == NULL);
    CHECK(contains(err.msg, "already exists"));

    /* Duplicate names and bad targets fail up front. */
    const StwSpec dup[2] = {{"w", DT_F32, {1, {2}}}, {"w", DT_F32, {1, {2}}}};
    snprintf(p, sizeof p, "%s/dup", dir);
    CHECK(stw_create(p, dup, 2, 0, NULL, false, &err) == NULL && contains(err.msg, "'w'"));
    CHECK(stw_create("/", one, 1, 0, NULL, false, &err) == NULL);
    snprintf(p, sizeof p, "%s/missing/out", dir);
    CHECK(stw_create(p, one, 1, 0, NULL, false, &err) == NULL);
    CHECK(count_entries(dir) == 2);
}

/* ---- concurrency and I/O errors --------------------------------------------------- */

#define N_PAR 64
#define PAR_ELEMS 1000

typedef struct Job {
    StWriter *w;
    size_t first;   /* this thread writes first, first + step, ... */
    size_t step;
    int failures;
} Job;

static void *writer_thread(void *arg) {
    Job *j = arg;
    float buf[PAR_ELEMS];
    for (size_t i = j->first; i < N_PAR; i += j->step) {
        for (size_t k = 0; k < PAR_ELEMS; k++) buf[k] = (float)(i * PAR_ELEMS + k);
        ErrBuf err;
        if (stw_write(j->w, i, buf, &err) < 0) j->failures++;
    }
    return NULL;
}

static void test_concurrent_writes(void) {
    StwSpec sp[N_PAR];
    char names[N_PAR][32];
    for (size_t i = 0; i < N_PAR; i++) {
        snprintf(names[i], sizeof names[i], "t%02zu", i);
        sp[i] = (StwSpec){names[i], DT_F32, {1, {PAR_ELEMS}}};
    }
    char dir[256];
    path_in(dir, sizeof dir, "parallel");
    ErrBuf err = {""};
    StWriter *w = stw_create(dir, sp, N_PAR, 10 * 4 * PAR_ELEMS, NULL, false, &err);
    CHECK(w != NULL);
    if (!w) return;
    CHECK(stw_shard_count(w) == 7);
    pthread_t th[4];
    Job jobs[4];
    for (size_t t = 0; t < 4; t++) {
        jobs[t] = (Job){w, t, 4, 0};
        pthread_create(&th[t], NULL, writer_thread, &jobs[t]);
    }
    for (size_t t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        CHECK(jobs[t].failures == 0);
    }
    CHECK(stw_commit(w, &err) == 0);
    Ckpt *c = ckpt_open(dir, &err);
    CHECK(c && c->n_tensors == N_PAR && c->n_shards == 7);
    for (size_t i = 0; c && i < N_PAR; i++) {
        const CkptTensor *t = ckpt_find(c, names[i]);
        float v[PAR_ELEMS];
        CHECK(t != NULL);
        if (!t) continue;
        ckpt_read_f32(t, v);
        CHECK(v[0] == (float)(i * PAR_ELEMS) && v[PAR_ELEMS - 1] == (float)(i * PAR_ELEMS + PAR_ELEMS - 1));
    }
    ckpt_close(c);
}

/* A file-size limit makes sizing the shard fail with EFBIG: the error names
 * the file and nothing is left behind. */
static void test_file_too_large(void) {
    char dir[300], parent[256];
    path_in(parent, sizeof parent, "efbig");
    mkdir(parent, 0755);
    snprintf(dir, sizeof dir, "%s/out", parent);
    const StwSpec big[1] = {{"big", DT_F32, {1, {1 << 20}}}};
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 1 << 20;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &lim);
    ErrBuf err = {""};
    StWriter *w = stw_create(dir, big, 1, 0, NULL, false, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    CHECK(w == NULL);
    stw_abort(w);
    char want[400];
    snprintf(want, sizeof want, "%s/model.safetensors: ", dir);
    CHECK(strncmp(err.msg, want, strlen(want)) == 0 && contains(err.msg, "too large"));
    CHECK(count_entries(parent) == 0);
}

static void test_parse_size(void) {
    uint64_t v = 0;
    CHECK(stw_parse_size("123", &v) == 0 && v == 123);
    CHECK(stw_parse_size("5GB", &v) == 0 && v == 5000000000ull);
    CHECK(stw_parse_size("500MB", &v) == 0 && v == 500000000ull);
    CHECK(stw_parse_size("2G", &v) == 0 && v == 2000000000ull);
    CHECK(stw_parse_size("1.5GB", &v) == 0 && v == 1500000000ull);
    CHECK(stw_parse_size("4GiB", &v) == 0 && v == 4ull << 30);
    CHECK(stw_parse_size("20KB", &v) == 0 && v == 20000);
    CHECK(stw_parse_size("20kib", &v) == 0 && v == 20480);
    CHECK(stw_parse_size("1T", &v) == 0 && v == 1000000000000ull);
    CHECK(stw_parse_size("0.5MiB", &v) == 0 && v == 524288);
    CHECK(stw_parse_size("", &v) < 0);
    CHECK(stw_parse_size("GB", &v) < 0);
    CHECK(stw_parse_size("-1", &v) < 0);
    CHECK(stw_parse_size("5XB", &v) < 0);
    CHECK(stw_parse_size("5B", &v) < 0);
    CHECK(stw_parse_size("1.", &v) < 0);
    CHECK(stw_parse_size("99999999999999999999", &v) < 0);
    CHECK(stw_parse_size("20000000TB", &v) < 0);
}

/* ---- hostile headers --------------------------------------------------------------- */

#define LABEL "hostile.safetensors"

/* An image: 8-byte length, the header text, then data_len bytes. */
static uint8_t *image(const char *header, size_t data_len, size_t *len) {
    size_t h = strlen(header);
    *len = 8 + h + data_len;
    uint8_t *b = calloc(1, *len);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    return b;
}

/* Expects a refusal whose message names the file, the tensor (when given)
 * and contains `phrase`. */
static bool refused(const char *header, size_t data_len, const char *tensor, const char *phrase) {
    size_t len;
    uint8_t *b = image(header, data_len, &len);
    ErrBuf err = {""};
    StFile *f = st_open_memory(LABEL, b, len, &err);
    bool ok = f == NULL && strncmp(err.msg, LABEL ": ", strlen(LABEL) + 2) == 0 &&
              (!phrase || contains(err.msg, phrase));
    if (tensor) {
        char q[200];
        snprintf(q, sizeof q, "'%s'", tensor);
        ok = ok && contains(err.msg, q);
    }
    if (!ok) printf("  header %s\n    -> %s\n", header, f ? "(accepted)" : err.msg);
    st_close(f);
    free(b);
    return ok;
}

static bool accepted(const char *header, size_t data_len, size_t n_tensors) {
    size_t len;
    uint8_t *b = image(header, data_len, &len);
    ErrBuf err = {""};
    StFile *f = st_open_memory(LABEL, b, len, &err);
    bool ok = f && f->n_tensors == n_tensors;
    if (!ok) printf("  header %s\n    -> %s\n", header, f ? "wrong count" : err.msg);
    st_close(f);
    free(b);
    return ok;
}

static void test_hostile_framing(void) {
    ErrBuf err = {""};
    uint8_t small[5] = {1, 0, 0, 0, 0};
    CHECK(st_open_memory(LABEL, small, 5, &err) == NULL);
    CHECK_STR(err.msg, LABEL ": too short to be a safetensors file (5 bytes)");
    CHECK(st_open_memory(LABEL, small, 0, &err) == NULL && contains(err.msg, "too short"));

    /* Header length beyond the end of the file. */
    size_t len;
    uint8_t *b = image("{}", 0, &len);
    b[0] = 3;
    CHECK(st_open_memory(LABEL, b, len, &err) == NULL && contains(err.msg, LABEL ": header length 3 runs past"));
    b[0] = 0xff;
    b[7] = 0xff; /* 2^64 - 1: must not wrap around */
    CHECK(st_open_memory(LABEL, b, len, &err) == NULL && contains(err.msg, "runs past"));
    free(b);

    /* Over the 100 MB limit (the pages are never touched). */
    size_t big = 100u * 1000u * 1000u + 1;
    uint8_t *huge = calloc(1, big + 8);
    if (huge) {
        uint64_t h = big;
        for (int i = 0; i < 8; i++) huge[i] = (uint8_t)(h >> (8 * i));
        CHECK(st_open_memory(LABEL, huge, big + 8, &err) == NULL && contains(err.msg, "100 MB"));
        free(huge);
    }

    CHECK(refused("", 0, NULL, "not valid JSON"));
    CHECK(refused("{\"a\": ", 0, NULL, "not valid JSON"));
    CHECK(refused("not json", 0, NULL, "not valid JSON"));
    CHECK(refused("[1, 2]", 0, NULL, "must be a JSON object"));
    CHECK(refused("\"str\"", 0, NULL, "must be a JSON object"));
    CHECK(refused("{} x", 0, NULL, "unexpected data after"));
    CHECK(refused("{\"\xff\": 1}", 0, NULL, "UTF-8"));
    CHECK(refused("{\"\xc0\xaf\": 1}", 0, NULL, "UTF-8")); /* overlong '/' */
    CHECK(accepted("{}", 0, 0));
    CHECK(accepted("{}      ", 0, 0)); /* padding as the reference writer adds it */
}

static void test_hostile_tensors(void) {
    ErrBuf err = {""};
    /* The exact message from the contract. */
    size_t len;
    uint8_t *b = image("{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,10]}}", 16, &len);
    CHECK(st_open_memory("m.safetensors", b, len, &err) == NULL);
    CHECK_STR(err.msg, "m.safetensors: tensor 'model.norm.weight': data_offsets [0, 10] do not match dtype F32 x "
                       "shape [4] (16 bytes)");
    free(b);

    /* duplicate names */
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                  "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "w", "more than once"));
    CHECK(refused("{\"__metadata__\":{},\"__metadata__\":{}}", 0, NULL, "more than once"));
    /* offsets out of range */
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "w", "past the end"));
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[9,9]}}", 4, "w", "past the end"));
    /* overlapping */
    CHECK(refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "b", "overlap tensor 'a'"));
    CHECK(refused("{\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]},"
                  "\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4, NULL, "overlap"));
    /* dtype x shape mismatch */
    CHECK(refused("{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16, "w",
                  "do not match dtype BF16 x shape [2, 2] (8 bytes)"));
    /* shape overflow */
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0, "w",
                  "too large"));
    CHECK(refused("{\"w\":{\"dtype\":\"F64\",\"shape\":[2147483648,2147483648],\"data_offsets\":[0,0]}}", 0, "w",
                  "too large"));
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[9007199254740993],\"data_offsets\":[0,0]}}", 0, "w",
                  "not an integer"));
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,0]}}", 0, "w", "not an integer"));
    /* negative and non-integer dims */
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0, "w", "negative"));
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,6]}}", 8, "w", "not an integer"));
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8, "w", "not an integer"));
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, "w", "shape"));
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "w",
                  "rank 9"));
    /* unknown dtype */
    CHECK(refused("{\"w\":{\"dtype\":\"F31\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "w", "unknown dtype"));
    CHECK(refused("{\"w\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "w", "unknown dtype"));
    CHECK(refused("{\"w\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "w", "dtype"));
    /* metadata */
    CHECK(refused("{\"__metadata__\":{\"format\":\"pt\",\"n\":3}}", 0, NULL, "must be a string"));
    CHECK(refused("{\"__metadata__\":[\"pt\"]}", 0, NULL, "__metadata__"));
    CHECK(refused("{\"__metadata__\":{\"a\":null}}", 0, NULL, "must be a string"));
    /* data_offsets not two integers */
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "w", "two non-negative"));
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, "w", "two non-negative"));
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", 4, "w", "two non-negative"));
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.5]}}", 8, "w", "two non-negative"));
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8, "w", "two non-negative"));
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"a\":0}}}", 8, "w", "two non-negative"));
    /* begin > end */
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "w", "end before"));
    /* entries that are not objects or lack fields */
    CHECK(refused("{\"w\":[1,2]}", 0, "w", "must be an object"));
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "w", "missing \"data_offsets\""));
    CHECK(refused("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "w",
                  "twice"));
    CHECK(refused("{\"w\":{\"DTYPE\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "w", "missing \"dtype\""));

    /* Valid corner cases: zero-element tensors, gaps, scalars, unsorted input. */
    CHECK(accepted("{\"z\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
                   "\"y\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]},"
                   "\"a\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[0,2]}}", 16, 3));
    CHECK(accepted("{\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[2,2]},"
                   "\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4, 2));
    b = image("{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[2,4]},"
              "\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 4, &len);
    StFile *f = st_open_memory(LABEL, b, len, &err);
    CHECK(f && f->n_tensors == 2 && strcmp(f->tensors[0].name, "a") == 0 && f->n_metadata == 1);
    CHECK(f && st_find(f, "b") && st_find(f, "b")->data == b + len - 2);
    st_close(f);
    free(b);
}

static void test_open_files(void) {
    char p[256];
    ErrBuf err = {""};
    CHECK(st_open(path_in(p, sizeof p, "does-not-exist.safetensors"), &err) == NULL);
    CHECK(contains(err.msg, "no such file"));
    CHECK(st_open(tmp_root, &err) == NULL && contains(err.msg, "is a directory"));
    path_in(p, sizeof p, "empty.safetensors");
    FILE *fp = fopen(p, "w");
    if (fp) fclose(fp);
    CHECK(st_open(p, &err) == NULL && contains(err.msg, "too short to be a safetensors file"));
    CHECK(contains(err.msg, p));
    path_in(p, sizeof p, "fifo.safetensors");
    if (mkfifo(p, 0600) == 0) {
        CHECK(st_open(p, &err) == NULL && contains(err.msg, "not a regular file"));
    }
    CHECK(ckpt_open(path_in(p, sizeof p, "nothing"), &err) == NULL);
    snprintf(p, sizeof p, "%s/nothing: no such file or directory", tmp_root);
    CHECK_STR(err.msg, p);
}

int main(void) {
    snprintf(tmp_root, sizeof tmp_root, "/tmp/mergelang-st-XXXXXX");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 2;
    }
    RUN_TEST(test_round_trip_single);
    RUN_TEST(test_round_trip_sharded);
    RUN_TEST(test_atomic);
    RUN_TEST(test_concurrent_writes);
    RUN_TEST(test_file_too_large);
    RUN_TEST(test_parse_size);
    RUN_TEST(test_hostile_framing);
    RUN_TEST(test_hostile_tensors);
    RUN_TEST(test_open_files);
    rm_tree(tmp_root);
    return CHECK_DONE();
}
