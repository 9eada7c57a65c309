/* hash.c - the content hash; see hash.h. */
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define K1 0x9e3779b97f4a7c15ull
#define K2 0xd6e8feb86659fd93ull

static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t finish(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t word(const unsigned char *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static void block(Hash64 *h, const unsigned char *p) {
    for (int i = 0; i < 4; i++) h->lane[i] = rotl(h->lane[i] + word(p + 8 * i) * K2, 29) * K1;
}

void hash64_init(Hash64 *h) {
    memset(h, 0, sizeof *h);
    for (int i = 0; i < 4; i++) h->lane[i] = K1 * (uint64_t)(i + 1);
}

void hash64_update(Hash64 *h, const void *data, size_t len) {
    const unsigned char *p = data;
    h->total += len;
    if (h->n_tail) {
        size_t take = 32 - h->n_tail < len ? 32 - h->n_tail : len;
        memcpy(h->tail + h->n_tail, p, take);
        h->n_tail += take;
        p += take;
        len -= take;
        if (h->n_tail < 32) return;
        block(h, h->tail);
        h->n_tail = 0;
    }
    for (; len >= 32; p += 32, len -= 32) block(h, p);
    memcpy(h->tail, p, len);
    h->n_tail = len;
}

uint64_t hash64_final(const Hash64 *h) {
    uint64_t acc = h->total * K1;
    for (int i = 0; i < 4; i++) acc = finish(acc ^ h->lane[i]);
    for (size_t i = 0; i < h->n_tail; i++) acc = finish(acc ^ ((uint64_t)h->tail[i] << (8 * (i % 8))));
    return finish(acc);
}

uint64_t hash64(const void *data, size_t len) {
    Hash64 h;
    hash64_init(&h);
    hash64_update(&h, data, len);
    return hash64_final(&h);
}

int hash64_file(const char *path, uint64_t *out, uint64_t *bytes, ErrBuf *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errbuf_set(err, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4u << 20;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return errbuf_set(err, "%s: out of memory", path);
    }
    Hash64 h;
    hash64_init(&h);
    ssize_t n;
    while ((n = read(fd, buf, cap)) > 0) hash64_update(&h, buf, (size_t)n);
    int e = errno;
    free(buf);
    close(fd);
    if (n < 0) return errbuf_set(err, "%s: cannot read: %s", path, strerror(e));
    *out = hash64_final(&h);
    *bytes = h.total;
    return 0;
}
