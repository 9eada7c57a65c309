/* exec_stats.h - the statistics of streaming built-ins for one tensor
 * computed in row ranges (see BuiltinStream in builtins.h): one state per
 * graph node, created by the first row range that reaches the node, shared
 * by every thread working on the tensor. */
#ifndef MERGELANG_EXEC_STATS_H
#define MERGELANG_EXEC_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interp/exec/exec.h"

/* Values one tensor's statistics leave for similar tensors of the same run
 * (a top-k cutoff as the first guess for the next layer's), under keys the
 * built-in chooses. A hint may only save work: results never depend on it. */
typedef struct ExecHints ExecHints;
ExecHints *exec_hints_new(void);
void exec_hints_free(ExecHints *h);
bool exec_hints_get(ExecHints *h, uint64_t key, uint32_t *value);
void exec_hints_put(ExecHints *h, uint64_t key, uint32_t value);

/* hints: shared by every tensor of the run (may be NULL). */
ExecStats *exec_stats_new(int n_nodes, size_t n_parts, ExecHints *hints);
ExecHints *exec_stats_hints(const Exec *x);
void exec_stats_free(ExecStats *s);
/* A statistics pass reaching streaming node n: scans row range x->part
 * into the node's state (created on first use) unless it is complete, and
 * returns the built-in's stand-in value. */
Value exec_stats_scan(Exec *x, const Node *n, Value *args);
/* The node's finished statistics in the result pass; NULL when the tensor
 * is not streamed (the built-in then works on the whole tensor). */
void *exec_stats_of(const Exec *x, const Node *n);
/* Ends round r once every row range has been scanned: 1 every state is
 * complete, 0 another round is needed, -1 a built-in failed (message in
 * msg, its node's span in *at). */
int exec_stats_close_round(ExecStats *s, int round, char *msg, size_t msg_len, SrcSpan *at);

#endif
