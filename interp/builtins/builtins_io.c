/* builtins_io.c - the built-ins that touch files: model() opens a
 * checkpoint's headers, save() records an output to write after planning. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/io/hfarch.h"
#include "runtime/io/hfnames.h"
#include "interp/builtins/builtins_int.h"
#include "runtime/io/quantized.h"

/* ---- model(path) ------------------------------------------------------------------ */

Value bi_plan_model(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (args[0].kind != V_STR)
        return plan_error(p, sp[0], "model() expects a path string, found %s",
                          val_kind_name(args[0].kind));
    const char *path = arena_strndup(&p->arena, args[0].u.str.s, args[0].u.str.len);
    if (strlen(path) != args[0].u.str.len)
        return plan_error(p, sp[0], "the path contains a NUL byte");
    Value allow = bi_arg_or_default(bi, args, "allow_nonfinite");
    if (allow.kind != V_BOOL)
        return plan_error(p, sp[1], "allow_nonfinite must be true or false, found %s", val_kind_name(allow.kind));
    Value m = plan_open_model(p, path, sp[0]);
    /* A checkpoint without tensors is never what a recipe means (a header
     * of "{}" is valid safetensors); said here, naming the file, rather
     * than later as "model 2 has no tensor ...". */
    if (m.kind == V_MODEL && m.u.node->set->n == 0)
        return plan_error(p, sp[0], "model '%s' holds no tensors", path);
    QuantFinding q;
    if (m.kind == V_MODEL && quant_find_scaled(m.u.node->u.source.ckpt, &q)) {
        /* Raw quantized values are not the weights: merging them would be
         * silently wrong, so the checkpoint is refused until it can be
         * dequantized. */
        if (q.weight == q.companion)
            plan_error(p, sp[0], "%s: tensor '%s' holds %s: not supported yet", q.weight->file->path,
                       q.weight->name, q.kind);
        else
            plan_error(p, sp[0], "%s: tensor '%s' is %s, with '%s': not supported yet", q.weight->file->path,
                       q.weight->name, q.kind, q.companion->name);
        diag_hint(p->diag, "dequantize the checkpoint to bfloat16 first (%zu quantized tensor%s in it)", q.count,
                  q.count == 1 ? "" : "s");
        return val_error();
    }
    if (m.kind != V_MODEL || !allow.u.b) return m;
    /* The same checkpoint, read without the NaN/infinity check. */
    Node *n = plan_new_node(p, N_SOURCE, sp[0]);
    n->set = m.u.node->set;
    n->u.source = m.u.node->u.source;
    n->u.source.allow_nonfinite = true;
    m.u.node = n;
    return m;
}

/* ---- save ------------------------------------------------------------------------------ */

uint64_t bi_save_default_shard_bytes(void) {
    const Builtin *bi = builtin_find("save");
    int at = bi ? builtin_param_index(bi, "shard") : -1;
    Value v;
    uint64_t bytes = 0;
    /* The row's default is a size text ("5GB"); test_registry.c checks it parses. */
    if (at >= 0 && builtin_default_value(bi->params[at].dflt, &v) && v.kind == V_STR) {
        char text[32];
        snprintf(text, sizeof text, "%.*s", (int)v.u.str.len, v.u.str.s);
        if (stw_parse_size(text, &bytes) != 0) bytes = 0;
    }
    return bytes;
}

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

/* ---- architectures (mergekit's --allow-crimes) ------------------------------------ */

/* A walk over the graph of a saved model that finds, once per node, the
 * checkpoint its tensors come from (the first input with a config.json),
 * children before parents, without recursion (a recipe may chain thousands
 * of operations). config.json files are read only where two checkpoints
 * meet, so a model that is not merged is never checked. */
typedef struct ArchWalk {
    Plan *p;
    int *rep;                  /* by node id: index in p->ckpts, -1 for none */
    unsigned char *state;      /* by node id: 0 new, 1 children pushed, 2 done, 3 done and reported */
    HfArch *arch;              /* by index in p->ckpts */
    signed char *has_arch;     /* by index in p->ckpts: -1 unread, 0 no config.json, 1 read */
    Node **stack;              /* nodes to visit; a node may be pushed again by another parent */
    size_t n_stack, cap_stack;
    bool failed, out_of_memory;
} ArchWalk;

#define ARCH_MAX_LIST_DEPTH 8

/* Calls f on each model a value holds (a model, or models in lists). */
static void each_model(Value v, int depth, void (*f)(void *, Node *), void *ctx) {
    if (v.kind == V_MODEL) f(ctx, v.u.node);
    else if (v.kind == V_LIST && depth < ARCH_MAX_LIST_DEPTH)
        for (size_t i = 0; i < v.u.list->n; i++) each_model(v.u.list->items[i], depth + 1, f, ctx);
}

static void each_input(const Node *n, void (*f)(void *, Node *), void *ctx) {
    switch (n->kind) {
    case N_CALL:
        for (size_t i = 0; i < n->u.call.nargs; i++) each_model(n->u.call.args[i], 0, f, ctx);
        break;
    case N_UNARY:
    case N_BINARY:
        each_model(n->u.op.a, 0, f, ctx);
        each_model(n->u.op.b, 0, f, ctx);
        break;
    case N_IF:
        each_model(n->u.cond.then_, 0, f, ctx);
        each_model(n->u.cond.else_, 0, f, ctx);
        break;
    default:
        break;
    }
}

static int ckpt_index(const Plan *p, const Ckpt *c) {
    for (size_t i = 0; i < p->n_ckpts; i++)
        if (p->ckpts[i].ckpt == c) return (int)i;
    return -1;
}

/* Checkpoint i's config.json, read once; NULL when it has none or after
 * reporting that it cannot be read (at `at`, the merge that needs it). */
static const HfArch *ckpt_arch(ArchWalk *w, int i, SrcSpan at) {
    if (w->has_arch[i] < 0) {
        ErrBuf err;
        int rc = hfarch_read(w->p->ckpts[i].ckpt->dir, &w->arch[i], &err);
        if (rc < 0) {
            plan_error(w->p, at, "model '%s': %s", w->p->ckpts[i].path, err.msg);
            w->failed = true;
        }
        w->has_arch[i] = rc == 0;
    }
    return w->has_arch[i] ? &w->arch[i] : NULL;
}

/* The fields of a and b that differ, as "what a vs b" parts; "" when none.
 * A field either config.json lacks is not compared. */
static void arch_differences(const HfArch *a, const HfArch *b, char *out, size_t len) {
    size_t used = 0;
    out[0] = '\0';
#define ARCH_PART(...)                                                          \
    do {                                                                        \
        int k = snprintf(out + used, len - used, "%s", used ? ", " : "");      \
        if (k > 0 && (size_t)k < len - used) used += (size_t)k;                 \
        k = snprintf(out + used, len - used, __VA_ARGS__);                      \
        if (k > 0) used = (size_t)k < len - used ? used + (size_t)k : len - 1;  \
    } while (0)
    if (a->architectures[0] && b->architectures[0] && strcmp(a->architectures, b->architectures) != 0)
        ARCH_PART("architectures %s vs %s", a->architectures, b->architectures);
    if (a->model_type[0] && b->model_type[0] && strcmp(a->model_type, b->model_type) != 0)
        ARCH_PART("model_type %s vs %s", a->model_type, b->model_type);
    if (a->hidden_size >= 0 && b->hidden_size >= 0 && a->hidden_size != b->hidden_size)
        ARCH_PART("hidden_size %ld vs %ld", a->hidden_size, b->hidden_size);
#undef ARCH_PART
}

typedef struct ArchJoin {
    ArchWalk *w;
    const Node *at;
    int first;                 /* the checkpoint the node's tensors come from so far */
    bool reported;
    bool pending;              /* a child not done yet (first pass) */
} ArchJoin;

static void push_child(void *ctx, Node *c) {
    ArchJoin *j = ctx;
    ArchWalk *w = j->w;
    if (w->state[c->id] >= 2) return;
    j->pending = true;
    if (w->state[c->id] != 0) return;
    if (w->n_stack == w->cap_stack) {
        size_t cap = w->cap_stack * 2;
        Node **m = realloc(w->stack, cap * sizeof *m);
        if (!m) {
            w->out_of_memory = true;
            return;
        }
        w->stack = m;
        w->cap_stack = cap;
    }
    w->stack[w->n_stack++] = c;
}

static void join_child(void *ctx, Node *c) {
    ArchJoin *j = ctx;
    ArchWalk *w = j->w;
    /* one message per conflict, not one more for every node above it */
    if (w->state[c->id] == 3) j->reported = true;
    int r = w->rep[c->id];
    if (r < 0 || r == j->first || j->reported) return;
    if (j->first < 0) {
        j->first = r;
        return;
    }
    const HfArch *a = ckpt_arch(w, j->first, j->at->span), *b = ckpt_arch(w, r, j->at->span);
    if (!a) j->first = r;
    if (!a || !b) return;
    char diff[480];
    arch_differences(a, b, diff, sizeof diff);
    if (!diff[0]) return;
    Plan *p = w->p;
    diag_error(p->diag, j->at->span, "models '%s' and '%s' have different architectures: %s",
               p->ckpts[j->first].path, p->ckpts[r].path, diff);
    diag_hint(p->diag, "their tensors do not mean the same thing; pass allow_crimes = true to save() to merge "
                       "them anyway (mergekit's --allow-crimes)");
    j->reported = true;
    w->failed = true;
}

/* Checks that no node under root combines models of different
 * architectures (by config.json); false after reporting. */
static bool check_architectures(Plan *p, Node *root) {
    size_t nn = (size_t)p->n_nodes + 1, nc = p->n_ckpts + 1;
    ArchWalk w = { .p = p, .cap_stack = 64 };
    w.rep = plan_alloc(p, nn * sizeof *w.rep);
    w.state = plan_alloc(p, nn);
    w.arch = plan_alloc(p, nc * sizeof *w.arch);
    w.has_arch = plan_alloc(p, nc);
    w.stack = malloc(w.cap_stack * sizeof *w.stack);
    if (!w.rep || !w.state || !w.arch || !w.has_arch || !w.stack) {
        free(w.stack);
        plan_error(p, root->span, "out of memory");
        return false;
    }
    memset(w.state, 0, nn);
    memset(w.has_arch, -1, nc);
    w.stack[w.n_stack++] = root;
    while (w.n_stack > 0 && !w.out_of_memory) {
        Node *n = w.stack[w.n_stack - 1];
        if (w.state[n->id] >= 2) {
            w.n_stack--;
            continue;
        }
        if (n->kind == N_SOURCE) {
            w.rep[n->id] = ckpt_index(p, n->u.source.ckpt);
            w.state[n->id] = 2;
            w.n_stack--;
            continue;
        }
        ArchJoin j = { .w = &w, .at = n, .first = -1 };
        if (w.state[n->id] == 0) {
            w.state[n->id] = 1;
            each_input(n, push_child, &j);
            if (j.pending) continue;
        }
        each_input(n, join_child, &j);
        w.rep[n->id] = j.first;
        w.state[n->id] = j.reported ? 3 : 2;
        w.n_stack--;
    }
    free(w.stack);
    if (w.out_of_memory) plan_error(p, root->span, "out of memory");
    return !w.failed && !w.out_of_memory;
}

/* A config.json that says tie_word_embeddings true makes Transformers use
 * the embedding as the head and ignore a written head: wrong when the output
 * has one (a tied model's config with untie()). A config.json that cannot be
 * read is left to the copy in save, which reports it. */
static bool check_config_head(Plan *p, const Ckpt *config, const TensorSet *out, SrcSpan at) {
    HfArch arch;
    ErrBuf err;
    if (hfarch_read(config->dir, &arch, &err) != 0 || arch.tie_word_embeddings != 1) return true;
    for (size_t i = 0; i < out->n; i++) {
        if (!hfname_is_head(out->items[i].name)) continue;
        diag_error(p->diag, at, "the config.json of '%s' says tie_word_embeddings true, but the output has a "
                   "head '%s' that loaders would then ignore", config->path, out->items[i].name);
        diag_hint(p->diag, "take config= from a model with an untied head");
        return false;
    }
    return true;
}

Value bi_plan_save(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    bool ok = bi_expect_model(p, args[0], sp[0], "save() argument 'model'");
    SaveRequest r = { .model = args[0], .span = call };
    Value shard = bi_arg_or_default(bi, args, "shard");
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
            diag_hint(p->diag, "use \"bfloat16\", \"float16\", \"float32\", \"float64\", \"float8_e4m3fn\" or \"float8_e5m2\"");
            ok = false;
        }
        r.has_dtype = true;
    } else if (args[2].kind != V_NONE) {
        plan_error(p, sp[2], "dtype must be a string such as \"bfloat16\", found %s",
                   val_kind_name(args[2].kind));
        ok = false;
    }
    if (shard.kind == V_STR) {
        const char *s = arena_strndup(&p->arena, shard.u.str.s, shard.u.str.len);
        if (stw_parse_size(s, &r.shard_bytes) != 0 || r.shard_bytes == 0) {
            diag_error(p->diag, sp[3], "cannot read shard size '%s'", s);
            diag_hint(p->diag, "write a size such as \"5GB\", \"500MB\" or \"2GiB\"");
            ok = false;
        }
    } else if (shard.kind == V_NUM) {
        if (!(shard.u.num >= 1 && shard.u.num < 1.8e19)) {
            plan_error(p, sp[3], "the shard size must be a positive number of bytes");
            ok = false;
        } else {
            r.shard_bytes = (uint64_t)shard.u.num;
        }
    } else if (shard.kind != V_NONE) {
        plan_error(p, sp[3], "shard must be a size such as \"5GB\", found %s", val_kind_name(shard.kind));
        ok = false;
    }
    for (int k = 4; k <= 5; k++) {
        const char *what = k == 4 ? "config" : "tokenizer";
        if (args[k].kind == V_MODEL) {
            if (args[k].u.node->kind != N_SOURCE) {
                plan_error(p, sp[k], "%s= takes a model opened with model(), whose files are copied", what);
                ok = false;
            } else if (k == 4) {
                r.config = args[k].u.node->u.source.ckpt;
            } else {
                r.tokenizer = args[k].u.node->u.source.ckpt;
            }
        } else if (args[k].kind != V_NONE) {
            plan_error(p, sp[k], "%s= takes a model, found %s", what, val_kind_name(args[k].kind));
            ok = false;
        }
    }
    Value crimes = bi_arg_or_default(bi, args, "allow_crimes");
    int crimes_at = bi_param_index(bi, "allow_crimes");
    if (crimes.kind != V_BOOL) {
        plan_error(p, sp[crimes_at], "allow_crimes must be true or false, found %s", val_kind_name(crimes.kind));
        ok = false;
    }
    if (!ok) return val_error();
    if (!crimes.u.b && !check_architectures(p, args[0].u.node)) return val_error();
    if (r.config && !check_config_head(p, r.config, args[0].u.node->set, sp[4])) return val_error();
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

