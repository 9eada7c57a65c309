/* stcompare.c - compares two checkpoints tensor by tensor, the way the
 * conformance cases are judged (see conformance/README.md).
 *
 *   stcompare GOT EXPECTED [--atol A] [--rtol R]
 *             [--unrounded FILE --uatol A --urtol R] [--identical]
 *
 * Both must hold the same tensor names with the same shapes and dtypes.
 * Float tensors are decoded and compared as float64:
 * |got - expected| <= atol + rtol*|expected| (default atol = rtol = 0, i.e.
 * equal values), NaN only where expected is NaN. Integer, bool and F8
 * tensors must be byte-identical. --unrounded adds the rounding check:
 * every got value must lie in [round(u - t), round(u + t)], u from FILE,
 * t = uatol + urtol*|u|, round = round-to-nearest-even into got's dtype.
 * --identical requires identical raw bytes instead of the tolerance check.
 * --only S and --except S (each repeatable) restrict the comparison to the
 * tensors whose names contain one of the --only substrings and none of the
 * --except ones, so a test can check a per-tensor choice part by part.
 *
 * Prints "max abs error E over N tensors" and exits 0 when everything holds;
 * otherwise the first few mismatches, a summary line, and exit 1. Usage and
 * I/O errors exit 2. Tensors are processed in chunks, so memory stays small
 * whatever the model size. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/checkpoint.h"

#define MAX_REPORTED 10
#define CHUNK 65536

typedef struct Options {
    const char *got, *expected, *unrounded;
    double atol, rtol, uatol, urtol;
    bool identical;
    const char *only[8], *except[8];
    int n_only, n_except;
} Options;

static bool selected(const Options *o, const char *name) {
    for (int i = 0; i < o->n_except; i++)
        if (strstr(name, o->except[i])) return false;
    if (o->n_only == 0) return true;
    for (int i = 0; i < o->n_only; i++)
        if (strstr(name, o->only[i])) return true;
    return false;
}

typedef struct Tally {
    size_t mismatches;  /* elements or structural problems */
    double max_abs;
} Tally;

static void usage(FILE *to) {
    fprintf(to, "usage: stcompare GOT EXPECTED [--atol A] [--rtol R] [--unrounded FILE --uatol A --urtol R] "
                "[--identical] [--only S]... [--except S]...\n"
                "  GOT, EXPECTED, FILE: a .safetensors file or a checkpoint folder\n");
}

static bool parse_double(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 0) || isinf(v)) return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, Options *o) {
    memset(o, 0, sizeof *o);
    bool have_uatol = false, have_urtol = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--identical") == 0) {
            o->identical = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (!o->got) o->got = a;
            else if (!o->expected) o->expected = a;
            else {
                fprintf(stderr, "stcompare: unexpected argument '%s'\n", a);
                return -1;
            }
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "stcompare: %s needs a value\n", a);
            return -1;
        }
        const char *v = argv[++i];
        bool ok = true;
        if (strcmp(a, "--atol") == 0) ok = parse_double(v, &o->atol);
        else if (strcmp(a, "--rtol") == 0) ok = parse_double(v, &o->rtol);
        else if (strcmp(a, "--uatol") == 0) ok = have_uatol = parse_double(v, &o->uatol);
        else if (strcmp(a, "--urtol") == 0) ok = have_urtol = parse_double(v, &o->urtol);
        else if (strcmp(a, "--unrounded") == 0) o->unrounded = v;
        else if (strcmp(a, "--only") == 0 && o->n_only < 8) o->only[o->n_only++] = v;
        else if (strcmp(a, "--except") == 0 && o->n_except < 8) o->except[o->n_except++] = v;
        else {
            fprintf(stderr, "stcompare: unknown option '%s'\n", a);
            return -1;
        }
        if (!ok) {
            fprintf(stderr, "stcompare: bad value '%s' for %s (a non-negative number)\n", v, a);
            return -1;
        }
    }
    if (!o->got || !o->expected) {
        fprintf(stderr, "stcompare: need GOT and EXPECTED\n");
        return -1;
    }
    if (!o->unrounded && (have_uatol || have_urtol)) {
        fprintf(stderr, "stcompare: --uatol/--urtol need --unrounded\n");
        return -1;
    }
    return 0;
}

/* "[3, 17]" for flat index i of shape s. */
static void format_index(const Shape *s, size_t i, char *buf, size_t n) {
    int64_t idx[SHAPE_MAX_RANK];
    for (int d = s->rank - 1; d >= 0; d--) {
        int64_t dim = s->dims[d] > 0 ? s->dims[d] : 1;
        idx[d] = (int64_t)(i % (size_t)dim);
        i /= (size_t)dim;
    }
    Shape tmp = *s;
    for (int d = 0; d < s->rank; d++) tmp.dims[d] = idx[d];
    shape_format(&tmp, buf, n);
}

static void report(Tally *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(Tally *t, const char *fmt, ...) {
    if (t->mismatches++ >= MAX_REPORTED) return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* Decodes elements [start, start+n) of a float tensor as doubles. */
static void decode_chunk(const CkptTensor *t, size_t start, size_t n, float *fbuf, double *out) {
    size_t es = dtype_size(t->dtype);
    const uint8_t *src = t->data + start * es;
    if (t->dtype == DT_F64) {
        memcpy(out, src, n * sizeof(double));
        return;
    }
    dtype_decode_f32(t->dtype, src, fbuf, n);
    for (size_t k = 0; k < n; k++) out[k] = fbuf[k];
}

/* x rounded to nearest-even in dtype dt, as a double. */
static double round_to(DType dt, double x) {
    if (dt == DT_F64) return x;
    float f = (float)x;
    if (dt == DT_BF16) return dtype_bf16_to_f32(dtype_f32_to_bf16(f));
    if (dt == DT_F16) return dtype_f16_to_f32(dtype_f32_to_f16(f));
    return f;
}

typedef struct Buffers {
    float *f;
    double *g, *e, *u;
} Buffers;

static void compare_values(const Options *o, const CkptTensor *g, const CkptTensor *e, const CkptTensor *u,
                           Buffers *b, Tally *t) {
    size_t numel = (size_t)shape_numel(&g->shape);
    char ib[160];
    for (size_t start = 0; start < numel; start += CHUNK) {
        size_t n = numel - start < CHUNK ? numel - start : CHUNK;
        decode_chunk(g, start, n, b->f, b->g);
        decode_chunk(e, start, n, b->f, b->e);
        if (u) decode_chunk(u, start, n, b->f, b->u);
        for (size_t k = 0; k < n; k++) {
            double gv = b->g[k], ev = b->e[k];
            if (isnan(ev) || isnan(gv)) {
                if (isnan(ev) != isnan(gv)) {
                    format_index(&g->shape, start + k, ib, sizeof ib);
                    report(t, "tensor '%s' %s: got %.9g, expected %.9g", g->name, ib, gv, ev);
                }
            } else if (gv != ev) {
                double diff = fabs(gv - ev);
                if (diff > t->max_abs || isnan(diff)) t->max_abs = isnan(diff) ? INFINITY : diff;
                if (!(diff <= o->atol + o->rtol * fabs(ev))) {
                    format_index(&g->shape, start + k, ib, sizeof ib);
                    report(t, "tensor '%s' %s: got %.9g, expected %.9g (|diff| %.3g > %.3g)", g->name, ib, gv, ev,
                           diff, o->atol + o->rtol * fabs(ev));
                }
            }
            if (!u) continue;
            double uv = b->u[k];
            if (isnan(uv)) {
                if (!isnan(gv)) {
                    format_index(&g->shape, start + k, ib, sizeof ib);
                    report(t, "tensor '%s' %s: got %.9g, unrounded value is NaN", g->name, ib, gv);
                }
                continue;
            }
            double tol = o->uatol + o->urtol * fabs(uv);
            double lo = round_to(g->dtype, uv - tol), hi = round_to(g->dtype, uv + tol);
            if (!(gv >= lo && gv <= hi)) {
                format_index(&g->shape, start + k, ib, sizeof ib);
                report(t, "tensor '%s' %s: got %.9g, outside [%.9g, %.9g] around unrounded %.9g", g->name, ib, gv,
                       lo, hi, uv);
            }
        }
    }
}

static void compare_bytes(const CkptTensor *g, const CkptTensor *e, Tally *t) {
    if (memcmp(g->data, e->data, (size_t)g->nbytes) == 0) return;
    size_t es = dtype_size(g->dtype), i = 0;
    while (memcmp(g->data + i * es, e->data + i * es, es) == 0) i++;
    char ib[160];
    format_index(&g->shape, i, ib, sizeof ib);
    report(t, "tensor '%s' %s: bytes differ (first difference)", g->name, ib);
}

static int compare(const Options *o, const Ckpt *got, const Ckpt *exp, const Ckpt *unr, Tally *t) {
    char s1[200], s2[200];
    for (size_t i = 0; i < exp->n_tensors; i++)
        if (selected(o, exp->tensors[i].name) && !ckpt_find(got, exp->tensors[i].name))
            report(t, "missing tensor '%s'", exp->tensors[i].name);
    for (size_t i = 0; i < got->n_tensors; i++)
        if (selected(o, got->tensors[i].name) && !ckpt_find(exp, got->tensors[i].name))
            report(t, "extra tensor '%s'", got->tensors[i].name);

    Buffers b = {malloc(CHUNK * sizeof(float)), malloc(CHUNK * sizeof(double)), malloc(CHUNK * sizeof(double)),
                 malloc(CHUNK * sizeof(double))};
    if (!b.f || !b.g || !b.e || !b.u) {
        fprintf(stderr, "stcompare: out of memory\n");
        free(b.f);
        free(b.g);
        free(b.e);
        free(b.u);
        return -1;
    }
    for (size_t i = 0; i < got->n_tensors; i++) {
        const CkptTensor *g = &got->tensors[i], *e = ckpt_find(exp, g->name);
        if (!e || !selected(o, g->name)) continue;
        if (!shape_equal(&g->shape, &e->shape)) {
            report(t, "tensor '%s': shape %s, expected %s", g->name, shape_format(&g->shape, s1, sizeof s1),
                   shape_format(&e->shape, s2, sizeof s2));
            continue;
        }
        if (g->dtype != e->dtype) {
            report(t, "tensor '%s': dtype %s, expected %s", g->name, dtype_st_name(g->dtype), dtype_st_name(e->dtype));
            continue;
        }
        if (o->identical || !dtype_is_computable(g->dtype)) {
            compare_bytes(g, e, t);
            continue;
        }
        const CkptTensor *u = NULL;
        if (unr) {
            u = ckpt_find(unr, g->name);
            if (!u) {
                report(t, "tensor '%s': not in the unrounded file", g->name);
            } else if (!shape_equal(&u->shape, &g->shape) || !dtype_is_computable(u->dtype)) {
                report(t, "tensor '%s': unrounded tensor has shape %s dtype %s", g->name,
                       shape_format(&u->shape, s1, sizeof s1), dtype_st_name(u->dtype));
                u = NULL;
            }
        }
        compare_values(o, g, e, u, &b, t);
    }
    free(b.f);
    free(b.g);
    free(b.e);
    free(b.u);
    return 0;
}

int main(int argc, char **argv) {
    Options o;
    if (parse_args(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    ErrBuf err = {""};
    Ckpt *got = ckpt_open(o.got, &err);
    if (!got) {
        fprintf(stderr, "stcompare: %s\n", err.msg);
        return 2;
    }
    Ckpt *exp = ckpt_open(o.expected, &err);
    if (!exp) {
        fprintf(stderr, "stcompare: %s\n", err.msg);
        ckpt_close(got);
        return 2;
    }
    Ckpt *unr = NULL;
    if (o.unrounded && !(unr = ckpt_open(o.unrounded, &err))) {
        fprintf(stderr, "stcompare: %s\n", err.msg);
        ckpt_close(got);
        ckpt_close(exp);
        return 2;
    }
    Tally t = {0, 0.0};
    int rc = compare(&o, got, exp, unr, &t);
    int status = 2;
    if (rc == 0) {
        if (t.mismatches > MAX_REPORTED) printf("... %zu more\n", t.mismatches - MAX_REPORTED);
        if (t.mismatches) printf("%zu mismatches; ", t.mismatches);
        printf("max abs error %.6g over %zu tensors\n", t.max_abs, exp->n_tensors);
        status = t.mismatches ? 1 : 0;
    }
    ckpt_close(got);
    ckpt_close(exp);
    ckpt_close(unr);
    return status;
}
