/* cmd_diff.c - `mergelang diff A B`: how far two checkpoints are apart,
 * tensor by tensor (cosine similarity, relative difference norm
 * ||a - b|| / ||a||: runtime/kernels/compare.h, the REPL's :diff metric
 * too), per block index, and overall; tensors present in only one of them
 * are listed.
 *
 * Memory stays bounded whatever the model size: tensors are compared one
 * at a time, in chunks of CHUNK elements decoded to float32, and the input
 * pages of each chunk are released once it is done.
 * Shapes of the common tensors are all checked before any data is read, so
 * a mismatch fails at once, naming both files and the tensor.
 *
 * Degenerate cases follow compare.h: an undefined cosine prints "-" (JSON
 * null), an infinite difference "inf" (JSON null), NaN "nan" (JSON
 * null). Integer and bool tensors
 * are not numbers to compare by angle: they are reported equal or not. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "interp/cmd/cmd_util.h"
#include "runtime/kernels/compare.h"
#include "interp/cmd/commands.h"
#include "interp/syntax/diag.h"
#include "runtime/io/hfnames.h"

#define CHUNK 16384
#define SHAPE_ERRORS_SHOWN 5

static const char usage_text[] =
    "usage: mergelang diff A B [--summary] [--json]\n"
    "\n"
    "Compares two checkpoints (each a .safetensors file or a model folder),\n"
    "reading one tensor at a time. For each tensor present in both: the cosine\n"
    "similarity and the relative difference norm ||a - b|| / ||a|| (float64);\n"
    "then the tensors present in only one, a summary per block index (mean and\n"
    "minimum cosine, maximum relative difference) and an overall line, with the\n"
    "whole-model cosine and relative difference.\n"
    "\n"
    "  --summary   leave out the per-tensor lines\n"
    "  --json      print one JSON object instead of text\n"
    "  -h, --help  show this help\n"
    "\n"
    "exit status: 0 compared (whatever the differences), 1 a checkpoint cannot\n"
    "be read or a common tensor has different shapes, 2 bad command line\n";

typedef struct Result {
    const CkptTensor *a, *b;
    bool numeric;               /* compared by value (float dtypes) */
    bool equal;                 /* non-numeric: same dtype and bytes */
    double cos, rel;            /* NaN: undefined; rel may be +inf */
    CmpSums sums;               /* for the whole-model figures */
} Result;

/* Summary of a set of numeric results: one block index, or all. */
typedef struct Group {
    long layer;                 /* -1: outside the blocks */
    size_t n;                   /* tensors compared by value */
    size_t n_cos;               /* ... with a defined cosine */
    double cos_sum, cos_min, rel_max;
    const char *cos_min_name, *rel_max_name;
} Group;

typedef struct Diff {
    const Ckpt *a, *b;
    bool json, summary;
    Diag *diag;
    size_t page;
    float *buf_a, *buf_b;       /* CHUNK floats each */
    /* The tensors, split by match(). */
    Result *common;
    size_t n_common;
    const CkptTensor **only_a, **only_b;
    size_t n_only_a, n_only_b;
    /* groups[0]: outside the blocks; then the block indexes in order. */
    Group *groups;
    size_t n_groups;
    Group all;
    CmpSums sums;               /* over every numeric tensor */
    size_t n_unequal;           /* non-numeric tensors that differ */
} Diff;

/* ---- one tensor ------------------------------------------------------------------- */

/* Tells the kernel the input pages decoded so far are not needed by this
 * process any more (they stay in the page cache), so resident memory stays
 * at about a chunk however large the tensors and checkpoints are. *upto is
 * where the previous call stopped (page-aligned), so no page is advised
 * twice and no page that holds bytes not yet read is dropped. */
static void release(const Diff *d, const CkptTensor *t, const uint8_t *end, uintptr_t *upto) {
    if (!t->file->mapped) return;
    uintptr_t mask = (uintptr_t)d->page - 1;
    uintptr_t b = *upto ? *upto : ((uintptr_t)t->data + mask) & ~mask;
    uintptr_t e = (uintptr_t)end & ~mask;
    if (e > b) {
        madvise((void *)b, e - b, MADV_DONTNEED);
        *upto = e;
    }
}

static void compare(Diff *d, Result *r) {
    const CkptTensor *a = r->a, *b = r->b;
    uintptr_t upto_a = 0, upto_b = 0;
    r->numeric = dtype_is_computable(a->dtype) && dtype_is_computable(b->dtype);
    r->cos = r->rel = NAN;
    if (!r->numeric) {
        r->equal = a->dtype == b->dtype && a->nbytes == b->nbytes &&
                   memcmp(a->data, b->data, a->nbytes) == 0;
        release(d, a, a->data + a->nbytes, &upto_a);
        release(d, b, b->data + b->nbytes, &upto_b);
        return;
    }
    int64_t numel = shape_numel(&a->shape);
    size_t n = numel > 0 ? (size_t)numel : 0;
    size_t sa = dtype_size(a->dtype), sb = dtype_size(b->dtype);
    CmpSums sums = { 0 };
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t k = n - off < CHUNK ? n - off : CHUNK;
        dtype_decode_f32(a->dtype, a->data + off * sa, d->buf_a, k);
        dtype_decode_f32(b->dtype, b->data + off * sb, d->buf_b, k);
        cmp_add(&sums, d->buf_a, d->buf_b, k);
        release(d, a, a->data + (off + k) * sa, &upto_a);
        release(d, b, b->data + (off + k) * sb, &upto_b);
    }
    r->sums = sums;
    cmp_figures(&sums, &r->cos, &r->rel);
}

/* ---- summaries -------------------------------------------------------------------- */

/* True when relative difference x is worse than cur: NaN is the worst of
 * all, then larger values (inf included). */
static bool worse(double x, double cur) {
    if (isnan(x)) return !isnan(cur);
    return !isnan(cur) && x > cur;
}

static void group_add(Group *g, const Result *r) {
    if (!r->numeric) return;
    if (g->n++ == 0 || worse(r->rel, g->rel_max)) {
        g->rel_max = r->rel;
        g->rel_max_name = r->a->name;
    }
    if (!isnan(r->cos)) {
        if (g->n_cos++ == 0 || r->cos < g->cos_min) {
            g->cos_min = r->cos;
            g->cos_min_name = r->a->name;
        }
        g->cos_sum += r->cos;
    }
}

/* Adds a compared tensor to its block's group, to the overall group and
 * to the whole-model sums. In natural order a block's tensors are
 * contiguous, so there are never more groups than tensors, however large
 * the block index a name claims. */
static void account(Diff *d, const Result *r) {
    long l = hfname_layer(r->a->name);
    Group *g = &d->groups[0];
    if (l >= 0) {
        if (d->n_groups == 1 || d->groups[d->n_groups - 1].layer != l) d->groups[d->n_groups++].layer = l;
        g = &d->groups[d->n_groups - 1];
    }
    group_add(g, r);
    group_add(&d->all, r);
    if (r->numeric) {
        cmp_merge(&d->sums, &r->sums);
    } else if (!r->equal) {
        d->n_unequal++;
    }
}

/* ---- text ------------------------------------------------------------------------- */

static const char *cos_text(double cos, double rel, char *buf, size_t n) {
    if (isnan(cos)) return isnan(rel) ? "nan" : "-";
    snprintf(buf, n, "%.6f", cos);
    return buf;
}

static const char *rel_text(double rel, char *buf, size_t n) {
    if (isnan(rel)) return "nan";
    if (isinf(rel)) return "inf";
    snprintf(buf, n, "%.3e", rel);
    return buf;
}

static void print_tensor(const Result *r, int name_w, FILE *out) {
    char cb[32], rb[32];
    if (r->numeric)
        fprintf(out, "%-*s  %9s  %9s\n", name_w, r->a->name, cos_text(r->cos, r->rel, cb, sizeof cb),
                rel_text(r->rel, rb, sizeof rb));
    else
        fprintf(out, "%-*s  %9s  %9s  (%s: %s)\n", name_w, r->a->name, "-", "-", dtype_st_name(r->a->dtype),
                r->equal ? "equal" : "differs");
}

static void print_only(const char *side, const char *path, const CkptTensor **ts, size_t n, FILE *out) {
    if (n == 0) return;
    fprintf(out, "\nonly in %s (%s): %zu tensor%s\n", side, path, n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) fprintf(out, "  %s\n", ts[i]->name);
}

static void print_group(const char *label, const Group *g, FILE *out) {
    char c1[32] = "-", c2[32] = "-", r1[32];
    if (g->n_cos) {
        snprintf(c1, sizeof c1, "%.6f", g->cos_sum / (double)g->n_cos);
        snprintf(c2, sizeof c2, "%.6f", g->cos_min);
    }
    fprintf(out, "  %-6s %7zu  %11s  %10s  %12s\n", label, g->n, c1, c2, rel_text(g->rel_max, r1, sizeof r1));
}

static void print_summary(const Diff *d, FILE *out) {
    print_only("A", d->a->path, d->only_a, d->n_only_a, out);
    print_only("B", d->b->path, d->only_b, d->n_only_b, out);
    const Group *all = &d->all;
    if (all->n) {
        fprintf(out, "\nper layer:\n  %-6s %7s  %11s  %10s  %12s\n", "layer", "tensors", "mean cosine",
                "min cosine", "max rel diff");
        for (size_t k = 1; k < d->n_groups; k++) {
            char label[24];
            snprintf(label, sizeof label, "%ld", d->groups[k].layer);
            if (d->groups[k].n) print_group(label, &d->groups[k], out);
        }
        if (d->groups[0].n) print_group("other", &d->groups[0], out);
    }
    fprintf(out, "\noverall: %zu common tensor%s, %zu only in A, %zu only in B\n", d->n_common,
            d->n_common == 1 ? "" : "s", d->n_only_a, d->n_only_b);
    char cb[32], rb[32];
    if (all->n_cos)
        fprintf(out, "  mean cosine %.6f, min cosine %.6f (%s)\n", all->cos_sum / (double)all->n_cos,
                all->cos_min, all->cos_min_name);
    if (all->n) {
        fprintf(out, "  max rel diff %s (%s)\n", rel_text(all->rel_max, rb, sizeof rb), all->rel_max_name);
        double cos, rel;
        cmp_figures(&d->sums, &cos, &rel);
        fprintf(out, "  whole model: cosine %s, rel diff %s\n", cos_text(cos, rel, cb, sizeof cb),
                rel_text(rel, rb, sizeof rb));
    }
    size_t others = d->n_common - all->n;
    if (others)
        fprintf(out, "  %zu non-float tensor%s, %zu differ%s\n", others, others == 1 ? "" : "s", d->n_unequal,
                d->n_unequal == 1 ? "s" : "");
}

/* ---- JSON --------------------------------------------------------------------------- */

/* cJSON's adders accept a NULL item, so running out of memory midway
 * leaves a smaller tree, caught when printing it fails. */
static cJSON *num_or_null(double v) {
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *str_or_null(const char *s) {
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *tensor_json(const Result *r) {
    cJSON *e = cJSON_CreateObject();
    if (!e) return NULL;
    long l = hfname_layer(r->a->name);
    cJSON_AddStringToObject(e, "name", r->a->name);
    cJSON_AddItemToObject(e, "layer", l < 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)l));
    cJSON_AddItemToObject(e, "cosine", num_or_null(r->cos));
    cJSON_AddItemToObject(e, "rel_diff", num_or_null(r->rel));
    if (!r->numeric) cJSON_AddBoolToObject(e, "equal", r->equal);
    return e;
}

static cJSON *names_json(const CkptTensor **ts, size_t n) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n && arr; i++) cJSON_AddItemToArray(arr, cJSON_CreateString(ts[i]->name));
    return arr;
}

/* The figures of a group into o (a layer entry, or "overall"). */
static void group_fields(cJSON *o, const Group *g, bool names) {
    cJSON_AddItemToObject(o, "mean_cosine", g->n_cos ? num_or_null(g->cos_sum / (double)g->n_cos) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "min_cosine", g->n_cos ? num_or_null(g->cos_min) : cJSON_CreateNull());
    if (names) cJSON_AddItemToObject(o, "min_cosine_tensor", str_or_null(g->n_cos ? g->cos_min_name : NULL));
    cJSON_AddItemToObject(o, "max_rel_diff", g->n ? num_or_null(g->rel_max) : cJSON_CreateNull());
    if (names) cJSON_AddItemToObject(o, "max_rel_diff_tensor", str_or_null(g->n ? g->rel_max_name : NULL));
}

static cJSON *group_json(const Group *g) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddItemToObject(o, "layer", g->layer < 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)g->layer));
    cJSON_AddNumberToObject(o, "tensors", (double)g->n);
    group_fields(o, g, false);
    return o;
}

static void summary_json(const Diff *d, cJSON *root) {
    cJSON_AddItemToObject(root, "only_in_a", names_json(d->only_a, d->n_only_a));
    cJSON_AddItemToObject(root, "only_in_b", names_json(d->only_b, d->n_only_b));
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    /* Blocks in order, then the tensors outside them, as in the text. */
    for (size_t k = 1; k <= d->n_groups && layers; k++) {
        const Group *g = &d->groups[k % d->n_groups];
        if (g->n) cJSON_AddItemToArray(layers, group_json(g));
    }
    cJSON *o = cJSON_AddObjectToObject(root, "overall");
    if (!o) return;
    cJSON_AddNumberToObject(o, "common", (double)d->n_common);
    cJSON_AddNumberToObject(o, "compared", (double)d->all.n);
    cJSON_AddNumberToObject(o, "only_in_a", (double)d->n_only_a);
    cJSON_AddNumberToObject(o, "only_in_b", (double)d->n_only_b);
    cJSON_AddNumberToObject(o, "unequal_non_float", (double)d->n_unequal);
    group_fields(o, &d->all, true);
    double cos = NAN, rel = NAN;
    if (d->all.n) cmp_figures(&d->sums, &cos, &rel);
    cJSON_AddItemToObject(o, "model_cosine", num_or_null(cos));
    cJSON_AddItemToObject(o, "model_rel_diff", num_or_null(rel));
}

/* ---- the comparison ------------------------------------------------------------------- */

/* Splits A's and B's tensors into common ones (in A's natural order) and
 * those of one side only (each in natural order). */
static void match(Diff *d, const CkptTensor **oa, const CkptTensor **ob) {
    for (size_t i = 0; i < d->a->n_tensors; i++) {
        const CkptTensor *tb = ckpt_find(d->b, oa[i]->name);
        if (!tb) {
            d->only_a[d->n_only_a++] = oa[i];
            continue;
        }
        Result *r = &d->common[d->n_common++];
        memset(r, 0, sizeof *r);
        r->a = oa[i];
        r->b = tb;
    }
    for (size_t i = 0; i < d->b->n_tensors; i++)
        if (!ckpt_find(d->a, ob[i]->name)) d->only_b[d->n_only_b++] = ob[i];
}

/* Every common tensor must have one shape on both sides; reports the first
 * few that do not (models of different sizes differ everywhere) and returns
 * how many there are. */
static size_t check_shapes(const Diff *d) {
    size_t bad = 0;
    for (size_t i = 0; i < d->n_common; i++) {
        const CkptTensor *a = d->common[i].a, *b = d->common[i].b;
        if (shape_equal(&a->shape, &b->shape) || bad++ >= SHAPE_ERRORS_SHOWN) continue;
        char sa[128], sb[128];
        diag_plain(d->diag, "tensor '%s' has shape %s in %s but %s in %s", a->name,
                   shape_format(&a->shape, sa, sizeof sa), a->file->path,
                   shape_format(&b->shape, sb, sizeof sb), b->file->path);
    }
    if (bad > SHAPE_ERRORS_SHOWN)
        fprintf(d->diag->out, "mergelang: ... and %zu more tensors with different shapes\n",
                bad - SHAPE_ERRORS_SHOWN);
    if (bad) fputs("  hint: diff needs the tensors present in both checkpoints to have the same shapes\n", d->diag->out);
    return bad;
}

/* Compares every common tensor, printing as it goes (text) or collecting
 * (JSON), then the summary. Returns the exit status. */
static int report(Diff *d) {
    FILE *out = stdout;
    cJSON *root = NULL, *list = NULL;
    int name_w = 6;
    for (size_t i = 0; i < d->n_common; i++) {
        int w = (int)strlen(d->common[i].a->name);
        if (w > name_w) name_w = w;
    }
    if (d->json) {
        if (!(root = cJSON_CreateObject())) goto oom;
        cJSON_AddStringToObject(root, "a", d->a->path);
        cJSON_AddStringToObject(root, "b", d->b->path);
        if (!d->summary) list = cJSON_AddArrayToObject(root, "tensors");
    } else {
        fprintf(out, "a: %s\nb: %s\n", d->a->path, d->b->path);
        if (!d->summary && d->n_common) fprintf(out, "\n%-*s  %9s  %9s\n", name_w, "tensor", "cosine", "rel diff");
    }
    for (size_t i = 0; i < d->n_common; i++) {
        Result *r = &d->common[i];
        compare(d, r);
        account(d, r);
        if (d->summary) continue;
        if (list) cJSON_AddItemToArray(list, tensor_json(r));
        else if (!d->json) print_tensor(r, name_w, out);
    }
    if (!d->json) {
        print_summary(d, out);
        return 0;
    }
    summary_json(d, root);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) goto oom;
    printf("%s\n", text);
    free(text);
    return 0;
oom:
    cJSON_Delete(root);
    diag_plain(d->diag, "out of memory");
    return 1;
}

static int run(Diff *d) {
    const CkptTensor **oa = cmd_natural_order(d->a), **ob = cmd_natural_order(d->b);
    size_t na = d->a->n_tensors ? d->a->n_tensors : 1, nb = d->b->n_tensors ? d->b->n_tensors : 1;
    d->common = malloc(na * sizeof *d->common);
    d->only_a = malloc(na * sizeof *d->only_a);
    d->only_b = malloc(nb * sizeof *d->only_b);
    d->groups = calloc(na + 1, sizeof *d->groups);
    d->buf_a = malloc(CHUNK * sizeof *d->buf_a);
    d->buf_b = malloc(CHUNK * sizeof *d->buf_b);
    int status;
    if (!oa || !ob || !d->common || !d->only_a || !d->only_b || !d->groups || !d->buf_a || !d->buf_b) {
        diag_plain(d->diag, "out of memory");
        status = 1;
    } else {
        d->groups[0].layer = -1;
        d->n_groups = 1;
        match(d, oa, ob);
        status = check_shapes(d) > 0 ? 1 : report(d);
    }
    free(d->buf_a);
    free(d->buf_b);
    free(d->groups);
    free(d->only_a);
    free(d->only_b);
    free(d->common);
    free(oa);
    free(ob);
    return status;
}

/* ---- entry point ------------------------------------------------------------------------ */

int cmd_diff_main(int argc, char **argv) {
    const char *paths[2] = { NULL, NULL };
    int n_paths = 0;
    Diff d;
    memset(&d, 0, sizeof d);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) d.json = true;
        else if (strcmp(a, "--summary") == 0) d.summary = true;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "mergelang: diff: unknown option '%s'\n"
                            "usage: mergelang diff A B [--summary] [--json]\n", a);
            return 2;
        } else if (n_paths == 2) {
            fprintf(stderr, "mergelang: diff compares two checkpoints ('%s' is a third)\n", a);
            return 2;
        } else paths[n_paths++] = a;
    }
    if (n_paths < 2) {
        fputs("mergelang: diff needs two checkpoints\n"
              "usage: mergelang diff A B [--summary] [--json]\n", stderr);
        return 2;
    }

    Diag diag;
    diag_init(&diag, stderr);
    d.diag = &diag;
    long page = sysconf(_SC_PAGESIZE);
    d.page = page > 0 ? (size_t)page : 4096;
    ErrBuf err = { "" };
    Ckpt *a = ckpt_open(paths[0], &err);
    Ckpt *b = a ? ckpt_open(paths[1], &err) : NULL;
    if (!b) {
        diag_plain(&diag, "%s", err.msg);
        ckpt_close(a);
        return 1;
    }
    d.a = a;
    d.b = b;
    int status = run(&d);
    ckpt_close(a);
    ckpt_close(b);
    if (fflush(stdout) != 0 && status == 0) {
        diag_plain(&diag, "cannot write the output: %s", strerror(errno));
        status = 1;
    }
    return status;
}
