/* tensor_checks.h - errors a recipe makes for some tensors only, found
 * before any tensor data is read.
 *
 * The plan stage checks what holds for a whole model; a per-tensor value
 * (a condition on `layer`, a weight computed from `name`) can still fail
 * for one tensor, e.g. `layer < 2` on the embeddings, where `layer` is
 * none. For every tensor of every save this evaluates what needs no data,
 * following `if` only where its condition is known without data, and
 * reports the first failure of each save as the merge would, so that
 * `check`, `plan` and `run` refuse the recipe up front. */
#ifndef MERGELANG_TENSOR_CHECKS_H
#define MERGELANG_TENSOR_CHECKS_H

#include "interp/plan/plan.h"

/* The number of errors reported (to p->diag); 0 when every tensor passes. */
int tensor_checks_run(Plan *p);

#endif
