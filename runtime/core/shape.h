/* shape.h - tensor shapes: rank, dimensions, element counts with overflow
 * checks. Shared by the safetensors reader, the writer and the evaluator. */
#ifndef MERGELANG_SHAPE_H
#define MERGELANG_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHAPE_MAX_RANK 8

typedef struct Shape {
    int rank;                       /* 0 = scalar */
    int64_t dims[SHAPE_MAX_RANK];
} Shape;

/* Element count, or -1 when it does not fit in int64 (or a dim is negative). */
int64_t shape_numel(const Shape *s);
bool shape_equal(const Shape *a, const Shape *b);
/* Writes "[4096, 14336]" into buf (always NUL-terminated); returns buf. */
char *shape_format(const Shape *s, char *buf, size_t n);

#endif
