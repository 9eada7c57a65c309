/* hash.h - a fast 64-bit content hash for provenance and `verify`.
 *
 * Four independent multiply-rotate lanes over 32-byte blocks, folded and
 * finished with the splitmix64 finaliser: several GB/s per core, so hashing
 * every input costs little next to reading it. It detects corruption and
 * accidental change, not tampering (it is not a cryptographic hash). */
#ifndef MERGELANG_HASH_H
#define MERGELANG_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"

typedef struct Hash64 {
    uint64_t lane[4];
    uint64_t total;            /* bytes fed */
    unsigned char tail[32];    /* bytes of an incomplete block */
    size_t n_tail;
} Hash64;

void hash64_init(Hash64 *h);
void hash64_update(Hash64 *h, const void *data, size_t len);
uint64_t hash64_final(const Hash64 *h);
/* The hash of a whole buffer. */
uint64_t hash64(const void *data, size_t len);
/* The hash of a file's bytes (read with read(2)); -1 and err on failure. */
int hash64_file(const char *path, uint64_t *out, uint64_t *bytes, ErrBuf *err);

#endif
