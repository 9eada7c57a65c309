/* test_units.c - counts and byte sizes as every command prints them
 * (runtime/core/units.h), and the metric diff and :diff share
 * (runtime/kernels/compare.h), against values worked out by hand. */
#include <math.h>

#include "runtime/core/units.h"
#include "runtime/kernels/compare.h"
#include "tests/unit/check.h"

static void test_counts(void) {
    char b[32];
    CHECK_STR(units_count_text(0, b, sizeof b), "0");
    CHECK_STR(units_count_text(999, b, sizeof b), "999");
    CHECK_STR(units_count_text(1000, b, sizeof b), "1,000");
    CHECK_STR(units_count_text(22688, b, sizeof b), "22,688");
    CHECK_STR(units_count_text(1234567, b, sizeof b), "1,234,567");
    CHECK_STR(units_count_text(UINT64_MAX, b, sizeof b), "18,446,744,073,709,551,615");
}

static void test_bytes(void) {
    char b[32];
    CHECK_STR(units_bytes_text(0, b, sizeof b), "0 B");
    CHECK_STR(units_bytes_text(999, b, sizeof b), "999 B");
    CHECK_STR(units_bytes_text(1000, b, sizeof b), "1.0 kB");
    CHECK_STR(units_bytes_text(90752, b, sizeof b), "90.8 kB");
    /* 999,949 B is 999.9 kB; 999,950 B would round to "1000.0 kB". */
    CHECK_STR(units_bytes_text(999949, b, sizeof b), "999.9 kB");
    CHECK_STR(units_bytes_text(999950, b, sizeof b), "1.0 MB");
    CHECK_STR(units_bytes_text(2200000000ull, b, sizeof b), "2.2 GB");
    CHECK_STR(units_bytes_text(5000000000000000ull, b, sizeof b), "5.0 PB");
    CHECK_STR(units_bytes_text(UINT64_MAX, b, sizeof b), "18446.7 PB");
}

static void test_compare(void) {
    const float a[4] = { 1, 2, 3, 4 }, twice[4] = { 2, 4, 6, 8 }, neg[4] = { -1, -2, -3, -4 };
    const float zero[4] = { 0 }, ortho[4] = { 2, -1, 4, -3 };
    double c, r;
    CmpSums s = { 0 };
    cmp_add(&s, twice, a, 4);                 /* ||2a - a|| / ||2a|| = 1/2 */
    cmp_figures(&s, &c, &r);
    CHECK_NEAR(c, 1, 1e-15);
    CHECK_NEAR(r, 0.5, 1e-15);
    s = (CmpSums){ 0 };
    cmp_add(&s, neg, a, 4);                   /* opposite: cosine -1, ||-2a|| / ||a|| = 2 */
    cmp_figures(&s, &c, &r);
    CHECK_NEAR(c, -1, 1e-15);
    CHECK_NEAR(r, 2, 1e-15);
    s = (CmpSums){ 0 };
    cmp_add(&s, a, ortho, 4);                 /* a . ortho = 2 - 2 + 12 - 12 = 0 */
    cmp_figures(&s, &c, &r);
    CHECK_NEAR(c, 0, 1e-15);
    CHECK_NEAR(r, sqrt(2.0), 1e-15);          /* ||a - o||^2 = ||a||^2 + ||o||^2 = 60 */
    s = (CmpSums){ 0 };
    cmp_add(&s, zero, a, 4);                  /* A all zero: cosine undefined, difference infinite */
    cmp_figures(&s, &c, &r);
    CHECK(isnan(c));
    CHECK(isinf(r) && r > 0);
    s = (CmpSums){ 0 };
    cmp_add(&s, a, zero, 4);                  /* B all zero: undefined, difference 1 */
    cmp_figures(&s, &c, &r);
    CHECK(isnan(c));
    CHECK_NEAR(r, 1, 1e-15);
    s = (CmpSums){ 0 };
    cmp_add(&s, zero, zero, 4);               /* both zero: the same */
    cmp_figures(&s, &c, &r);
    CHECK(c == 1 && r == 0);
    /* Summing in two parts, or merging the sums of two parts, is the same. */
    CmpSums whole = { 0 }, p1 = { 0 }, p2 = { 0 };
    cmp_add(&whole, a, ortho, 4);
    cmp_add(&p1, a, ortho, 2);
    cmp_add(&p2, a + 2, ortho + 2, 2);
    cmp_merge(&p1, &p2);
    CHECK(p1.dot == whole.dot && p1.aa == whole.aa && p1.bb == whole.bb && p1.dd == whole.dd);
    const float bad[2] = { NAN, 1 };
    s = (CmpSums){ 0 };
    cmp_add(&s, bad, a, 2);
    cmp_figures(&s, &c, &r);
    CHECK(isnan(c) && isnan(r));
}

int main(void) {
    RUN_TEST(test_counts);
    RUN_TEST(test_bytes);
    RUN_TEST(test_compare);
    return CHECK_DONE();
}
