/* hash.c - the content hash; see hash.h.
 *
 * Eight 64-bit lanes take one 8-byte word each per 64-byte block: the word
 * is mixed with a per-lane key, its two 32-bit halves multiplied (a 32x32 ->
 * 64-bit product, which SSE2 and AVX2 do four lanes at a time) and added to
 * the lane together with the word itself. Every 16 blocks the lanes are
 * scrambled (xorshift and an odd multiply) so that a change cannot be
 * cancelled by a change 1 KB later. The final value folds the lanes, the
 * byte count and the tail through the splitmix64 finaliser. */
#include "runtime/io/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/core/simd.h"

#define STRIPE_BLOCKS 16

static const uint64_t lane_key[HASH64_LANES] = {
    0x243f6a8885a308d3ull, 0x13198a2e03707344ull, 0xa4093822299f31d0ull, 0x082efa98ec4e6c89ull,
    0x452821e638d01377ull, 0xbe5466cf34e90c6cull, 0xc0ac29b7c97c50ddull, 0x3f84d5b5b5470917ull,
};

static uint64_t finish(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void scramble(uint64_t *lane) {
    for (int i = 0; i < HASH64_LANES; i++) lane[i] = (lane[i] ^ (lane[i] >> 47)) * 0x9e3779b97f4a7c15ull;
}

/* Accumulates n whole blocks of p into lane (no scrambling). */
SIMD_CLONES
static void accumulate(uint64_t *restrict lane, const unsigned char *restrict p, size_t n) {
    for (size_t b = 0; b < n; b++, p += HASH64_BLOCK) {
        for (int i = 0; i < HASH64_LANES; i++) {
            uint64_t x;
            memcpy(&x, p + 8 * i, 8);
            uint64_t k = x ^ lane_key[i];
            lane[i] += (k & 0xffffffffull) * (k >> 32) + x;
        }
    }
}

/* Whole blocks, scrambling after every STRIPE_BLOCKS of the stream. */
static void blocks(Hash64 *h, const unsigned char *p, size_t n) {
    while (n > 0) {
        size_t room = STRIPE_BLOCKS - h->n_blocks % STRIPE_BLOCKS;
        size_t take = n < room ? n : room;
        accumulate(h->lane, p, take);
        h->n_blocks += take;
        if (h->n_blocks % STRIPE_BLOCKS == 0) scramble(h->lane);
        p += take * HASH64_BLOCK;
        n -= take;
    }
}

void hash64_init(Hash64 *h) {
    memset(h, 0, sizeof *h);
    for (int i = 0; i < HASH64_LANES; i++) h->lane[i] = lane_key[(i + 3) % HASH64_LANES];
}

void hash64_update(Hash64 *h, const void *data, size_t len) {
    const unsigned char *p = data;
    h->total += len;
    if (h->n_tail) {
        size_t take = HASH64_BLOCK - h->n_tail < len ? HASH64_BLOCK - h->n_tail : len;
        memcpy(h->tail + h->n_tail, p, take);
        h->n_tail += take;
        p += take;
        len -= take;
        if (h->n_tail < HASH64_BLOCK) return;
        blocks(h, h->tail, 1);
        h->n_tail = 0;
    }
    blocks(h, p, len / HASH64_BLOCK);
    p += len / HASH64_BLOCK * HASH64_BLOCK;
    len %= HASH64_BLOCK;
    memcpy(h->tail, p, len);
    h->n_tail = len;
}

uint64_t hash64_final(const Hash64 *h) {
    uint64_t acc = finish(h->total * 0x9e3779b97f4a7c15ull);
    for (int i = 0; i < HASH64_LANES; i++) acc = finish(acc ^ h->lane[i]);
    for (size_t i = 0; i < h->n_tail; i++) acc = finish(acc ^ ((uint64_t)h->tail[i] << (8 * (i % 8))));
    return finish(acc);
}

uint64_t hash64(const void *data, size_t len) {
    Hash64 h;
    hash64_init(&h);
    hash64_update(&h, data, len);
    return hash64_final(&h);
}

/* Reads with read(2) where the file cannot be mapped (a pipe, say). */
static int hash_by_reading(int fd, const char *path, Hash64 *h, ErrBuf *err) {
    size_t cap = 4u << 20;
    unsigned char *buf = malloc(cap);
    if (!buf) return errbuf_set(err, "%s: out of memory", path);
    ssize_t n;
    while ((n = read(fd, buf, cap)) > 0) hash64_update(h, buf, (size_t)n);
    int e = errno;
    free(buf);
    if (n < 0) return errbuf_set(err, "%s: cannot read: %s", path, strerror(e));
    return 0;
}

int hash64_file(const char *path, uint64_t *out, uint64_t *bytes, ErrBuf *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errbuf_set(err, "%s: cannot open: %s", path, strerror(errno));
    Hash64 h;
    hash64_init(&h);
    struct stat st;
    int rc = 0;
    void *map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
        /* Hashing the page cache in place saves copying every byte; the
         * pages are dropped from this process in slices as it goes. */
        madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
        const size_t slice = (size_t)64 << 20;
        for (size_t off = 0; off < (size_t)st.st_size; off += slice) {
            size_t len = (size_t)st.st_size - off < slice ? (size_t)st.st_size - off : slice;
            hash64_update(&h, (const unsigned char *)map + off, len);
            madvise((unsigned char *)map + off, len, MADV_DONTNEED);
        }
        munmap(map, (size_t)st.st_size);
    } else {
        rc = hash_by_reading(fd, path, &h, err);
    }
    close(fd);
    if (rc != 0) return rc;
    *out = hash64_final(&h);
    *bytes = h.total;
    return 0;
}
