/* plan_print.h - `mergelang plan`: each output tensor with the operation
 * that produces it, its inputs, dtype and bytes, and a peak-memory
 * estimate; reads no tensor data. */
#ifndef MERGELANG_PLAN_PRINT_H
#define MERGELANG_PLAN_PRINT_H

#include <stdio.h>

#include "interp/plan/plan.h"

/* Describes every save of a planned recipe to out; threads scales the
 * memory estimate. Returns 0, or -1 when out of memory. */
int plan_print(Plan *p, FILE *out, int threads);

#endif
