/* builtins_lora.c - lora(base, "adapter_dir", scale=1): a PEFT LoRA adapter
 * applied lazily, tensor by tensor: W + scale * s * B @ A, with s =
 * lora_alpha / r (lora_alpha / sqrt(r) with use_rslora), transposed for
 * fan_in_fan_out bases. PEFT's key names ("base_model.model.<module>.lora_A
 * .weight") are mapped to the base's "<module>.weight"; tensors the adapter
 * does not touch pass through. Row-wise: a row of W needs only its row of B. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/lora.h"
#include "interp/builtins/builtins_int.h"

typedef struct LoraPair {
    const char *base_name;     /* "<module>.weight" in the base */
    const char *a_name, *b_name;
} LoraPair;

typedef struct LoraInfo {
    const Ckpt *adapter;
    LoraConfig cfg;
    LoraPair *pairs;           /* sorted by base_name */
    size_t n;
} LoraInfo;

static int pair_cmp(const void *a, const void *b) {
    return strcmp(((const LoraPair *)a)->base_name, ((const LoraPair *)b)->base_name);
}

static const char *strip_suffix(Plan *p, const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    if (n <= k || strcmp(s + n - k, suffix) != 0) return NULL;
    return arena_strndup(&p->arena, s, n - k);
}

Value bi_plan_lora(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "lora() argument 'base'")) return val_error();
    if (args[1].kind != V_STR) return plan_error(p, sp[1], "lora() expects the adapter folder's path");
    if (args[2].kind != V_NONE && !bi_expect_number(p, args[2], sp[2], "scale")) return val_error();
    const char *dir = arena_strndup(&p->arena, args[1].u.str.s, args[1].u.str.len);
    LoraInfo *info = plan_alloc(p, sizeof *info);
    ErrBuf err;
    if (lora_read_config(dir, &info->cfg, &err) != 0) return plan_error(p, sp[1], "%s", err.msg);
    char weights[4096];
    snprintf(weights, sizeof weights, "%s/adapter_model.safetensors", dir);
    Value ad = plan_open_model(p, arena_strdup(&p->arena, weights), sp[1]);
    if (ad.kind != V_MODEL) return val_error();
    info->adapter = ad.u.node->u.source.ckpt;
    const TensorSet *aset = ad.u.node->set, *bset = args[0].u.node->set;
    info->pairs = plan_alloc(p, (aset->n ? aset->n : 1) * sizeof *info->pairs);
    for (size_t i = 0; i < aset->n; i++) {
        const char *module = strip_suffix(p, aset->items[i].name, ".lora_A.weight");
        if (!module) continue;
        const char *inner = strncmp(module, "base_model.model.", 17) == 0 ? module + 17 : module;
        char name[1024];
        snprintf(name, sizeof name, "%s.weight", inner);
        char bname[1024];
        snprintf(bname, sizeof bname, "%s.lora_B.weight", module);
        const TensorInfo *a = &aset->items[i], *b = tset_find(aset, bname), *w = tset_find(bset, name);
        if (!b) return plan_error(p, sp[1], "adapter %s has %s but no %s", weights, a->name, bname);
        if (!w) continue;
        long r = info->cfg.r;
        int64_t out_dim = w->shape.dims[info->cfg.fan_in_fan_out ? 1 : 0];
        int64_t in_dim = w->shape.dims[info->cfg.fan_in_fan_out ? 0 : 1];
        if (w->shape.rank != 2 || a->shape.rank != 2 || b->shape.rank != 2 || a->shape.dims[0] != r ||
            b->shape.dims[1] != r || a->shape.dims[1] != in_dim || b->shape.dims[0] != out_dim) {
            char ws[64], as[64], bs[64];
            return plan_error(p, sp[1], "adapter %s: %s %s and %s %s do not fit %s %s with r = %ld", weights,
                              a->name, shape_format(&a->shape, as, sizeof as), b->name,
                              shape_format(&b->shape, bs, sizeof bs), name, shape_format(&w->shape, ws, sizeof ws), r);
        }
        info->pairs[info->n++] = (LoraPair){ w->name, a->name, b->name };
    }
    if (info->n == 0) {
        diag_error(p->diag, sp[1], "no tensor of the adapter %s matches the base model", weights);
        for (size_t i = 0, shown = 0; i < aset->n && shown < 3; i++, shown++)
            diag_hint(p->diag, "adapter has %s", aset->items[i].name);
        for (size_t i = 0, shown = 0; i < bset->n && shown < 3; i++)
            if (bset->items[i].shape.rank == 2) {
                diag_hint(p->diag, "base has %s", bset->items[i].name);
                shown++;
            }
        return val_error();
    }
    qsort(info->pairs, info->n, sizeof *info->pairs, pair_cmp);
    Value v = bi_make_call(p, bi, args, call, args[0].u.node->set);
    v.u.node->u.call.extra = info;
    return v;
}

/* Decodes an adapter tensor into the arena. */
static const float *adapter_tensor(Exec *x, const Node *n, const Ckpt *c, const char *name) {
    const CkptTensor *t = ckpt_find(c, name);
    float *f = t ? arena_array_uninit(x->arena, (size_t)shape_numel(&t->shape) + 1, sizeof *f) : NULL;
    if (!f) {
        exec_fail(x, n->span, "cannot read adapter tensor '%s'", name);
        return NULL;
    }
    ckpt_read_f32(t, f);
    return f;
}

Value bi_exec_lora(Exec *x, const Node *n, Value *args) {
    const LoraInfo *info = n->u.call.extra;
    const Tensor *w = args[0].u.tensor;
    if (!w->f) return args[0];
    LoraPair key = { .base_name = x->out->name };
    const LoraPair *pair = bsearch(&key, info->pairs, info->n, sizeof key, pair_cmp);
    if (!pair) return args[0];
    double scale;
    if (!bi_number_param(x, n, args[2], "scale", &scale)) return val_error();
    long r = info->cfg.r;
    double s = scale * info->cfg.alpha / (info->cfg.use_rslora ? sqrt((double)r) : (double)r);
    const float *A = adapter_tensor(x, n, info->adapter, pair->a_name);
    const float *B = A ? adapter_tensor(x, n, info->adapter, pair->b_name) : NULL;
    if (!B) return val_error();
    const TensorInfo *full = tset_find(n->set, x->out->name);
    int64_t cols = w->shape.dims[1], row0 = x->row_end ? x->row_begin : 0;
    int64_t in_dim = full->shape.dims[info->cfg.fan_in_fan_out ? 0 : 1];
    Tensor *res = exec_new_tensor(x, &w->shape, w->dtype, n->span);
    if (!res) return val_error();
    for (int64_t i = 0; i < w->shape.dims[0]; i++) {
        int64_t row = row0 + i;
        for (int64_t j = 0; j < cols; j++) {
            /* delta[o][c] = sum_k B[o][k] A[k][c]; transposed bases hold it at [c][o] */
            int64_t o = info->cfg.fan_in_fan_out ? j : row, c = info->cfg.fan_in_fan_out ? row : j;
            double acc = 0;
            for (long k = 0; k < r; k++) acc += (double)B[o * r + k] * (double)A[k * in_dim + c];
            res->f[i * cols + j] = (float)((double)w->f[i * cols + j] + s * acc);
        }
    }
    return bi_tensor_value(res);
}
