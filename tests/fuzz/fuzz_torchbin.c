/* fuzz_torchbin.c - libFuzzer target: the PyTorch .bin reader (the ZIP
 * directory, the restricted unpickler, the tensor checks).
 *
 * The input is a whole .bin image handed to tbin_open_memory. A rejected
 * image must come back as NULL with a message; an accepted one must only hand
 * out tensors that lie inside the image, sorted and findable by name, and
 * decodable without reading past their bytes.
 *
 * Built by `make fuzz`; replayed on tests/fuzz/corpus/torchbin by
 * tests/unit/test_fuzz_replay.c, which includes this file with
 * LLVMFuzzerTestOneInput renamed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/torchbin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ErrBuf err;
    err.msg[0] = '\0';
    StFile *f = tbin_open_memory("fuzz.bin", data, size, &err);
    if (!f) {
        if (!err.msg[0] || !memchr(err.msg, '\0', sizeof err.msg)) abort();
        return 0;
    }
    for (size_t i = 0; i < f->n_tensors; i++) {
        const StTensor *t = &f->tensors[i];
        if (i > 0 && strcmp(f->tensors[i - 1].name, t->name) >= 0) abort();
        if (st_find(f, t->name) != t) abort();
        if (t->data < data || t->nbytes > size || (size_t)(t->data - data) > size - t->nbytes) abort();
        int64_t n = shape_numel(&t->shape);
        if (n < 0 || (uint64_t)n * dtype_size(t->dtype) != t->nbytes) abort();
        if (!dtype_is_computable(t->dtype) || n == 0) continue;
        float *dst = malloc((size_t)n * sizeof *dst);
        if (!dst) continue;
        dtype_decode_f32(t->dtype, t->data, dst, (size_t)n);
        free(dst);
    }
    tbin_close(f);
    return 0;
}
