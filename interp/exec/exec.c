/* exec.c - the exec stage; see exec.h. */
#include "interp/exec/exec.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/io/hfnames.h"
#include "runtime/kernels/kernels.h"
#include "interp/plan/builtin_api.h"
#include "interp/exec/exec_stats.h"
#include "interp/plan/ops.h"

int exec_init(Exec *x, Arena *arena, int n_nodes, const TensorInfo *out, const TensorSet *set) {
    memset(x, 0, sizeof *x);
    x->arena = arena;
    x->out = out;
    x->set = set;
    /* Per module: text block 3 of 4 beside a 2-block vision tower is at
     * depth 3/3, not 3/(deepest - 1). */
    x->layer = hfname_layer(out->name);
    x->n_layers = tset_depth_of(set, out->name);
    x->n_nodes = n_nodes;
    x->stats_round = -1;
    x->memo = arena_array(arena, n_nodes > 0 ? (size_t)n_nodes : 1, sizeof *x->memo);
    return x->memo ? 0 : -1;
}

Value exec_fail(Exec *x, SrcSpan at, const char *fmt, ...) {
    if (!x->failed) {
        x->failed = true;
        x->fail_at = at;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->fail_msg, sizeof x->fail_msg, fmt, ap);
        va_end(ap);
    }
    return val_error();
}

Tensor *exec_new_tensor(Exec *x, const Shape *shape, DType dtype, SrcSpan at) {
    Tensor *t = arena_alloc(x->arena, sizeof *t);
    int64_t n = shape_numel(shape);
    if (t && n >= 0) {
        t->dtype = dtype;
        t->shape = *shape;
        t->numel = n;
        /* Not zeroed: every kernel writes its whole output. */
        t->f = arena_array_uninit(x->arena, (size_t)n, sizeof(float));
        if (t->f) return t;
    }
    exec_fail(x, at, "out of memory for a tensor of %lld elements", (long long)n);
    return NULL;
}

static Value tensor_value(Tensor *t) {
    Value v = { .kind = V_TENSOR, .u.tensor = t };
    return v;
}

static Value str_value(const char *s) {
    Value v = { .kind = V_STR };
    v.u.str.s = s;
    v.u.str.len = strlen(s);
    return v;
}

Shape exec_shape(const Exec *x, const Shape *full) {
    Shape s = *full;
    if (x->row_end > 0 && s.rank > 0) s.dims[0] = x->row_end - x->row_begin;
    return s;
}

static Value exec_source(Exec *x, const Node *n) {
    if (x->no_data) {
        x->needed_data = true;
        return exec_fail(x, n->span, "needs tensor data");
    }
    const CkptTensor *ct = ckpt_find(n->u.source.ckpt, x->out->name);
    if (!ct) return exec_fail(x, n->span, "model '%s' has no tensor '%s'", n->u.source.path, x->out->name);
    Tensor *t = arena_alloc(x->arena, sizeof *t);
    if (!t) return exec_fail(x, n->span, "out of memory");
    t->dtype = ct->dtype;
    t->shape = exec_shape(x, &ct->shape);
    t->numel = shape_numel(&t->shape);
    /* A row range of dim 0: rows are contiguous in the file. */
    const uint8_t *data = ct->data;
    if (x->row_end > 0 && ct->shape.rank > 0 && ct->shape.dims[0] > 0) {
        if (x->row_end > ct->shape.dims[0])
            return exec_fail(x, n->span, "tensor '%s' has fewer rows than asked for", x->out->name);
        size_t row_bytes = (size_t)(shape_numel(&ct->shape) / ct->shape.dims[0]) * dtype_size(ct->dtype);
        data += (size_t)x->row_begin * row_bytes;
    }
    if (!dtype_is_computable(ct->dtype)) {
        t->raw = data;
        return tensor_value(t);
    }
    t->f = arena_array_uninit(x->arena, t->numel > 0 ? (size_t)t->numel : 1, sizeof(float));
    if (!t->f) return exec_fail(x, n->span, "out of memory reading tensor '%s'", x->out->name);
    size_t nbytes = (size_t)t->numel * dtype_size(ct->dtype);
    /* A NaN or infinity in a checkpoint means a broken input; merging it
     * would spread it silently through every method. Checked while
     * decoding. */
    bool check = !n->u.source.allow_nonfinite, finite = true;
    const void *raw = data;    /* a checkpoint in memory */
    if (ct->file->fd >= 0) {
        /* Read with pread into the arena (float32 straight into place):
         * cheaper than faulting the mapping in and releasing it again, and
         * nothing of the input stays resident. */
        void *buf = ct->dtype == DT_F32 ? (void *)t->f : arena_alloc_uninit(x->arena, nbytes ? nbytes : 1);
        if (!buf) return exec_fail(x, n->span, "out of memory reading tensor '%s'", x->out->name);
        errno = 0;
        if (st_read_bytes(ct->file, data, nbytes, buf) != 0)
            return exec_fail(x, n->span, "%s: cannot read tensor '%s': %s", ct->file->path, x->out->name,
                             errno ? strerror(errno) : "unexpected end of file");
        raw = buf;
    }
    if (raw == t->f) finite = !check || kern_all_finite(t->f, (size_t)t->numel);
    else if (check) finite = dtype_decode_f32_finite(ct->dtype, raw, t->f, (size_t)t->numel);
    else dtype_decode_f32(ct->dtype, raw, t->f, (size_t)t->numel);
    if (!finite) {
        for (int64_t j = 0; j < t->numel; j++) {
            if (!isfinite(t->f[j]))
                return exec_fail(x, n->span, "%s holds %s at element %lld", ct->file->path,
                                 isnan(t->f[j]) ? "NaN" : "an infinity",
                                 (long long)(j + x->row_begin * (t->numel / (t->shape.dims[0] ? t->shape.dims[0] : 1))));
        }
    }
    return tensor_value(t);
}

static Value exec_context(Exec *x, const Node *n) {
    switch (n->u.ctx) {
    case CTX_NAME: return str_value(x->out->name);
    case CTX_LAYER: return x->layer >= 0 ? val_num((double)x->layer) : val_none();
    case CTX_N_LAYERS: return val_num((double)x->n_layers);
    case CTX_DTYPE: {
        const char *s = dtype_torch_name(x->out->dtype);
        return str_value(s ? s : dtype_st_name(x->out->dtype));
    }
    case CTX_SHAPE: {
        ValList *l = arena_alloc(x->arena, sizeof *l);
        if (!l) return exec_fail(x, n->span, "out of memory");
        l->n = (size_t)x->out->shape.rank;
        l->items = arena_array(x->arena, l->n ? l->n : 1, sizeof *l->items);
        if (!l->items) return exec_fail(x, n->span, "out of memory");
        for (size_t i = 0; i < l->n; i++) l->items[i] = val_num((double)x->out->shape.dims[i]);
        Value v = { .kind = V_LIST, .u.list = l };
        return v;
    }
    }
    return val_none();
}

static Value exec_node(Exec *x, const Node *n) {
    switch (n->kind) {
    case N_SOURCE: return exec_source(x, n);
    case N_CONTEXT: return exec_context(x, n);
    case N_CALL: {
        Value *args = arena_array(x->arena, n->u.call.nargs ? n->u.call.nargs : 1, sizeof *args);
        if (!args) return exec_fail(x, n->span, "out of memory");
        for (size_t i = 0; i < n->u.call.nargs; i++) {
            if (n->u.call.bi->lazy_args) {
                args[i] = n->u.call.args[i];
                continue;
            }
            args[i] = exec_force(x, n->u.call.args[i]);
            if (args[i].kind == V_ERROR) return args[i];
        }
        const BuiltinStream *st = n->u.call.bi->stream;
        if (x->stats && x->stats_round >= 0 && st)
            return exec_stats_scan(x, n, args);
        return n->u.call.bi->exec(x, n, args);
    }
    case N_UNARY: {
        Value a = exec_force(x, n->u.op.a);
        if (a.kind == V_ERROR) return a;
        char err[256];
        Value r = ops_unary(x->arena, n->u.op.op, a, err, sizeof err);
        return r.kind == V_ERROR ? exec_fail(x, n->span, "%s", err) : r;
    }
    case N_BINARY: {
        AstOp op = n->u.op.op;
        Value a = exec_force(x, n->u.op.a);
        if (a.kind == V_ERROR) return a;
        if ((op == OP_AND || op == OP_OR) && a.kind == V_BOOL && a.u.b == (op == OP_OR)) return a;
        Value b = exec_force(x, n->u.op.b);
        if (b.kind == V_ERROR) return b;
        char err[256];
        Value r = ops_binary(x->arena, op, a, b, err, sizeof err);
        return r.kind == V_ERROR ? exec_fail(x, n->span, "%s", err) : r;
    }
    case N_IF: {
        Value c = exec_force(x, n->u.cond.cond);
        if (c.kind == V_ERROR) return c;
        if (c.kind != V_BOOL)
            return exec_fail(x, n->span, "the condition must be true or false, found %s",
                             val_kind_name(c.kind));
        return exec_force(x, c.u.b ? n->u.cond.then_ : n->u.cond.else_);
    }
    }
    return exec_fail(x, n->span, "internal error: unknown node kind");
}

Value exec_in_frame(Exec *x, Value v, const TensorInfo *info, const TensorSet *set) {
    Exec child;
    if (exec_init(&child, x->arena, x->n_nodes, info, set) != 0)
        return exec_fail(x, (SrcSpan){ 0 }, "out of memory");
    child.no_data = x->no_data;
    child.row_begin = x->row_begin;
    child.row_end = x->row_end;
    Value r = exec_force(&child, v);
    x->n_evaluated += child.n_evaluated;
    if (child.failed) {
        if (!x->failed) {      /* the first failure is the one reported */
            x->failed = true;
            x->needed_data = child.needed_data;
            x->fail_at = child.fail_at;
            memcpy(x->fail_msg, child.fail_msg, sizeof x->fail_msg);
        }
        return val_error();
    }
    return r;
}

ExecProbe exec_probe(int n_nodes, const TensorInfo *out, const TensorSet *set, Value v, Value *value, SrcSpan *at,
                     char *msg, size_t msg_len) {
    Arena arena;
    arena_init(&arena);
    Exec x;
    ExecProbe r = EXEC_PROBE_NEEDS_DATA;    /* also when out of memory: it says nothing */
    if (exec_init(&x, &arena, n_nodes, out, set) == 0) {
        x.no_data = true;
        Value got = exec_force(&x, v);
        if (!x.failed) {
            r = EXEC_PROBE_OK;
            *value = got.kind == V_NUM || got.kind == V_BOOL || got.kind == V_NONE ? got : val_error();
        } else if (!x.needed_data && !strstr(x.fail_msg, "out of memory")) {
            r = EXEC_PROBE_FAILED;
            *at = x.fail_at;
            snprintf(msg, msg_len, "%s", x.fail_msg);
        }
    }
    arena_free(&arena);
    return r;
}

Value exec_force(Exec *x, Value v) {
    if (x->failed) return val_error();
    if (val_is_lazy(v)) {
        const Node *n = v.u.node;
        ExecMemo *m = &x->memo[n->id];
        if (m->state == 2) return m->v;
        if (m->state == 1) return exec_fail(x, n->span, "internal error: cycle in the graph");
        m->state = 1;
        x->n_evaluated++;
        m->v = exec_node(x, n);
        m->state = 2;
        return m->v;
    }
    if (v.kind == V_LIST && val_depends_on_tensor(v)) {
        ValList *l = arena_alloc(x->arena, sizeof *l);
        if (!l) return exec_fail(x, (SrcSpan){ 0 }, "out of memory");
        l->n = v.u.list->n;
        l->items = arena_array(x->arena, l->n ? l->n : 1, sizeof *l->items);
        if (!l->items) return exec_fail(x, (SrcSpan){ 0 }, "out of memory");
        for (size_t i = 0; i < l->n; i++) {
            l->items[i] = exec_force(x, v.u.list->items[i]);
            if (l->items[i].kind == V_ERROR) return val_error();
        }
        Value r = { .kind = V_LIST, .u.list = l };
        return r;
    }
    return v;
}
