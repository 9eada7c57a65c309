/* ops.c - operators on plain values; see ops.h. */
#include "interp/plan/ops.h"

#include <stdio.h>
#include <string.h>

#include "runtime/kernels/kernels.h"

#define OPS_MAX_STRING ((size_t)1 << 20)

static Value fail(char *err, size_t errlen, const char *msg, Value x, Value y) {
    snprintf(err, errlen, msg, val_kind_name(x.kind), val_kind_name(y.kind));
    return val_error();
}

static bool is_arith(AstOp op) {
    return op == OP_ADD || op == OP_SUB || op == OP_MUL || op == OP_DIV;
}

static KernOp kern_op(AstOp op) {
    switch (op) {
    case OP_ADD: return KERN_ADD;
    case OP_SUB: return KERN_SUB;
    case OP_MUL: return KERN_MUL;
    default: return KERN_DIV;
    }
}

static Tensor *tensor_like(Arena *arena, const Tensor *t) {
    Tensor *r = arena_alloc(arena, sizeof *r);
    if (!r) return NULL;
    *r = *t;
    r->raw = NULL;
    r->f = arena_array(arena, (size_t)t->numel, sizeof(float));
    return r->f || t->numel == 0 ? r : NULL;
}

static Value tensor_value(Tensor *t) {
    Value v = { .kind = V_TENSOR, .u.tensor = t };
    return v;
}

static Value tensor_arith(Arena *arena, AstOp op, Value x, Value y, char *err, size_t errlen) {
    const Tensor *tx = x.kind == V_TENSOR ? x.u.tensor : NULL;
    const Tensor *ty = y.kind == V_TENSOR ? y.u.tensor : NULL;
    /* Integer and bool tensors are not computed on: the first one passes through. */
    if (tx && !tx->f) return x;
    if (!tx && ty && !ty->f) return y;
    if (tx && ty && !ty->f) return x;
    if (tx && ty && !shape_equal(&tx->shape, &ty->shape)) {
        char a[96], b[96];
        snprintf(err, errlen, "shapes %s and %s differ", shape_format(&tx->shape, a, sizeof a),
                 shape_format(&ty->shape, b, sizeof b));
        return val_error();
    }
    const Tensor *like = tx ? tx : ty;
    Tensor *r = tensor_like(arena, like);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return val_error();
    }
    size_t n = (size_t)like->numel;
    if (tx && ty) kern_binary(kern_op(op), tx->f, ty->f, r->f, n);
    else if (tx) kern_binary_scalar(kern_op(op), tx->f, y.u.num, 0, r->f, n);
    else kern_binary_scalar(kern_op(op), ty->f, x.u.num, 1, r->f, n);
    return tensor_value(r);
}

static int compare_values(AstOp op, Value x, Value y, bool *out, char *err, size_t errlen) {
    if (op == OP_EQ || op == OP_NE) {
        bool eq;
        if (x.kind != y.kind) eq = false;
        else if (x.kind == V_NUM) eq = x.u.num == y.u.num;
        else if (x.kind == V_BOOL) eq = x.u.b == y.u.b;
        else if (x.kind == V_NONE) eq = true;
        else if (x.kind == V_STR)
            eq = x.u.str.len == y.u.str.len && memcmp(x.u.str.s, y.u.str.s, x.u.str.len) == 0;
        else {
            snprintf(err, errlen, "cannot compare %s with ==", val_kind_name(x.kind));
            return -1;
        }
        *out = op == OP_EQ ? eq : !eq;
        return 0;
    }
    int c;
    if (x.kind == V_NUM && y.kind == V_NUM) {
        c = x.u.num < y.u.num ? -1 : x.u.num > y.u.num ? 1 : 0;
        if (x.u.num != x.u.num || y.u.num != y.u.num) { *out = false; return 0; }
    } else if (x.kind == V_STR && y.kind == V_STR) {
        size_t n = x.u.str.len < y.u.str.len ? x.u.str.len : y.u.str.len;
        c = memcmp(x.u.str.s, y.u.str.s, n);
        if (c == 0) c = x.u.str.len < y.u.str.len ? -1 : x.u.str.len > y.u.str.len ? 1 : 0;
    } else {
        snprintf(err, errlen, "cannot order %s and %s", val_kind_name(x.kind), val_kind_name(y.kind));
        return -1;
    }
    switch (op) {
    case OP_LT: *out = c < 0; break;
    case OP_LE: *out = c <= 0; break;
    case OP_GT: *out = c > 0; break;
    default: *out = c >= 0; break;
    }
    return 0;
}

Value ops_binary(Arena *arena, AstOp op, Value x, Value y, char *err, size_t errlen) {
    if (x.kind == V_ERROR || y.kind == V_ERROR) return val_error();
    if (is_arith(op)) {
        if (x.kind == V_NUM && y.kind == V_NUM) {
            switch (op) {
            case OP_ADD: return val_num(x.u.num + y.u.num);
            case OP_SUB: return val_num(x.u.num - y.u.num);
            case OP_MUL: return val_num(x.u.num * y.u.num);
            default:
                if (y.u.num == 0) {
                    snprintf(err, errlen, "division by zero");
                    return val_error();
                }
                return val_num(x.u.num / y.u.num);
            }
        }
        if (op == OP_ADD && x.kind == V_STR && y.kind == V_STR) {
            size_t n = x.u.str.len + y.u.str.len;
            /* Names and paths are short; doubling a string in a loop must
             * not be a way to exhaust memory. */
            if (n > OPS_MAX_STRING) {
                snprintf(err, errlen, "string of more than %d MiB", (int)(OPS_MAX_STRING >> 20));
                return val_error();
            }
            char *s = arena_alloc(arena, n + 1);
            if (!s) {
                snprintf(err, errlen, "out of memory");
                return val_error();
            }
            memcpy(s, x.u.str.s, x.u.str.len);
            memcpy(s + x.u.str.len, y.u.str.s, y.u.str.len);
            Value v = { .kind = V_STR, .u.str = { s, n } };
            return v;
        }
        bool xt = x.kind == V_TENSOR, yt = y.kind == V_TENSOR;
        if ((xt || x.kind == V_NUM) && (yt || y.kind == V_NUM) && (xt || yt))
            return tensor_arith(arena, op, x, y, err, errlen);
        return fail(err, errlen, op == OP_ADD   ? "cannot add %s and %s"
                                 : op == OP_SUB ? "cannot subtract %s and %s"
                                 : op == OP_MUL ? "cannot multiply %s and %s"
                                                : "cannot divide %s by %s",
                    x, y);
    }
    switch (op) {
    case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE: {
        bool r;
        if (compare_values(op, x, y, &r, err, errlen) < 0) return val_error();
        return val_bool(r);
    }
    case OP_MATCH:
        if (x.kind != V_STR || y.kind != V_STR)
            return fail(err, errlen, "'~' matches a string against a string, found %s and %s", x, y);
        if (y.u.str.len > x.u.str.len) return val_bool(false);
        return val_bool(memmem(x.u.str.s, x.u.str.len, y.u.str.s, y.u.str.len) != NULL ||
                        y.u.str.len == 0);
    case OP_AND: case OP_OR:
        if (x.kind != V_BOOL || y.kind != V_BOOL)
            return fail(err, errlen, "'and'/'or' need booleans, found %s and %s", x, y);
        return val_bool(op == OP_AND ? (x.u.b && y.u.b) : (x.u.b || y.u.b));
    default:
        snprintf(err, errlen, "unsupported operator");
        return val_error();
    }
}

Value ops_unary(Arena *arena, AstOp op, Value x, char *err, size_t errlen) {
    if (x.kind == V_ERROR) return val_error();
    if (op == OP_NOT) {
        if (x.kind != V_BOOL) {
            snprintf(err, errlen, "'not' needs a boolean, found %s", val_kind_name(x.kind));
            return val_error();
        }
        return val_bool(!x.u.b);
    }
    if (x.kind == V_NUM) return val_num(-x.u.num);
    if (x.kind == V_TENSOR) {
        if (!x.u.tensor->f) return x;
        Tensor *r = tensor_like(arena, x.u.tensor);
        if (!r) {
            snprintf(err, errlen, "out of memory");
            return val_error();
        }
        kern_neg(x.u.tensor->f, r->f, (size_t)r->numel);
        return tensor_value(r);
    }
    snprintf(err, errlen, "cannot negate %s", val_kind_name(x.kind));
    return val_error();
}
