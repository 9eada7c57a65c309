/* test_torchbin.c - the PyTorch .bin reader: the restricted unpickler on
 * hand-written pickles (what is accepted, and each refusal with its message),
 * the ZIP reader on crafted archives, and whole files written by
 * tests/torchbin/make_torch_bin.py (Python's pickler and zipfile, no torch)
 * decoded to the values that script printed. Runs from the repository root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/checkpoint.h"
#include "runtime/io/torchbin.h"
#include "runtime/io/torchpickle.h"
#include "runtime/io/torchzip.h"
#include "tests/unit/check.h"

#define PKL_SD(s) (const uint8_t *)(s), sizeof(s) - 1
#define PKL(s) PKL_SD(s), NULL

/* Parses a pickle and returns the error message ("" when accepted). */
static const char *parse_msg(const uint8_t *buf, size_t len, TpklStateDict *sd) {
    static ErrBuf err;
    err.msg[0] = '\0';
    TpklStateDict local;
    if (!sd) sd = &local;
    int rc = tpkl_parse("t.bin", buf, len, sd, &err);
    if (sd == &local && rc == 0) tpkl_free(sd);
    return rc == 0 ? "" : err.msg;
}

/* A tensor as torch pickles it: storage pid ('storage', FloatStorage, '0',
 * 'cpu', 6), offset 0, size (2, 3), stride (3, 1). */
#define TENSOR_2x3                                                            \
    "ctorch._utils\n_rebuild_tensor_v2\n"                                     \
    "((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00" "0"   \
    "X\x03\x00\x00\x00" "cpuK\x06tQ"                                          \
    "K\x00K\x02K\x03\x86K\x03K\x01\x86\x89" "ccollections\nOrderedDict\n)Rt" "R"

static void accepts_a_state_dict(void) {
    TpklStateDict sd;
    const char *msg = parse_msg(PKL_SD("\x80\x02" "ccollections\nOrderedDict\nq\x00)Rq\x01(X\x01\x00\x00\x00w" TENSOR_2x3
                                    "u}X\x09\x00\x00\x00_metadatah\x00)Rsb."), &sd);
    CHECK_STR(msg, "");
    CHECK(sd.n_tensors == 1);
    if (sd.n_tensors == 1) {
        CHECK_STR(sd.tensors[0].name, "w");
        CHECK_STR(sd.tensors[0].storage_key, "0");
        CHECK(sd.tensors[0].dtype == DT_F32);
        CHECK(sd.tensors[0].shape.rank == 2 && sd.tensors[0].shape.dims[0] == 2 && sd.tensors[0].shape.dims[1] == 3);
        CHECK(sd.tensors[0].storage_offset == 0 && sd.tensors[0].storage_numel == 6);
        tpkl_free(&sd);
    }
    /* Protocol 4's spellings: FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE. */
    msg = parse_msg(PKL_SD("\x80\x04\x95\x01\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01v\x94"
                        "\x8c\x0ctorch._utils\x8c\x12_rebuild_tensor_v2\x93\x94"
                        "((X\x07\x00\x00\x00storagectorch\nHalfStorage\nX\x01\x00\x00\x00" "5X\x03\x00\x00\x00" "cpuK\x04tQ"
                        "K\x01K\x03\x85K\x01\x85\x88}tRs."), &sd);
    CHECK_STR(msg, "");
    CHECK(sd.n_tensors == 1 && sd.tensors[0].dtype == DT_F16 && sd.tensors[0].storage_offset == 1);
    tpkl_free(&sd);
}

static void refuses_what_a_state_dict_never_holds(void) {
    CHECK_STR(parse_msg(PKL("\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00lsq\x00\x85R.")),
              "t.bin: data.pkl byte 2: global 'os.system' is not allowed (a torch state dict uses only tensors, "
              "storages and OrderedDict; nothing in the pickle is executed)");
    CHECK_STR(parse_msg(PKL("\x80\x02" "cbuiltins\neval\n.")),
              "t.bin: data.pkl byte 2: global 'builtins.eval' is not allowed (a torch state dict uses only tensors, "
              "storages and OrderedDict; nothing in the pickle is executed)");
    CHECK_STR(parse_msg(PKL("\x80\x02}I1\n.")), "t.bin: data.pkl byte 3: opcode 'I' (0x49) is not one a torch state dict uses");
    CHECK_STR(parse_msg(PKL("\x80\x02}\xff.")), "t.bin: data.pkl byte 3: opcode 0xff is not one a torch state dict uses");
    CHECK_STR(parse_msg(PKL("\x80\x01}.")), "t.bin: data.pkl byte 0: pickle protocol 1 (2 to 5 are read)");
    CHECK_STR(parse_msg(PKL("\x80\x02}")), "t.bin: data.pkl byte 3: the pickle ends without STOP");
    CHECK_STR(parse_msg(PKL("\x80\x02X\x05\x00\x00\x00" "ab")), "t.bin: data.pkl byte 2: the pickle ends inside an opcode's argument");
    CHECK_STR(parse_msg(PKL("\x80\x02.")), "t.bin: data.pkl byte 2: STOP with 0 objects on the stack (one expected)");
    CHECK_STR(parse_msg(PKL("\x80\x02}}.")), "t.bin: data.pkl byte 4: STOP with 2 objects on the stack (one expected)");
    CHECK_STR(parse_msg(PKL("\x80\x02h\x03.")), "t.bin: data.pkl byte 2: memo index 3 was never stored");
    CHECK_STR(parse_msg(PKL("\x80\x02}(K\x01u.")), "t.bin: data.pkl byte 6: SETITEMS with an odd number of objects");
    CHECK_STR(parse_msg(PKL("\x80\x02](K\x01K\x02u.")), "t.bin: data.pkl byte 8: SETITEMS on a list");
    CHECK_STR(parse_msg(PKL("\x80\x02}(R.")), "t.bin: data.pkl byte 4: the stack is empty");
    CHECK_STR(parse_msg(PKL("\x80\x02K\x01)R.")), "t.bin: data.pkl byte 5: REDUCE calls a int");
    CHECK_STR(parse_msg(PKL("\x80\x02]q\x00.")), "t.bin: data.pkl holds a list, not a dict of tensors");
    CHECK_STR(parse_msg(PKL("\x80\x02}X\x01\x00\x00\x00wK\x07s.")), "t.bin: data.pkl: entry 'w' is a int, not a tensor");
    CHECK_STR(parse_msg(PKL("\x80\x02}K\x01K\x07s.")), "t.bin: data.pkl: a key of the state dict is a int, not a string");
    CHECK_STR(parse_msg(PKL("\x80\x02}X\x02\x00\x00\x00\xff\xfeK\x07s.")),
              "t.bin: data.pkl: a tensor name is not valid UTF-8 or holds a NUL byte");
    CHECK_STR(parse_msg(PKL("\x80\x02}X\xff\xff\xff\x7f.")),
              "t.bin: data.pkl byte 3: a string of 2147483647 bytes is longer than the limit of 1048576");
    CHECK_STR(parse_msg(PKL("\x80\x02}r\x00\x00\x00\x01.")), "t.bin: data.pkl byte 3: memo index 16777216 is over the limit of 4194304");
    CHECK_STR(parse_msg(PKL("\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00.")),
              "t.bin: data.pkl byte 2: an integer of 9 bytes (at most 8 are read)");
    /* A persistent id must be a storage of a known type. */
    CHECK_STR(parse_msg(PKL("\x80\x02(X\x07\x00\x00\x00storageK\x01X\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpuK\x01tQ.")),
              "t.bin: data.pkl byte 34: a storage whose type is a int, not a torch storage type");
    CHECK_STR(parse_msg(PKL("\x80\x02(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x03\x00\x00\x00../X\x03\x00\x00\x00" "cpuK\x01tQ.")),
              "t.bin: data.pkl byte 54: a storage key that is not a short plain name");
    CHECK_STR(parse_msg(PKL("\x80\x02" "ctorch\nFloat8Storage\n.")),
              "t.bin: data.pkl byte 2: global 'torch.Float8Storage' is not allowed (a torch state dict uses only tensors, "
              "storages and OrderedDict; nothing in the pickle is executed)");
}

static void bounds_nesting_and_sizes(void) {
    /* 65 marks: one over the limit, however much input follows. */
    uint8_t deep[2 + 65 + 1] = {0x80, 0x02};
    memset(deep + 2, '(', 65);
    deep[67] = '.';
    CHECK_STR(parse_msg(deep, sizeof deep, NULL), "t.bin: data.pkl byte 66: marks nested deeper than 64");
    /* Many objects within the limits: accepted or refused by their kind, in
     * linear time (a list of 200000 ints appended one by one). */
    size_t n = 200000, len = 0;
    uint8_t *big = malloc(4 + n * 3 + 1);
    big[len++] = 0x80, big[len++] = 0x02, big[len++] = ']';
    for (size_t i = 0; i < n; i++) big[len++] = 'K', big[len++] = (uint8_t)i, big[len++] = 'a';
    big[len++] = '.';
    CHECK_STR(parse_msg(big, len, NULL), "t.bin: data.pkl holds a list, not a dict of tensors");
    free(big);
}

/* The tensor checks that need a name: contiguity, offsets, sizes. */
static void checks_each_tensor(void) {
    /* size (2, 3), stride (1, 2): a transposed view. */
    CHECK_STR(parse_msg(PKL("\x80\x02}X\x01\x00\x00\x00w"
                            "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
                            "X\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpuK\x06tQK\x00K\x02K\x03\x86K\x01K\x02\x86\x89}tRs.")),
              "t.bin: tensor 'w': the strides of this [2, 3] tensor are not contiguous row-major (dimension 1 steps by 2, "
              "not 1): save it after .contiguous()");
    /* offset 4 + 6 elements in a storage of 6. */
    CHECK_STR(parse_msg(PKL("\x80\x02}X\x01\x00\x00\x00w"
                            "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
                            "X\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpuK\x06tQK\x04K\x02K\x03\x86K\x03K\x01\x86\x89}tRs.")),
              "t.bin: tensor 'w': 6 elements at offset 4 run past its storage of 6 elements");
    /* A rank of 9. */
    CHECK_STR(parse_msg(PKL("\x80\x02}X\x01\x00\x00\x00w"
                            "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
                            "X\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpuK\x06tQK\x00(K\x01K\x01K\x01K\x01K\x01K\x01K\x01K\x01K\x01t"
                            "(K\x01K\x01K\x01K\x01K\x01K\x01K\x01K\x01K\x01t\x89}tRs.")),
              "t.bin: tensor 'w': the size is not a tuple of at most 8 non-negative integers");
    /* Sizes whose product overflows int64. */
    CHECK_STR(parse_msg(PKL("\x80\x02}X\x01\x00\x00\x00w"
                            "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
                            "X\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpuK\x06tQK\x00\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x40"
                            "\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x40\x86K\x01K\x01\x86\x89}tRs.")),
              "t.bin: tensor 'w': the element count overflows");
}

/* One line of tiny.expected: name dtype [shape] values... */
static void check_against_expected(const StFile *f, const char *expected_path) {
    FILE *in = fopen(expected_path, "r");
    CHECK(in != NULL);
    if (!in) return;
    char line[512];
    size_t lines = 0;
    while (fgets(line, sizeof line, in)) {
        char name[64], dtype[16], shape[64];
        int used = 0;
        if (sscanf(line, "%63s %15s %63s%n", name, dtype, shape, &used) != 3) continue;
        lines++;
        const StTensor *t = st_find(f, name);
        CHECK(t != NULL);
        if (!t) continue;
        CHECK_STR(dtype_torch_name(t->dtype), dtype);
        char got_shape[64], *w = got_shape;
        shape_format(&t->shape, got_shape, sizeof got_shape);
        for (char *r = got_shape; *r; r++)
            if (*r != ' ') *w++ = *r;
        *w = '\0';
        CHECK_STR(got_shape, shape);
        int64_t n = shape_numel(&t->shape);
        CHECK(t->nbytes == (uint64_t)n * dtype_size(t->dtype));
        float vals[16];
        dtype_decode_f32(t->dtype, t->data, vals, (size_t)n);
        char *p = line + used;
        for (int64_t i = 0; i < n; i++) {
            char *end;
            double want = strtod(p, &end);
            CHECK(end != p);
            CHECK(vals[i] == (float)want);
            p = end;
        }
    }
    fclose(in);
    CHECK(lines == f->n_tensors && lines == 4);
}

static void reads_files_python_wrote(void) {
    const char *files[] = {"tests/torchbin/tiny.bin", "tests/torchbin/tiny_zip64.bin"};
    for (int k = 0; k < 2; k++) {
        ErrBuf err;
        StFile *f = tbin_open(files[k], &err);
        if (!f) printf("  %s\n", err.msg);
        CHECK(f != NULL);
        if (!f) continue;
        check_against_expected(f, "tests/torchbin/tiny.expected");
        /* The view shares its storage: its data is the f32 tensor's, 3 on. */
        const StTensor *a = st_find(f, "w.f32"), *v = st_find(f, "w.view");
        CHECK(a && v && v->data == a->data + 3 * 4);
        CHECK(f->fd >= 0 && f->mapped);
        tbin_close(f);
    }
}

static void through_checkpoint_open(void) {
    ErrBuf err;
    Ckpt *c = ckpt_open("tests/torchbin/tiny.bin", &err);
    if (!c) printf("  %s\n", err.msg);
    CHECK(c != NULL);
    if (!c) return;
    CHECK(c->torch_shards && c->n_shards == 1 && c->n_tensors == 4);
    CHECK(ckpt_find(c, "w.f16") != NULL && ckpt_find(c, "w.f16")->file == c->shards[0]);
    ckpt_close(c);
}

/* A ZIP image: one stored entry "a/data.pkl" holding `data`, then what the
 * caller appends. */
static size_t zip_one(uint8_t *out, const char *data, uint16_t method) {
    size_t n = 0, len = strlen(data);
    const char *name = "a/data.pkl";
    uint16_t nl = (uint16_t)strlen(name);
#define LE16(v) (out[n++] = (uint8_t)(v), out[n++] = (uint8_t)((v) >> 8))
#define LE32(v) (LE16((v) & 0xffff), LE16((uint32_t)(v) >> 16))
    LE32(0x04034b50u); LE16(20); LE16(0); LE16(method); LE16(0); LE16(0); LE32(0); LE32(len); LE32(len);
    LE16(nl); LE16(0);
    memcpy(out + n, name, nl), n += nl;
    memcpy(out + n, data, len), n += len;
    size_t cd = n;
    LE32(0x02014b50u); LE16(20); LE16(20); LE16(0); LE16(method); LE16(0); LE16(0); LE32(0); LE32(len); LE32(len);
    LE16(nl); LE16(0); LE16(0); LE16(0); LE16(0); LE32(0); LE32(0);
    memcpy(out + n, name, nl), n += nl;
    size_t cd_size = n - cd;
    LE32(0x06054b50u); LE16(0); LE16(0); LE16(1); LE16(1); LE32(cd_size); LE32(cd); LE16(0);
#undef LE32
#undef LE16
    return n;
}

static void zip_directory(void) {
    uint8_t buf[512];
    size_t n = zip_one(buf, "\x80\x02}.", 0);
    TzipArchive z;
    ErrBuf err;
    CHECK(tzip_read("z", buf, n, &z, &err) == 0);
    CHECK(z.n_entries == 1 && tzip_find(&z, "a/data.pkl") && tzip_find(&z, "a/data.pkl")->size == 4);
    CHECK(tzip_find(&z, "a/data.pkl") && memcmp(buf + tzip_find(&z, "a/data.pkl")->offset, "\x80\x02}.", 4) == 0);
    tzip_free(&z);
    /* A state dict with no tensors is a checkpoint with no tensors. */
    StFile *f = tbin_open_memory("z", buf, n, &err);
    CHECK(f && f->n_tensors == 0);
    tbin_close(f);

    CHECK(tzip_read("z", buf, 10, &z, &err) < 0);
    CHECK_STR(err.msg, "z: not a ZIP archive (10 bytes is too short)");
    /* The directory offset moved past the EOCD. */
    uint8_t bad[512];
    memcpy(bad, buf, n);
    bad[n - 6] = 0xf0;
    CHECK(tzip_read("z", bad, n, &z, &err) < 0);
    CHECK(strstr(err.msg, "the ZIP central directory") != NULL);
    /* Deflated. */
    n = zip_one(buf, "\x80\x02}.", 8);
    CHECK(tzip_read("z", buf, n, &z, &err) < 0);
    CHECK(strstr(err.msg, "ZIP entry 'a/data.pkl' is compressed (method 8)") != NULL);
    /* No data.pkl in the archive. */
    n = zip_one(buf, "x", 0);
    buf[32] = 'b';     /* "a/data.pkl" -> "a/data.pkb" in the local header */
    CHECK(tzip_read("z", buf, n, &z, &err) < 0);
    CHECK(strstr(err.msg, "its local header or its 1 bytes of data do not fit") != NULL);
    /* A legacy pickle is named as such. */
    f = tbin_open_memory("old.bin", (const uint8_t *)"\x80\x02\x8a\x0al\xfc\x9c" "F\xf9 j\xa8P\x19.", 15, &err);
    CHECK(f == NULL);
    CHECK_STR(err.msg, "old.bin: legacy torch format (before torch 1.6): re-save with torch >= 1.6 or convert to safetensors");
}

int main(void) {
    RUN_TEST(accepts_a_state_dict);
    RUN_TEST(refuses_what_a_state_dict_never_holds);
    RUN_TEST(bounds_nesting_and_sizes);
    RUN_TEST(checks_each_tensor);
    RUN_TEST(reads_files_python_wrote);
    RUN_TEST(through_checkpoint_open);
    RUN_TEST(zip_directory);
    return CHECK_DONE();
}
