/* test_eval.c - the plan and exec stages through their C interface: constant
 * folding, the tensor context, gradients, call by need, and merges on tiny
 * checkpoints written by the test, checked against values computed here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interp/builtins/builtins.h"
#include "interp/plan/plan.h"
#include "interp/exec/exec.h"
#include "interp/output/output.h"
#include "interp/syntax/syntax.h"
#include "runtime/io/safetensors.h"
#include "tests/unit/check.h"

static char tmpdir[] = "/tmp/mergelang-test-eval-XXXXXX";

/* Two tensors: "model.layers.<i>.w" for i < n_layers (4 floats each) and
 * "model.norm.weight" (4 floats); values are base + k * (index + 1). */
static void write_model(const char *name, int n_layers, float base, float k) {
    StwSpec specs[8];
    char names[8][64];
    size_t n = 0;
    for (int i = 0; i < n_layers; i++) {
        snprintf(names[n], sizeof names[n], "model.layers.%d.w", i);
        specs[n].name = names[n];
        specs[n].dtype = DT_F32;
        specs[n].shape = (Shape){ 1, { 4 } };
        n++;
    }
    specs[n].name = "model.norm.weight";
    specs[n].dtype = DT_F32;
    specs[n].shape = (Shape){ 1, { 4 } };
    n++;
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    ErrBuf err;
    StWriter *w = stw_create(path, specs, n, 1u << 30, NULL, false, &err);
    CHECK(w != NULL);
    if (!w) return;
    for (size_t t = 0; t < n; t++) {
        float v[4];
        for (int j = 0; j < 4; j++) v[j] = base + k * (float)(j + 1) + (float)t;
        CHECK(stw_write(w, t, v, &err) == 0);
    }
    CHECK(stw_commit(w, &err) == 0);
}

typedef struct Fixture {
    SrcFile *src;
    Arena arena;
    Diag diag;
    Plan plan;
    FILE *errs;
    char *errtext;
    size_t errlen;
} Fixture;

static int setup(Fixture *f, const char *text) {
    memset(f, 0, sizeof *f);
    f->errs = open_memstream(&f->errtext, &f->errlen);
    diag_init(&f->diag, f->errs);
    f->src = src_from_string("t.merge", text, strlen(text));
    arena_init(&f->arena);
    plan_init(&f->plan, &f->diag, &builtin_table);
    Ast *prog = syn_parse(f->src, &f->arena, &f->diag);
    if (!prog) return -1;
    return plan_program(&f->plan, prog);
}

static void teardown(Fixture *f) {
    plan_free(&f->plan);
    arena_free(&f->arena);
    src_free(f->src);
    fclose(f->errs);
    free(f->errtext);
}

static Value global(Fixture *f, const char *name) {
    for (size_t i = 0; i < f->plan.globals.n; i++)
        if (strcmp(f->plan.globals.items[i].name, name) == 0) return f->plan.globals.items[i].value;
    return val_error();
}

/* Computes model variable `var` for tensor `tname`; returns its values. */
static const float *compute(Fixture *f, Arena *a, Exec *x, const char *var, const char *tname) {
    Value m = global(f, var);
    CHECK(m.kind == V_MODEL);
    if (m.kind != V_MODEL) return NULL;
    const TensorInfo *info = tset_find(m.u.node->set, tname);
    CHECK(info != NULL);
    if (!info) return NULL;
    arena_init(a);
    CHECK(exec_init(x, a, f->plan.n_nodes, info, m.u.node->set) == 0);
    Value v = exec_force(x, m);
    CHECK(!x->failed);
    CHECK(v.kind == V_TENSOR);
    return v.kind == V_TENSOR ? v.u.tensor->f : NULL;
}

static void test_constants(void) {
    Fixture f;
    CHECK(setup(&f, "a = 1 + 2 * 3\nb = -a / 2\nc = if a > 6 and not false then \"x\" + \"y\" else 0\n"
                    "d = [1, 2, 3][-1]\ndef sq(v) = v * v\ne = sq(v = 4)\n") == 0);
    CHECK(global(&f, "a").kind == V_NUM && global(&f, "a").u.num == 7);
    CHECK(global(&f, "b").u.num == -3.5);
    Value c = global(&f, "c");
    CHECK(c.kind == V_STR && c.u.str.len == 2 && memcmp(c.u.str.s, "xy", 2) == 0);
    CHECK(global(&f, "d").u.num == 3);
    CHECK(global(&f, "e").u.num == 16);
    teardown(&f);
}

static void test_linear_and_context(void) {
    char text[1024];
    snprintf(text, sizeof text,
             "a = model(\"%s/a\")\nb = model(\"%s/b\")\n"
             "w = if name ~ \"norm\" then 3 else gradient([0, 1])\n"
             "m = linear([a, b], weights = [w, 1])\n"
             "t = task_arithmetic(a, [b], weights = 0.5, lambda = 2)\n",
             tmpdir, tmpdir);
    Fixture f;
    CHECK(setup(&f, text) == 0);
    Arena ar;
    Exec x;
    /* layer 1 of 3 sits at 0.5 on the gradient: w = 0.5 */
    const float *v = compute(&f, &ar, &x, "m", "model.layers.1.w");
    for (int j = 0; v && j < 4; j++) {
        double av = 1.0 + 0.5 * (j + 1) + 1, bv = 2.0 + 0.25 * (j + 1) + 1;
        CHECK_NEAR(v[j], (0.5 * av + bv) / 1.5, 1e-6);
    }
    arena_free(&ar);
    /* the final norm matches "norm": w = 3 */
    v = compute(&f, &ar, &x, "m", "model.norm.weight");
    for (int j = 0; v && j < 4; j++) {
        double av = 1.0 + 0.5 * (j + 1) + 3, bv = 2.0 + 0.25 * (j + 1) + 3;
        CHECK_NEAR(v[j], (3 * av + bv) / 4, 1e-6);
    }
    arena_free(&ar);
    v = compute(&f, &ar, &x, "t", "model.layers.0.w");
    for (int j = 0; v && j < 4; j++) {
        double av = 1.0 + 0.5 * (j + 1), bv = 2.0 + 0.25 * (j + 1);
        CHECK_NEAR(v[j], av + 2 * 0.5 * (bv - av), 1e-6);
    }
    arena_free(&ar);
    teardown(&f);
}

static void test_call_by_need(void) {
    char text[512];
    snprintf(text, sizeof text,
             "a = model(\"%s/a\")\nb = model(\"%s/b\")\nx = linear([a, b])\ny = x + x * x\n", tmpdir,
             tmpdir);
    Fixture f;
    CHECK(setup(&f, text) == 0);
    Arena ar;
    Exec x;
    const float *v = compute(&f, &ar, &x, "y", "model.layers.2.w");
    /* a, b, x, x*x, y: each node once, though x is used three times. */
    CHECK(x.n_evaluated == 5);
    for (int j = 0; v && j < 4; j++) {
        double xv = ((1.0 + 0.5 * (j + 1) + 2) + (2.0 + 0.25 * (j + 1) + 2)) / 2;
        CHECK_NEAR(v[j], xv + xv * xv, 1e-5);
    }
    arena_free(&ar);
    teardown(&f);
}

/* Evaluates a per-tensor scalar global for tensor `tname` of model `var`. */
static double scalar(Fixture *f, const char *scalar_var, const char *model_var, const char *tname) {
    Value m = global(f, model_var), v = global(f, scalar_var);
    const TensorInfo *info = m.kind == V_MODEL ? tset_find(m.u.node->set, tname) : NULL;
    CHECK(info != NULL && v.kind == V_LAZY);
    if (!info) return NAN;
    Arena a;
    arena_init(&a);
    Exec x;
    CHECK(exec_init(&x, &a, f->plan.n_nodes, info, m.u.node->set) == 0);
    Value r = exec_force(&x, v);
    CHECK(!x.failed && r.kind == V_NUM);
    double out = r.kind == V_NUM ? r.u.num : NAN;
    arena_free(&a);
    return out;
}

static void test_primitives(void) {
    char text[1024];
    snprintf(text, sizeof text,
             "a = model(\"%s/a\")\nb = model(\"%s/b\")\n"
             "n = norm(a)\nmu = mean(a)\nsd = std(a)\nd = dot(a, b)\nc = cos(a, b)\n"
             "e = sign(b - a) * abs(b - a)\ncl = clamp(a, 1.6, 2.2)\nw = where(a - 1.5, b, 7)\n",
             tmpdir, tmpdir);
    Fixture f;
    CHECK(setup(&f, text) == 0);
    /* tensor model.layers.0.w: a = 1 + 0.5 (j+1) = 1.5, 2, 2.5, 3; b = 2 + 0.25 (j+1) */
    const char *t0 = "model.layers.0.w";
    double av[4] = { 1.5, 2, 2.5, 3 }, bv[4] = { 2.25, 2.5, 2.75, 3 };
    double ss = 0, sum = 0, dot = 0, sb = 0;
    for (int j = 0; j < 4; j++) {
        ss += av[j] * av[j];
        sum += av[j];
        dot += av[j] * bv[j];
        sb += bv[j] * bv[j];
    }
    double mu = sum / 4, var = 0;
    for (int j = 0; j < 4; j++) var += (av[j] - mu) * (av[j] - mu) / 4;
    CHECK_NEAR(scalar(&f, "n", "a", t0), sqrt(ss), 1e-12);
    CHECK_NEAR(scalar(&f, "mu", "a", t0), mu, 1e-12);
    CHECK_NEAR(scalar(&f, "sd", "a", t0), sqrt(var), 1e-12);
    CHECK_NEAR(scalar(&f, "d", "a", t0), dot, 1e-12);
    CHECK_NEAR(scalar(&f, "c", "a", t0), dot / sqrt(ss * sb), 1e-12);
    Arena ar;
    Exec x;
    const float *v = compute(&f, &ar, &x, "e", t0);
    for (int j = 0; v && j < 4; j++) CHECK_NEAR(v[j], bv[j] - av[j], 1e-6);
    arena_free(&ar);
    v = compute(&f, &ar, &x, "cl", t0);
    double want_cl[4] = { 1.6, 2, 2.2, 2.2 };
    for (int j = 0; v && j < 4; j++) CHECK_NEAR(v[j], want_cl[j], 1e-6);
    arena_free(&ar);
    v = compute(&f, &ar, &x, "w", t0);   /* a - 1.5 is zero only at j = 0 */
    double want_w[4] = { 7, 2.5, 2.75, 3 };
    for (int j = 0; v && j < 4; j++) CHECK_NEAR(v[j], want_w[j], 1e-6);
    arena_free(&ar);
    teardown(&f);
}

/* Two saves sharing a step: each tensor's nodes are computed once for both. */
static void test_saves_share_work(void) {
    char text[1024];
    snprintf(text, sizeof text,
             "a = model(\"%s/a\")\nb = model(\"%s/b\")\nx = linear([a, b])\n"
             "save(x, \"%s/out1\")\nsave(x * 2, \"%s/out2\")\n",
             tmpdir, tmpdir, tmpdir, tmpdir);
    Fixture f;
    CHECK(setup(&f, text) == 0);
    long evaluated = -1;
    OutputOptions opt = { .quiet = true, .threads = 2, .evaluated = &evaluated };
    CHECK(output_run(&f.plan, &opt) == 0);
    /* 4 tensors (3 blocks + norm); per tensor a, b, x and x * 2: 4 nodes, not 3 + 4. */
    CHECK(evaluated == 4 * 4);
    teardown(&f);
}

static void test_plan_errors(void) {
    char text[512];
    snprintf(text, sizeof text,
             "a = model(\"%s/a\")\nshort = model(\"%s/short\")\nm = linear([a, short])\n"
             "n = slerp(a, a, t = \"x\")\n",
             tmpdir, tmpdir);
    Fixture f;
    CHECK(setup(&f, text) == 2);
    fflush(f.errs);
    CHECK(strstr(f.errtext, "t.merge:3:12: error: linear(): model 2 has no tensor "
                            "'model.layers.2.w', which model 1 has") != NULL);
    CHECK(strstr(f.errtext, "t.merge:4:21: error: t must be a number, found a string") != NULL);
    teardown(&f);
}

int main(void) {
    if (!mkdtemp(tmpdir)) return 1;
    write_model("a", 3, 1.0f, 0.5f);
    write_model("b", 3, 2.0f, 0.25f);
    write_model("short", 2, 2.0f, 0.25f);
    RUN_TEST(test_constants);
    RUN_TEST(test_linear_and_context);
    RUN_TEST(test_call_by_need);
    RUN_TEST(test_primitives);
    RUN_TEST(test_saves_share_work);
    RUN_TEST(test_plan_errors);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) printf("could not remove %s\n", tmpdir);
    return CHECK_DONE();
}
