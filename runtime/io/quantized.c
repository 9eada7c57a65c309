/* quantized.c - scale companions of quantized weights, found by name and
 * dtype; see quantized.h.
 *
 * The conventions recognised: NAME_scale_inv beside NAME (block-scaled FP8,
 * config.json's quantization_config.weight_block_size); NAME_scale beside a
 * NAME (or NAME_packed) stored as FP8 or integers (compressed-tensors'
 * per-tensor or per-channel weight_scale); NAME_scales beside NAME_blocks
 * (MXFP4); and any F8_E8M0 tensor, a dtype that only MX scales use. A
 * NAME_scale beside a float weight (a norm's learned scale in some
 * architectures) is not a quantization scale and is left alone. */
#include "runtime/io/quantized.h"

#include <stdio.h>
#include <string.h>

static bool ends_with(const char *s, const char *suffix, size_t *stem_len) {
    size_t n = strlen(s), k = strlen(suffix);
    if (n <= k || strcmp(s + n - k, suffix) != 0) return false;
    *stem_len = n - k;
    return true;
}

/* The tensor called stem + extra, if c has it. */
static const CkptTensor *find_stem(const Ckpt *c, const char *name, size_t stem_len, const char *extra) {
    char buf[1200];
    if (stem_len + strlen(extra) >= sizeof buf) return NULL;
    snprintf(buf, sizeof buf, "%.*s%s", (int)stem_len, name, extra);
    return ckpt_find(c, buf);
}

static bool stored_quantized(DType dt) {
    return dt != DT_F32 && dt != DT_F16 && dt != DT_BF16 && dt != DT_F64;
}

/* The weight t is the scale of, and what kind of quantization that is; NULL
 * when t is not a scale. */
static const CkptTensor *scale_partner(const Ckpt *c, const CkptTensor *t, const char **kind) {
    size_t stem;
    const CkptTensor *w;
    if (t->dtype == DT_F8_E8M0) {
        *kind = "F8_E8M0 scales (MX formats)";
        w = ends_with(t->name, "_scales", &stem) ? find_stem(c, t->name, stem, "_blocks") : NULL;
        return w ? w : t;
    }
    if (ends_with(t->name, "_scale_inv", &stem)) {
        *kind = "FP8 with block scales (weight_scale_inv)";
        w = find_stem(c, t->name, stem, "");
        return w ? w : t;
    }
    if (ends_with(t->name, "_scale", &stem)) {
        *kind = "quantized with scales (weight_scale, compressed-tensors)";
        w = find_stem(c, t->name, stem, "");
        if (w && stored_quantized(w->dtype)) return w;
        w = find_stem(c, t->name, stem, "_packed");
        return w;
    }
    if (ends_with(t->name, "_scales", &stem)) {
        *kind = "MXFP4 (blocks + scales)";
        return find_stem(c, t->name, stem, "_blocks");
    }
    return NULL;
}

bool quant_find_scaled(const Ckpt *c, QuantFinding *out) {
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < c->n_tensors; i++) {
        const char *kind = NULL;
        const CkptTensor *w = scale_partner(c, &c->tensors[i], &kind);
        if (!w) continue;
        if (out->count++ == 0) {
            out->weight = w;
            out->companion = &c->tensors[i];
            out->kind = kind;
        }
    }
    return out->count > 0;
}
