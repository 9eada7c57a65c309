/* provenance.h - provenance.json beside a merged checkpoint: the recipe's
 * hash, each input file's path, size and content hash, and each output
 * shard's size and content hash (hash.h); and `mergelang verify`, which
 * checks a folder against it. cJSON stays inside this module. */
#ifndef MERGELANG_PROVENANCE_H
#define MERGELANG_PROVENANCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/core/errbuf.h"

/* The content hash provenance.json names (runtime/io/hash.h); -v2 since the
 * 8-lane version: folders written before it cannot be verified by this one. */
#define PROV_HASH_NAME "mergelang-hash64-v2"

typedef struct ProvFile {
    const char *path;          /* as recorded: input paths as given, shard names */
    uint64_t bytes;
    uint64_t hash;
} ProvFile;

/* The JSON text (malloc'd) or NULL when out of memory. */
char *prov_json(uint64_t recipe_hash, const ProvFile *inputs, size_t n_inputs, const ProvFile *shards,
                size_t n_shards);
/* Checks every shard listed in dir/provenance.json (size and hash), that the
 * folder opens as a checkpoint (headers, index, weight_map), and that the
 * shards on disk are the ones listed. Prints one line per check to report;
 * returns 0 when all hold, 1 when something differs, -1 with err when the
 * folder cannot be checked at all. */
int prov_verify(const char *dir, FILE *report, ErrBuf *err);

#endif
