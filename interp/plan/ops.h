/* ops.h - the language's operators on plain values: numbers, strings,
 * booleans, none and tensors. The plan stage uses them to fold constants,
 * the exec stage on forced values, so both agree by construction. */
#ifndef MERGELANG_OPS_H
#define MERGELANG_OPS_H

#include <stddef.h>

#include "runtime/core/arena.h"
#include "interp/syntax/ast.h"
#include "interp/plan/value.h"

/* Applies op to x and y. New strings and tensors go into arena. On a type
 * error, division by zero or shape disagreement returns V_ERROR with a
 * message (no location) in err. and/or here are strict (both evaluated);
 * callers that want short-circuiting test the left side first. */
Value ops_binary(Arena *arena, AstOp op, Value x, Value y, char *err, size_t errlen);
/* OP_NEG or OP_NOT. */
Value ops_unary(Arena *arena, AstOp op, Value x, char *err, size_t errlen);

#endif
