/* props.c - the property checks of the random-pruning conformance cases;
 * see props.h. The definitions follow conformance/README.md, "Property
 * cases": b base, m_i model i, o output (decoded to float32, arithmetic in
 * float64), d_i = m_i - b in float32, S_i = {j : d_i[j] != 0}, D = o - b. */
#include "tests/oracle/props.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/checkpoint.h"

#define MAX_CASE_BYTES (64u * 1000u * 1000u)
#define EXAMPLE_LEN 480

enum {
    CK_DISJOINT,
    CK_UNCHANGED,
    CK_KEPT,
    CK_SINGLE,
    CK_SCALE,
    CK_FRAC_TOTAL,
    CK_FRAC_TENSOR,
    CK_RANK_BINS,
    CK_COUNT
};

static const char *const check_names[CK_COUNT] = {
    "supports_disjoint", "unchanged_outside_support", "kept_or_dropped",          "single_scale",
    "scale_value",       "kept_fraction_total",       "kept_fraction_per_tensor", "rank_bins",
};

typedef struct ModelSpec {
    char *name;
    double weight, density, epsilon;
} ModelSpec;

typedef struct Spec {
    size_t n_models;
    ModelSpec *models;
    char *base_name;
    bool magprune, consensus, normalize, rescale;
    double lambda, sum_weights;
    double dropped_atol, dropped_rtol, scale_rtol, z_max, min_elements;
    bool enabled[CK_COUNT];
} Spec;

/* A count test: k successes against expectation e and variance v. */
typedef struct CountTest {
    int64_t k;
    double e, v;
} CountTest;

/* How often something went wrong, and a description of the first time. */
typedef struct Failures {
    int64_t n;
    char first[EXAMPLE_LEN];
} Failures;

typedef struct ModelStats {
    int64_t support, kept;
    CountTest total, low, high;
    Failures off_scale;      /* kept elements whose D/d is not c */
    int64_t scaled_tensors;  /* tensors with kept elements */
    Failures multi_scale;    /* tensors with more than one scale */
    double worst_dev;        /* largest |r - c| as a multiple of its tolerance */
    Failures scale_wrong;
    double worst_rel;
    int64_t frac_tensors;
    Failures frac_off;
    double worst_z;
} ModelStats;

typedef struct Run {
    const Spec *spec;
    FILE *report;
    bool verbose;
    ModelStats *stats;
    size_t n_tensors;
    Failures structure;
    int64_t support_total;
    Failures overlap;
    int64_t outside;
    Failures changed;
    int passed, failed;
} Run;

/* Per-tensor working memory, freed after each tensor. */
typedef struct Buffers {
    float *b, *o, *d, *row;
    double *ratios;
} Buffers;

static void note(Failures *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(Failures *f, const char *fmt, ...) {
    if (f->n++ > 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->first, sizeof f->first, fmt, ap);
    va_end(ap);
}

static void result(Run *run, bool ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void result(Run *run, bool ok, const char *name, const char *fmt, ...) {
    fprintf(run->report, "%s %s: ", ok ? "ok" : "FAIL", name);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(run->report, fmt, ap);
    va_end(ap);
    fputc('\n', run->report);
    if (ok) run->passed++;
    else run->failed++;
}

static void count_add(CountTest *c, bool kept, double p) {
    c->k += kept;
    c->e += p;
    c->v += p * (1.0 - p);
}

static bool count_ok(const CountTest *c, double z_max) {
    return fabs((double)c->k - c->e) <= z_max * sqrt(c->v) + 1.0;
}

/* ---- case.json ------------------------------------------------------------ */

static char *read_text(const char *path, ErrBuf *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        errbuf_set(err, "%s: cannot open", path);
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            if (cap >= MAX_CASE_BYTES) {
                errbuf_set(err, "%s: larger than %u bytes", path, MAX_CASE_BYTES);
                free(buf);
                fclose(f);
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0) break;
    }
    if (!buf) {
        errbuf_set(err, "%s: out of memory", path);
    } else if (ferror(f)) {
        errbuf_set(err, "%s: read error", path);
        free(buf);
        buf = NULL;
    } else {
        buf[len] = '\0';
    }
    fclose(f);
    return buf;
}

static int get_number(const char *file, const cJSON *obj, const char *where, const char *key, double *out,
                      ErrBuf *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return errbuf_set(err, "%s: %s.%s: expected a number", file, where, key);
    *out = v->valuedouble;
    return 0;
}

static int get_tolerance(const char *file, const cJSON *obj, const char *key, double *out, ErrBuf *err) {
    if (get_number(file, obj, "properties", key, out, err) < 0) return -1;
    if (*out < 0) return errbuf_set(err, "%s: properties.%s: must not be negative", file, key);
    return 0;
}

/* Absent and null read as false, as mergekit's defaults for these flags. */
static int get_flag(const char *file, const cJSON *obj, const char *key, bool *out, ErrBuf *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        *out = false;
        return 0;
    }
    if (!cJSON_IsBool(v)) return errbuf_set(err, "%s: properties.%s: expected true, false or null", file, key);
    *out = cJSON_IsTrue(v);
    return 0;
}

/* The model names become file names inside the case folder. */
static bool plain_name(const char *s) {
    return s[0] && s[0] != '.' && !strchr(s, '/');
}

static char *dup_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

static void spec_free(Spec *s) {
    for (size_t i = 0; i < s->n_models; i++) free(s->models[i].name);
    free(s->models);
    free(s->base_name);
    memset(s, 0, sizeof *s);
}

static int parse_properties(const char *file, const cJSON *props, Spec *s, ErrBuf *err) {
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(props, "sparsification");
    if (!cJSON_IsString(sp)) return errbuf_set(err, "%s: properties.sparsification: expected a string", file);
    if (strcmp(sp->valuestring, "della_magprune") == 0) s->magprune = true;
    else if (strcmp(sp->valuestring, "bernoulli") != 0)
        return errbuf_set(err, "%s: properties.sparsification: unknown scheme '%s'", file, sp->valuestring);

    const cJSON *cons = cJSON_GetObjectItemCaseSensitive(props, "consensus");
    if (cons && !cJSON_IsNull(cons) && !cJSON_IsString(cons))
        return errbuf_set(err, "%s: properties.consensus: expected a string or null", file);
    s->consensus = cJSON_IsString(cons);
    if (get_flag(file, props, "normalize", &s->normalize, err) < 0 ||
        get_flag(file, props, "rescale", &s->rescale, err) < 0 ||
        get_number(file, props, "properties", "lambda", &s->lambda, err) < 0 ||
        get_tolerance(file, props, "dropped_atol", &s->dropped_atol, err) < 0 ||
        get_tolerance(file, props, "dropped_rtol", &s->dropped_rtol, err) < 0 ||
        get_tolerance(file, props, "scale_rtol", &s->scale_rtol, err) < 0 ||
        get_tolerance(file, props, "z_max", &s->z_max, err) < 0 ||
        get_tolerance(file, props, "min_elements_per_tensor_check", &s->min_elements, err) < 0)
        return -1;

    const cJSON *w = cJSON_GetObjectItemCaseSensitive(props, "weight");
    const cJSON *dn = cJSON_GetObjectItemCaseSensitive(props, "density");
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(props, "epsilon");
    s->sum_weights = 0;
    for (size_t i = 0; i < s->n_models; i++) {
        ModelSpec *m = &s->models[i];
        if (get_number(file, w, "properties.weight", m->name, &m->weight, err) < 0 ||
            get_number(file, dn, "properties.density", m->name, &m->density, err) < 0)
            return -1;
        if (s->magprune && get_number(file, ep, "properties.epsilon", m->name, &m->epsilon, err) < 0) return -1;
        s->sum_weights += m->weight;
    }

    const cJSON *checks = cJSON_GetObjectItemCaseSensitive(props, "checks");
    if (!cJSON_IsArray(checks)) return errbuf_set(err, "%s: properties.checks: expected a list", file);
    const cJSON *c;
    cJSON_ArrayForEach(c, checks) {
        if (!cJSON_IsString(c)) return errbuf_set(err, "%s: properties.checks: expected strings", file);
        int k = 0;
        while (k < CK_COUNT && strcmp(check_names[k], c->valuestring) != 0) k++;
        if (k == CK_COUNT) return errbuf_set(err, "%s: properties.checks: unknown check '%s'", file, c->valuestring);
        s->enabled[k] = true;
    }
    return 0;
}

static int parse_case(const char *file, const char *text, Spec *s, ErrBuf *err) {
    cJSON *root = cJSON_Parse(text);
    if (!root) return errbuf_set(err, "%s: not valid JSON", file);
    int rc = -1;
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(root, "base");
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(root, "properties");
    if (!cJSON_IsObject(root)) {
        errbuf_set(err, "%s: expected a JSON object", file);
    } else if (!cJSON_IsObject(props)) {
        errbuf_set(err, "%s: no \"properties\": not a property case", file);
    } else if (!cJSON_IsString(base) || !plain_name(base->valuestring)) {
        errbuf_set(err, "%s: \"base\": the property checks need a base model (a plain name)", file);
    } else if (!cJSON_IsArray(models) || cJSON_GetArraySize(models) < 1) {
        errbuf_set(err, "%s: \"models\": expected a non-empty list", file);
    } else {
        size_t n = (size_t)cJSON_GetArraySize(models);
        s->models = calloc(n, sizeof *s->models);
        s->base_name = dup_string(base->valuestring);
        if (!s->models || !s->base_name) {
            errbuf_set(err, "%s: out of memory", file);
            goto done;
        }
        const cJSON *m;
        cJSON_ArrayForEach(m, models) {
            if (!cJSON_IsString(m) || !plain_name(m->valuestring)) {
                errbuf_set(err, "%s: \"models\": expected plain names", file);
                goto done;
            }
            if (!(s->models[s->n_models].name = dup_string(m->valuestring))) {
                errbuf_set(err, "%s: out of memory", file);
                goto done;
            }
            s->n_models++;
        }
        rc = parse_properties(file, props, s, err);
    }
done:
    cJSON_Delete(root);
    return rc;
}

/* ---- helpers ---------------------------------------------------------------- */

/* "[3, 17]" for flat index i of shape s. */
static void format_index(const Shape *s, size_t i, char *buf, size_t n) {
    Shape idx = *s;
    for (int d = s->rank - 1; d >= 0; d--) {
        size_t dim = s->dims[d] > 0 ? (size_t)s->dims[d] : 1;
        idx.dims[d] = (int64_t)(i % dim);
        i /= dim;
    }
    shape_format(&idx, buf, n);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Total order even for NaN (sorted last), so qsort stays well defined. */
static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
    return (x > y) - (x < y);
}

/* Number of the n sorted values strictly below x. */
static size_t count_below(const float *sorted, size_t n, float x) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static double median(double *v, size_t n) {
    if (n == 0) return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double clamp01(double p) {
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

static double drop_tol(const Spec *s, float b) {
    return s->dropped_atol + s->dropped_rtol * fabs((double)b);
}

static bool is_kept(const Spec *s, float b, float o) {
    return !(fabs((double)o - (double)b) <= drop_tol(s, b));
}

/* The factor the method applies to model i's delta besides lambda and the
 * rescale ratio: with sign election and normalisation the divisor at an
 * element is the summed weight of the matching deltas, which for disjoint
 * supports is w_i itself. */
static double weight_factor(const Spec *s, const ModelSpec *m) {
    if (s->consensus && s->normalize) return 1.0;
    if (s->normalize) return m->weight / s->sum_weights;
    return m->weight;
}

/* ---- one tensor, one model ----------------------------------------------------- */

static void check_model_tensor(Run *run, size_t mi, const CkptTensor *bt, const Buffers *buf, size_t n) {
    const Spec *s = run->spec;
    const ModelSpec *m = &s->models[mi];
    ModelStats *st = &run->stats[mi];
    const float *b = buf->b, *o = buf->o, *d = buf->d + mi * n;
    char ib[160];

    int64_t support = 0, kept = 0;
    double sum_s = 0, sum_k = 0;
    size_t n_ratios = 0;
    for (size_t j = 0; j < n; j++) {
        if (d[j] == 0) continue;
        support++;
        sum_s += fabs((double)d[j]);
        if (!is_kept(s, b[j], o[j])) continue;
        kept++;
        sum_k += fabs((double)d[j]);
        double r = ((double)o[j] - (double)b[j]) / (double)d[j];
        if (isfinite(r)) buf->ratios[n_ratios++] = r;
    }
    st->support += support;
    st->kept += kept;

    double c = median(buf->ratios, n_ratios);
    int64_t off = 0;
    for (size_t j = 0; kept && j < n; j++) {
        if (d[j] == 0 || !is_kept(s, b[j], o[j])) continue;
        double D = (double)o[j] - (double)b[j], r = D / (double)d[j];
        double tol = s->scale_rtol * fabs(c) + 1e-7 / fabs((double)d[j]);
        double dev = fabs(r - c) / tol;
        if (!(dev <= st->worst_dev)) st->worst_dev = isnan(dev) ? INFINITY : dev;
        if (fabs(r - c) <= tol) continue;
        off++;
        format_index(&bt->shape, j, ib, sizeof ib);
        note(&st->off_scale, "tensor '%s' %s: base %.9g, output %.9g, delta %.9g: D/d = %.9g, scale c = %.9g", bt->name,
             ib, (double)b[j], (double)o[j], (double)d[j], r, c);
    }

    double expect = NAN, rescale = NAN;
    if (kept) {
        st->scaled_tensors++;
        if (off)
            note(&st->multi_scale, "tensor '%s': %lld of %lld kept elements off the median D/d = %.9g", bt->name,
                 (long long)off, (long long)kept, c);
        rescale = s->rescale && sum_s >= 1e-7 && sum_k >= 1e-7 ? sum_s / sum_k : 1.0;
        expect = s->lambda * weight_factor(s, m) * rescale;
        double diff = fabs(c - expect), rel = diff / fabs(expect);
        if (isnan(rel)) rel = diff == 0 ? 0 : INFINITY;
        if (!(rel <= st->worst_rel)) st->worst_rel = rel;
        if (!(diff <= s->scale_rtol * fabs(expect)))
            note(&st->scale_wrong, "tensor '%s': c = %.9g, expected %.9g = lambda %g * g %.9g * R %.9g (relative error %.3g)",
                 bt->name, c, expect, s->lambda, weight_factor(s, m), rescale, rel);
    }

    /* Keep probabilities: rows are the last dimension (rank-based pruning
     * ranks magnitudes along it). */
    size_t row_len = bt->shape.rank > 0 ? (size_t)bt->shape.dims[bt->shape.rank - 1] : 1;
    CountTest here = {0, 0, 0};
    for (size_t start = 0; row_len && start < n; start += row_len) {
        const float *dr = d + start;
        if (s->magprune) {
            for (size_t j = 0; j < row_len; j++) buf->row[j] = fabsf(dr[j]);
            qsort(buf->row, row_len, sizeof *buf->row, cmp_float);
        }
        for (size_t j = 0; j < row_len; j++) {
            if (dr[j] == 0) continue;
            double p = m->density;
            if (s->magprune && row_len > 1) {
                double below = (double)count_below(buf->row, row_len, fabsf(dr[j]));
                p = (m->density - m->epsilon) + 2.0 * m->epsilon * below / (double)(row_len - 1);
            }
            bool k = is_kept(s, b[start + j], o[start + j]);
            double pc = clamp01(p);
            count_add(&here, k, pc);
            count_add(&st->total, k, pc);
            count_add(p < m->density ? &st->low : &st->high, k, pc);
        }
    }
    if ((double)support >= s->min_elements && support > 0) {
        st->frac_tensors++;
        double sd = sqrt(here.v), z = fabs((double)here.k - here.e) / sd;
        if (isnan(z)) z = 0;
        if (z > st->worst_z) st->worst_z = z;
        if (!count_ok(&here, s->z_max))
            note(&st->frac_off, "tensor '%s': k=%lld E=%.2f sd=%.2f", bt->name, (long long)here.k, here.e, sd);
    }
    if (run->verbose)
        fprintf(run->report, "  tensor '%s' model %s: |S|=%lld k=%lld c=%.9g expected=%.9g R=%.9g E=%.2f sd=%.2f\n",
                bt->name, m->name, (long long)support, (long long)kept, c, expect, rescale, here.e, sqrt(here.v));
}

/* ---- one tensor ------------------------------------------------------------------ */

static void free_buffers(Buffers *b) {
    free(b->b);
    free(b->o);
    free(b->d);
    free(b->row);
    free(b->ratios);
}

static int check_tensor(Run *run, const CkptTensor *bt, const CkptTensor *ot, const CkptTensor *const *mts,
                        ErrBuf *err) {
    const Spec *s = run->spec;
    size_t n = (size_t)shape_numel(&bt->shape);
    if (n == 0) return 0;
    size_t nm = s->n_models;
    size_t row_len = bt->shape.rank > 0 ? (size_t)bt->shape.dims[bt->shape.rank - 1] : 1;
    if (n > SIZE_MAX / sizeof(double) / (nm + 1)) return errbuf_set(err, "tensor '%s': too large", bt->name);
    Buffers buf = {malloc(n * sizeof(float)), malloc(n * sizeof(float)), malloc(nm * n * sizeof(float)),
                   malloc(row_len * sizeof(float)), malloc(n * sizeof(double))};
    if (!buf.b || !buf.o || !buf.d || !buf.row || !buf.ratios) {
        free_buffers(&buf);
        return errbuf_set(err, "tensor '%s': out of memory", bt->name);
    }
    ckpt_read_f32(bt, buf.b);
    ckpt_read_f32(ot, buf.o);
    for (size_t i = 0; i < nm; i++) {
        float *d = buf.d + i * n;
        ckpt_read_f32(mts[i], d);
        for (size_t j = 0; j < n; j++) d[j] = d[j] - buf.b[j];
    }

    char ib[160];
    for (size_t j = 0; j < n; j++) {
        size_t first = nm, second = nm;
        for (size_t i = 0; i < nm; i++) {
            if (buf.d[i * n + j] == 0) continue;
            run->support_total++;
            if (first == nm) first = i;
            else if (second == nm) second = i;
        }
        if (second != nm) {
            format_index(&bt->shape, j, ib, sizeof ib);
            note(&run->overlap, "tensor '%s' %s: changed by models %s and %s", bt->name, ib, s->models[first].name,
                 s->models[second].name);
        }
        if (first != nm) continue;
        run->outside++;
        if (is_kept(s, buf.b[j], buf.o[j])) {
            format_index(&bt->shape, j, ib, sizeof ib);
            note(&run->changed, "tensor '%s' %s: base %.9g, output %.9g (allowed |D| %.3g)", bt->name, ib,
                 (double)buf.b[j], (double)buf.o[j], drop_tol(s, buf.b[j]));
        }
    }
    for (size_t i = 0; i < nm; i++) check_model_tensor(run, i, bt, &buf, n);
    free_buffers(&buf);
    return 0;
}

/* ---- inputs ----------------------------------------------------------------------- */

typedef struct Inputs {
    Ckpt *base, *out;
    Ckpt **models;
    size_t n_models;
} Inputs;

static void inputs_close(Inputs *in) {
    ckpt_close(in->base);
    ckpt_close(in->out);
    for (size_t i = 0; i < in->n_models; i++) ckpt_close(in->models[i]);
    free(in->models);
}

static Ckpt *open_named(const char *dir, const char *name, ErrBuf *err) {
    size_t len = strlen(dir) + strlen(name) + sizeof "/.safetensors";
    char *p = malloc(len);
    if (!p) {
        errbuf_set(err, "out of memory");
        return NULL;
    }
    snprintf(p, len, "%s/%s.safetensors", dir, name);
    Ckpt *c = ckpt_open(p, err);
    free(p);
    return c;
}

/* The inputs must describe the same tensors as the base: anything else is a
 * broken case, not a failing output. */
static int open_inputs(const char *case_dir, const char *output, const Spec *s, Inputs *in, ErrBuf *err) {
    memset(in, 0, sizeof *in);
    if (!(in->models = calloc(s->n_models, sizeof *in->models))) return errbuf_set(err, "out of memory");
    if (!(in->base = open_named(case_dir, s->base_name, err))) return -1;
    for (; in->n_models < s->n_models; in->n_models++)
        if (!(in->models[in->n_models] = open_named(case_dir, s->models[in->n_models].name, err))) return -1;
    char s1[200], s2[200];
    for (size_t t = 0; t < in->base->n_tensors; t++) {
        const CkptTensor *bt = &in->base->tensors[t];
        if (!dtype_is_computable(bt->dtype) || shape_numel(&bt->shape) < 0)
            return errbuf_set(err, "%s: tensor '%s': dtype %s cannot be checked", bt->file->path, bt->name,
                              dtype_st_name(bt->dtype));
        for (size_t i = 0; i < s->n_models; i++) {
            const CkptTensor *mt = ckpt_find(in->models[i], bt->name);
            if (!mt) return errbuf_set(err, "%s: no tensor '%s' (the base has it)", in->models[i]->path, bt->name);
            if (!shape_equal(&mt->shape, &bt->shape) || !dtype_is_computable(mt->dtype))
                return errbuf_set(err, "%s: tensor '%s': %s %s, the base has %s", mt->file->path, bt->name,
                                  dtype_st_name(mt->dtype), shape_format(&mt->shape, s1, sizeof s1),
                                  shape_format(&bt->shape, s2, sizeof s2));
        }
    }
    if (!(in->out = ckpt_open(output, err))) return -1;
    return 0;
}

/* ---- the report --------------------------------------------------------------------- */

static void report_count(Run *run, const char *check, const char *model, const char *bin, const CountTest *c) {
    bool ok = count_ok(c, run->spec->z_max);
    double sd = sqrt(c->v);
    result(run, ok, check, "model %s%s k=%lld E=%.2f sd=%.2f%s", model, bin, (long long)c->k, c->e, sd,
           ok ? "" : " (|k-E| > z_max*sd + 1)");
}

static void report_model(Run *run, size_t i) {
    const Spec *s = run->spec;
    const ModelStats *st = &run->stats[i];
    const char *name = s->models[i].name;
    if (s->enabled[CK_KEPT]) {
        if (!st->off_scale.n)
            result(run, true, "kept_or_dropped", "model %s %lld kept, %lld dropped of %lld support elements", name,
                   (long long)st->kept, (long long)(st->support - st->kept), (long long)st->support);
        else
            result(run, false, "kept_or_dropped",
                   "model %s %lld of %lld kept elements are neither base nor base + c*delta; first: %s", name,
                   (long long)st->off_scale.n, (long long)st->kept, st->off_scale.first);
    }
    if (s->enabled[CK_SINGLE]) {
        if (!st->scaled_tensors)
            result(run, true, "single_scale", "model %s no kept elements", name);
        else if (!st->multi_scale.n)
            result(run, true, "single_scale", "model %s one scale in each of %lld tensors (largest |r-c| %.3g of its tolerance)",
                   name, (long long)st->scaled_tensors, st->worst_dev);
        else
            result(run, false, "single_scale", "model %s D/d is not one constant in %lld of %lld tensors; first: %s", name,
                   (long long)st->multi_scale.n, (long long)st->scaled_tensors, st->multi_scale.first);
    }
    if (s->enabled[CK_SCALE]) {
        if (!st->scaled_tensors)
            result(run, true, "scale_value", "model %s no kept elements, nothing to check", name);
        else if (!st->scale_wrong.n)
            result(run, true, "scale_value", "model %s c = lambda*g*R in %lld tensors (largest relative error %.3g)", name,
                   (long long)st->scaled_tensors, st->worst_rel);
        else
            result(run, false, "scale_value", "model %s wrong scale in %lld of %lld tensors; first: %s", name,
                   (long long)st->scale_wrong.n, (long long)st->scaled_tensors, st->scale_wrong.first);
    }
    if (s->enabled[CK_FRAC_TOTAL]) report_count(run, "kept_fraction_total", name, "", &st->total);
    if (s->enabled[CK_FRAC_TENSOR]) {
        if (!st->frac_off.n)
            result(run, true, "kept_fraction_per_tensor",
                   "model %s %lld tensors with |S| >= %g (largest |k-E|/sd %.2f)", name,
                   (long long)st->frac_tensors, s->min_elements, st->worst_z);
        else
            result(run, false, "kept_fraction_per_tensor",
                   "model %s kept count off in %lld of %lld tensors with |S| >= %g; first: %s", name,
                   (long long)st->frac_off.n, (long long)st->frac_tensors, s->min_elements, st->frac_off.first);
    }
    if (s->enabled[CK_RANK_BINS]) {
        char bin[64];
        snprintf(bin, sizeof bin, " p<%g", s->models[i].density);
        report_count(run, "rank_bins", name, bin, &st->low);
        snprintf(bin, sizeof bin, " p>=%g", s->models[i].density);
        report_count(run, "rank_bins", name, bin, &st->high);
    }
}

static void report_all(Run *run) {
    const Spec *s = run->spec;
    if (!run->structure.n)
        result(run, true, "tensors", "%zu tensors, names and shapes as in the base", run->n_tensors);
    else
        result(run, false, "tensors", "%lld problems with the output's tensors; first: %s",
               (long long)run->structure.n, run->structure.first);
    if (s->enabled[CK_DISJOINT]) {
        if (!run->overlap.n)
            result(run, true, "supports_disjoint", "%lld support elements, no overlap", (long long)run->support_total);
        else
            result(run, false, "supports_disjoint", "%lld elements in more than one support; first: %s",
                   (long long)run->overlap.n, run->overlap.first);
    }
    if (s->enabled[CK_UNCHANGED]) {
        if (!run->changed.n)
            result(run, true, "unchanged_outside_support", "%lld elements outside every support, all unchanged",
                   (long long)run->outside);
        else
            result(run, false, "unchanged_outside_support", "%lld of %lld elements outside every support changed; first: %s",
                   (long long)run->changed.n, (long long)run->outside, run->changed.first);
    }
    for (size_t i = 0; i < s->n_models; i++) report_model(run, i);
    fprintf(run->report, "%d checks passed, %d failed\n", run->passed, run->failed);
}

/* Tensors the output lacks, has extra, or holds in another shape are
 * reported once and left out of the element checks. */
static const CkptTensor *output_tensor(Run *run, const Ckpt *out, const CkptTensor *bt) {
    char s1[200], s2[200];
    const CkptTensor *ot = ckpt_find(out, bt->name);
    if (!ot) {
        note(&run->structure, "missing tensor '%s'", bt->name);
        return NULL;
    }
    if (!shape_equal(&ot->shape, &bt->shape)) {
        note(&run->structure, "tensor '%s': shape %s, the base has %s", bt->name,
             shape_format(&ot->shape, s1, sizeof s1), shape_format(&bt->shape, s2, sizeof s2));
        return NULL;
    }
    if (!dtype_is_computable(ot->dtype)) {
        note(&run->structure, "tensor '%s': dtype %s is not a float type", bt->name, dtype_st_name(ot->dtype));
        return NULL;
    }
    return ot;
}

static int run_checks(Run *run, const Inputs *in, ErrBuf *err) {
    const Spec *s = run->spec;
    const CkptTensor **mts = calloc(s->n_models, sizeof *mts);
    if (!mts) return errbuf_set(err, "out of memory");
    for (size_t i = 0; i < in->out->n_tensors; i++)
        if (!ckpt_find(in->base, in->out->tensors[i].name))
            note(&run->structure, "extra tensor '%s'", in->out->tensors[i].name);
    run->n_tensors = in->base->n_tensors;
    int rc = 0;
    for (size_t t = 0; t < in->base->n_tensors && rc == 0; t++) {
        const CkptTensor *bt = &in->base->tensors[t];
        const CkptTensor *ot = output_tensor(run, in->out, bt);
        if (!ot) continue;
        for (size_t i = 0; i < s->n_models; i++) mts[i] = ckpt_find(in->models[i], bt->name);
        rc = check_tensor(run, bt, ot, mts, err);
    }
    free(mts);
    return rc;
}

int props_check_case_ex(const char *case_dir, const char *output_path, FILE *report, bool verbose, int *n_passed,
                        int *n_failed, ErrBuf *err) {
    *n_passed = *n_failed = 0;
    size_t len = strlen(case_dir) + sizeof "/case.json";
    char *file = malloc(len);
    if (!file) return errbuf_set(err, "out of memory");
    snprintf(file, len, "%s/case.json", case_dir);
    Spec spec;
    memset(&spec, 0, sizeof spec);
    char *text = read_text(file, err);
    int rc = text ? parse_case(file, text, &spec, err) : -1;
    free(text);
    free(file);
    if (rc < 0) {
        spec_free(&spec);
        return -1;
    }

    Inputs in;
    Run run;
    memset(&run, 0, sizeof run);
    run.spec = &spec;
    run.report = report;
    run.verbose = verbose;
    rc = open_inputs(case_dir, output_path, &spec, &in, err);
    if (rc == 0 && !(run.stats = calloc(spec.n_models, sizeof *run.stats))) rc = errbuf_set(err, "out of memory");
    if (rc == 0) rc = run_checks(&run, &in, err);
    if (rc == 0) {
        report_all(&run);
        *n_passed = run.passed;
        *n_failed = run.failed;
    }
    free(run.stats);
    inputs_close(&in);
    spec_free(&spec);
    return rc;
}

int props_check_case(const char *case_dir, const char *output_path, FILE *report, int *n_passed, int *n_failed) {
    ErrBuf err = {""};
    int rc = props_check_case_ex(case_dir, output_path, report, false, n_passed, n_failed, &err);
    if (rc < 0) fprintf(report, "error: %s\n", err.msg);
    return rc;
}
