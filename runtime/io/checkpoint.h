/* checkpoint.h - a model checkpoint as the merge sees it: one safetensors
 * file, or a Hugging Face folder holding model.safetensors or
 * model.safetensors.index.json with its shards; failing those, a PyTorch
 * checkpoint (a .bin file, or a folder holding pytorch_model.bin or
 * pytorch_model.bin.index.json with its shards; runtime/io/torchbin.h),
 * whose shards are StFiles all the same.
 *
 * Opening reads headers only. The index is validated like a header (shard
 * names are plain file names inside the folder: no '/', no "..", no absolute
 * path; every weight_map entry names an existing shard and a tensor that the
 * shard really holds; a tensor listed twice is an error). */
#ifndef MERGELANG_CHECKPOINT_H
#define MERGELANG_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/core/errbuf.h"
#include "runtime/io/safetensors.h"

typedef struct CkptTensor {
    const char *name;      /* owned by the shard's StFile */
    DType dtype;
    Shape shape;
    const uint8_t *data;
    uint64_t nbytes;
    const StFile *file;    /* the shard holding it, for error messages */
} CkptTensor;

typedef struct Ckpt {
    char *path;            /* as given */
    char *dir;             /* folder of the checkpoint (where config.json lives) */
    size_t n_shards;
    StFile **shards;
    bool torch_shards;     /* shards were opened by tbin_open (closed by tbin_close) */
    size_t n_tensors;
    CkptTensor *tensors;   /* sorted by name (strcmp) */
} Ckpt;

/* path: a .safetensors or .bin file, or a folder as above. A folder with
 * both formats is read from its safetensors. */
Ckpt *ckpt_open(const char *path, ErrBuf *err);
void ckpt_close(Ckpt *c);
const CkptTensor *ckpt_find(const Ckpt *c, const char *name);
/* Decodes a computable tensor into dst (numel floats). */
void ckpt_read_f32(const CkptTensor *t, float *dst);

#endif
