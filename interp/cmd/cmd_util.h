/* cmd_util.h - small pieces shared by the checkpoint subcommands (inspect,
 * diff): the natural tensor order and base names. Numbers for people come
 * from runtime/core/units.h. */
#ifndef MERGELANG_CMD_UTIL_H
#define MERGELANG_CMD_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/core/units.h"
#include "runtime/io/checkpoint.h"

/* The tensors of c in natural write order (embeddings, blocks 0..N, final
 * norm, head): a malloc'd array of c->n_tensors pointers into c->tensors,
 * or NULL when out of memory. The caller frees the array. */
const CkptTensor **cmd_natural_order(const Ckpt *c);
/* The last path component of path (the shard file name). */
const char *cmd_base_name(const char *path);

#endif
