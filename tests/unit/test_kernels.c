/* test_kernels.c - the merge kernels against naive float64 references and
 * the properties mergekit's math implies (slerp endpoints, fallbacks). */
#include <math.h>
#include <stdint.h>

#include "runtime/kernels/kernels.h"
#include "tests/unit/check.h"

#define N 1000

static float frand(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void fill(float *x, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i++) x[i] = frand(&seed);
}

static void test_weighted_sum(void) {
    static float a[N], b[N], c[N], out[N];
    fill(a, N, 1);
    fill(b, N, 2);
    fill(c, N, 3);
    const float *xs[3] = { a, b, c };
    double w[3] = { 0.6, 0.3, 0.4 };
    kern_weighted_sum(xs, w, 3, 1.3, out, N);
    for (size_t j = 0; j < N; j++) {
        double ref = (0.6 * a[j] + 0.3 * b[j] + 0.4 * c[j]) / 1.3;
        CHECK_NEAR(out[j], ref, 1e-6 * fabs(ref) + 1e-7);
    }
}

static void test_slerp_endpoints(void) {
    static float a[N], b[N], out[N];
    fill(a, N, 7);
    fill(b, N, 8);
    kern_slerp(a, b, 0.0, out, N);
    for (size_t j = 0; j < N; j++) CHECK_NEAR(out[j], a[j], 1e-6);
    kern_slerp(a, b, 1.0, out, N);
    for (size_t j = 0; j < N; j++) CHECK_NEAR(out[j], b[j], 1e-6);
}

static void test_slerp_formula(void) {
    static float a[N], b[N], out[N];
    fill(a, N, 9);
    fill(b, N, 10);
    double t = 0.35, na = 0, nb = 0, dot = 0;
    for (size_t j = 0; j < N; j++) {
        na += (double)a[j] * a[j];
        nb += (double)b[j] * b[j];
        dot += (double)a[j] * b[j];
    }
    double cosv = dot / sqrt(na * nb), th = acos(cosv);
    kern_slerp(a, b, t, out, N);
    for (size_t j = 0; j < N; j++) {
        double ref = sin((1 - t) * th) / sin(th) * a[j] + sin(t * th) / sin(th) * b[j];
        CHECK_NEAR(out[j], ref, 1e-6);
    }
}

static void test_slerp_colinear_falls_back_to_lerp(void) {
    static float a[N], b[N], out[N];
    fill(a, N, 11);
    for (size_t j = 0; j < N; j++) b[j] = -2.0f * a[j];   /* anti-colinear: |cos| = 1 */
    kern_slerp(a, b, 0.6, out, N);
    for (size_t j = 0; j < N; j++) CHECK_NEAR(out[j], 0.4 * a[j] + 0.6 * b[j], 1e-6);
}

static void test_slerp_zero_vector(void) {
    static float a[N], b[N], out[N];
    fill(b, N, 12);
    for (size_t j = 0; j < N; j++) a[j] = 0;
    /* An unnormalised zero vector gives dot 0, theta pi/2: out = sin(t pi/2) b. */
    kern_slerp(a, b, 0.6, out, N);
    for (size_t j = 0; j < N; j++) CHECK_NEAR(out[j], sin(0.6 * M_PI / 2) * b[j], 1e-6);
}

static void test_binary_scalar(void) {
    float a[4] = { 1, 2, 3, 4 }, out[4];
    kern_binary_scalar(KERN_SUB, a, 10, 1, out, 4);
    CHECK(out[0] == 9 && out[3] == 6);
    kern_binary_scalar(KERN_DIV, a, 2, 0, out, 4);
    CHECK(out[1] == 1 && out[2] == 1.5f);
    kern_binary_scalar(KERN_DIV, a, 12, 1, out, 4);
    CHECK(out[0] == 12 && out[3] == 3);
    kern_binary(KERN_MUL, a, a, out, 4);
    CHECK(out[3] == 16);
    CHECK_NEAR(kern_dot(a, a, 4), 30, 0);
    CHECK_NEAR(kern_sumsq(a, 4), 30, 0);
}

/* The integer exponent test agrees with isfinite for every class of value,
 * at every position (vector body and scalar tail). */
static void test_all_finite(void) {
    static float a[37];
    for (size_t j = 0; j < 37; j++) a[j] = (float)j - 18.5f;
    CHECK(kern_all_finite(a, 37));
    CHECK(kern_all_finite(a, 0));
    const float bad[] = { NAN, -NAN, INFINITY, -INFINITY };
    const float good[] = { 3.4028235e38f, -3.4028235e38f, 1e-45f, 0.0f, -0.0f };
    for (size_t k = 0; k < 4; k++)
        for (size_t pos = 0; pos < 37; pos += 6) {
            float keep = a[pos];
            a[pos] = bad[k];
            CHECK(!kern_all_finite(a, 37));
            a[pos] = keep;
        }
    for (size_t k = 0; k < 5; k++) {
        a[36] = good[k];
        CHECK(kern_all_finite(a, 37));
    }
}

int main(void) {
    RUN_TEST(test_weighted_sum);
    RUN_TEST(test_slerp_endpoints);
    RUN_TEST(test_slerp_formula);
    RUN_TEST(test_slerp_colinear_falls_back_to_lerp);
    RUN_TEST(test_slerp_zero_vector);
    RUN_TEST(test_binary_scalar);
    RUN_TEST(test_all_finite);
    return CHECK_DONE();
}
