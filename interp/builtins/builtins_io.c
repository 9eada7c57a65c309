/* builtins_io.c - the built-ins that touch files: model() opens a
 * checkpoint's headers, save() records an output to write after planning. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interp/builtins/builtins_int.h"

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
            diag_hint(p->diag, "use \"bfloat16\", \"float16\", \"float32\" or \"float64\"");
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

