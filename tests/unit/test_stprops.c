/* test_stprops.c - the property checker (tests/oracle/props.c, behind
 * tools/stprops) passes correct random-pruning outputs and fails each kind
 * of wrong one. The outputs are built here, without the interpreter, from
 * the inputs of the dare_ties and della conformance cases: a correct
 * DARE/DELLA merge, and merges that each get one rule wrong. */
#include "tests/unit/check.h"

#include <cjson/cJSON.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/io/checkpoint.h"
#include "tests/oracle/props.h"
#include "runtime/io/safetensors.h"

#define MAX_MODELS 4

/* What a synthetic output gets wrong. */
typedef enum Flaw {
    CORRECT,
    INVERSE_DENSITY,  /* kept deltas scaled by 1/density (the DARE paper) instead of the L1 ratio */
    KEEP_ALL,         /* nothing pruned */
    OFF_SCALE,        /* one kept element of model 0 at 1.5 times its scale */
    UNIFORM_KEEP,     /* DELLA: keep probability density_i everywhere instead of rank-based */
    CHANGE_OUTSIDE,   /* one element outside every support moved */
    DROP_TENSOR,      /* the last tensor missing */
} Flaw;

typedef struct Params {
    int n;
    char names[MAX_MODELS][32];
    double w[MAX_MODELS], density[MAX_MODELS], epsilon[MAX_MODELS];
    double lambda, sum_w;
    bool consensus, normalize, rescale, magprune;
} Params;

typedef struct Fixture {
    char case_dir[512];
    char tmp[64];
    Params p;
} Fixture;

typedef struct Outcome {
    int rc, passed, failed;
    char *text;
} Outcome;

typedef struct Rng {
    uint64_t s;
} Rng;

/* splitmix64: enough for Bernoulli draws, and reproducible. */
static double uniform(Rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- files ------------------------------------------------------------------ */

static int rm_cb(const char *p, const struct stat *sb, int type, struct FTW *ftw) {
    (void)sb;
    (void)ftw;
    return type == FTW_DP ? rmdir(p) : unlink(p);
}

static bool readable(const char *dir, const char *file) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    return access(p, R_OK) == 0;
}

/* The case folder: the repository's copy in tests/conformance, found from
 * this file's path, which is relative to the repository root when built by
 * the Makefile. Nothing outside the repository is consulted. */
static bool find_case(const char *name, char *out, size_t n) {
    const char *self = __FILE__, *tail = "tests/unit/test_stprops.c";
    size_t root_len = strlen(self) >= strlen(tail) ? strlen(self) - strlen(tail) : 0;
    snprintf(out, n, "%.*stests/conformance/%s", (int)root_len, self, name);
    return readable(out, "case.json") && readable(out, "base.safetensors");
}

static bool copy_file(const char *from_dir, const char *from, const char *to_dir, const char *to) {
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/%s", from_dir, from);
    snprintf(b, sizeof b, "%s/%s", to_dir, to);
    FILE *in = fopen(a, "rb"), *out = fopen(b, "wb");
    bool ok = in && out;
    char buf[8192];
    size_t got;
    while (ok && (got = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, got, out) == got;
    if (in) fclose(in);
    if (out && fclose(out) != 0) ok = false;
    return ok;
}

static char *read_all(const char *dir, const char *file) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - 1 - len, f)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (buf) buf[len] = '\0';
    return buf;
}

static bool write_text(const char *dir, const char *file, const char *text) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    FILE *f = fopen(p, "wb");
    if (!f) return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* ---- the case's parameters ---------------------------------------------------------- */

static double number_in(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static bool load_params(const char *case_dir, Params *p) {
    memset(p, 0, sizeof *p);
    char *text = read_all(case_dir, "case.json");
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(root, "properties");
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
    bool ok = cJSON_IsObject(props) && cJSON_IsArray(models) && cJSON_GetArraySize(models) <= MAX_MODELS;
    for (const cJSON *m = ok ? models->child : NULL; m; m = m->next) {
        if (!cJSON_IsString(m)) ok = false;
        else snprintf(p->names[p->n++], sizeof p->names[0], "%s", m->valuestring);
    }
    if (ok) {
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(props, "sparsification");
        p->magprune = cJSON_IsString(sp) && strcmp(sp->valuestring, "della_magprune") == 0;
        p->consensus = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(props, "consensus"));
        p->normalize = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(props, "normalize"));
        p->rescale = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(props, "rescale"));
        p->lambda = number_in(props, "lambda");
        for (int i = 0; i < p->n; i++) {
            p->w[i] = number_in(cJSON_GetObjectItemCaseSensitive(props, "weight"), p->names[i]);
            p->density[i] = number_in(cJSON_GetObjectItemCaseSensitive(props, "density"), p->names[i]);
            p->epsilon[i] = p->magprune ? number_in(cJSON_GetObjectItemCaseSensitive(props, "epsilon"), p->names[i]) : 0;
            p->sum_w += p->w[i];
        }
        ok = p->n > 0 && isfinite(p->lambda) && isfinite(p->sum_w);
    }
    cJSON_Delete(root);
    return ok;
}

/* ---- synthetic outputs ------------------------------------------------------------------ */

static Ckpt *open_in(const char *dir, const char *name) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, name);
    ErrBuf err = {""};
    Ckpt *c = ckpt_open(path, &err);
    if (!c) printf("  %s\n", err.msg);
    return c;
}

/* The DELLA keep probability of element j of a row: its magnitude's rank
 * among the row's |d| (ties share the lowest rank), counted naively so
 * that it does not share code with the checker. */
static double rank_probability(const Params *p, int i, const float *row, size_t len, size_t j) {
    if (len < 2) return p->density[i];
    size_t below = 0;
    for (size_t q = 0; q < len; q++) below += fabsf(row[q]) < fabsf(row[j]);
    return (p->density[i] - p->epsilon[i]) + 2.0 * p->epsilon[i] * (double)below / (double)(len - 1);
}

static double weight_factor(const Params *p, int i) {
    if (p->consensus && p->normalize) return 1.0;
    if (p->normalize) return p->w[i] / p->sum_w;
    return p->w[i];
}

/* Prunes and rescales model i's delta d into o, as the flaw dictates.
 * Returns the flat index of one kept element, or n when none was kept. */
static size_t merge_model(const Params *p, int i, Flaw flaw, const Shape *shape, const float *b, const float *d,
                          float *o, unsigned char *keep, size_t n, Rng *rng) {
    size_t row = shape->rank > 0 ? (size_t)shape->dims[shape->rank - 1] : 1, some_kept = n;
    double sum_s = 0, sum_k = 0;
    for (size_t j = 0; j < n; j++) {
        keep[j] = 0;
        if (d[j] == 0) continue;
        double prob = p->density[i];
        if (flaw == KEEP_ALL) prob = 1;
        else if (p->magprune && flaw != UNIFORM_KEEP) prob = rank_probability(p, i, d + j / row * row, row, j % row);
        keep[j] = uniform(rng) < prob;
        sum_s += fabs((double)d[j]);
        if (keep[j]) sum_k += fabs((double)d[j]);
    }
    double r = p->rescale && sum_s >= 1e-7 && sum_k >= 1e-7 ? sum_s / sum_k : 1.0;
    if (flaw == INVERSE_DENSITY) r = 1.0 / p->density[i];
    double c = p->lambda * weight_factor(p, i) * r;
    for (size_t j = 0; j < n; j++) {
        if (!keep[j]) continue;
        o[j] = (float)((double)b[j] + c * (double)d[j]);
        some_kept = j;
    }
    return some_kept;
}

static bool make_output(const Fixture *f, const char *case_dir, const char *out_dir, Flaw flaw, uint64_t seed) {
    const Params *p = &f->p;
    Ckpt *base = open_in(case_dir, "base"), *models[MAX_MODELS] = {NULL};
    bool ok = base != NULL;
    for (int i = 0; i < p->n; i++) ok = (models[i] = open_in(case_dir, p->names[i])) && ok;
    size_t nt = ok ? base->n_tensors : 0, n_out = flaw == DROP_TENSOR && nt ? nt - 1 : nt;
    StwSpec *specs = calloc(nt + 1, sizeof *specs);
    for (size_t t = 0; ok && t < n_out; t++)
        specs[t] = (StwSpec){base->tensors[t].name, DT_F32, base->tensors[t].shape};
    ErrBuf err = {""};
    StWriter *w = ok && specs ? stw_create(out_dir, specs, n_out, 0, NULL, false, &err) : NULL;
    ok = w != NULL;
    Rng rng = {seed};
    bool flaw_placed = flaw != OFF_SCALE && flaw != CHANGE_OUTSIDE;
    for (size_t t = 0; ok && t < n_out; t++) {
        const CkptTensor *bt = &base->tensors[t];
        size_t n = (size_t)shape_numel(&bt->shape);
        float *b = malloc(n * sizeof *b), *o = malloc(n * sizeof *o), *d = malloc(p->n * n * sizeof *d);
        unsigned char *keep = malloc(n);
        ok = b && o && d && keep;
        if (ok) {
            ckpt_read_f32(bt, b);
            memcpy(o, b, n * sizeof *o);
            for (int i = 0; i < p->n; i++) {
                float *di = d + (size_t)i * n;
                ckpt_read_f32(ckpt_find(models[i], bt->name), di);
                for (size_t j = 0; j < n; j++) di[j] = di[j] - b[j];
            }
            for (int i = 0; i < p->n; i++) {
                const float *di = d + (size_t)i * n;
                size_t k = merge_model(p, i, flaw, &bt->shape, b, di, o, keep, n, &rng);
                if (flaw == OFF_SCALE && i == 0 && !flaw_placed && k < n) {
                    o[k] = (float)((double)b[k] + 1.5 * ((double)o[k] - (double)b[k]));
                    flaw_placed = true;
                }
            }
            for (size_t j = 0; flaw == CHANGE_OUTSIDE && !flaw_placed && j < n; j++) {
                bool outside = true;
                for (int i = 0; i < p->n; i++) outside = outside && d[(size_t)i * n + j] == 0;
                if (outside) {
                    o[j] = b[j] + 0.01f;
                    flaw_placed = true;
                }
            }
            ok = stw_write(w, t, o, &err) == 0;
        }
        free(b);
        free(o);
        free(d);
        free(keep);
    }
    if (w && ok) ok = stw_commit(w, &err) == 0;
    else if (w) stw_abort(w);
    if (!ok) printf("  could not build %s: %s\n", out_dir, err.msg);
    if (!flaw_placed) printf("  %s: found no place for the flaw\n", out_dir);
    free(specs);
    ckpt_close(base);
    for (int i = 0; i < p->n; i++) ckpt_close(models[i]);
    return ok && flaw_placed;
}

/* ---- fixture and verdicts ------------------------------------------------------------------ */

static void teardown(Fixture *f) {
    nftw(f->tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* False, after recording a failure, when the test cannot run: the case's
 * inputs are missing from the repository, or no temporary folder. */
static bool setup(Fixture *f, const char *case_name) {
    memset(f, 0, sizeof *f);
    if (!find_case(case_name, f->case_dir, sizeof f->case_dir)) {
        printf("  tests/conformance/%s has no case.json and base.safetensors\n", case_name);
        CHECK(!"conformance case inputs present");
        return false;
    }
    snprintf(f->tmp, sizeof f->tmp, "/tmp/mergelang-stprops-XXXXXX");
    if (!mkdtemp(f->tmp)) {
        CHECK(!"mkdtemp");
        return false;
    }
    if (!load_params(f->case_dir, &f->p)) {
        CHECK(!"reading the case's properties");
        teardown(f);
        return false;
    }
    return true;
}

static char *path_in(const Fixture *f, const char *rel, char *buf, size_t n) {
    snprintf(buf, n, "%s/%s", f->tmp, rel);
    return buf;
}

static Outcome judge(const char *case_dir, const char *output) {
    Outcome r = {0, 0, 0, NULL};
    size_t len = 0;
    FILE *rep = open_memstream(&r.text, &len);
    if (!rep) {
        r.rc = -2;
        return r;
    }
    r.rc = props_check_case(case_dir, output, rep, &r.passed, &r.failed);
    fclose(rep);
    return r;
}

static bool says(const Outcome *r, const char *line_start) {
    return r->text && strstr(r->text, line_start) != NULL;
}

/* Prints the checker's report when the test went wrong, then frees it. */
static void done(Outcome *r) {
    if (check_test_failed && r->text) printf("%s", r->text);
    free(r->text);
    r->text = NULL;
}

/* Builds an output with the flaw, judges it against case_dir. */
static Outcome build_and_judge(const Fixture *f, const char *case_dir, Flaw flaw, uint64_t seed) {
    char out[128];
    path_in(f, "out", out, sizeof out);
    nftw(out, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    bool built = make_output(f, case_dir, out, flaw, seed);
    CHECK(built);
    if (!built) return (Outcome){-2, 0, 0, NULL};
    return judge(case_dir, out);
}

/* ---- tests ------------------------------------------------------------------------------------ */

/* tensors + supports_disjoint + unchanged_outside_support, then per model
 * kept_or_dropped, single_scale, scale_value and the two kept fractions,
 * and for DELLA the two rank bins. */
static int expected_checks(const Params *p) {
    return 3 + p->n * (p->magprune ? 7 : 5);
}

static void test_dare_correct_passes(void) {
    Fixture f;
    if (!setup(&f, "dare_ties")) return;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        Outcome r = build_and_judge(&f, f.case_dir, CORRECT, seed);
        CHECK(r.rc == 0);
        CHECK(r.failed == 0);
        CHECK(r.passed == expected_checks(&f.p));
        CHECK(says(&r, "ok kept_fraction_total: model m0 k="));
        CHECK(says(&r, "ok scale_value: model m1 "));
        done(&r);
    }
    teardown(&f);
}

static void test_dare_correct_single_file_passes(void) {
    Fixture f;
    if (!setup(&f, "dare_ties")) return;
    char out[128], file[160];
    path_in(&f, "out", out, sizeof out);
    CHECK(make_output(&f, f.case_dir, out, CORRECT, 7));
    snprintf(file, sizeof file, "%s/model.safetensors", out);
    Outcome r = judge(f.case_dir, file);
    CHECK(r.rc == 0 && r.failed == 0 && r.passed == expected_checks(&f.p));
    done(&r);
    teardown(&f);
}

static void test_dare_inverse_density_fails_scale_value(void) {
    Fixture f;
    if (!setup(&f, "dare_ties")) return;
    Outcome r = build_and_judge(&f, f.case_dir, INVERSE_DENSITY, 11);
    CHECK(r.rc == 0);
    CHECK(says(&r, "FAIL scale_value: model m0 "));
    CHECK(says(&r, "FAIL scale_value: model m1 "));
    CHECK(r.failed == 2);
    done(&r);
    teardown(&f);
}

static void test_dare_keep_all_fails_kept_fraction(void) {
    Fixture f;
    if (!setup(&f, "dare_ties")) return;
    Outcome r = build_and_judge(&f, f.case_dir, KEEP_ALL, 12);
    CHECK(r.rc == 0);
    CHECK(says(&r, "FAIL kept_fraction_total: model m0 "));
    CHECK(says(&r, "FAIL kept_fraction_total: model m1 "));
    CHECK(says(&r, "FAIL kept_fraction_per_tensor: model m0 "));
    CHECK(says(&r, "FAIL kept_fraction_per_tensor: model m1 "));
    CHECK(says(&r, "ok scale_value: model m0 ")); /* nothing dropped: R = 1, and that is what was applied */
    CHECK(r.failed == 4);
    done(&r);
    teardown(&f);
}

static void test_dare_off_scale_element_fails(void) {
    Fixture f;
    if (!setup(&f, "dare_ties")) return;
    Outcome r = build_and_judge(&f, f.case_dir, OFF_SCALE, 13);
    CHECK(r.rc == 0);
    CHECK(says(&r, "FAIL kept_or_dropped: model m0 1 of "));
    CHECK(says(&r, "FAIL single_scale: model m0 "));
    CHECK(says(&r, "ok single_scale: model m1 "));
    CHECK(r.failed == 2);
    done(&r);
    teardown(&f);
}

static void test_missing_tensor_fails(void) {
    Fixture f;
    if (!setup(&f, "dare_ties")) return;
    Outcome r = build_and_judge(&f, f.case_dir, DROP_TENSOR, 14);
    CHECK(r.rc == 0);
    CHECK(says(&r, "FAIL tensors: 1 problems with the output's tensors; first: missing tensor '"));
    CHECK(r.failed >= 1);
    done(&r);
    teardown(&f);
}

static void test_della_correct_passes(void) {
    Fixture f;
    if (!setup(&f, "della")) return;
    for (uint64_t seed = 21; seed <= 23; seed++) {
        Outcome r = build_and_judge(&f, f.case_dir, CORRECT, seed);
        CHECK(r.rc == 0);
        CHECK(r.failed == 0);
        CHECK(r.passed == expected_checks(&f.p));
        CHECK(says(&r, "ok rank_bins: model m0 p<"));
        done(&r);
    }
    teardown(&f);
}

static void test_della_uniform_fails_rank_bins(void) {
    Fixture f;
    if (!setup(&f, "della")) return;
    Outcome r = build_and_judge(&f, f.case_dir, UNIFORM_KEEP, 24);
    CHECK(r.rc == 0);
    CHECK(says(&r, "FAIL rank_bins: model m0 p<"));
    CHECK(says(&r, "FAIL rank_bins: model m1 p<"));
    CHECK(says(&r, "ok single_scale: model m0 "));
    CHECK(says(&r, "ok scale_value: model m0 "));
    CHECK(says(&r, "ok scale_value: model m1 "));
    done(&r);
    teardown(&f);
}

/* A copy of the case whose m1 is the given input file. */
static bool variant_case(const Fixture *f, const char *m1_from, char *dir, size_t n) {
    path_in(f, "case", dir, n);
    return mkdir(dir, 0755) == 0 && copy_file(f->case_dir, "case.json", dir, "case.json") &&
           copy_file(f->case_dir, "base.safetensors", dir, "base.safetensors") &&
           copy_file(f->case_dir, "m0.safetensors", dir, "m0.safetensors") &&
           copy_file(f->case_dir, m1_from, dir, "m1.safetensors");
}

static void test_overlapping_supports_fail(void) {
    Fixture f;
    if (!setup(&f, "dare_ties")) return;
    char dir[128];
    CHECK(variant_case(&f, "m0.safetensors", dir, sizeof dir));
    Outcome r = build_and_judge(&f, dir, CORRECT, 31);
    CHECK(r.rc == 0);
    CHECK(says(&r, "FAIL supports_disjoint: "));
    done(&r);
    teardown(&f);
}

static void test_change_outside_support_fails(void) {
    Fixture f;
    if (!setup(&f, "dare_ties")) return;
    char dir[128];
    /* m1 = base: its rows belong to no support. */
    CHECK(variant_case(&f, "base.safetensors", dir, sizeof dir));
    Outcome r = build_and_judge(&f, dir, CORRECT, 32);
    CHECK(r.rc == 0 && r.failed == 0);
    CHECK(says(&r, "ok unchanged_outside_support: "));
    CHECK(!says(&r, "ok unchanged_outside_support: 0 elements"));
    done(&r);
    r = build_and_judge(&f, dir, CHANGE_OUTSIDE, 33);
    CHECK(r.rc == 0);
    CHECK(says(&r, "FAIL unchanged_outside_support: 1 of "));
    CHECK(r.failed == 1);
    done(&r);
    teardown(&f);
}

static void test_errors(void) {
    Fixture f;
    if (!setup(&f, "dare_ties")) return;
    char missing[128], dir[128];
    Outcome r = judge(f.case_dir, path_in(&f, "no-such-output", missing, sizeof missing));
    CHECK(r.rc == -1);
    CHECK(says(&r, "error: "));
    done(&r);

    /* An unknown check name is a broken case, not a failed output. */
    char *text = read_all(f.case_dir, "case.json");
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    cJSON *checks = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "properties"), "checks");
    CHECK(cJSON_IsArray(checks));
    cJSON_AddItemToArray(checks, cJSON_CreateString("bogus_check"));
    char *edited = cJSON_Print(root);
    path_in(&f, "case", dir, sizeof dir);
    CHECK(mkdir(dir, 0755) == 0 && edited && write_text(dir, "case.json", edited));
    CHECK(copy_file(f.case_dir, "base.safetensors", dir, "base.safetensors"));
    r = judge(dir, path_in(&f, "no-such-output", missing, sizeof missing));
    CHECK(r.rc == -1);
    CHECK(says(&r, "unknown check 'bogus_check'"));
    done(&r);
    free(edited);
    cJSON_Delete(root);
    free(text);

    /* Deterministic cases have no properties. */
    CHECK(write_text(dir, "case.json", "{\"method\": \"linear\", \"base\": null, \"models\": [\"m0\"]}"));
    r = judge(dir, missing);
    CHECK(r.rc == -1);
    done(&r);
    teardown(&f);
}

int main(void) {
    RUN_TEST(test_dare_correct_passes);
    RUN_TEST(test_dare_correct_single_file_passes);
    RUN_TEST(test_dare_inverse_density_fails_scale_value);
    RUN_TEST(test_dare_keep_all_fails_kept_fraction);
    RUN_TEST(test_dare_off_scale_element_fails);
    RUN_TEST(test_missing_tensor_fails);
    RUN_TEST(test_della_correct_passes);
    RUN_TEST(test_della_uniform_fails_rank_bins);
    RUN_TEST(test_overlapping_supports_fail);
    RUN_TEST(test_change_outside_support_fails);
    RUN_TEST(test_errors);
    return CHECK_DONE();
}
