/* builtins_fisher.c - fisher(models, fishers, weights, eps): Fisher-
 * weighted averaging (Matena & Raffel, NeurIPS 2022). Per entry,
 *   sum_i w_i (F_i + eps) theta_i / sum_i w_i (F_i + eps)
 * where fishers[i] is a checkpoint with models[i]'s tensor names holding
 * its diagonal Fisher information. eps makes all-zero Fisher values give
 * the weighted mean. A tensor some Fisher file lacks is merged as the
 * weighted mean of the models (`mergelang plan` says so for that tensor).
 * Any importance works in place of a Fisher file: `map(abs, ms)` weights
 * each entry by its magnitude. */
#include <math.h>
#include <string.h>

#include "interp/builtins/builtins_int.h"

Value bi_plan_fisher(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    const TensorSet *set = bi_plan_models(p, bi, val_none(), args[0], sp[0], BI_VOCAB_NONE, 1, SIZE_MAX);
    if (!set) return val_error();
    size_t k = args[0].u.list->n;
    if (args[1].kind != V_LIST || args[1].u.list->n != k)
        return plan_error(p, sp[1], "fisher() expects a list of %zu Fisher models, one per model", k);
    for (size_t i = 0; i < k; i++) {
        Value f = args[1].u.list->items[i];
        if (f.kind != V_MODEL)
            return plan_error(p, sp[1], "entry %zu of the Fisher list must be a model, found %s", i + 1,
                              val_kind_name(f.kind));
        /* Shapes must agree where the Fisher file has the tensor. */
        for (size_t t = 0; t < set->n; t++) {
            const TensorInfo *fi = tset_find(f.u.node->set, set->items[t].name);
            if (fi && !shape_equal(&fi->shape, &set->items[t].shape)) {
                char a[64], b[64];
                return plan_error(p, sp[1], "fisher(): tensor '%s' has shape %s in Fisher model %zu but %s in model %zu",
                                  fi->name, shape_format(&fi->shape, a, sizeof a), i + 1,
                                  shape_format(&set->items[t].shape, b, sizeof b), i + 1);
            }
        }
    }
    if (!bi_expect_per_model(p, args[2], k, sp[2], "weights")) return val_error();
    if (args[3].kind != V_NONE && !bi_expect_number(p, args[3], sp[3], "eps")) return val_error();
    return bi_make_call(p, bi, args, call, set);
}

Value bi_exec_fisher(Exec *x, const Node *n, Value *args) {
    /* Arguments arrive unforced: a Fisher file may lack this tensor. */
    Value models = exec_force(x, args[0]);
    if (models.kind == V_ERROR) return models;
    size_t k = models.u.list->n;
    const Tensor *first = models.u.list->items[0].u.tensor;
    if (!first->f) return models.u.list->items[0];
    const Shape *shape = bi_out_shape(x, n, first);
    const float **xs = bi_gather(x, n, models.u.list->items, k, shape);
    const float **fs = arena_array(x->arena, k, sizeof *fs);
    double *w = arena_array(x->arena, k, sizeof *w);
    if (!xs || !fs || !w) return xs ? exec_fail(x, n->span, "out of memory") : val_error();
    bool all = true;
    for (size_t i = 0; i < k && all; i++) all = tset_find(args[1].u.list->items[i].u.node->set, x->out->name) != NULL;
    Value wv = exec_force(x, args[2]);
    if (wv.kind == V_ERROR) return wv;
    for (size_t i = 0; i < k; i++) {
        if (!bi_weight_at(x, n, wv, i, &w[i])) return val_error();
        if (!all) continue;
        Value f = exec_force(x, args[1].u.list->items[i]);
        if (f.kind != V_TENSOR || !f.u.tensor->f) return f.kind == V_ERROR ? f : exec_fail(x, n->span, "fisher(): Fisher values must be floats");
        fs[i] = f.u.tensor->f;
    }
    double eps;
    Value e = exec_force(x, args[3]);
    if (e.kind == V_ERROR || !bi_number_param(x, n, e, "eps", &eps)) return val_error();
    Tensor *r = exec_new_tensor(x, shape, first->dtype, n->span);
    if (!r) return val_error();
    size_t numel = (size_t)r->numel;
    for (size_t j = 0; j < numel; j++) {
        double num = 0, den = 0;
        for (size_t i = 0; i < k; i++) {
            double c = w[i] * (all ? (double)fs[i][j] + eps : 1.0);
            num += c * (double)xs[i][j];
            den += c;
        }
        r->f[j] = (float)(den != 0 ? num / den : 0);
    }
    return bi_tensor_value(r);
}
