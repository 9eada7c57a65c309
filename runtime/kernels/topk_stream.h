/* topk_stream.h - the exact top-k cutoff of a tensor's magnitudes when the
 * tensor is seen in parts (row ranges), in memory that does not grow with
 * the tensor.
 *
 * It keeps the same entries as gta_trim_magnitude over the whole tensor:
 * every |d| above the cutoff, and of those equal to it the first ones by
 * index, k in all. Magnitudes are compared through their float bits (for
 * non-negative floats the order is the same). Usually three or four
 * passes: histograms of the bits narrow the cutoff to a bucket small enough
 * to collect, its entries are collected and the exact value picked, then
 * the caller applies it. Degenerate data (most entries equal) takes more histogram rounds and
 * a counting round instead of collecting. Parts are scanned in any order
 * and on any thread (distinct parts at once); results do not depend on it. */
#ifndef MERGELANG_TOPK_STREAM_H
#define MERGELANG_TOPK_STREAM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Histogram rounds count entries in this many buckets (small enough to stay
 * in the L1 cache); a collected band is at most TOPK_BAND values wide. */
#define TOPK_BUCKETS 4096
#define TOPK_BAND 65536
/* Largest bucket collected entry by entry (4 bytes each); bigger ones are
 * narrowed by another histogram round. */
#define TOPK_COLLECT_MAX ((uint64_t)1 << 22)

typedef enum TopkPhase { TOPK_HIST, TOPK_COLLECT, TOPK_COUNT, TOPK_DONE } TopkPhase;

typedef struct TopkPart {
    uint32_t *band;            /* COLLECT: magnitude bits inside the band, by index */
    size_t n_band;
    uint64_t above;            /* a guessed band's or a counting round: entries above */
    bool overflow;             /* a guessed band's round: too many to keep */
    uint64_t n_eq;             /* entries equal to the cutoff */
    uint64_t keep_eq;          /* DONE: how many of those it keeps */
} TopkPart;

typedef struct TopkStream {
    uint64_t k;                /* 0 < k < entries */
    TopkPhase phase;
    uint32_t lo, hi;           /* the band of bits still in question */
    int shift;                 /* HIST: bucket = (bits - lo) >> shift */
    uint64_t above;            /* entries with bits > hi (after a HIST round) */
    uint64_t round_above;      /* being counted this round */
    uint64_t *hist;            /* TOPK_BAND counters */
    uint32_t cutoff;           /* once known */
    bool guessed;              /* COLLECT on a guessed band: `above` unknown yet */
    bool keep_last;            /* of the entries equal to the cutoff, keep the last by index */
    size_t n_parts;
    TopkPart *parts;
    bool oom;
    pthread_mutex_t lock;      /* guards hist and round_above */
} TopkStream;

/* -1 when out of memory. */
int topk_init(TopkStream *t, uint64_t k, size_t n_parts);
/* Starts with a collecting round on the band [lo, hi] (magnitude bits), a
 * guess (from a similar tensor): when the cutoff lies inside it, one pass
 * finds it; when not, histogram rounds follow as without a guess. The
 * result is the same either way. */
void topk_guess(TopkStream *t, uint32_t lo, uint32_t hi);
void topk_free(TopkStream *t);
/* Of the entries equal to the cutoff, keep the last ones by index instead
 * of the first (the top of an ascending order that breaks ties by index,
 * as breadcrumbs ranks). Call before the first scan. */
void topk_keep_last(TopkStream *t);
/* Adds part p (m entries) for the current phase. scratch: at least
 * TOPK_SCRATCH and m uint32. */
#define TOPK_SCRATCH (2 * TOPK_BUCKETS)
void topk_scan(TopkStream *t, size_t p, const float *d, size_t m, uint32_t *scratch);
/* After every part was scanned this round: 1 the cutoff is known (phase
 * DONE), 0 another round is needed, -1 out of memory. */
int topk_close(TopkStream *t);
/* The collecting step on its own: stores, in index order, the magnitude
 * bits of d that lie in [lo, hi] into band (room for m), sets *above to how
 * many lie above hi, returns how many were stored. topk_collect uses AVX2
 * where the CPU has it; topk_collect_portable is the plain loop (for tests:
 * both must agree). */
size_t topk_collect(const float *d, size_t m, uint32_t lo, uint32_t hi, uint32_t *band, uint64_t *above);
size_t topk_collect_portable(const float *d, size_t m, uint32_t lo, uint32_t hi, uint32_t *band,
                             uint64_t *above);
/* DONE: zeroes the entries of part p (m entries) the top k does not keep. */
void topk_apply(const TopkStream *t, size_t p, float *d, size_t m);
/* DONE, both: zeroes the entries of part p that lo's top k does not keep
 * or that hi's top k keeps: what remains lies between the two cutoffs (a
 * NULL lo keeps everything, a NULL hi keeps nothing). */
void topk_keep_between(const TopkStream *lo, const TopkStream *hi, size_t p, float *d, size_t m);

#endif
