/* folder.h - one output folder of output_run: its layout (names in natural
 * order, dtypes, shards) and writer, created before any tensor is computed
 * (a temporary folder; --force allows replacing an existing one), and its
 * commit once every tensor is in: config.json, tokenizer files, README.md,
 * recipe.merge and provenance.json added, then renamed into place. */
#ifndef MERGELANG_OUTPUT_FOLDER_H
#define MERGELANG_OUTPUT_FOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interp/plan/plan.h"
#include "runtime/io/provenance.h"
#include "runtime/io/safetensors.h"

typedef struct FolderSave {
    const SaveRequest *req;
    const TensorSet *set;
    size_t *order;             /* write position -> index into set */
    StwSpec *specs;            /* by write position */
    StWriter *writer;          /* NULL once committed or abandoned */
    uint64_t bytes;            /* tensor data */
    char *config_json;         /* the rewritten config.json, made before any
                                * tensor is computed; NULL when none */
    size_t config_len;
} FolderSave;

/* The dtype save r writes tensor t in: its dtype= for float tensors, else
 * the tensor's own. */
DType folder_tensor_dtype(const SaveRequest *r, const TensorInfo *t);
/* Bytes of tensor data save r writes. */
uint64_t folder_bytes(const SaveRequest *r);

/* Fixes the layout of save r, rewrites its config.json (so a config that
 * cannot describe the output stops the run before any tensor is computed)
 * and creates its writer, with the provenance metadata (meta: key, value,
 * ..., NULL) in every shard's header. Returns 0, or -1 after reporting the
 * error. */
int folder_prepare(Plan *p, FolderSave *fs, const SaveRequest *r, const char *const *meta);
/* Adds the side files and commits (recipe: the recipe's text, or NULL).
 * The writer is consumed either way. Returns 0, or -1 after reporting. */
int folder_commit(Plan *p, FolderSave *fs, bool quiet, const ProvFile *inputs, size_t n_inputs, const char *recipe,
                  size_t recipe_len);
/* Abandons the writer if it is still open (its temporary folder is
 * removed) and frees the layout. */
void folder_free(FolderSave *fs);

#endif
