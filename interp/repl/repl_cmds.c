/* repl_cmds.c - the REPL's :commands. See docs/repl.md for what each one
 * prints.
 *
 * Arguments are expressions of the language (or, for paths and patterns,
 * plain words or quoted strings). They are separated by spaces, except
 * where a space sits next to an operator or a keyword (`:diff a - b base`
 * has the arguments `a - b` and `base`); commas separate them when that is
 * not enough. Each expression is parsed from the whole command line with
 * the rest blanked out, so a caret points into the line as typed.
 *
 * The commands that compute (:stats, :diff, :conflicts) go tensor by
 * tensor, each in its own arena, and stop between tensors on Ctrl-C.
 *
 * Every command is one row of the table at the end (name, arguments, help
 * text, handler): :help, completion (repl_complete.c) and the dispatcher
 * read it. */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/hfnames.h"
#include "runtime/kernels/compare.h"
#include "interp/builtins/builtins.h"
#include "interp/output/report.h"
#include "interp/repl/repl_int.h"
#include "interp/syntax/suggest.h"
#include "interp/syntax/syntax.h"

/* ---- arguments ---------------------------------------------------------------- */

#define MAX_ARGS 64

typedef struct Arg {
    size_t start, end;
} Arg;

static bool is_ident(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static bool is_op_char(char c) { return c && strchr("+-*/<>=~!", c) != NULL; }

static bool is_keyword(const char *s, size_t n) {
    static const char *const kw[] = { "and", "or", "not", "if", "then", "else" };
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
        if (strlen(kw[i]) == n && memcmp(kw[i], s, n) == 0) return true;
    return false;
}

/* End of the argument text: the line's end, or a '#' comment outside
 * strings. */
static size_t text_end(const char *line, size_t from) {
    char quote = 0;
    size_t i = from;
    for (; line[i]; i++) {
        char c = line[i];
        if (quote) {
            if (c == '\\' && line[i + 1]) i++;
            else if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '#') {
            break;
        }
    }
    while (i > from && is_space(line[i - 1])) i--;
    return i;
}

/* Splits line[from, to) at top-level separators: commas when there is a
 * top-level comma, else spaces (as the file header describes). Returns the
 * number of arguments, or MAX_ARGS + 1 when there are too many. */
static size_t split_args(const char *line, size_t from, size_t to, Arg *out) {
    Arg chunk[MAX_ARGS + 1];
    size_t n = 0;
    bool comma = false;
    int depth = 0;
    char quote = 0;
    /* Top-level chunks separated by spaces; note any top-level comma. */
    size_t i = from;
    while (i < to) {
        while (i < to && is_space(line[i])) i++;
        if (i >= to) break;
        size_t s = i;
        while (i < to && (depth > 0 || quote || !is_space(line[i]))) {
            char c = line[i];
            if (quote) {
                if (c == '\\' && i + 1 < to) i++;
                else if (c == quote) quote = 0;
            } else if (c == '"' || c == '\'') quote = c;
            else if (c == '(' || c == '[') depth++;
            else if ((c == ')' || c == ']') && depth > 0) depth--;
            else if (c == ',' && depth == 0) comma = true;
            i++;
        }
        if (n == MAX_ARGS) return MAX_ARGS + 1;
        chunk[n].start = s;
        chunk[n].end = i;
        n++;
    }
    size_t k = 0;
    if (comma) {
        depth = 0;
        quote = 0;
        size_t s = from;
        for (i = from; i <= to; i++) {
            char c = i < to ? line[i] : ',';
            if (quote) {
                if (c == '\\' && i + 1 < to) i++;
                else if (c == quote) quote = 0;
                continue;
            }
            if (c == '"' || c == '\'') quote = c;
            else if (c == '(' || c == '[') depth++;
            else if ((c == ')' || c == ']') && depth > 0) depth--;
            else if (c == ',' && depth == 0) {
                size_t a = s, b = i;
                while (a < b && is_space(line[a])) a++;
                while (b > a && is_space(line[b - 1])) b--;
                if (k == MAX_ARGS) return MAX_ARGS + 1;
                out[k].start = a;
                out[k].end = b;
                k++;
                s = i + 1;
            }
        }
        return k;
    }
    for (size_t c = 0; c < n; c++) {
        if (k > 0) {
            size_t le = out[k - 1].end, rs = chunk[c].start;
            size_t lw = le, rw = rs;
            while (lw > out[k - 1].start && is_ident(line[lw - 1])) lw--;
            while (rw < chunk[c].end && is_ident(line[rw])) rw++;
            if (is_op_char(line[le - 1]) || is_op_char(line[rs]) || is_keyword(line + lw, le - lw) ||
                is_keyword(line + rs, rw - rs)) {
                out[k - 1].end = chunk[c].end;
                continue;
            }
        }
        out[k++] = chunk[c];
    }
    return k;
}

/* A path or pattern argument: the text, unquoted when quoted. malloc'd. */
static char *arg_word(const char *line, Arg a) {
    size_t n = a.end - a.start;
    const char *s = line + a.start;
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        char *out = malloc(n);
        if (!out) return NULL;
        size_t w = 0;
        for (size_t i = 1; i + 1 < n; i++) {
            if (s[i] == '\\' && i + 2 < n) i++;
            out[w++] = s[i];
        }
        out[w] = '\0';
        return out;
    }
    return strndup(s, n);
}

/* The value of an argument; false after reporting an error. */
static bool eval_arg(Repl *r, const char *name, const char *line, Arg a, Value *v) {
    return repl_eval_slice(r, name, line, a.start, a.end, v);
}

static bool eval_model_arg(Repl *r, const char *name, const char *line, Arg a, const char *what, Value *v) {
    if (!eval_arg(r, name, line, a, v)) return false;
    if (v->kind == V_MODEL) return true;
    diag_plain(&r->diag, "%s must be a model, found %s (%.*s)", what, val_kind_name(v->kind),
               (int)(a.end - a.start), line + a.start);
    return false;
}

static int name_width(const TensorSet *s, const size_t *order, size_t n, int cap) {
    int w = 6;
    for (size_t i = 0; i < n; i++) {
        int l = (int)strlen(s->items[order ? order[i] : i].name);
        if (l > w) w = l;
    }
    return w > cap ? cap : w;
}

static const char *dtype_name(DType d) {
    const char *s = dtype_torch_name(d);
    return s ? s : dtype_st_name(d);
}

/* ---- :load ------------------------------------------------------------------------- */

void repl_load(Repl *r, const char *path) {
    int before = r->diag.n_errors;
    r->diag.max_errors = before + 50;
    SrcFile *src = repl_keep_src(r, src_load(path));
    if (!src) {
        diag_plain(&r->diag, "cannot read '%s': %s", path, strerror(errno));
        r->failed = true;
        return;
    }
    Ast *prog = syn_parse(src, &r->ast, &r->diag);
    if (!prog) {
        fprintf(stderr, "mergelang: nothing was loaded from %s\n", path);
        r->failed = true;
        return;
    }
    ReplSnapshot snap;
    repl_snap_take(r, &snap);
    plan_program(&r->plan, prog);
    if (r->diag.n_errors > before) {
        repl_snap_restore(r, &snap);
        repl_snap_free(&snap);
        fprintf(stderr, "mergelang: nothing was loaded from %s\n", path);
        r->failed = true;
        return;
    }
    size_t dropped = r->plan.n_saves - snap.n_saves;
    r->plan.n_saves = snap.n_saves;
    fprintf(r->out, "loaded %s:", path);
    size_t shown = 0;
    const Env *g = &r->plan.globals;
    for (size_t i = 0; i < g->n; i++) {
        bool changed = i >= snap.n_globals ||
                       memcmp(&g->items[i].value, &snap.globals[i].value, sizeof(Value)) != 0;
        if (!changed) continue;
        fprintf(r->out, "%s %s", shown ? "," : "", g->items[i].name);
        shown++;
    }
    if (!shown) fputs(" no new names", r->out);
    fputc('\n', r->out);
    if (dropped)
        fprintf(r->out, "(%zu save%s not run: use :save EXPR DIR)\n", dropped, dropped == 1 ? "" : "s");
    repl_snap_free(&snap);
}

/* ---- :tensors ------------------------------------------------------------------------- */

static void repl_cmd_tensors(Repl *r, const char *name, const char *line, const Arg *args, size_t n) {
    if (n < 1 || n > 2) {
        diag_plain(&r->diag, "usage: :tensors M [PATTERN]");
        return;
    }
    Value m;
    if (!eval_model_arg(r, name, line, args[0], ":tensors", &m)) return;
    char *pat = n == 2 ? arg_word(line, args[1]) : NULL;
    bool glob = pat && strpbrk(pat, "*?[");
    const TensorSet *s = m.u.node->set;
    size_t *order = tset_natural_order(s);
    if (!order) {
        free(pat);
        return;
    }
    size_t shown = 0;
    for (size_t i = 0; i < s->n; i++) {
        const char *t = s->items[order[i]].name;
        if (pat && !(glob ? fnmatch(pat, t, 0) == 0 : strstr(t, pat) != NULL)) continue;
        order[shown++] = order[i];
    }
    int w = name_width(s, order, shown, 72);
    for (size_t i = 0; i < shown; i++) {
        const TensorInfo *t = &s->items[order[i]];
        char shape[96];
        fprintf(r->out, "%-*s  %-12s %s\n", w, t->name, shape_format(&t->shape, shape, sizeof shape),
                dtype_name(t->dtype));
    }
    if (pat) fprintf(r->out, "%zu of %zu tensors match '%s'\n", shown, s->n, pat);
    else fprintf(r->out, "%zu tensor%s\n", s->n, s->n == 1 ? "" : "s");
    free(order);
    free(pat);
}

/* ---- :stats ------------------------------------------------------------------------------ */

static void stats_model(Repl *r, Value m) {
    const TensorSet *s = m.u.node->set;
    size_t *order = tset_natural_order(s);
    if (!order) return;
    const TensorSet *depth = repl_depth_set(m);
    int w = name_width(s, order, s->n, 60);
    fprintf(r->out, "%-*s  %-12s %11s %11s %11s %11s %11s\n", w, "tensor", "shape", "norm", "mean", "std",
            "min", "max");
    TStats all = { 0 };
    bool any = false;
    size_t done = 0;
    for (size_t i = 0; i < s->n && !repl_interrupted; i++) {
        const TensorInfo *info = &s->items[order[i]];
        char shape[96];
        fprintf(r->out, "%-*s  %-12s", w, info->name, shape_format(&info->shape, shape, sizeof shape));
        if (!dtype_is_computable(info->dtype)) {
            fprintf(r->out, " (%s, not a float tensor)\n", dtype_name(info->dtype));
            continue;
        }
        Arena a;
        arena_init(&a);
        Value v = repl_force(r, &a, m, info, depth);
        if (v.kind == V_TENSOR && v.u.tensor->f) {
            const Tensor *t = v.u.tensor;
            TStats ts;
            repl_tstats(t->f, t->numel, &ts);
            double mean = ts.n ? ts.sum / (double)ts.n : 0;
            double var = ts.n ? ts.sumsq / (double)ts.n - mean * mean : 0;
            fprintf(r->out, " %11.5g %11.5g %11.5g %11.5g %11.5g\n", sqrt(ts.sumsq), mean, sqrt(var > 0 ? var : 0),
                    ts.min, ts.max);
            if (ts.n) {
                if (!any || ts.min < all.min) all.min = ts.min;
                if (!any || ts.max > all.max) all.max = ts.max;
                all.sum += ts.sum;
                all.sumsq += ts.sumsq;
                all.n += ts.n;
                any = true;
            }
            done++;
        } else {
            fputc('\n', r->out);
            arena_free(&a);
            break;
        }
        arena_free(&a);
    }
    if (any && !repl_interrupted) {
        char count[32];
        double mean = all.sum / (double)all.n, var = all.sumsq / (double)all.n - mean * mean;
        fprintf(r->out, "all %zu tensors, %s values: norm %.6g  mean %.6g  std %.6g  min %.6g  max %.6g\n", done,
                units_count_text((uint64_t)all.n, count, sizeof count), sqrt(all.sumsq), mean,
                sqrt(var > 0 ? var : 0), all.min, all.max);
    }
    free(order);
}

static void stats_lazy(Repl *r, Value v) {
    Value m = repl_context_model(r, v);
    if (m.kind != V_MODEL) {
        diag_plain(&r->diag, ":stats: this per-tensor value uses no model, so there are no tensors to "
                             "compute it for");
        return;
    }
    const TensorSet *s = m.u.node->set;
    size_t *order = tset_natural_order(s);
    if (!order) return;
    const TensorSet *depth = repl_depth_set(m);
    int w = name_width(s, order, s->n, 60);
    double lo = 0, hi = 0, sum = 0;
    size_t nums = 0;
    for (size_t i = 0; i < s->n && !repl_interrupted; i++) {
        const TensorInfo *info = &s->items[order[i]];
        Arena a;
        arena_init(&a);
        Value x = repl_force(r, &a, v, info, depth);
        if (x.kind == V_ERROR) {
            arena_free(&a);
            break;
        }
        fprintf(r->out, "%-*s  ", w, info->name);
        if (x.kind == V_TENSOR) fputs("a tensor", r->out);
        else val_print(x, r->out);
        fputc('\n', r->out);
        if (x.kind == V_NUM) {
            if (!nums || x.u.num < lo) lo = x.u.num;
            if (!nums || x.u.num > hi) hi = x.u.num;
            sum += x.u.num;
            nums++;
        }
        arena_free(&a);
    }
    if (nums && !repl_interrupted)
        fprintf(r->out, "%zu numbers: min %.6g  mean %.6g  max %.6g\n", nums, lo, sum / (double)nums, hi);
    free(order);
}

static void repl_cmd_stats(Repl *r, const char *name, const char *line, size_t from, size_t to) {
    if (from >= to) {
        diag_plain(&r->diag, "usage: :stats EXPR");
        return;
    }
    Value v;
    if (!repl_eval_slice(r, name, line, from, to, &v)) return;
    if (v.kind == V_MODEL && v.u.node->set->n > 1) stats_model(r, v);
    else if (v.kind == V_LAZY) stats_lazy(r, v);
    else repl_show_value(r, v);
}

/* ---- per-layer accumulation ---------------------------------------------------------------- */

/* Buckets: index 0 for tensors outside the blocks, 1 + layer for a block. */
typedef struct Buckets {
    size_t n;
    double (*acc)[5];
    size_t *tensors;
} Buckets;

static bool buckets_init(Buckets *b, long n_layers) {
    b->n = (size_t)(n_layers > 0 ? n_layers : 0) + 1;
    b->acc = calloc(b->n, sizeof *b->acc);
    b->tensors = calloc(b->n, sizeof *b->tensors);
    return b->acc && b->tensors;
}

static size_t bucket_of(const Buckets *b, const char *name) {
    long l = hfname_layer(name);
    return l >= 0 && (size_t)l + 1 < b->n ? (size_t)l + 1 : 0;
}

static void buckets_free(Buckets *b) {
    free(b->acc);
    free(b->tensors);
}

static void bucket_label(size_t i, char *buf, size_t n) {
    if (i == 0) snprintf(buf, n, "outside blocks");
    else snprintf(buf, n, "layer %zu", i - 1);
}

/* ---- :diff ------------------------------------------------------------------------------------- */

/* One line of :diff: the figures of compare.h, as `mergelang diff` has
 * them ("-" for an undefined cosine); tensors > 0 adds a count column. */
static void diff_row(FILE *out, int w, const char *label, const CmpSums *sums, size_t tensors) {
    double cos, rel;
    cmp_figures(sums, &cos, &rel);
    char cb[32];
    if (isnan(cos)) snprintf(cb, sizeof cb, "%s", isnan(rel) ? "nan" : "-");
    else snprintf(cb, sizeof cb, "%.6f", cos);
    fprintf(out, "%-*s %10s %10.4g", w, label, cb, rel);
    if (tensors) fprintf(out, " %8zu", tensors);
    fputc('\n', out);
}

static void repl_cmd_diff(Repl *r, const char *name, const char *line, const Arg *args, size_t n) {
    if (n != 2) {
        diag_plain(&r->diag, "usage: :diff A B (found %zu argument%s)", n, n == 1 ? "" : "s");
        return;
    }
    Value a, b;
    if (!eval_model_arg(r, name, line, args[0], ":diff A", &a)) return;
    if (!eval_model_arg(r, name, line, args[1], ":diff B", &b)) return;
    const TensorSet *sa = a.u.node->set, *sb = b.u.node->set;
    size_t *order = tset_natural_order(sa);
    Buckets bk = { 0 };
    if (!order || !buckets_init(&bk, sa->n_layers)) {
        free(order);
        buckets_free(&bk);
        return;
    }
    CmpSums *sums = calloc(bk.n, sizeof *sums);
    if (!sums) {
        diag_plain(&r->diag, "out of memory");
        free(order);
        buckets_free(&bk);
        return;
    }
    const TensorSet *la = repl_depth_set(a), *lb = repl_depth_set(b);
    int w = name_width(sa, order, sa->n, 60), errors = r->diag.n_errors;
    size_t missing = 0, other = 0;
    fprintf(r->out, "%-*s %10s %10s\n", w, "tensor", "cos", "|A-B|/|A|");
    for (size_t i = 0; i < sa->n && !repl_interrupted; i++) {
        const TensorInfo *ia = &sa->items[order[i]];
        const TensorInfo *ib = tset_find(sb, ia->name);
        if (!ib) {
            missing++;
            continue;
        }
        if (!dtype_is_computable(ia->dtype) || !dtype_is_computable(ib->dtype) ||
            !shape_equal(&ia->shape, &ib->shape)) {
            other++;
            continue;
        }
        Arena ar;
        arena_init(&ar);
        Value ta = repl_force(r, &ar, a, ia, la);
        Value tb = ta.kind == V_TENSOR ? repl_force(r, &ar, b, ib, lb) : ta;
        if (ta.kind != V_TENSOR || tb.kind != V_TENSOR || !ta.u.tensor->f || !tb.u.tensor->f) {
            arena_free(&ar);
            if (ta.kind == V_ERROR || tb.kind == V_ERROR) break;
            other++;
            continue;
        }
        CmpSums one = { 0 };
        cmp_add(&one, ta.u.tensor->f, tb.u.tensor->f, (size_t)ta.u.tensor->numel);
        arena_free(&ar);
        diff_row(r->out, w, ia->name, &one, 0);
        size_t k = bucket_of(&bk, ia->name);
        cmp_merge(&sums[k], &one);
        bk.tensors[k]++;
    }
    if (!repl_interrupted && r->diag.n_errors == errors) {
        fprintf(r->out, "\n%-16s %10s %10s %8s\n", "per layer", "cos", "|A-B|/|A|", "tensors");
        CmpSums all = { 0 };
        size_t tt = 0;
        for (size_t k = 0; k < bk.n; k++) {
            if (!bk.tensors[k]) continue;
            char label[32];
            bucket_label(k, label, sizeof label);
            diff_row(r->out, 16, label, &sums[k], bk.tensors[k]);
            cmp_merge(&all, &sums[k]);
            tt += bk.tensors[k];
        }
        diff_row(r->out, 16, "all", &all, tt);
        if (missing) fprintf(r->out, "(%zu tensor%s of A not in B)\n", missing, missing == 1 ? "" : "s");
        if (other)
            fprintf(r->out, "(%zu tensor%s skipped: not float, or shapes differ)\n", other, other == 1 ? "" : "s");
    }
    free(sums);
    free(order);
    buckets_free(&bk);
}

/* ---- :conflicts ------------------------------------------------------------------------------------ */

static bool push_model(Repl *r, Value v, Value *models, size_t *k, size_t max) {
    if (v.kind == V_LIST) {
        for (size_t i = 0; i < v.u.list->n; i++)
            if (!push_model(r, v.u.list->items[i], models, k, max)) return false;
        return true;
    }
    if (v.kind != V_MODEL) {
        diag_plain(&r->diag, ":conflicts takes models, found %s", val_kind_name(v.kind));
        return false;
    }
    if (*k == max) {
        diag_plain(&r->diag, ":conflicts takes at most %zu models", max);
        return false;
    }
    models[(*k)++] = v;
    return true;
}

static void repl_cmd_conflicts(Repl *r, const char *name, const char *line, const Arg *args, size_t n) {
    if (n < 2) {
        diag_plain(&r->diag, "usage: :conflicts BASE M1 M2 ...");
        return;
    }
    Value base, models[MAX_ARGS];
    size_t k = 0;
    if (!eval_model_arg(r, name, line, args[0], ":conflicts BASE", &base)) return;
    for (size_t i = 1; i < n; i++) {
        Value v;
        if (!eval_arg(r, name, line, args[i], &v) || !push_model(r, v, models, &k, MAX_ARGS)) return;
    }
    if (k < 2) {
        diag_plain(&r->diag, ":conflicts needs at least two models besides the base");
        return;
    }
    const TensorSet *sb = base.u.node->set;
    size_t *order = tset_natural_order(sb);
    Buckets bk = { 0 };
    if (!order || !buckets_init(&bk, sb->n_layers)) {
        free(order);
        buckets_free(&bk);
        return;
    }
    const TensorSet *lb = repl_depth_set(base);
    size_t skipped = 0;
    int errors = r->diag.n_errors;
    const float *xs[MAX_ARGS];
    for (size_t i = 0; i < sb->n && !repl_interrupted; i++) {
        const TensorInfo *info = &sb->items[order[i]];
        bool ok = dtype_is_computable(info->dtype);
        for (size_t m = 0; m < k && ok; m++) {
            const TensorInfo *t = tset_find(models[m].u.node->set, info->name);
            ok = t && dtype_is_computable(t->dtype) && shape_equal(&t->shape, &info->shape);
        }
        if (!ok) {
            skipped++;
            continue;
        }
        Arena ar;
        arena_init(&ar);
        Value tb = repl_force(r, &ar, base, info, lb);
        bool failed = tb.kind != V_TENSOR || !tb.u.tensor->f;
        for (size_t m = 0; m < k && !failed; m++) {
            const TensorInfo *t = tset_find(models[m].u.node->set, info->name);
            Value v = repl_force(r, &ar, models[m], t, repl_depth_set(models[m]));
            failed = v.kind != V_TENSOR || !v.u.tensor->f;
            if (!failed) xs[m] = v.u.tensor->f;
        }
        if (failed) {
            arena_free(&ar);
            break;
        }
        const float *b = tb.u.tensor->f;
        double conflicts = 0, mass = 0, against = 0;
        int64_t numel = tb.u.tensor->numel;
        for (int64_t j = 0; j < numel; j++) {
            bool pos = false, neg = false;
            double sum = 0, abs_sum = 0;
            for (size_t m = 0; m < k; m++) {
                float d = xs[m][j] - b[j];  /* task vectors are float32, as in the methods */
                pos |= d > 0;
                neg |= d < 0;
                sum += d;
                abs_sum += fabs(d);
            }
            if (pos && neg) conflicts++;
            mass += abs_sum;
            /* TIES elects the sign of the sum, + on a tie (mergekit). */
            if (pos && neg) {
                for (size_t m = 0; m < k; m++) {
                    float d = xs[m][j] - b[j];
                    if (sum >= 0 ? d < 0 : d > 0) against += fabs(d);
                }
            }
        }
        arena_free(&ar);
        size_t q = bucket_of(&bk, info->name);
        bk.acc[q][0] += (double)numel;
        bk.acc[q][1] += conflicts;
        bk.acc[q][2] += mass;
        bk.acc[q][3] += against;
        bk.tensors[q]++;
    }
    if (!repl_interrupted && r->diag.n_errors == errors) {
        fprintf(r->out, "sign conflicts between the task vectors of %zu models (Mi - BASE)\n", k);
        fprintf(r->out, "%-16s %12s %12s %8s %18s\n", "layer", "entries", "conflicting", "share", "mass vs elected");
        double tot[4] = { 0 };
        for (size_t q = 0; q < bk.n; q++) {
            if (!bk.tensors[q]) continue;
            char label[32], e[32], c[32];
            bucket_label(q, label, sizeof label);
            double *a = bk.acc[q];
            fprintf(r->out, "%-16s %12s %12s %7.2f%% %17.2f%%\n", label, units_count_text((uint64_t)a[0], e, sizeof e),
                    units_count_text((uint64_t)a[1], c, sizeof c), a[0] > 0 ? 100 * a[1] / a[0] : 0,
                    a[2] > 0 ? 100 * a[3] / a[2] : 0);
            for (int i = 0; i < 4; i++) tot[i] += a[i];
        }
        char e[32], c[32];
        fprintf(r->out, "%-16s %12s %12s %7.2f%% %17.2f%%\n", "all", units_count_text((uint64_t)tot[0], e, sizeof e),
                units_count_text((uint64_t)tot[1], c, sizeof c), tot[0] > 0 ? 100 * tot[1] / tot[0] : 0,
                tot[2] > 0 ? 100 * tot[3] / tot[2] : 0);
        fputs("(mass vs elected: share of |Mi - BASE| whose sign TIES's election discards)\n", r->out);
        if (skipped)
            fprintf(r->out, "(%zu tensor%s skipped: not float, or missing or shaped differently in a model)\n",
                    skipped, skipped == 1 ? "" : "s");
    }
    free(order);
    buckets_free(&bk);
}

/* ---- :plan ------------------------------------------------------------------------------------------------ */

/* What `mergelang plan` prints for save(EXPR, ...): report_plan describes
 * the plan's saves, so it is shown a one-save list for the duration. */
static void repl_cmd_plan(Repl *r, const char *name, const char *line, size_t from, size_t to) {
    if (from >= to) {
        diag_plain(&r->diag, "usage: :plan EXPR");
        return;
    }
    Value m;
    if (!repl_eval_slice(r, name, line, from, to, &m)) return;
    if (m.kind != V_MODEL) {
        diag_plain(&r->diag, ":plan shows how a model's tensors are computed; this is %s", val_kind_name(m.kind));
        return;
    }
    const SrcFile *f = r->srcs[r->n_srcs - 1];
    SaveRequest req = { .model = m, .path = arena_strndup(&r->plan.arena, line + from, to - from),
                        .shard_bytes = bi_save_default_shard_bytes(), .span = { f, (uint32_t)from, (uint32_t)to } };
    SaveRequest *saves = r->plan.saves;
    size_t n_saves = r->plan.n_saves;
    r->plan.saves = &req;
    r->plan.n_saves = 1;
    fflush(r->out);
    if (report_plan(&r->plan, r->out, r->threads) != 0) diag_plain(&r->diag, "out of memory");
    r->plan.saves = saves;
    r->plan.n_saves = n_saves;
}

/* ---- :save ------------------------------------------------------------------------------------------------ */

static void repl_cmd_save(Repl *r, const char *name, const char *line, size_t from, size_t to) {
    bool force = false;
    if (to - from >= 7 && strncmp(line + to - 7, "--force", 7) == 0 && (to - 7 == from || is_space(line[to - 8]))) {
        force = true;
        to -= 7;
        while (to > from && is_space(line[to - 1])) to--;
    }
    Arg args[MAX_ARGS];
    size_t n = split_args(line, from, to, args);
    if (n != 2) {
        diag_plain(&r->diag, "usage: :save EXPR DIR [--force]");
        return;
    }
    Value m;
    if (!eval_arg(r, name, line, args[0], &m)) return;
    char *dir = arg_word(line, args[1]);
    if (!dir) return;
    const Builtin *bi = builtin_find("save");
    const SrcFile *f = r->srcs[r->n_srcs - 1];  /* the line, as parsed for EXPR */
    Value av[BUILTIN_MAX_PARAMS];
    SrcSpan spans[BUILTIN_MAX_PARAMS];
    SrcSpan call = { f, (uint32_t)from, (uint32_t)to };
    for (int i = 0; i < BUILTIN_MAX_PARAMS; i++) {
        av[i] = val_none();
        spans[i] = call;
    }
    av[0] = m;
    av[1].kind = V_STR;
    av[1].u.str.s = arena_strdup(&r->plan.arena, dir);
    av[1].u.str.len = strlen(dir);
    free(dir);
    spans[0] = (SrcSpan){ f, (uint32_t)args[0].start, (uint32_t)args[0].end };
    spans[1] = (SrcSpan){ f, (uint32_t)args[1].start, (uint32_t)args[1].end };
    bool old = r->plan.overwrite;
    if (force) r->plan.overwrite = true;
    int before = r->diag.n_errors;
    bi->plan(&r->plan, bi, av, spans, call);
    if (r->diag.n_errors == before) repl_run_saves(r);
    r->plan.overwrite = old;
}

/* ---- the command table ---------------------------------------------------------------------------------- */

/* One command line: the input's name (for messages), the line, the
 * argument text line[from, to), and for commands that split their
 * arguments, args[0..n). */
typedef struct CmdCall {
    const char *name, *line;
    size_t from, to;
    const Arg *args;
    size_t n;
} CmdCall;

typedef struct ReplCmd {
    const char *name;          /* ":load" */
    const char *usage;         /* its arguments as :help shows them; "" for none */
    const char *help;          /* what it does; each '\n' starts a continuation line */
    bool splits;               /* its arguments are split into several expressions */
    void (*run)(Repl *r, const CmdCall *c);
} ReplCmd;

static void run_help(Repl *r, const CmdCall *c);

static void run_load(Repl *r, const CmdCall *c) {
    Arg a = { c->from, c->to };
    char *path = c->from < c->to ? arg_word(c->line, a) : NULL;
    if (!path) diag_plain(&r->diag, "usage: :load FILE");
    else repl_load(r, path);
    free(path);
}

static void run_tensors(Repl *r, const CmdCall *c) { repl_cmd_tensors(r, c->name, c->line, c->args, c->n); }

static void run_info(Repl *r, const CmdCall *c) {
    Value m;
    if (c->from >= c->to) diag_plain(&r->diag, "usage: :info M");
    else if (repl_eval_slice(r, c->name, c->line, c->from, c->to, &m)) {
        if (m.kind == V_MODEL) repl_model_info(r, m);
        else diag_plain(&r->diag, ":info describes a model; this is %s", val_kind_name(m.kind));
    }
}

static void run_stats(Repl *r, const CmdCall *c) { repl_cmd_stats(r, c->name, c->line, c->from, c->to); }
static void run_diff(Repl *r, const CmdCall *c) { repl_cmd_diff(r, c->name, c->line, c->args, c->n); }
static void run_conflicts(Repl *r, const CmdCall *c) { repl_cmd_conflicts(r, c->name, c->line, c->args, c->n); }
static void run_plan(Repl *r, const CmdCall *c) { repl_cmd_plan(r, c->name, c->line, c->from, c->to); }
static void run_save(Repl *r, const CmdCall *c) { repl_cmd_save(r, c->name, c->line, c->from, c->to); }

static void run_time(Repl *r, const CmdCall *c) {
    r->timing = !r->timing;
    fprintf(r->out, "timing %s\n", r->timing ? "on" : "off");
}

static void run_quit(Repl *r, const CmdCall *c) {
    char *end = NULL;
    long st = c->from < c->to ? strtol(c->line + c->from, &end, 10) : -1;
    if (c->from < c->to && (end != c->line + c->to || st < 0 || st > 255)) {
        diag_plain(&r->diag, "usage: :quit [STATUS], a number from 0 to 255");
    } else {
        r->quit = true;
        r->quit_status = (int)st;
    }
}

static const ReplCmd commands[] = {
    { ":help", "", "this list", false, run_help },
    { ":load", "FILE", "run a recipe's statements here (its saves are not run)", false, run_load },
    { ":tensors", "M [PATTERN]", "M's tensors in order, with shape and dtype; PATTERN is\n"
                                 "a substring, or a glob when it has * ? or [", true, run_tensors },
    { ":info", "M", "tensors, parameters, dtypes, bytes, layers, architecture", false, run_info },
    { ":stats", "EXPR", "norm, mean, std, min, max of every tensor (or the value\n"
                        "of a per-tensor expression for each tensor)", false, run_stats },
    { ":diff", "A B", "per tensor and per layer: cosine similarity and\n"
                      "|A - B| / |B|", true, run_diff },
    { ":conflicts", "BASE M1 M2...", "per layer: share of entries where the task vectors\n"
                                     "Mi - BASE disagree in sign (what TIES resolves)", true, run_conflicts },
    { ":plan", "EXPR", "for each output tensor: the operation and inputs that\n"
                       "produce it, dtype and bytes (reads no tensor data)", false, run_plan },
    { ":save", "EXPR DIR [--force]", "write EXPR as a checkpoint to DIR", false, run_save },
    { ":time", "", "show how long each input takes (toggle)", false, run_time },
    { ":quit", "[STATUS]", "leave (also Ctrl-D)", false, run_quit },
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

size_t repl_command_count(void) { return N_COMMANDS; }

const char *repl_command_name(size_t i) { return i < N_COMMANDS ? commands[i].name : NULL; }

/* Columns of :help: the command with its arguments, then what it does. */
#define HELP_COLUMN 27

static void run_help(Repl *r, const CmdCall *c) {
    fputs("Statements and expressions of the language run as in a recipe; names may be\n"
          "bound again. An expression's value is shown: a model as a summary, m[\"name\"]\n"
          "(one tensor) with its statistics, anything else as it is.\n"
          "\n",
          r->out);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const ReplCmd *cmd = &commands[i];
        char head[64];
        snprintf(head, sizeof head, "%s%s%s", cmd->name, cmd->usage[0] ? " " : "", cmd->usage);
        fprintf(r->out, "  %-*s ", HELP_COLUMN - 3, head);
        for (const char *t = cmd->help; *t; t++) {
            fputc(*t, r->out);
            if (*t == '\n') fprintf(r->out, "%*s", HELP_COLUMN, "");
        }
        fputc('\n', r->out);
    }
    fputs("\n"
          "Arguments are separated by spaces (commas when an argument has spaces that do\n"
          "not sit next to an operator). Tab completes names, keyword arguments, commands\n"
          "and tensor names in m[\"...; Ctrl-C stops a long command.\n",
          r->out);
}

/* ---- dispatch ------------------------------------------------------------------------------------------------ */

void repl_command(Repl *r, const char *name, const char *line) {
    int before = r->diag.n_errors;
    size_t i = 0;
    while (is_space(line[i])) i++;
    size_t cs = i++;
    while (is_ident(line[i])) i++;
    size_t clen = i - cs;
    size_t from = i;
    while (is_space(line[from])) from++;
    size_t to = text_end(line, from);
    if (to < from) to = from;
    /* A command is its full name or an unambiguous prefix (":q"). */
    const ReplCmd *cmd = NULL;
    size_t matches = 0;
    for (size_t k = 0; k < N_COMMANDS; k++) {
        const char *cn = commands[k].name;
        if (strlen(cn) == clen && strncmp(cn, line + cs, clen) == 0) {
            cmd = &commands[k];
            matches = 1;
            break;
        }
        if (clen > 1 && strncmp(cn, line + cs, clen) == 0) {
            cmd = &commands[k];
            matches++;
        }
    }
    if (matches != 1 || (line[i] && !is_space(line[i]) && line[i] != '#')) {
        char word[64];
        size_t wl = clen < sizeof word - 1 ? clen : sizeof word - 1;
        memcpy(word, line + cs, wl);
        word[wl] = '\0';
        if (matches > 1) {
            char list[256] = "";
            for (size_t k = 0; k < N_COMMANDS; k++) {
                if (strncmp(commands[k].name, word, wl) != 0) continue;
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", commands[k].name);
            }
            diag_plain(&r->diag, "'%s' could be %s", word, list);
        } else {
            diag_plain(&r->diag, "unknown command '%s'", word);
            const char *names[N_COMMANDS];
            for (size_t k = 0; k < N_COMMANDS; k++) names[k] = commands[k].name;
            const char *s = suggest_closest(word, names, N_COMMANDS);
            if (s) diag_hint(&r->diag, "did you mean '%s'?", s);
        }
        diag_hint(&r->diag, ":help lists the commands");
        r->failed = true;
        return;
    }
    Arg args[MAX_ARGS];
    CmdCall call = { .name = name, .line = line, .from = from, .to = to, .args = args, .n = 0 };
    if (cmd->splits) {
        call.n = split_args(line, from, to, args);
        if (call.n > MAX_ARGS) {
            diag_plain(&r->diag, "too many arguments (at most %d)", MAX_ARGS);
            r->failed = true;
            return;
        }
    }
    cmd->run(r, &call);
    if (r->diag.n_errors > before) r->failed = true;
}
