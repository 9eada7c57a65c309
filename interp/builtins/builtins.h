/* builtins.h - the registry of built-in functions, in one place
 * (builtins.c), and the lookups the commands, the REPL, the model card and
 * the importer use. What a row holds: interp/plan/builtin_api.h. */
#ifndef MERGELANG_BUILTINS_H
#define MERGELANG_BUILTINS_H

#include "interp/plan/builtin_api.h"
#include "interp/plan/plan.h"
#include "interp/exec/exec.h"

/* The table every plan is started with: plan_init(p, diag, &builtin_table). */
extern const BuiltinTable builtin_table;

const Builtin *builtin_find(const char *name);
/* For `mergelang plan`: what align node n does to tensor `name` ("passes
 * through", "64 MLP units permuted", ...; may be written into buf), and in
 * *matching_bytes the memory computing its group's matching takes. */
const char *bi_align_note(const Node *n, const char *name, char *buf, size_t len, double *matching_bytes);
size_t builtin_count(void);
const Builtin *builtin_at(size_t i);
/* save()'s default shard size in bytes, from its registry row (also what
 * the REPL's :plan describes). */
uint64_t bi_save_default_shard_bytes(void);
/* "merge methods", "lists", ...: a kind's heading in `mergelang help builtins`. */
const char *builtin_kind_title(BuiltinKind kind);

#endif
