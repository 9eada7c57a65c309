/* fuzz_safetensors.c - libFuzzer target: the safetensors header parser.
 *
 * The input is a whole safetensors image handed to st_open_memory. A
 * rejected image must come back as NULL with a message; an accepted one
 * must only hand out tensors that lie inside the image, sorted and findable
 * by name, and decodable without reading past their bytes (ASan watches the
 * reads; the checks below catch validation bugs that stay in bounds).
 *
 * Built by `make fuzz`; replayed on tests/fuzz/corpus/safetensors by
 * tests/unit/test_fuzz_replay.c, which includes this file with
 * LLVMFuzzerTestOneInput renamed (hence the sf_ prefix on every static). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ErrBuf err;
    err.msg[0] = '\0';
    StFile *f = st_open_memory("fuzz.safetensors", data, size, &err);
    if (!f) {
        /* Every refusal says why, in one NUL-terminated sentence. */
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
    for (size_t i = 0; i < f->n_metadata; i++)
        if (!f->metadata_keys[i] || !f->metadata_values[i]) abort();
    st_close(f);
    return 0;
}
