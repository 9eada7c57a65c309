/* hfconfig.h - the Hugging Face config.json that travels with a merged
 * checkpoint: read from a model folder, updated, serialised. cJSON stays
 * inside this module. */
#ifndef MERGELANG_HFCONFIG_H
#define MERGELANG_HFCONFIG_H

#include <stddef.h>

#include "errbuf.h"

/* Reads <model_dir>/config.json, sets "torch_dtype" to torch_dtype (when not
 * NULL), "num_hidden_layers" to n_layers (when >= 0) and an existing
 * "vocab_size" to vocab_size (when >= 0), and returns the
 * re-serialised JSON (malloc'd, caller frees) in *out. Returns 1 with
 * *out = NULL when the folder has no config.json. */
int hfconfig_rewrite(const char *model_dir, const char *torch_dtype, long n_layers, long vocab_size,
                     char **out, size_t *out_len, ErrBuf *err);

#endif
