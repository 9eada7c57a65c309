/* cmd_util.h - small pieces shared by the checkpoint subcommands (inspect,
 * diff): number formatting for people, and the natural tensor order. */
#ifndef MERGELANG_CMD_UTIL_H
#define MERGELANG_CMD_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/io/checkpoint.h"

/* "29,760": n with thousands separators, into buf; returns buf. */
char *cmd_count_text(uint64_t n, char *buf, size_t len);
/* "119.0 kB": decimal units, one decimal; returns buf. */
char *cmd_bytes_text(uint64_t n, char *buf, size_t len);
/* The tensors of c in natural write order (embeddings, blocks 0..N, final
 * norm, head): a malloc'd array of c->n_tensors pointers into c->tensors,
 * or NULL when out of memory. The caller frees the array. */
const CkptTensor **cmd_natural_order(const Ckpt *c);
/* The last path component of path (the shard file name). */
const char *cmd_base_name(const char *path);

#endif
