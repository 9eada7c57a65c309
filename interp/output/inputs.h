/* inputs.h - the provenance of a run's inputs: every input file's size and
 * content hash (through the hash cache), and the metadata naming them and
 * the recipe that goes into the header of every shard written. */
#ifndef MERGELANG_OUTPUT_INPUTS_H
#define MERGELANG_OUTPUT_INPUTS_H

#include <signal.h>
#include <stddef.h>

#include "interp/plan/plan.h"
#include "runtime/io/provenance.h"

/* Every shard of every checkpoint the plan opened, with its size and hash:
 * hashes the cache remembers are taken from it, the other files are hashed
 * on `threads` threads (stopping early when *cancel is set) and
 * remembered. Files that cannot be read are left out (they fail later,
 * with a better message). Returns a malloc'd array of *n files (NULL when
 * out of memory). */
ProvFile *inputs_hash(Plan *p, int threads, const volatile sig_atomic_t *cancel, size_t *n);

/* The shard-header metadata: producer, the recipe's hash and the inputs'
 * hashes (JSON). kv is the NULL-terminated key, value list to hand to the
 * writers; it points into the struct. */
typedef struct InputsMeta {
    char recipe_hex[17];
    char *inputs_json;
    const char *kv[7];
} InputsMeta;

void inputs_meta(InputsMeta *m, const ProvFile *inputs, size_t n_inputs, const char *recipe, size_t recipe_len);
void inputs_meta_free(InputsMeta *m);

#endif
