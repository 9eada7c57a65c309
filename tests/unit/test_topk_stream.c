/* test_topk_stream.c - the streamed top-k cutoff keeps exactly the entries
 * gta_trim_magnitude keeps on the whole tensor, for any split into parts:
 * random data, heavy ties, all-equal data (the counting path), a bucket too
 * big to collect (a second histogram round) and the extremes of k. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels/gta.h"
#include "runtime/kernels/topk_stream.h"
#include "tests/unit/check.h"

static uint64_t rng_state = 1;
static double urand(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Streams d (n entries) in parts of at most `part` entries and checks the
 * kept set against the whole-tensor trim. Returns the rounds it took. */
static int check_stream_guess(const float *d, size_t n, uint64_t k, size_t part, float glo, float ghi) {
    size_t n_parts = (n + part - 1) / part;
    TopkStream t;
    CHECK(topk_init(&t, k, n_parts) == 0);
    if (glo >= 0) {
        uint32_t lo, hi;
        memcpy(&lo, &glo, sizeof lo);
        memcpy(&hi, &ghi, sizeof hi);
        topk_guess(&t, lo, hi);
    }
    uint32_t *scratch = malloc((part > TOPK_SCRATCH ? part : TOPK_SCRATCH) * sizeof *scratch);
    int rounds = 0, r = 0;
    while (r == 0 && rounds < 12) {
        /* Parts in reverse order: the result must not depend on it. */
        for (size_t p = n_parts; p-- > 0;)
            topk_scan(&t, p, d + p * part, p + 1 < n_parts ? part : n - p * part, scratch);
        r = topk_close(&t);
        rounds++;
    }
    CHECK(r == 1);
    float *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want), *s = malloc(n * sizeof *s);
    memcpy(got, d, n * sizeof *got);
    memcpy(want, d, n * sizeof *want);
    for (size_t p = 0; p < n_parts; p++) topk_apply(&t, p, got + p * part, p + 1 < n_parts ? part : n - p * part);
    gta_trim_magnitude(want, n, n, false, (double)k / (double)n + 1e-12, s);
    size_t differ = 0;
    for (size_t j = 0; j < n; j++) {
        differ += memcmp(&got[j], &want[j], sizeof got[j]) != 0;
    }
    CHECK(differ == 0);
    free(got);
    free(want);
    free(s);
    free(scratch);
    topk_free(&t);
    return rounds;
}

static int check_stream(const float *d, size_t n, uint64_t k, size_t part) {
    return check_stream_guess(d, n, k, part, -1, -1);
}

static void test_random_data_any_split(void) {
    size_t n = 20000;
    float *d = malloc(n * sizeof *d);
    for (size_t j = 0; j < n; j++) d[j] = (float)((urand() - 0.5) * 0.01);
    const uint64_t ks[] = { 1, 2, 9999, 10000, 19999 };
    const size_t parts[] = { 1, 7, 1000, 20000 };
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 4; b++) check_stream(d, n, ks[a], parts[b]);
    free(d);
}

static void test_ties_shared_by_index(void) {
    /* Few distinct magnitudes, both signs: the cutoff value has many
     * entries, of which only the first ones by index are kept. */
    size_t n = 5000;
    float *d = malloc(n * sizeof *d);
    for (size_t j = 0; j < n; j++) d[j] = (float)((int)(urand() * 7) - 3) * 0.25f;
    for (uint64_t k = 1; k < n; k += 613) check_stream(d, n, k, 333);
    free(d);
}

static void test_all_equal_counts_instead_of_collecting(void) {
    /* More equal entries than TOPK_COLLECT_MAX: histogram rounds narrow the
     * band to one value, then a counting round shares out the ties. */
    size_t n = (size_t)TOPK_COLLECT_MAX + 1000;
    float *d = malloc(n * sizeof *d);
    for (size_t j = 0; j < n; j++) d[j] = j % 2 ? 0.5f : -0.5f;
    d[17] = 2.0f;
    int rounds = check_stream(d, n, n / 2, 1 << 16);
    CHECK(rounds >= 3);
    free(d);
}

static void test_big_bucket_takes_another_round(void) {
    /* Entries spread over a narrow range of magnitudes: the first bucket
     * is too big to collect, so a second histogram narrows it. */
    size_t n = (size_t)TOPK_COLLECT_MAX + 4096;
    float *d = malloc(n * sizeof *d);
    for (size_t j = 0; j < n; j++) d[j] = 1.0f + (float)(j % 4096) * (1.0f / 65536.0f);
    int rounds = check_stream(d, n, 12345, 1 << 16);
    CHECK(rounds >= 3);
    free(d);
}

/* A guessed band: a hit takes one round; a band above or below the cutoff,
 * or one too full to keep, falls back to histograms; all keep the same. */
static void test_guessed_band(void) {
    size_t n = 30000;
    float *d = malloc(n * sizeof *d);
    for (size_t j = 0; j < n; j++) d[j] = (float)((urand() - 0.5) * 2.0);   /* |d| uniform in [0, 1) */
    uint64_t k = 9000;   /* cutoff near 0.7 */
    CHECK(check_stream_guess(d, n, k, 1000, 0.65f, 0.75f) == 1);
    CHECK(check_stream_guess(d, n, k, 1000, 0.8f, 0.9f) >= 2);
    CHECK(check_stream_guess(d, n, k, 1000, 0.1f, 0.2f) >= 2);
    /* a band holding everything: still one round when it can be kept */
    CHECK(check_stream_guess(d, n, k, 7, 0.0f, 1.0f) == 1);
    for (size_t j = 0; j < n; j++) d[j] = j % 3 ? 0.25f : -0.25f;
    check_stream_guess(d, n, 1234, 500, 0.25f, 0.25f);
    check_stream_guess(d, n, 1234, 500, 0.3f, 0.4f);
    free(d);
}

/* keep_last: of the entries equal to the cutoff the last ones by index are
 * kept (the top k of an ascending order that breaks ties by index), and
 * topk_keep_between(NULL, t) zeroes exactly what topk_apply keeps; checked
 * against a
 * sort, on data with many ties, for several k and splits, with the parts
 * scanned in reverse order. */
static const float *order_d;
static int ascending_stable(const void *a, const void *b) {
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    float x = fabsf(order_d[i]), y = fabsf(order_d[j]);
    if (x != y) return x < y ? -1 : 1;
    return i < j ? -1 : i > j;
}

static void test_keep_last_and_zero_kept(void) {
    size_t n = 3000;
    float *d = malloc(n * sizeof *d), *kept = malloc(n * sizeof *d), *dropped = malloc(n * sizeof *d);
    bool *want = malloc(n * sizeof *want);
    size_t *idx = malloc(n * sizeof *idx);
    for (size_t j = 0; j < n; j++) d[j] = (float)((int)(urand() * 9) - 4) * 0.125f;
    for (size_t j = 0; j < n; j++) idx[j] = j;
    order_d = d;
    qsort(idx, n, sizeof *idx, ascending_stable);
    const size_t splits[] = { 1, 100, 7, 3000 };
    size_t wrong = 0;
    for (uint64_t k = 1; k < n; k += 277)
        for (size_t s = 0; s < 4; s++) {
            size_t part = splits[s], n_parts = (n + part - 1) / part;
            TopkStream t;
            CHECK(topk_init(&t, k, n_parts) == 0);
            topk_keep_last(&t);
            uint32_t *scratch = malloc((part > TOPK_SCRATCH ? part : TOPK_SCRATCH) * sizeof *scratch);
            int r = 0, rounds = 0;
            while (r == 0 && rounds++ < 12) {
                for (size_t p = n_parts; p-- > 0;)
                    topk_scan(&t, p, d + p * part, p + 1 < n_parts ? part : n - p * part, scratch);
                r = topk_close(&t);
            }
            CHECK(r == 1);
            memcpy(kept, d, n * sizeof *d);
            memcpy(dropped, d, n * sizeof *d);
            for (size_t p = 0; p < n_parts; p++) {
                size_t m = p + 1 < n_parts ? part : n - p * part;
                topk_apply(&t, p, kept + p * part, m);
                topk_keep_between(NULL, &t, p, dropped + p * part, m);
            }
            for (size_t j = 0; j < n; j++) want[j] = false;
            for (size_t r2 = n - k; r2 < n; r2++) want[idx[r2]] = true;
            for (size_t j = 0; j < n; j++) {
                float w_kept = want[j] ? d[j] : 0.0f, w_dropped = want[j] ? 0.0f : d[j];
                wrong += memcmp(&kept[j], &w_kept, sizeof w_kept) != 0;
                wrong += memcmp(&dropped[j], &w_dropped, sizeof w_dropped) != 0;
            }
            free(scratch);
            topk_free(&t);
        }
    CHECK(wrong == 0);
    free(d);
    free(kept);
    free(dropped);
    free(want);
    free(idx);
}

/* Streams d (n entries, parts of `part`) to the top-k cutoff, keep_last. */
static void stream_to_cutoff(TopkStream *t, const float *d, size_t n, size_t part, uint64_t k) {
    size_t n_parts = (n + part - 1) / part;
    CHECK(topk_init(t, k, n_parts) == 0);
    topk_keep_last(t);
    uint32_t *scratch = malloc((part > TOPK_SCRATCH ? part : TOPK_SCRATCH) * sizeof *scratch);
    int r = 0, rounds = 0;
    while (r == 0 && rounds++ < 12) {
        for (size_t p = 0; p < n_parts; p++)
            topk_scan(t, p, d + p * part, p + 1 < n_parts ? part : n - p * part, scratch);
        r = topk_close(t);
    }
    CHECK(r == 1);
    free(scratch);
}

/* What breadcrumbs keeps: the entries whose rank in the ascending order
 * (ties by index) lies in [start, end), as the top n - start minus the top
 * n - end, both keep_last. */
static void test_keep_between_ranks(void) {
    size_t n = 2000, part = 64, n_parts = (n + part - 1) / part;
    float *d = malloc(n * sizeof *d), *got = malloc(n * sizeof *got);
    size_t *idx = malloc(n * sizeof *idx);
    for (size_t j = 0; j < n; j++) d[j] = (float)((int)(urand() * 11) - 5) * 0.5f;
    for (size_t j = 0; j < n; j++) idx[j] = j;
    order_d = d;
    qsort(idx, n, sizeof *idx, ascending_stable);
    const size_t ranges[][2] = { { 100, 1900 }, { 0, 1500 }, { 700, 2000 }, { 999, 1000 }, { 1, 1999 } };
    size_t wrong = 0;
    for (size_t r = 0; r < 5; r++) {
        size_t start = ranges[r][0], end = ranges[r][1];
        TopkStream lo, hi;
        if (start > 0) stream_to_cutoff(&lo, d, n, part, n - start);
        if (end < n) stream_to_cutoff(&hi, d, n, part, n - end);
        memcpy(got, d, n * sizeof *d);
        for (size_t p = 0; p < n_parts; p++)
            topk_keep_between(start > 0 ? &lo : NULL, end < n ? &hi : NULL, p, got + p * part,
                              p + 1 < n_parts ? part : n - p * part);
        for (size_t q = 0; q < n; q++) {
            size_t j = idx[q];
            float want = q >= start && q < end ? d[j] : 0.0f;
            wrong += memcmp(&got[j], &want, sizeof want) != 0;
        }
        if (start > 0) topk_free(&lo);
        if (end < n) topk_free(&hi);
    }
    CHECK(wrong == 0);
    free(d);
    free(got);
    free(idx);
}

/* Infinities (allowed with allow_nonfinite) at or above the cutoff: the
 * streamed trim keeps what the whole-tensor trim keeps, for k below, at
 * and above their number, and so does the streamed breadcrumbs. */
static void test_infinities_at_the_cutoff(void) {
    size_t n = 2000, part = 128, n_parts = (n + part - 1) / part;
    float *d = malloc(n * sizeof *d), *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
    float *scratch_f = malloc(n * sizeof *scratch_f);
    uint32_t *scratch_i = malloc(n * sizeof *scratch_i);
    for (size_t j = 0; j < n; j++) d[j] = (float)((urand() - 0.5) * 2.0);
    size_t n_inf = 0;
    for (size_t j = 5; j < n; j += 97, n_inf++) d[j] = j % 2 ? INFINITY : -INFINITY;
    size_t wrong = 0;
    const uint64_t ks[] = { 1, 7, n_inf - 1, n_inf, n_inf + 1, 500 };
    for (size_t a = 0; a < 6; a++) {
        TopkStream t;
        CHECK(topk_init(&t, ks[a], n_parts) == 0);
        uint32_t *scratch = malloc(TOPK_SCRATCH * sizeof *scratch);
        int r = 0, rounds = 0;
        while (r == 0 && rounds++ < 12) {
            for (size_t p = 0; p < n_parts; p++)
                topk_scan(&t, p, d + p * part, p + 1 < n_parts ? part : n - p * part, scratch);
            r = topk_close(&t);
        }
        CHECK(r == 1);
        memcpy(got, d, n * sizeof *d);
        memcpy(want, d, n * sizeof *d);
        for (size_t p = 0; p < n_parts; p++) topk_apply(&t, p, got + p * part, p + 1 < n_parts ? part : n - p * part);
        gta_trim_magnitude(want, n, n, false, (double)ks[a] / (double)n + 1e-12, scratch_f);
        wrong += memcmp(got, want, n * sizeof *d) != 0;
        free(scratch);
        topk_free(&t);
    }
    /* breadcrumbs: the upper cutoff among the infinities */
    const double gammas[] = { 0.002, (double)n_inf / (double)n, 0.05 };
    for (size_t gi = 0; gi < 3; gi++) {
        size_t start, end;
        gta_outlier_range(n, 0.9, gammas[gi], &start, &end);
        TopkStream lo, hi;
        if (start > 0) stream_to_cutoff(&lo, d, n, part, n - start);
        if (end < n) stream_to_cutoff(&hi, d, n, part, n - end);
        memcpy(got, d, n * sizeof *d);
        memcpy(want, d, n * sizeof *d);
        for (size_t p = 0; p < n_parts; p++)
            topk_keep_between(start > 0 ? &lo : NULL, end < n ? &hi : NULL, p, got + p * part,
                              p + 1 < n_parts ? part : n - p * part);
        gta_trim_outliers(want, n, 0.9, gammas[gi], scratch_f, scratch_i);
        wrong += memcmp(got, want, n * sizeof *d) != 0;
        if (start > 0) topk_free(&lo);
        if (end < n) topk_free(&hi);
    }
    CHECK(wrong == 0);
    free(d);
    free(got);
    free(want);
    free(scratch_f);
    free(scratch_i);
}

/* The vector collecting loop keeps the same entries, in the same order, and
 * counts the same number above the band as the plain loop: every length
 * around the vector width, bands that take nothing, everything, or a part,
 * and negative zeros, which collect as +0. */
static void test_collect_matches_portable(void) {
    enum { N = 1000 };
    float d[N];
    for (size_t j = 0; j < N; j++) d[j] = (float)(urand() * 2 - 1);
    d[3] = -0.0f;
    d[4] = 0.0f;
    static uint32_t got[N + 8], want[N];
    const float bands[][2] = { { 0.25f, 0.5f }, { 0.0f, 0.0f }, { 0.0f, 3.0f }, { 2.0f, 3.0f }, { 0.999f, 1.0f } };
    size_t differ = 0;
    for (size_t b = 0; b < sizeof bands / sizeof bands[0]; b++) {
        uint32_t lo, hi;
        memcpy(&lo, &bands[b][0], sizeof lo);
        memcpy(&hi, &bands[b][1], sizeof hi);
        for (size_t m = 0; m <= 40; m++)
            for (size_t off = 0; off < 3; off++) {
                size_t len = m == 40 ? N - off : m;
                uint64_t a_got = 7, a_want = 9;
                /* The band has room for len entries only: nothing past them
                 * may be written. */
                for (size_t g = 0; g < 8; g++) got[len + g] = 0xdeadbeefu;
                size_t k_got = topk_collect(d + off, len, lo, hi, got, &a_got);
                for (size_t g = 0; g < 8; g++) differ += got[len + g] != 0xdeadbeefu;
                size_t k_want = topk_collect_portable(d + off, len, lo, hi, want, &a_want);
                differ += k_got != k_want || a_got != a_want || memcmp(got, want, k_want * sizeof *got) != 0;
            }
    }
    CHECK(differ == 0);
    /* The bands above were not all trivial. */
    uint32_t lo = 0x3e800000u, hi = 0x3f000000u; /* [0.25, 0.5] */
    uint64_t above;
    size_t k = topk_collect(d, N, lo, hi, got, &above);
    CHECK(k > 100 && k < 400 && above > 300 && above < 700);
}

int main(void) {
    RUN_TEST(test_random_data_any_split);
    RUN_TEST(test_ties_shared_by_index);
    RUN_TEST(test_all_equal_counts_instead_of_collecting);
    RUN_TEST(test_big_bucket_takes_another_round);
    RUN_TEST(test_guessed_band);
    RUN_TEST(test_collect_matches_portable);
    RUN_TEST(test_keep_last_and_zero_kept);
    RUN_TEST(test_keep_between_ranks);
    RUN_TEST(test_infinities_at_the_cutoff);
    return CHECK_DONE();
}
