/* lora.h - the configuration of a PEFT LoRA adapter folder
 * (adapter_config.json), for the lora() built-in. cJSON stays inside. */
#ifndef MERGELANG_LORA_H
#define MERGELANG_LORA_H

#include <stdbool.h>

#include "runtime/core/errbuf.h"

typedef struct LoraConfig {
    long r;                    /* rank, > 0 */
    double alpha;              /* lora_alpha (default: r) */
    bool use_rslora;           /* scaling alpha / sqrt(r) instead of alpha / r */
    bool fan_in_fan_out;       /* the base stores weights transposed (GPT-2 Conv1D) */
} LoraConfig;

/* Reads and validates <dir>/adapter_config.json. */
int lora_read_config(const char *dir, LoraConfig *out, ErrBuf *err);

#endif
