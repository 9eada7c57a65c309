/* check.h - the unit-test harness: TEST functions made of CHECKs, counted
 * per test. Each test binary prints "ok NAME" or "FAIL NAME" lines with the
 * failing condition and its location, then "P passed, F failed" and exits
 * non-zero when anything failed. tests/run.sh adds up those lines. */
#ifndef MERGELANG_CHECK_H
#define MERGELANG_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_test_failed;
static int check_n_passed, check_n_failed;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            printf("  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);\
            check_test_failed = 1;                                           \
        }                                                                    \
    } while (0)

#define CHECK_STR(got, want)                                                  \
    do {                                                                      \
        const char *g_ = (got), *w_ = (want);                                 \
        if (!g_ || strcmp(g_, w_) != 0) {                                     \
            printf("  %s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__,  \
                   g_ ? g_ : "(null)", w_);                                   \
            check_test_failed = 1;                                            \
        }                                                                     \
    } while (0)

#define CHECK_NEAR(got, want, tol)                                            \
    do {                                                                      \
        double g_ = (got), w_ = (want);                                       \
        if (!(fabs(g_ - w_) <= (tol))) {                                      \
            printf("  %s:%d: got %.9g, want %.9g (tol %g)\n", __FILE__,       \
                   __LINE__, g_, w_, (double)(tol));                          \
            check_test_failed = 1;                                            \
        }                                                                     \
    } while (0)

#define RUN_TEST(fn)                                                          \
    do {                                                                      \
        check_test_failed = 0;                                                \
        fn();                                                                 \
        if (check_test_failed) { check_n_failed++; printf("FAIL %s\n", #fn); }\
        else { check_n_passed++; printf("ok %s\n", #fn); }                    \
    } while (0)

#define CHECK_DONE()                                                          \
    (printf("%d passed, %d failed\n", check_n_passed, check_n_failed),        \
     check_n_failed ? 1 : 0)

#endif
