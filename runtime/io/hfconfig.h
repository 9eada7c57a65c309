/* hfconfig.h - the Hugging Face config.json that travels with a merged
 * checkpoint: read from a model folder, updated, serialised; and the
 * numbers built-ins read from it (align's head counts). cJSON stays inside
 * this module. */
#ifndef MERGELANG_HFCONFIG_H
#define MERGELANG_HFCONFIG_H

#include <stddef.h>

#include "runtime/core/errbuf.h"

/* Reads <model_dir>/config.json, updates it and returns the re-serialised
 * JSON (malloc'd, caller frees) in *out. Each setting is updated under
 * every spelling the config already uses, at the top level and in the
 * language model's nested config (text_config, language_config,
 * llm_config, text_model), and never added under a second spelling:
 * - torch_dtype (when not NULL): "torch_dtype" and "dtype"; "torch_dtype"
 *   is added when the config has neither;
 * - n_layers (when >= 0): "num_hidden_layers", "n_layer", "num_layers",
 *   "n_layers"; a config with none of them is an error (-1), since it
 *   could not say how deep the merged model is;
 * - vocab_size (when >= 0): "vocab_size", "n_vocab", "padded_vocab_size",
 *   only where present.
 * A vision or audio tower's config (vision_config, ...) is left alone.
 * Returns 1 with *out = NULL when the folder has no config.json. */
int hfconfig_rewrite(const char *model_dir, const char *torch_dtype, long n_layers, long vocab_size,
                     char **out, size_t *out_len, ErrBuf *err);

/* Reads the whole number <model_dir>/config.json has at the top-level key
 * `key` into *out. Returns 0 when found; 1 when there is no config.json or
 * it has no such key (a value that is not a whole number counts as absent
 * too, and *why says so); -1 when the file cannot be read or parsed, with
 * err set. */
int hfconfig_get_long(const char *model_dir, const char *key, long *out, const char **why, ErrBuf *err);

#endif
