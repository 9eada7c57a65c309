/* topk_stream.c - the streamed top-k cutoff; see topk_stream.h. */
#include "runtime/kernels/topk_stream.h"

#include <stdlib.h>
#include <string.h>

static uint32_t mag_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u & 0x7fffffffu;
}

/* The smallest shift that maps [lo, hi] into TOPK_BUCKETS buckets. */
static int shift_for(uint32_t lo, uint32_t hi) {
    int s = 0;
    while (((hi - lo) >> s) >= TOPK_BUCKETS) s++;
    return s;
}

int topk_init(TopkStream *t, uint64_t k, size_t n_parts) {
    memset(t, 0, sizeof *t);
    t->k = k;
    t->n_parts = n_parts;
    t->phase = TOPK_HIST;
    t->lo = 0;
    t->hi = 0x7f7fffffu;       /* the largest finite magnitude: inputs are finite */
    t->shift = shift_for(t->lo, t->hi);
    t->hist = calloc(TOPK_BAND, sizeof *t->hist);
    t->parts = calloc(n_parts ? n_parts : 1, sizeof *t->parts);
    pthread_mutex_init(&t->lock, NULL);
    if (!t->hist || !t->parts) {
        topk_free(t);
        return -1;
    }
    return 0;
}

void topk_guess(TopkStream *t, uint32_t lo, uint32_t hi) {
    if (lo > hi || hi > 0x7f7fffffu) return;
    t->lo = lo;
    t->hi = hi;
    t->phase = TOPK_COLLECT;
    t->guessed = true;
}

void topk_keep_last(TopkStream *t) { t->keep_last = true; }

void topk_free(TopkStream *t) {
    if (t->parts)
        for (size_t p = 0; p < t->n_parts; p++) free(t->parts[p].band);
    free(t->parts);
    free(t->hist);
    t->parts = NULL;
    t->hist = NULL;
    pthread_mutex_destroy(&t->lock);
}

/* Two interleaved histograms, so that runs of entries in one bucket do not
 * wait on each other's increments. Entries outside [lo, hi] land in an
 * overflow bucket or are counted above. */
static void scan_hist(TopkStream *t, const float *d, size_t m, uint32_t *local) {
    memset(local, 0, TOPK_SCRATCH * sizeof *local);
    uint32_t *h0 = local, *h1 = local + TOPK_BUCKETS;
    uint32_t lo = t->lo, hi = t->hi, width = hi - lo;
    int shift = t->shift;
    uint64_t above = 0;
    size_t j = 0;
    for (; j + 1 < m; j += 2) {
        uint32_t a = mag_bits(d[j]) - lo, b = mag_bits(d[j + 1]) - lo;
        /* Wrapped (below lo) or beyond hi: not in the band. */
        bool ina = a <= width, inb = b <= width;
        above += (!ina && mag_bits(d[j]) > hi) + (!inb && mag_bits(d[j + 1]) > hi);
        h0[ina ? a >> shift : TOPK_BUCKETS - 1] += ina;
        h1[inb ? b >> shift : TOPK_BUCKETS - 1] += inb;
    }
    for (; j < m; j++) {
        uint32_t a = mag_bits(d[j]) - lo;
        if (a <= width) h0[a >> shift]++;
        else if (mag_bits(d[j]) > hi) above++;
    }
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < TOPK_BUCKETS; i++) t->hist[i] += (uint64_t)h0[i] + h1[i];
    t->round_above += above;
    pthread_mutex_unlock(&t->lock);
}

/* Keeps, in index order, the magnitude bits of d that lie in [lo, hi] into
 * band (room for m), and counts those above hi. */
static size_t collect_portable(const float *d, size_t m, uint32_t lo, uint32_t hi, uint32_t *band,
                               uint64_t *above_out) {
    uint32_t width = hi - lo;
    size_t k = 0;
    uint64_t above = 0;
    /* Branch-free: every entry is stored at the end of the list and the
     * end moves only for those in the band (the band may hold a large
     * share of the entries, which a branch would mispredict). */
    for (size_t j = 0; j < m; j++) {
        uint32_t b = mag_bits(d[j]);
        band[k] = b;
        k += b - lo <= width;
        above += b > hi;
    }
    *above_out = above;
    return k;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* For each 8-bit mask, the positions of its set bits, lowest first: the
 * lanes a left-packing permutation takes. */
static uint64_t pack_lut[256];

static void pack_lut_init(void) {
    for (unsigned mask = 0; mask < 256; mask++) {
        uint64_t lanes = 0;
        unsigned at = 0;
        for (unsigned lane = 0; lane < 8; lane++)
            if (mask >> lane & 1) lanes |= (uint64_t)lane << (8 * at++);
        pack_lut[mask] = lanes;
    }
}

/* collect_portable, eight entries at a time: the in-band lanes are packed
 * to the front of a vector by a permutation from pack_lut and the whole
 * vector is stored (at most entry j + 7, inside the m entries: the end
 * never passes j); the end moves by the number packed. Magnitude bits and
 * hi are at most 0x7f7fffff (bands stay within the finite magnitudes), so
 * the signed compare that counts entries above hi is exact. */
__attribute__((target("avx2,popcnt"))) static size_t collect_avx2(const float *d, size_t m, uint32_t lo,
                                                                 uint32_t hi, uint32_t *band,
                                                                 uint64_t *above_out) {
    const __m256i mag = _mm256_set1_epi32(0x7fffffff), flip = _mm256_set1_epi32((int)0x80000000u);
    const __m256i vlo = _mm256_set1_epi32((int)lo), vhi = _mm256_set1_epi32((int)hi);
    /* unsigned (b - lo) > width, as a signed compare of sign-flipped values */
    const __m256i vwidth = _mm256_xor_si256(_mm256_set1_epi32((int)(hi - lo)), flip);
    size_t k = 0, j = 0;
    uint64_t above = 0;
    while (j + 8 <= m) {
        /* Lane counters of entries above the band, emptied before they could
         * wrap. */
        __m256i lanes_above = _mm256_setzero_si256();
        size_t stop = m - j > ((size_t)1 << 30) ? j + ((size_t)1 << 30) : m;
        for (; j + 8 <= stop; j += 8) {
            __m256i b = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(d + j)), mag);
            __m256i off = _mm256_xor_si256(_mm256_sub_epi32(b, vlo), flip);
            __m256i outside = _mm256_cmpgt_epi32(off, vwidth);
            lanes_above = _mm256_sub_epi32(lanes_above, _mm256_cmpgt_epi32(b, vhi));
            unsigned in = ~(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(outside)) & 0xffu;
            __m256i perm = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)&pack_lut[in]));
            _mm256_storeu_si256((__m256i *)(band + k), _mm256_permutevar8x32_epi32(b, perm));
            k += (size_t)__builtin_popcount(in);
        }
        uint32_t lane[8];
        _mm256_storeu_si256((__m256i *)lane, lanes_above);
        for (int i = 0; i < 8; i++) above += lane[i];
    }
    uint64_t tail_above;
    k += collect_portable(d + j, m - j, lo, hi, band + k, &tail_above);
    *above_out = above + tail_above;
    return k;
}

static size_t (*collect_impl)(const float *, size_t, uint32_t, uint32_t, uint32_t *, uint64_t *);

static void collect_choose(void) {
    pack_lut_init();
    __builtin_cpu_init();
    collect_impl = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") ? collect_avx2
                                                                                     : collect_portable;
}
#else
static size_t (*collect_impl)(const float *, size_t, uint32_t, uint32_t, uint32_t *, uint64_t *);
static void collect_choose(void) { collect_impl = collect_portable; }
#endif

static pthread_once_t collect_once = PTHREAD_ONCE_INIT;

size_t topk_collect(const float *d, size_t m, uint32_t lo, uint32_t hi, uint32_t *band, uint64_t *above) {
    pthread_once(&collect_once, collect_choose);
    return collect_impl(d, m, lo, hi, band, above);
}

size_t topk_collect_portable(const float *d, size_t m, uint32_t lo, uint32_t hi, uint32_t *band,
                             uint64_t *above) {
    return collect_portable(d, m, lo, hi, band, above);
}

static void scan_collect(TopkStream *t, TopkPart *part, const float *d, size_t m, uint32_t *scratch) {
    uint64_t above;
    size_t k = topk_collect(d, m, t->lo, t->hi, scratch, &above);
    if (t->guessed) {
        /* Keep no more than a fair share of TOPK_COLLECT_MAX (a wrong guess
         * then falls back); what lies above the band is counted too. */
        part->above = above;
        if (part->overflow || part->n_band + k > 4 * TOPK_COLLECT_MAX / (t->n_parts ? t->n_parts : 1) + m) {
            part->overflow = true;
            part->n_band += k;     /* counted, not kept */
            return;
        }
    }
    if (k == 0) return;
    uint32_t *band = realloc(part->band, (part->n_band + k) * sizeof *band);
    if (!band) {
        __atomic_store_n(&t->oom, true, __ATOMIC_RELAXED);
        return;
    }
    memcpy(band + part->n_band, scratch, k * sizeof *band);
    part->band = band;
    part->n_band += k;
}

void topk_scan(TopkStream *t, size_t p, const float *d, size_t m, uint32_t *scratch) {
    TopkPart *part = &t->parts[p];
    switch (t->phase) {
    case TOPK_HIST: scan_hist(t, d, m, scratch); break;
    case TOPK_COLLECT: scan_collect(t, part, d, m, scratch); break;
    case TOPK_COUNT: {
        uint64_t eq = 0, above = 0;
        for (size_t j = 0; j < m; j++) {
            uint32_t b = mag_bits(d[j]);
            eq += b == t->cutoff;
            above += b > t->cutoff;
        }
        part->n_eq = eq;
        part->above = above;
        break;
    }
    case TOPK_DONE: break;
    }
}

/* Shares out the entries equal to the cutoff: the first ones by index, so
 * parts in index order each keep what the earlier ones left (keep_last:
 * the last ones, parts in reverse order). */
static void finish(TopkStream *t, uint64_t keep_eq) {
    for (size_t q = 0; q < t->n_parts; q++) {
        TopkPart *part = &t->parts[t->keep_last ? t->n_parts - 1 - q : q];
        part->keep_eq = part->n_eq < keep_eq ? part->n_eq : keep_eq;
        keep_eq -= part->keep_eq;
        free(part->band);
        part->band = NULL;
        part->n_band = 0;
    }
    t->phase = TOPK_DONE;
}

/* The exact cutoff from the collected band (radix selection over the
 * collected values: their high bits, then the low bits inside the chosen
 * high bucket, at most TOPK_BAND counters each). */
static int close_collect(TopkStream *t) {
    uint64_t rank = t->k - t->above;
    int low_bits = 0;
    while (((uint64_t)(t->hi - t->lo) >> low_bits) >= TOPK_BAND) low_bits++;
    uint32_t low_mask = (uint32_t)(((uint64_t)1 << low_bits) - 1);
    uint64_t *count = t->hist;
    for (size_t p = 0; p < t->n_parts; p++)
        for (size_t j = 0; j < t->parts[p].n_band; j++) count[(t->parts[p].band[j] - t->lo) >> low_bits]++;
    uint64_t cum = 0;
    size_t hb = (size_t)((uint64_t)(t->hi - t->lo) >> low_bits) + 1;
    while (hb-- > 0) {
        if (cum + count[hb] >= rank) break;
        cum += count[hb];
    }
    memset(count, 0, TOPK_BAND * sizeof *count);
    size_t lb = 0;
    if (low_bits > 0) {
        for (size_t p = 0; p < t->n_parts; p++)
            for (size_t j = 0; j < t->parts[p].n_band; j++) {
                uint32_t v = t->parts[p].band[j] - t->lo;
                if ((v >> low_bits) == hb) count[v & low_mask]++;
            }
        lb = (size_t)low_mask + 1;
        while (lb-- > 0) {
            if (cum + count[lb] >= rank) break;
            cum += count[lb];
        }
        memset(count, 0, TOPK_BAND * sizeof *count);
    }
    t->cutoff = t->lo + (uint32_t)(((uint64_t)hb << low_bits) | lb);
    for (size_t p = 0; p < t->n_parts; p++) {
        uint64_t eq = 0;
        for (size_t j = 0; j < t->parts[p].n_band; j++) eq += t->parts[p].band[j] == t->cutoff;
        t->parts[p].n_eq = eq;
    }
    finish(t, rank - cum);
    return 1;
}

int topk_close(TopkStream *t) {
    if (t->oom) return -1;
    switch (t->phase) {
    case TOPK_HIST: {
        /* Only non-finite entries (allowed with allow_nonfinite) lie above
         * every bucket; if k of them or more do, the cutoff is infinity:
         * a counting round shares out the infinities (NaNs rank above). */
        if (t->round_above >= t->k) {
            t->lo = t->hi = t->cutoff = 0x7f800000u;
            t->phase = TOPK_COUNT;
            t->round_above = 0;
            memset(t->hist, 0, TOPK_BAND * sizeof *t->hist);
            return 0;
        }
        /* The bucket holding the k-th largest, counting down from the top. */
        uint64_t cum = t->round_above;
        size_t nb = ((size_t)(t->hi - t->lo) >> t->shift) + 1, j = nb;
        while (j-- > 0) {
            if (cum + t->hist[j] >= t->k) break;
            cum += t->hist[j];
        }
        uint64_t count = t->hist[j];
        uint32_t lo = t->lo + (uint32_t)(j << t->shift);
        uint32_t width_1 = (uint32_t)(((uint64_t)1 << t->shift) - 1);
        uint32_t hi = t->hi - lo < width_1 ? t->hi : lo + width_1;
        t->lo = lo;
        t->hi = hi;
        t->above = cum;
        t->round_above = 0;
        memset(t->hist, 0, TOPK_BAND * sizeof *t->hist);
        t->shift = shift_for(lo, hi);
        if (lo == hi) {
            t->cutoff = lo;
            t->phase = TOPK_COUNT;
        } else if (count <= TOPK_COLLECT_MAX) {
            t->phase = TOPK_COLLECT;
        }
        return 0;
    }
    case TOPK_COLLECT:
        if (t->guessed) {
            t->guessed = false;
            uint64_t above = 0, in_band = 0;
            bool overflow = false;
            for (size_t p = 0; p < t->n_parts; p++) {
                above += t->parts[p].above;
                in_band += t->parts[p].n_band;
                overflow = overflow || t->parts[p].overflow;
            }
            if (above < t->k && t->k <= above + in_band && !overflow) {
                t->above = above;
            } else {
                /* Missed (or too full): histogram rounds over the side of
                 * the band that holds the cutoff, or the band itself. */
                if (t->k <= above) {
                    t->lo = t->hi + 1;
                    t->hi = 0x7f7fffffu;
                } else if (t->k > above + in_band) {
                    t->hi = t->lo ? t->lo - 1 : 0;
                    t->lo = 0;
                }
                for (size_t p = 0; p < t->n_parts; p++) {
                    free(t->parts[p].band);
                    t->parts[p].band = NULL;
                    t->parts[p].n_band = 0;
                    t->parts[p].overflow = false;
                }
                t->shift = shift_for(t->lo, t->hi);
                t->phase = TOPK_HIST;
                return 0;
            }
        }
        return close_collect(t);
    case TOPK_COUNT: {
        /* What lies above the cutoff, counted in the same round (after
         * histogram rounds it is what they counted above their band). */
        uint64_t above = 0;
        for (size_t p = 0; p < t->n_parts; p++) above += t->parts[p].above;
        t->above = above;
        finish(t, t->k > above ? t->k - above : 0);
        return 1;
    }
    case TOPK_DONE: return 1;
    }
    return 1;
}

/* Whether the top k keeps each entry of a part, decided in index order. */
typedef struct Keeper {
    uint32_t cutoff;
    uint64_t skip, keep, seen;  /* of the entries equal to the cutoff: the
                                   first `skip` are not kept, the next `keep` are */
} Keeper;

static Keeper keeper(const TopkStream *t, size_t p) {
    uint64_t n_eq = t->parts[p].n_eq, keep_eq = t->parts[p].keep_eq;
    return (Keeper){ .cutoff = t->cutoff, .skip = t->keep_last ? n_eq - keep_eq : 0, .keep = keep_eq };
}

static inline bool keeps(Keeper *k, uint32_t b) {
    if (b != k->cutoff) return b > k->cutoff;
    bool kept = k->seen >= k->skip && k->seen < k->skip + k->keep;
    k->seen++;
    return kept;
}

void topk_apply(const TopkStream *t, size_t p, float *d, size_t m) {
    uint64_t keep_eq = t->parts[p].keep_eq;
    if (keep_eq == 0 || keep_eq == t->parts[p].n_eq) {
        /* No tie to share out in this part: a select the compiler vectorises. */
        uint32_t lowest_kept = keep_eq ? t->cutoff : t->cutoff + 1;
        for (size_t j = 0; j < m; j++) d[j] = mag_bits(d[j]) >= lowest_kept ? d[j] : 0.0f;
        return;
    }
    Keeper k = keeper(t, p);
    for (size_t j = 0; j < m; j++)
        if (!keeps(&k, mag_bits(d[j]))) d[j] = 0.0f;
}

void topk_keep_between(const TopkStream *lo, const TopkStream *hi, size_t p, float *d, size_t m) {
    Keeper kl = lo ? keeper(lo, p) : (Keeper){ 0 }, kh = hi ? keeper(hi, p) : (Keeper){ 0 };
    for (size_t j = 0; j < m; j++) {
        uint32_t b = mag_bits(d[j]);
        /* Both decisions from the entry's own magnitude, each with its own
         * count of ties. */
        bool in_lo = lo ? keeps(&kl, b) : true, in_hi = hi ? keeps(&kh, b) : false;
        if (!in_lo || in_hi) d[j] = 0.0f;
    }
}
