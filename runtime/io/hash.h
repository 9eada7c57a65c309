/* hash.h - a fast 64-bit content hash for provenance and `verify`.
 *
 * Eight multiply-accumulate lanes over 64-byte blocks, built from
 * operations SIMD units do four lanes at a time, finished with the
 * splitmix64 finaliser: well over 10 GB/s per core, so hashing every input
 * costs little next to reading it. Files are hashed through a read-only
 * mapping (no copy). It detects corruption and accidental change, not
 * tampering (it is not a cryptographic hash). */
#ifndef MERGELANG_HASH_H
#define MERGELANG_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/core/errbuf.h"

#define HASH64_LANES 8
#define HASH64_BLOCK 64

typedef struct Hash64 {
    uint64_t lane[HASH64_LANES];
    uint64_t total;            /* bytes fed */
    uint64_t n_blocks;         /* whole blocks accumulated */
    unsigned char tail[HASH64_BLOCK]; /* bytes of an incomplete block */
    size_t n_tail;
} Hash64;

void hash64_init(Hash64 *h);
void hash64_update(Hash64 *h, const void *data, size_t len);
uint64_t hash64_final(const Hash64 *h);
/* The hash of a whole buffer. */
uint64_t hash64(const void *data, size_t len);
/* The hash of a file's bytes; -1 and err on failure. */
int hash64_file(const char *path, uint64_t *out, uint64_t *bytes, ErrBuf *err);

#endif
