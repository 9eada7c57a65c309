/* hfnames.h - what a Hugging Face tensor name says about its place in the
 * model: the transformer block it belongs to, and the natural order in which
 * tensors are written (embeddings, blocks 0..N in numeric order, final norm,
 * head). Architecture-agnostic: blocks are found as a numeric path component
 * after "layers", "h", "blocks" or "layer". */
#ifndef MERGELANG_HFNAMES_H
#define MERGELANG_HFNAMES_H

#include <stddef.h>

/* Block index of a tensor name ("model.layers.12.mlp.up_proj.weight" -> 12),
 * or -1 for tensors outside the blocks (embeddings, final norm, head). */
long hfname_layer(const char *name);
/* Writes name with its block index replaced by `layer` into out. Returns -1
 * when name has no block index or out is too small. */
int hfname_set_layer(const char *name, long layer, char *out, size_t outlen);
/* True for tensors that sit before the blocks (embeddings). */
int hfname_is_embedding(const char *name);
/* True for the output head ("lm_head.weight", "output.weight", "embed_out"). */
int hfname_is_head(const char *name);
/* qsort-style comparison giving the natural write order. */
int hfname_cmp(const char *a, const char *b);

#endif
