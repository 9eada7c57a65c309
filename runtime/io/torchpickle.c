/* torchpickle.c - the restricted unpickler for torch state dicts; see
 * torchpickle.h.
 *
 * Values live in one pool and are referred to by index, as Python refers to
 * objects: the memo and the stack hold indices, so BINGET shares an object
 * (a dict filled later is seen filled) and nothing is ever copied. Strings
 * point into the pickle bytes. Containers only grow by the opcodes that
 * fill them, each item costing at least one opcode byte, so every count is
 * bounded by the input size, and further by the explicit limits below.
 * No walk over values is recursive: the result is read only at the two
 * known depths (dict -> tensor -> its argument tuples). */
#include "runtime/io/torchpickle.h"
#include "runtime/core/utf8.h"
#include "runtime/io/safetensors.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VALUES (1u << 22)
#define MAX_ITEMS (1u << 24)     /* container slots, all containers together */
#define MAX_STACK (1u << 22)
#define MAX_MEMO (1u << 22)
#define MAX_MARKS 64              /* a state dict nests about 4 deep */
#define MAX_STRING (1u << 20)
#define MAX_TENSORS (1u << 20)
#define NO_VALUE UINT32_MAX

typedef enum PvKind {
    PV_NONE, PV_BOOL, PV_INT, PV_STR, PV_TUPLE, PV_LIST, PV_DICT, PV_GLOBAL, PV_STORAGE, PV_TENSOR
} PvKind;

typedef enum Global {
    G_ORDERED_DICT, G_REBUILD_TENSOR_V2, G_REBUILD_TENSOR, G_REBUILD_PARAMETER, G_STORAGE
} Global;

static const char *const kind_names[] = {
    "None", "bool", "int", "str", "tuple", "list", "dict", "global", "storage", "tensor"
};

typedef struct Pv {
    uint8_t kind;
    uint8_t global;        /* PV_GLOBAL */
    uint8_t dtype;         /* PV_GLOBAL of G_STORAGE, PV_STORAGE */
    int64_t i;             /* PV_INT, PV_BOOL; PV_STORAGE: numel */
    const uint8_t *s;      /* PV_STR */
    uint32_t len;          /* PV_STR */
    uint32_t *items;       /* PV_TUPLE, PV_LIST, PV_DICT (key, value pairs) */
    uint32_t n, cap;
    uint32_t key;          /* PV_STORAGE: the key string; PV_TENSOR: the storage */
    uint32_t args;         /* PV_TENSOR: the argument tuple of its rebuild */
} Pv;

typedef struct Unpickler {
    const char *label;
    const uint8_t *buf;
    size_t len, pos, op_at;
    Pv *vals;
    uint32_t n_vals, cap_vals;
    uint64_t n_items;
    uint32_t *stack;
    uint32_t n_stack, cap_stack;
    uint32_t *memo;
    uint32_t cap_memo, n_memo;    /* slots allocated; slots filled (MEMOIZE's next index) */
    uint32_t marks[MAX_MARKS];
    uint32_t n_marks;
    ErrBuf *err;
} Unpickler;

static const struct { const char *name; DType dtype; } storage_types[] = {
    {"FloatStorage", DT_F32}, {"HalfStorage", DT_F16}, {"BFloat16Storage", DT_BF16},
    {"DoubleStorage", DT_F64}, {"LongStorage", DT_I64}, {"IntStorage", DT_I32},
    {"ShortStorage", DT_I16}, {"CharStorage", DT_I8}, {"ByteStorage", DT_U8},
    {"BoolStorage", DT_BOOL},
};

static int fail(Unpickler *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(Unpickler *u, const char *fmt, ...) {
    char why[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return errbuf_set(u->err, "%s: data.pkl byte %zu: %s", u->label, u->op_at, why);
}

static uint32_t new_value(Unpickler *u, PvKind kind) {
    if (u->n_vals == u->cap_vals) {
        if (u->n_vals >= MAX_VALUES) {
            fail(u, "more than %u objects", MAX_VALUES);
            return NO_VALUE;
        }
        uint32_t cap = u->cap_vals ? u->cap_vals * 2 : 256;
        Pv *grown = realloc(u->vals, (size_t)cap * sizeof *grown);
        if (!grown) {
            fail(u, "out of memory");
            return NO_VALUE;
        }
        u->vals = grown;
        u->cap_vals = cap;
    }
    memset(&u->vals[u->n_vals], 0, sizeof u->vals[0]);
    u->vals[u->n_vals].kind = (uint8_t)kind;
    return u->n_vals++;
}

static int add_item(Unpickler *u, uint32_t container, uint32_t item) {
    Pv *c = &u->vals[container];
    if (c->n == c->cap) {
        if (u->n_items >= MAX_ITEMS) return fail(u, "more than %u items in containers", MAX_ITEMS);
        uint32_t cap = c->cap ? c->cap * 2 : 4;
        uint32_t *grown = realloc(c->items, (size_t)cap * sizeof *grown);
        if (!grown) return fail(u, "out of memory");
        u->n_items += cap - c->cap;
        c->items = grown;
        c->cap = cap;
    }
    c->items[c->n++] = item;
    return 0;
}

static int push(Unpickler *u, uint32_t v) {
    if (v == NO_VALUE) return -1;
    if (u->n_stack == u->cap_stack) {
        if (u->n_stack >= MAX_STACK) return fail(u, "the stack holds more than %u objects", MAX_STACK);
        uint32_t cap = u->cap_stack ? u->cap_stack * 2 : 256;
        uint32_t *grown = realloc(u->stack, (size_t)cap * sizeof *grown);
        if (!grown) return fail(u, "out of memory");
        u->stack = grown;
        u->cap_stack = cap;
    }
    u->stack[u->n_stack++] = v;
    return 0;
}

/* The stack above the innermost mark (or above nothing): how much pop may take. */
static uint32_t stack_floor(const Unpickler *u) {
    return u->n_marks ? u->marks[u->n_marks - 1] : 0;
}

static int pop(Unpickler *u, uint32_t *v) {
    if (u->n_stack <= stack_floor(u)) return fail(u, "the stack is empty");
    *v = u->stack[--u->n_stack];
    return 0;
}

static int top(Unpickler *u, uint32_t *v) {
    if (u->n_stack <= stack_floor(u)) return fail(u, "the stack is empty");
    *v = u->stack[u->n_stack - 1];
    return 0;
}

/* Pops everything above the innermost mark, and the mark: the items are
 * u->stack[*from, u->n_stack) until the next push. */
static int pop_mark(Unpickler *u, uint32_t *from) {
    if (!u->n_marks) return fail(u, "no mark to pop to");
    *from = u->marks[--u->n_marks];
    return 0;
}

static const uint8_t *take(Unpickler *u, size_t n) {
    if (u->len - u->pos < n) {
        fail(u, "the pickle ends inside an opcode's argument");
        return NULL;
    }
    const uint8_t *p = u->buf + u->pos;
    u->pos += n;
    return p;
}

static uint64_t le(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = v << 8 | p[i];
    return v;
}

static int push_string(Unpickler *u, size_t lenbytes) {
    const uint8_t *p = take(u, lenbytes);
    if (!p) return -1;
    uint64_t n = le(p, lenbytes);
    if (n > MAX_STRING) return fail(u, "a string of %" PRIu64 " bytes is longer than the limit of %u", n, MAX_STRING);
    const uint8_t *s = take(u, (size_t)n);
    if (!s) return -1;
    uint32_t v = new_value(u, PV_STR);
    if (v == NO_VALUE) return -1;
    u->vals[v].s = s;
    u->vals[v].len = (uint32_t)n;
    return push(u, v);
}

static int push_int(Unpickler *u, int64_t i, PvKind kind) {
    uint32_t v = new_value(u, kind);
    if (v == NO_VALUE) return -1;
    u->vals[v].i = i;
    return push(u, v);
}

static bool str_is(const Pv *v, const char *s) {
    return v->kind == PV_STR && v->len == strlen(s) && memcmp(v->s, s, v->len) == 0;
}

/* Resolves module.name against the allowed globals. */
static int push_global(Unpickler *u, const uint8_t *mod, size_t mod_len, const uint8_t *name, size_t name_len) {
    uint32_t v = new_value(u, PV_GLOBAL);
    if (v == NO_VALUE) return -1;
    Pv *g = &u->vals[v];
#define IS(field, lit) (field##_len == sizeof lit - 1 && memcmp(field, lit, field##_len) == 0)
    if (IS(mod, "collections") && IS(name, "OrderedDict")) g->global = G_ORDERED_DICT;
    else if (IS(mod, "torch._utils") && IS(name, "_rebuild_tensor_v2")) g->global = G_REBUILD_TENSOR_V2;
    else if (IS(mod, "torch._utils") && IS(name, "_rebuild_tensor")) g->global = G_REBUILD_TENSOR;
    else if (IS(mod, "torch._utils") && IS(name, "_rebuild_parameter")) g->global = G_REBUILD_PARAMETER;
    else {
        bool found = false;
        for (size_t i = 0; IS(mod, "torch") && i < sizeof storage_types / sizeof storage_types[0]; i++) {
            if (name_len == strlen(storage_types[i].name) && memcmp(name, storage_types[i].name, name_len) == 0) {
                g->global = G_STORAGE;
                g->dtype = (uint8_t)storage_types[i].dtype;
                found = true;
            }
        }
        if (!found) {
            /* Quoted with non-printable bytes shown as '?', cut to fit. */
            char what[200];
            size_t k = 0;
            for (size_t i = 0; i < mod_len + 1 + name_len && k < sizeof what - 4; i++) {
                unsigned char c = i < mod_len ? mod[i] : i == mod_len ? '.' : name[i - mod_len - 1];
                what[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
            }
            if (k < mod_len + 1 + name_len) what[k++] = '.', what[k++] = '.', what[k++] = '.';
            what[k] = '\0';
            return fail(u, "global '%s' is not allowed (a torch state dict uses only tensors, storages and "
                        "OrderedDict; nothing in the pickle is executed)", what);
        }
    }
#undef IS
    return push(u, v);
}

static int do_global(Unpickler *u) {
    /* GLOBAL: "module\nname\n" */
    const uint8_t *start = u->buf + u->pos, *end = u->buf + u->len;
    const uint8_t *nl1 = memchr(start, '\n', (size_t)(end - start) < 1024 ? (size_t)(end - start) : 1024);
    const uint8_t *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1) < 1024 ? (size_t)(end - nl1 - 1) : 1024) : NULL;
    if (!nl2) return fail(u, "GLOBAL without two newline-terminated names (of at most 1024 bytes)");
    u->pos = (size_t)(nl2 + 1 - u->buf);
    return push_global(u, start, (size_t)(nl1 - start), nl1 + 1, (size_t)(nl2 - nl1 - 1));
}

static int do_stack_global(Unpickler *u) {
    uint32_t name = 0, mod = 0;
    if (pop(u, &name) < 0 || pop(u, &mod) < 0) return -1;
    const Pv *n = &u->vals[name], *m = &u->vals[mod];
    if (n->kind != PV_STR || m->kind != PV_STR) return fail(u, "STACK_GLOBAL needs two strings");
    return push_global(u, m->s, m->len, n->s, n->len);
}

static int make_tuple(Unpickler *u, uint32_t from) {
    uint32_t t = new_value(u, PV_TUPLE);
    if (t == NO_VALUE) return -1;
    for (uint32_t i = from; i < u->n_stack; i++)
        if (add_item(u, t, u->stack[i]) < 0) return -1;
    u->n_stack = from;
    return push(u, t);
}

static int do_tuple_n(Unpickler *u, uint32_t n) {
    if (u->n_stack - stack_floor(u) < n) return fail(u, "TUPLE%u with fewer than %u objects on the stack", n, n);
    return make_tuple(u, u->n_stack - n);
}

static int memo_put(Unpickler *u, uint64_t index) {
    uint32_t v = NO_VALUE;
    if (top(u, &v) < 0) return -1;
    if (index >= MAX_MEMO) return fail(u, "memo index %" PRIu64 " is over the limit of %u", index, MAX_MEMO);
    if (index >= u->cap_memo) {
        uint32_t cap = u->cap_memo ? u->cap_memo : 256;
        while (cap <= index) cap *= 2;
        uint32_t *grown = realloc(u->memo, (size_t)cap * sizeof *grown);
        if (!grown) return fail(u, "out of memory");
        for (uint32_t i = u->cap_memo; i < cap; i++) grown[i] = NO_VALUE;
        u->memo = grown;
        u->cap_memo = cap;
    }
    if (u->memo[index] == NO_VALUE) u->n_memo++;
    u->memo[index] = v;
    return 0;
}

static int memo_get(Unpickler *u, uint64_t index) {
    if (index >= u->cap_memo || u->memo[index] == NO_VALUE)
        return fail(u, "memo index %" PRIu64 " was never stored", index);
    return push(u, u->memo[index]);
}

/* Pairs or items above the mark go into the dict or list below it. */
static int fill_from_mark(Unpickler *u, PvKind want, bool pairs) {
    uint32_t from = 0, target;
    if (pop_mark(u, &from) < 0) return -1;
    if (pairs && (u->n_stack - from) % 2) return fail(u, "SETITEMS with an odd number of objects");
    if (from <= stack_floor(u)) return fail(u, "%s with nothing to add to", pairs ? "SETITEMS" : "APPENDS");
    target = u->stack[from - 1];
    if (u->vals[target].kind != want)
        return fail(u, "%s on a %s", pairs ? "SETITEMS" : "APPENDS", kind_names[u->vals[target].kind]);
    for (uint32_t i = from; i < u->n_stack; i++)
        if (add_item(u, target, u->stack[i]) < 0) return -1;
    u->n_stack = from;
    return 0;
}

static int fill_one(Unpickler *u, PvKind want, uint32_t n) {
    if (u->n_stack - stack_floor(u) < n + 1) return fail(u, "%s with too few objects on the stack", n == 2 ? "SETITEM" : "APPEND");
    uint32_t target = u->stack[u->n_stack - n - 1];
    if (u->vals[target].kind != want)
        return fail(u, "%s on a %s", n == 2 ? "SETITEM" : "APPEND", kind_names[u->vals[target].kind]);
    for (uint32_t i = u->n_stack - n; i < u->n_stack; i++)
        if (add_item(u, target, u->stack[i]) < 0) return -1;
    u->n_stack -= n;
    return 0;
}

/* A persistent id: ('storage', storage type, key, location, numel). */
static int do_persid(Unpickler *u) {
    uint32_t pid = 0;
    if (pop(u, &pid) < 0) return -1;
    const Pv *t = &u->vals[pid];
    if (t->kind != PV_TUPLE || t->n != 5 || !str_is(&u->vals[t->items[0]], "storage"))
        return fail(u, "a persistent id that is not ('storage', type, key, location, numel)");
    const Pv *type = &u->vals[t->items[1]], *key = &u->vals[t->items[2]], *loc = &u->vals[t->items[3]];
    const Pv *numel = &u->vals[t->items[4]];
    if (type->kind != PV_GLOBAL || type->global != G_STORAGE)
        return fail(u, "a storage whose type is a %s, not a torch storage type", kind_names[type->kind]);
    if (key->kind != PV_STR || key->len == 0 || key->len > 64 || memchr(key->s, '/', key->len) ||
        memchr(key->s, '\0', key->len))
        return fail(u, "a storage key that is not a short plain name");
    if (loc->kind != PV_STR) return fail(u, "a storage location that is not a string");
    if (numel->kind != PV_INT || numel->i < 0) return fail(u, "a storage size that is not a non-negative integer");
    /* Copied out: new_value may move the pool. */
    uint8_t dtype = type->dtype;
    uint32_t key_at = t->items[2];
    int64_t count = numel->i;
    uint32_t s = new_value(u, PV_STORAGE);
    if (s == NO_VALUE) return -1;
    u->vals[s].dtype = dtype;
    u->vals[s].key = key_at;
    u->vals[s].i = count;
    return push(u, s);
}

static int do_reduce(Unpickler *u) {
    uint32_t args = 0, fn = 0;
    if (pop(u, &args) < 0 || pop(u, &fn) < 0) return -1;
    const Pv *f = &u->vals[fn], *a = &u->vals[args];
    if (f->kind != PV_GLOBAL) return fail(u, "REDUCE calls a %s", kind_names[f->kind]);
    if (a->kind != PV_TUPLE) return fail(u, "REDUCE with arguments that are a %s, not a tuple", kind_names[a->kind]);
    switch ((Global)f->global) {
    case G_ORDERED_DICT:
        if (a->n != 0) return fail(u, "OrderedDict() with arguments");
        return push(u, new_value(u, PV_DICT));
    case G_REBUILD_TENSOR_V2:
    case G_REBUILD_TENSOR: {
        uint32_t want = f->global == G_REBUILD_TENSOR ? 4 : 6;
        if (a->n != want && !(f->global == G_REBUILD_TENSOR_V2 && a->n == 7))
            return fail(u, "%s with %u arguments", f->global == G_REBUILD_TENSOR ? "_rebuild_tensor" : "_rebuild_tensor_v2", a->n);
        if (u->vals[a->items[0]].kind != PV_STORAGE)
            return fail(u, "a tensor rebuilt from a %s, not a storage", kind_names[u->vals[a->items[0]].kind]);
        uint32_t storage = a->items[0];
        uint32_t t = new_value(u, PV_TENSOR);   /* may move the pool: a and f are stale after */
        if (t == NO_VALUE) return -1;
        u->vals[t].key = storage;
        u->vals[t].args = args;
        return push(u, t);
    }
    case G_REBUILD_PARAMETER:
        if (a->n != 3 || u->vals[a->items[0]].kind != PV_TENSOR)
            return fail(u, "_rebuild_parameter with arguments other than (tensor, requires_grad, hooks)");
        return push(u, a->items[0]);
    case G_STORAGE:
        break;
    }
    return fail(u, "REDUCE calls a storage type");
}

/* BUILD sets an object's state: only an OrderedDict's attributes (torch's
 * _metadata), which carry nothing the merge needs and are dropped. */
static int do_build(Unpickler *u) {
    uint32_t state = 0, obj = 0;
    if (pop(u, &state) < 0 || top(u, &obj) < 0) return -1;
    PvKind sk = u->vals[state].kind, ok = u->vals[obj].kind;
    if (ok != PV_DICT || (sk != PV_DICT && sk != PV_NONE))
        return fail(u, "BUILD of a %s with a %s", kind_names[ok], kind_names[sk]);
    return 0;
}

static int run(Unpickler *u, uint32_t *result) {
    for (;;) {
        u->op_at = u->pos;
        const uint8_t *p = take(u, 1);
        if (!p) return fail(u, "the pickle ends without STOP");
        uint8_t op = *p;
        int rc = 0;
        switch (op) {
        case 0x80: /* PROTO */
            if (!(p = take(u, 1))) return -1;
            if (*p < 2 || *p > 5) return fail(u, "pickle protocol %u (2 to 5 are read)", *p);
            break;
        case 0x95: /* FRAME: a length hint */
            if (!take(u, 8)) return -1;
            break;
        case '}': rc = push(u, new_value(u, PV_DICT)); break;
        case ']': rc = push(u, new_value(u, PV_LIST)); break;
        case ')': rc = push(u, new_value(u, PV_TUPLE)); break;
        case 'N': rc = push(u, new_value(u, PV_NONE)); break;
        case 0x88: rc = push_int(u, 1, PV_BOOL); break;
        case 0x89: rc = push_int(u, 0, PV_BOOL); break;
        case '(':
            if (u->n_marks == MAX_MARKS) return fail(u, "marks nested deeper than %d", MAX_MARKS);
            u->marks[u->n_marks++] = u->n_stack;
            break;
        case 'X': rc = push_string(u, 4); break;
        case 0x8c: rc = push_string(u, 1); break;
        case 'J':
            if (!(p = take(u, 4))) return -1;
            rc = push_int(u, (int32_t)(uint32_t)le(p, 4), PV_INT);
            break;
        case 'K':
            if (!(p = take(u, 1))) return -1;
            rc = push_int(u, *p, PV_INT);
            break;
        case 'M':
            if (!(p = take(u, 2))) return -1;
            rc = push_int(u, (int64_t)le(p, 2), PV_INT);
            break;
        case 0x8a: { /* LONG1: n bytes of little-endian two's complement */
            if (!(p = take(u, 1))) return -1;
            uint8_t n = *p;
            if (n > 8) return fail(u, "an integer of %u bytes (at most 8 are read)", n);
            if (!(p = take(u, n))) return -1;
            uint64_t v = le(p, n);
            if (n && n < 8 && (p[n - 1] & 0x80)) v |= ~(uint64_t)0 << (8 * n);
            rc = push_int(u, (int64_t)v, PV_INT);
            break;
        }
        case 't': {
            uint32_t from = 0;
            rc = pop_mark(u, &from);
            if (rc == 0) rc = make_tuple(u, from);
            break;
        }
        case 0x85: rc = do_tuple_n(u, 1); break;
        case 0x86: rc = do_tuple_n(u, 2); break;
        case 0x87: rc = do_tuple_n(u, 3); break;
        case 'q':
            if (!(p = take(u, 1))) return -1;
            rc = memo_put(u, *p);
            break;
        case 'r':
            if (!(p = take(u, 4))) return -1;
            rc = memo_put(u, le(p, 4));
            break;
        case 0x94: /* MEMOIZE: at the memo's size, as Python's len(memo) */
            rc = memo_put(u, u->n_memo);
            break;
        case 'h':
            if (!(p = take(u, 1))) return -1;
            rc = memo_get(u, *p);
            break;
        case 'j':
            if (!(p = take(u, 4))) return -1;
            rc = memo_get(u, le(p, 4));
            break;
        case 'c': rc = do_global(u); break;
        case 0x93: rc = do_stack_global(u); break;
        case 'R': rc = do_reduce(u); break;
        case 'Q': rc = do_persid(u); break;
        case 'b': rc = do_build(u); break;
        case 's': rc = fill_one(u, PV_DICT, 2); break;
        case 'u': rc = fill_from_mark(u, PV_DICT, true); break;
        case 'a': rc = fill_one(u, PV_LIST, 1); break;
        case 'e': rc = fill_from_mark(u, PV_LIST, false); break;
        case '.':
            if (u->n_marks) return fail(u, "STOP with a mark still open");
            if (u->n_stack != 1) return fail(u, "STOP with %u objects on the stack (one expected)", u->n_stack);
            *result = u->stack[0];
            return 0;
        default:
            if (op >= 0x20 && op < 0x7f)
                return fail(u, "opcode '%c' (0x%02x) is not one a torch state dict uses", op, op);
            return fail(u, "opcode 0x%02x is not one a torch state dict uses", op);
        }
        if (rc < 0) return -1;
    }
}

/* A tuple of non-negative ints of at most SHAPE_MAX_RANK entries. */
static bool int_tuple(const Unpickler *u, uint32_t v, int64_t *dims, int *rank) {
    const Pv *t = &u->vals[v];
    if (t->kind != PV_TUPLE || t->n > SHAPE_MAX_RANK) return false;
    for (uint32_t i = 0; i < t->n; i++) {
        const Pv *d = &u->vals[t->items[i]];
        if (d->kind != PV_INT || d->i < 0) return false;
        dims[i] = d->i;
    }
    *rank = (int)t->n;
    return true;
}

/* One dict entry: its name, and the tensor checked and described. */
static int describe(Unpickler *u, const Pv *key, const Pv *val, TpklTensor *out) {
    ErrBuf *err = u->err;
    if (key->kind != PV_STR) return errbuf_set(err, "%s: data.pkl: a key of the state dict is a %s, not a string", u->label, kind_names[key->kind]);
    if (key->len > ST_MAX_NAME)
        return errbuf_set(err, "%s: data.pkl: a tensor name of %u bytes is longer than the limit of %d", u->label, key->len, ST_MAX_NAME);
    if (!utf8_valid(key->s, key->len, NULL) || memchr(key->s, '\0', key->len))
        return errbuf_set(err, "%s: data.pkl: a tensor name is not valid UTF-8 or holds a NUL byte", u->label);
    char name[ST_MAX_NAME + 1];
    memcpy(name, key->s, key->len);
    name[key->len] = '\0';
    if (val->kind != PV_TENSOR)
        return errbuf_set(err, "%s: data.pkl: entry '%s' is a %s, not a tensor", u->label, name, kind_names[val->kind]);
    const Pv *args = &u->vals[val->args], *storage = &u->vals[val->key];
    const Pv *offset = &u->vals[args->items[1]];
    int64_t stride[SHAPE_MAX_RANK];
    int stride_rank = 0;
    Shape shape = {0};
    if (offset->kind != PV_INT || offset->i < 0)
        return errbuf_set(err, "%s: tensor '%s': the storage offset is not a non-negative integer", u->label, name);
    if (!int_tuple(u, args->items[2], shape.dims, &shape.rank))
        return errbuf_set(err, "%s: tensor '%s': the size is not a tuple of at most %d non-negative integers", u->label, name, SHAPE_MAX_RANK);
    if (!int_tuple(u, args->items[3], stride, &stride_rank) || stride_rank != shape.rank)
        return errbuf_set(err, "%s: tensor '%s': the stride is not a tuple of non-negative integers, one per dimension", u->label, name);
    int64_t numel = shape_numel(&shape);
    if (numel < 0) return errbuf_set(err, "%s: tensor '%s': the element count overflows", u->label, name);
    /* Contiguous row-major: each stride the product of the later sizes. A
     * dimension of size 1 is never stepped over, so its stride is free, and
     * an empty tensor has no layout at all. */
    int64_t expect = 1;
    for (int i = shape.rank - 1; i >= 0 && numel > 0; i--) {
        if (shape.dims[i] != 1 && stride[i] != expect) {
            char sb[64];
            return errbuf_set(err, "%s: tensor '%s': the strides of this %s tensor are not contiguous row-major "
                              "(dimension %d steps by %" PRId64 ", not %" PRId64 "): save it after .contiguous()",
                              u->label, name, shape_format(&shape, sb, sizeof sb), i, stride[i], expect);
        }
        expect *= shape.dims[i];
    }
    uint64_t off = (uint64_t)offset->i, have = (uint64_t)storage->i;
    if (off > have || (uint64_t)numel > have - off)
        return errbuf_set(err, "%s: tensor '%s': %" PRId64 " elements at offset %" PRIu64 " run past its storage of %" PRIu64 " elements",
                          u->label, name, numel, off, have);
    const Pv *key_str = &u->vals[storage->key];
    out->name = strdup(name);
    out->storage_key = strndup((const char *)key_str->s, key_str->len);
    if (!out->name || !out->storage_key) return errbuf_set(err, "%s: out of memory", u->label);
    out->dtype = (DType)storage->dtype;
    out->shape = shape;
    out->storage_offset = off;
    out->storage_numel = have;
    return 0;
}

void tpkl_free(TpklStateDict *sd) {
    if (!sd) return;
    for (size_t i = 0; i < sd->n_tensors; i++) {
        free(sd->tensors[i].name);
        free(sd->tensors[i].storage_key);
    }
    free(sd->tensors);
    sd->tensors = NULL;
    sd->n_tensors = 0;
}

int tpkl_parse(const char *label, const uint8_t *buf, size_t len, TpklStateDict *out, ErrBuf *err) {
    Unpickler u = {.label = label, .buf = buf, .len = len, .err = err};
    out->n_tensors = 0;
    out->tensors = NULL;
    uint32_t result = NO_VALUE;
    int rc = run(&u, &result);
    if (rc == 0) {
        const Pv *d = &u.vals[result];
        if (d->kind != PV_DICT) {
            rc = errbuf_set(err, "%s: data.pkl holds a %s, not a dict of tensors", label, kind_names[d->kind]);
        } else if (d->n / 2 > MAX_TENSORS) {
            rc = errbuf_set(err, "%s: data.pkl holds %u tensors, more than the limit of %u", label, d->n / 2, MAX_TENSORS);
        } else if (!(out->tensors = calloc(d->n / 2 ? d->n / 2 : 1, sizeof *out->tensors))) {
            rc = errbuf_set(err, "%s: out of memory", label);
        } else {
            for (uint32_t i = 0; i + 1 < d->n && rc == 0; i += 2) {
                rc = describe(&u, &u.vals[d->items[i]], &u.vals[d->items[i + 1]], &out->tensors[out->n_tensors]);
                out->n_tensors++;
            }
        }
    }
    for (uint32_t i = 0; i < u.n_vals; i++) free(u.vals[i].items);
    free(u.vals);
    free(u.stack);
    free(u.memo);
    if (rc < 0) tpkl_free(out);
    return rc;
}
