/* hfnames.h - what a Hugging Face tensor name says about its place in the
 * model: the transformer block it belongs to, and the natural order in which
 * tensors are written (embeddings, blocks 0..N in numeric order, final norm,
 * head). Architecture-agnostic: blocks are found as the first numeric path
 * component after "layers", "layer", "h", "blocks" or "block", which covers
 * the layer templates of mergekit's architecture descriptions (Llama-likes,
 * GPT-2, GPT-NeoX, BERT, T5, Falcon, Mamba, ChatGLM, vision towers, ...).
 *
 * A model may hold several stacks of blocks ("modules"): a vision tower
 * "vision_tower.vision_model.encoder.layers.N" beside a language model
 * "language_model.model.layers.N", or T5's encoder and decoder. A module is
 * named by its prefix: the name up to and including the block word and its
 * dot ("language_model.model.layers."). */
#ifndef MERGELANG_HFNAMES_H
#define MERGELANG_HFNAMES_H

#include <stddef.h>

/* Block index of a tensor name ("model.layers.12.mlp.up_proj.weight" -> 12),
 * or -1 for tensors outside the blocks (embeddings, final norm, head). */
long hfname_layer(const char *name);
/* The same, and the length of the module prefix in *prefix_len (0 when the
 * name is outside every block). */
long hfname_block(const char *name, size_t *prefix_len);
/* True when the first len bytes of a name (or a module prefix) belong to a
 * multimodal model's auxiliary part: a vision, audio or image tower or the
 * projector into the language model, not the language model itself. */
int hfname_is_aux(const char *name, size_t len);
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
