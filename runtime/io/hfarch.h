/* hfarch.h - what a model's config.json says about its architecture: the
 * values two models must share to be merged tensor by tensor (mergekit's
 * --allow-crimes check) and whether its head is tied to its embedding. A
 * reader of its own, beside hfconfig.c's rewriting. */
#ifndef MERGELANG_HFARCH_H
#define MERGELANG_HFARCH_H

#include "runtime/core/errbuf.h"

typedef struct HfArch {
    char architectures[160];   /* "architectures" joined with ", "; "" when absent */
    char model_type[64];       /* "" when absent */
    long hidden_size;          /* hidden_size, else text_config.hidden_size; -1 when absent */
    int tie_word_embeddings;   /* 1, 0, or -1 when absent */
} HfArch;

/* Reads <model_dir>/config.json into *out. Returns 0; 1 when there is no
 * config.json (*out unset); -1 when it cannot be read or is not a JSON
 * object, with err naming the file. Values of another type than expected
 * count as absent; over-long strings are cut (they still compare). */
int hfarch_read(const char *model_dir, HfArch *out, ErrBuf *err);

#endif
