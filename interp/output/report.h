/* report.h - `mergelang plan`: each output tensor with the operation
 * that produces it, its inputs, dtype and bytes, and a peak-memory
 * estimate; reads no tensor data. */
#ifndef MERGELANG_REPORT_H
#define MERGELANG_REPORT_H

#include <stdio.h>

#include "interp/plan/plan.h"

/* Describes every save of a planned recipe to out; threads scales the
 * memory estimate. Returns 0, or -1 when out of memory. */
int report_plan(Plan *p, FILE *out, int threads);

struct cJSON;
/* The same as JSON, added to root: "outputs" (per save: path,
 * tensor_count, bytes, blocks, and tensors: name, shape, dtype, bytes,
 * operation, inputs, how `run` computes it, memory_bytes) and
 * "peak_memory". Returns 0, or -1 when out of memory (root may then be
 * incomplete). */
int report_plan_json(Plan *p, int threads, struct cJSON *root);

#endif
