/* builtins.c - the table of built-in functions and their plan and exec
 * halves; see builtins.h. Method semantics follow mergekit's math
 * (docs/methods.md); the arithmetic itself is in runtime/kernels.c. */
#include "builtins.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../runtime/kernels.h"

/* ---- plan helpers ---------------------------------------------------------- */

static Value make_call(Plan *p, const Builtin *bi, Value *args, SrcSpan call, const TensorSet *set) {
    Node *n = plan_new_node(p, N_CALL, call);
    int np = builtin_n_params(bi);
    n->set = set;
    n->u.call.bi = bi;
    n->u.call.nargs = (size_t)np;
    n->u.call.args = plan_alloc(p, (size_t)np * sizeof(Value));
    memcpy(n->u.call.args, args, (size_t)np * sizeof(Value));
    Value v = { .kind = set ? V_MODEL : V_LAZY, .u.node = n };
    return v;
}

static bool expect_model(Plan *p, Value v, SrcSpan at, const char *what) {
    if (v.kind == V_MODEL) return true;
    plan_error(p, at, "%s must be a model, found %s", what, val_kind_name(v.kind));
    return false;
}

/* Every computable tensor of `first` must exist in m with the same shape.
 * Reports the first disagreement and how many more there are. */
static bool check_compatible(Plan *p, const Builtin *bi, const TensorSet *first, Value m,
                             SrcSpan at, const char *first_label, const char *label) {
    const TensorSet *s = m.u.node->set;
    size_t bad = 0;
    for (size_t i = 0; i < first->n; i++) {
        const TensorInfo *a = &first->items[i];
        if (!dtype_is_computable(a->dtype)) continue;
        const TensorInfo *b = tset_find(s, a->name);
        if (b && shape_equal(&a->shape, &b->shape)) continue;
        if (bad++ > 0) continue;
        if (!b) {
            plan_error(p, at, "%s(): %s has no tensor '%s', which %s has", bi->name, label, a->name,
                       first_label);
        } else {
            char sa[96], sb[96];
            plan_error(p, at, "%s(): tensor '%s' has shape %s in %s but %s in %s", bi->name, a->name,
                       shape_format(&a->shape, sa, sizeof sa), first_label,
                       shape_format(&b->shape, sb, sizeof sb), label);
        }
    }
    if (bad > 1) diag_hint(p->diag, "%zu more tensors disagree", bad - 1);
    return bad == 0;
}

/* A list of models. When `first` is given, each must match it. */
static bool expect_models(Plan *p, const Builtin *bi, Value v, SrcSpan at, const TensorSet *first,
                          const char *first_label) {
    if (v.kind != V_LIST) {
        plan_error(p, at, "%s() expects a list of models here, found %s", bi->name,
                   val_kind_name(v.kind));
        if (v.kind == V_MODEL) diag_hint(p->diag, "write a list even for one model: [m]");
        return false;
    }
    if (v.u.list->n == 0) {
        plan_error(p, at, "%s() needs at least one model", bi->name);
        return false;
    }
    for (size_t i = 0; i < v.u.list->n; i++) {
        char label[48];
        snprintf(label, sizeof label, "model %zu of the list", i + 1);
        if (v.u.list->items[i].kind != V_MODEL) {
            plan_error(p, at, "%s(): entry %zu of the list must be a model, found %s", bi->name, i + 1,
                       val_kind_name(v.u.list->items[i].kind));
            return false;
        }
        const TensorSet *ref = first ? first : v.u.list->items[0].u.node->set;
        const char *ref_label = first ? first_label : "model 1 of the list";
        if ((first || i > 0) && !check_compatible(p, bi, ref, v.u.list->items[i], at, ref_label, label))
            return false;
    }
    return true;
}

static bool is_number_like(Value v) { return v.kind == V_NUM || v.kind == V_LAZY; }

/* A per-model parameter: none (default), one number for all, or a list
 * parallel to the models. Entries may be per-tensor values. */
static bool expect_per_model(Plan *p, Value v, size_t n_models, SrcSpan at, const char *pname) {
    if (v.kind == V_NONE || is_number_like(v)) return true;
    if (v.kind == V_LIST) {
        if (v.u.list->n != n_models) {
            plan_error(p, at, "%s has %zu entr%s but there %s %zu model%s", pname, v.u.list->n,
                       v.u.list->n == 1 ? "y" : "ies", n_models == 1 ? "is" : "are", n_models,
                       n_models == 1 ? "" : "s");
            return false;
        }
        for (size_t i = 0; i < v.u.list->n; i++) {
            if (!is_number_like(v.u.list->items[i])) {
                plan_error(p, at, "entry %zu of %s must be a number, found %s", i + 1, pname,
                           val_kind_name(v.u.list->items[i].kind));
                return false;
            }
        }
        return true;
    }
    plan_error(p, at, "%s must be a number or a list of numbers, found %s", pname,
               val_kind_name(v.kind));
    return false;
}

static bool expect_number(Plan *p, Value v, SrcSpan at, const char *pname) {
    if (is_number_like(v)) return true;
    plan_error(p, at, "%s must be a number, found %s", pname, val_kind_name(v.kind));
    return false;
}

static bool expect_bool(Plan *p, Value v, SrcSpan at, const char *pname) {
    if (v.kind == V_BOOL || v.kind == V_LAZY) return true;
    plan_error(p, at, "%s must be true or false, found %s", pname, val_kind_name(v.kind));
    return false;
}

/* ---- exec helpers ---------------------------------------------------------------- */

/* The i-th model's value of a forced per-model parameter, rounded to float32
 * as mergekit does before using weights. */
static bool per_model_at(Exec *x, const Node *n, Value v, size_t i, double dflt, const char *pname,
                         double *out) {
    Value e = v.kind == V_LIST ? v.u.list->items[i] : v;
    if (e.kind == V_NONE) {
        *out = dflt;
        return true;
    }
    if (e.kind != V_NUM) {
        exec_fail(x, n->span, "%s must be a number, found %s", pname, val_kind_name(e.kind));
        return false;
    }
    *out = (double)(float)e.u.num;
    return true;
}

static bool number_arg(Exec *x, const Node *n, Value v, const char *pname, double *out) {
    if (v.kind != V_NUM) {
        exec_fail(x, n->span, "%s must be a number, found %s", pname, val_kind_name(v.kind));
        return false;
    }
    *out = v.u.num;
    return true;
}

static bool bool_arg(Exec *x, const Node *n, Value v, bool dflt, const char *pname, bool *out) {
    if (v.kind == V_NONE) {
        *out = dflt;
        return true;
    }
    if (v.kind != V_BOOL) {
        exec_fail(x, n->span, "%s must be true or false, found %s", pname, val_kind_name(v.kind));
        return false;
    }
    *out = v.u.b;
    return true;
}

static Value tensor_value(Tensor *t) {
    Value v = { .kind = V_TENSOR, .u.tensor = t };
    return v;
}

/* Collects the float data of a forced list of tensors; integer tensors are
 * reported through *passthrough (the first one is returned unchanged). */
static const float **tensor_data(Exec *x, const Node *n, Value list, const Tensor **first) {
    size_t k = list.u.list->n;
    const float **xs = arena_array(x->arena, k, sizeof *xs);
    if (!xs) {
        exec_fail(x, n->span, "out of memory");
        return NULL;
    }
    *first = list.u.list->items[0].u.tensor;
    for (size_t i = 0; i < k; i++) {
        const Tensor *t = list.u.list->items[i].u.tensor;
        if (t->f && (*first)->f && !shape_equal(&t->shape, &(*first)->shape)) {
            exec_fail(x, n->span, "tensor '%s': shapes of the models differ", x->out->name);
            return NULL;
        }
        xs[i] = t->f;
    }
    return xs;
}

/* ---- model(path) ------------------------------------------------------------------ */

static Value plan_model(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (args[0].kind != V_STR)
        return plan_error(p, sp[0], "model() expects a path string, found %s",
                          val_kind_name(args[0].kind));
    const char *path = arena_strndup(&p->arena, args[0].u.str.s, args[0].u.str.len);
    if (strlen(path) != args[0].u.str.len)
        return plan_error(p, sp[0], "the path contains a NUL byte");
    return plan_open_model(p, path, sp[0]);
}

/* ---- save(model, path, dtype=, shard=, config=) --------------------------------------- */

static bool check_output_path(Plan *p, const char *path, SrcSpan at) {
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            plan_error(p, at, "output '%s' exists and is not a folder", path);
            return false;
        }
        if (!p->overwrite) {
            /* An empty folder may be filled; anything else needs --force. */
            int empty = 1;
            DIR *d = opendir(path);
            if (d) {
                struct dirent *e;
                while ((e = readdir(d)))
                    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = 0;
                closedir(d);
            }
            if (!empty) {
                diag_error(p->diag, at, "output folder '%s' already exists and is not empty", path);
                diag_hint(p->diag, "use --force to replace it");
                return false;
            }
        }
    }
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", path);
    size_t len = strlen(parent);
    while (len > 1 && parent[len - 1] == '/') parent[--len] = '\0';
    char *slash = strrchr(parent, '/');
    if (!slash) snprintf(parent, sizeof parent, ".");
    else if (slash == parent) parent[1] = '\0';
    else *slash = '\0';
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)) {
        plan_error(p, at, "cannot write '%s': folder '%s' does not exist", path, parent);
        return false;
    }
    if (access(parent, W_OK) != 0) {
        plan_error(p, at, "cannot write '%s': folder '%s' is not writable", path, parent);
        return false;
    }
    return true;
}

static Value plan_save(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    bool ok = expect_model(p, args[0], sp[0], "save() argument 'model'");
    SaveRequest r = { .model = args[0], .span = call, .shard_bytes = 5000000000ull };
    if (args[1].kind != V_STR) {
        plan_error(p, sp[1], "save() expects an output folder path, found %s", val_kind_name(args[1].kind));
        ok = false;
    } else {
        r.path = arena_strndup(&p->arena, args[1].u.str.s, args[1].u.str.len);
        if (!r.path[0]) {
            plan_error(p, sp[1], "the output path is empty");
            ok = false;
        } else if (!check_output_path(p, r.path, sp[1])) {
            ok = false;
        }
    }
    if (args[2].kind == V_STR) {
        const char *s = arena_strndup(&p->arena, args[2].u.str.s, args[2].u.str.len);
        if (!dtype_from_torch_name(s, &r.dtype) || !dtype_is_computable(r.dtype)) {
            diag_error(p->diag, sp[2], "unknown output dtype '%s'", s);
            diag_hint(p->diag, "use \"bfloat16\", \"float16\", \"float32\" or \"float64\"");
            ok = false;
        }
        r.has_dtype = true;
    } else if (args[2].kind != V_NONE) {
        plan_error(p, sp[2], "dtype must be a string such as \"bfloat16\", found %s",
                   val_kind_name(args[2].kind));
        ok = false;
    }
    if (args[3].kind == V_STR) {
        const char *s = arena_strndup(&p->arena, args[3].u.str.s, args[3].u.str.len);
        if (stw_parse_size(s, &r.shard_bytes) != 0 || r.shard_bytes == 0) {
            diag_error(p->diag, sp[3], "cannot read shard size '%s'", s);
            diag_hint(p->diag, "write a size such as \"5GB\", \"500MB\" or \"2GiB\"");
            ok = false;
        }
    } else if (args[3].kind == V_NUM) {
        if (!(args[3].u.num >= 1 && args[3].u.num < 1.8e19)) {
            plan_error(p, sp[3], "the shard size must be a positive number of bytes");
            ok = false;
        } else {
            r.shard_bytes = (uint64_t)args[3].u.num;
        }
    } else if (args[3].kind != V_NONE) {
        plan_error(p, sp[3], "shard must be a size such as \"5GB\", found %s", val_kind_name(args[3].kind));
        ok = false;
    }
    if (args[4].kind == V_MODEL) {
        if (args[4].u.node->kind != N_SOURCE) {
            plan_error(p, sp[4], "config= takes a model opened with model(), whose config.json is copied");
            ok = false;
        } else {
            r.config = args[4].u.node->u.source.ckpt;
        }
    } else if (args[4].kind != V_NONE) {
        plan_error(p, sp[4], "config= takes a model, found %s", val_kind_name(args[4].kind));
        ok = false;
    }
    if (!ok) return val_error();
    for (size_t i = 0; i < p->n_saves; i++) {
        if (strcmp(p->saves[i].path, r.path) == 0) {
            diag_error(p->diag, sp[1], "'%s' is saved twice", r.path);
            diag_note(p->diag, p->saves[i].span, "first saved here");
            return val_error();
        }
    }
    if (p->n_saves == p->cap_saves) {
        size_t cap = p->cap_saves ? p->cap_saves * 2 : 4;
        SaveRequest *m = realloc(p->saves, cap * sizeof *m);
        if (!m) return plan_error(p, call, "out of memory");
        p->saves = m;
        p->cap_saves = cap;
    }
    p->saves[p->n_saves++] = r;
    return val_none();
}

/* ---- linear(models, weights=, normalize=true) ------------------------------------------ */

static Value plan_linear(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!expect_models(p, bi, args[0], sp[0], NULL, NULL)) return val_error();
    size_t n = args[0].u.list->n;
    if (!expect_per_model(p, args[1], n, sp[1], "weights")) return val_error();
    if (args[2].kind != V_NONE && !expect_bool(p, args[2], sp[2], "normalize")) return val_error();
    return make_call(p, bi, args, call, args[0].u.list->items[0].u.node->set);
}

static Value exec_linear(Exec *x, const Node *n, Value *args) {
    Value models = args[0];
    size_t k = models.u.list->n;
    const Tensor *first;
    const float **xs = tensor_data(x, n, models, &first);
    if (!xs) return val_error();
    if (!first->f) return models.u.list->items[0];
    bool normalize;
    if (!bool_arg(x, n, args[2], true, "normalize", &normalize)) return val_error();
    double *w = arena_array(x->arena, k, sizeof *w);
    if (!w) return exec_fail(x, n->span, "out of memory");
    double sum = 0;
    for (size_t i = 0; i < k; i++) {
        if (!per_model_at(x, n, args[1], i, 1.0, "weights", &w[i])) return val_error();
        sum += w[i];
    }
    if (normalize && sum == 0)
        return exec_fail(x, n->span, "linear(): the weights sum to zero for tensor '%s', so they cannot be normalized",
                         x->out->name);
    Tensor *r = exec_new_tensor(x, &first->shape, first->dtype, n->span);
    if (!r) return val_error();
    kern_weighted_sum(xs, w, k, normalize ? sum : 1.0, r->f, (size_t)r->numel);
    return tensor_value(r);
}

/* ---- slerp(a, b, t) ------------------------------------------------------------------ */

static Value plan_slerp(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!expect_model(p, args[0], sp[0], "slerp() argument 'a'") ||
        !expect_model(p, args[1], sp[1], "slerp() argument 'b'") ||
        !check_compatible(p, bi, args[0].u.node->set, args[1], sp[1], "the first model", "the second model") ||
        !expect_number(p, args[2], sp[2], "t"))
        return val_error();
    return make_call(p, bi, args, call, args[0].u.node->set);
}

static Value exec_slerp(Exec *x, const Node *n, Value *args) {
    const Tensor *a = args[0].u.tensor, *b = args[1].u.tensor;
    if (!a->f) return args[0];
    if (!b->f || !shape_equal(&a->shape, &b->shape))
        return exec_fail(x, n->span, "slerp(): tensor '%s' differs in shape or dtype between the models", x->out->name);
    double t;
    if (!number_arg(x, n, args[2], "t", &t)) return val_error();
    Tensor *r = exec_new_tensor(x, &a->shape, a->dtype, n->span);
    if (!r) return val_error();
    kern_slerp(a->f, b->f, t, r->f, (size_t)r->numel);
    return tensor_value(r);
}

/* ---- task_arithmetic(base, models, weights=, lambda=1, normalize=false) ------------------- */

static Value plan_task_arithmetic(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!expect_model(p, args[0], sp[0], "task_arithmetic() argument 'base'")) return val_error();
    if (!expect_models(p, bi, args[1], sp[1], args[0].u.node->set, "the base")) return val_error();
    size_t n = args[1].u.list->n;
    if (!expect_per_model(p, args[2], n, sp[2], "weights")) return val_error();
    if (args[3].kind != V_NONE && !expect_number(p, args[3], sp[3], "lambda")) return val_error();
    if (args[4].kind != V_NONE && !expect_bool(p, args[4], sp[4], "normalize")) return val_error();
    return make_call(p, bi, args, call, args[0].u.node->set);
}

static Value exec_task_arithmetic(Exec *x, const Node *n, Value *args) {
    const Tensor *base = args[0].u.tensor;
    if (!base->f) return args[0];
    Value models = args[1];
    size_t k = models.u.list->n;
    const Tensor *first;
    const float **xs = tensor_data(x, n, models, &first);
    if (!xs) return val_error();
    for (size_t i = 0; i < k; i++)
        if (!xs[i] || !shape_equal(&models.u.list->items[i].u.tensor->shape, &base->shape))
            return exec_fail(x, n->span, "task_arithmetic(): tensor '%s' differs in shape or dtype from the base",
                             x->out->name);
    double lambda = 1.0;
    if (args[3].kind != V_NONE && !number_arg(x, n, args[3], "lambda", &lambda)) return val_error();
    bool normalize;
    if (!bool_arg(x, n, args[4], false, "normalize", &normalize)) return val_error();
    double *w = arena_array(x->arena, k, sizeof *w);
    if (!w) return exec_fail(x, n->span, "out of memory");
    double sum = 0;
    for (size_t i = 0; i < k; i++) {
        if (!per_model_at(x, n, args[2], i, 1.0, "weights", &w[i])) return val_error();
        sum += w[i];
    }
    /* mergekit's guard: a (near) zero weight sum divides by one instead. */
    double divisor = normalize && fabs(sum) >= 1e-8 ? sum : 1.0;
    Tensor *r = exec_new_tensor(x, &base->shape, base->dtype, n->span);
    if (!r) return val_error();
    kern_task_sum(base->f, xs, w, k, divisor, lambda, r->f, (size_t)r->numel);
    return tensor_value(r);
}

/* ---- gradient(values) ------------------------------------------------------------------- */

static Value plan_gradient(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    Value v = args[0];
    if (v.kind != V_LIST || v.u.list->n == 0)
        return plan_error(p, sp[0], "gradient() expects a non-empty list of numbers");
    for (size_t i = 0; i < v.u.list->n; i++)
        if (v.u.list->items[i].kind != V_NUM)
            return plan_error(p, sp[0], "entry %zu of the gradient must be a number, found %s", i + 1,
                              val_kind_name(v.u.list->items[i].kind));
    return make_call(p, bi, args, call, NULL);
}

/* mergekit's rule: block i of n sits at i/(n-1) (1 when n == 1); tensors
 * outside the blocks at 0; linear between neighbouring anchors. */
static Value exec_gradient(Exec *x, const Node *n, Value *args) {
    const ValList *l = args[0].u.list;
    double pos = 0;
    if (x->layer >= 0) pos = x->n_layers > 1 ? (double)x->layer / (double)(x->n_layers - 1) : 1.0;
    size_t L = l->n;
    double s = pos * (double)(L - 1);
    double i0d = floor(s);
    if (i0d < 0) i0d = 0;
    if (i0d > (double)(L - 1)) i0d = (double)(L - 1);
    size_t i0 = (size_t)i0d, i1 = i0 + 1 < L ? i0 + 1 : L - 1;
    double f = s - i0d;
    return val_num((1 - f) * l->items[i0].u.num + f * l->items[i1].u.num);
}

/* ---- the table ----------------------------------------------------------------------------- */

static const Builtin table[] = {
    { "model", { "path", NULL }, 1, plan_model, NULL,
      "model(path): a safetensors file or a Hugging Face model folder" },
    { "save", { "model", "path", "dtype", "shard", "config", NULL }, 2, plan_save, NULL,
      "save(model, path, dtype=none, shard=\"5GB\", config=none)" },
    { "linear", { "models", "weights", "normalize", NULL }, 1, plan_linear, exec_linear,
      "linear(models, weights=1, normalize=true)" },
    { "slerp", { "a", "b", "t", NULL }, 3, plan_slerp, exec_slerp,
      "slerp(a, b, t): t=0 gives a, t=1 gives b" },
    { "task_arithmetic", { "base", "models", "weights", "lambda", "normalize", NULL }, 2,
      plan_task_arithmetic, exec_task_arithmetic,
      "task_arithmetic(base, models, weights=1, lambda=1, normalize=false)" },
    { "gradient", { "values", NULL }, 1, plan_gradient, exec_gradient,
      "gradient([v0, ..., vk]): piecewise linear in layer / (n_layers - 1)" },
};

const Builtin *builtin_find(const char *name) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}

size_t builtin_count(void) { return sizeof table / sizeof table[0]; }

const Builtin *builtin_at(size_t i) { return i < builtin_count() ? &table[i] : NULL; }

int builtin_n_params(const Builtin *bi) {
    int n = 0;
    while (n < BUILTIN_MAX_PARAMS && bi->params[n]) n++;
    return n;
}
