/* arena.h - bump allocator for memory that dies together.
 *
 * The parser puts the whole AST in one arena; the evaluator gives each
 * output tensor its own arena and drops it once the tensor is written, which
 * is what keeps peak memory bounded by tensors in flight, not model size.
 * Allocation failure is reported by returning NULL (never abort): callers
 * turn it into a diagnostic. Not thread-safe: one arena per thread/task. */
#ifndef MERGELANG_ARENA_H
#define MERGELANG_ARENA_H

#include <stddef.h>

typedef struct ArenaBlock ArenaBlock;

typedef struct Arena {
    ArenaBlock *head;      /* current block, newest first */
    size_t bytes_in_use;   /* sum of block capacities, for memory accounting */
} Arena;

void arena_init(Arena *a);
/* Returns size bytes aligned to 64 (zeroed), or NULL when out of memory or
 * size overflows. Large requests get a block of their own. */
void *arena_alloc(Arena *a, size_t size);
/* Same, for n elements of size each, with overflow checked. */
void *arena_array(Arena *a, size_t n, size_t size);
/* Like arena_alloc and arena_array without zeroing, for buffers the caller
 * overwrites whole (tensor data). */
void *arena_alloc_uninit(Arena *a, size_t size);
void *arena_array_uninit(Arena *a, size_t n, size_t size);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_strdup(Arena *a, const char *s);
/* Forgets every allocation but keeps the blocks for reuse. */
void arena_reset(Arena *a);
/* Frees every block; the arena may be used again afterwards. */
void arena_free(Arena *a);

#endif
