/* arena.c - bump allocator; see arena.h for why it exists.
 *
 * Blocks form a list; an allocation takes the first block with room, or a
 * new block (at least ARENA_BLOCK_MIN, or exactly the request when larger).
 * arena_reset rewinds every block instead of freeing it, so a worker that
 * computes tensor after tensor reuses the same memory: no page faults and
 * no kernel zeroing of fresh pages for each tensor. */
#include "runtime/core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 64u
#define ARENA_BLOCK_MIN (64u * 1024u)

struct ArenaBlock {
    ArenaBlock *next;
    size_t cap;
    size_t used;
    /* payload follows, aligned */
};

static size_t header_size(void) {
    return (sizeof(ArenaBlock) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

void arena_init(Arena *a) {
    a->head = NULL;
    a->bytes_in_use = 0;
}

static ArenaBlock *block_new(size_t cap) {
    size_t hs = header_size();
    if (cap > SIZE_MAX - hs) return NULL;
    void *mem = NULL;
    if (posix_memalign(&mem, ARENA_ALIGN, hs + cap) != 0) return NULL;
    ArenaBlock *b = mem;
    b->next = NULL;
    b->cap = cap;
    b->used = 0;
    return b;
}

void *arena_alloc_uninit(Arena *a, size_t size) {
    if (size == 0) size = 1;
    if (size > SIZE_MAX - ARENA_ALIGN) return NULL;
    size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    ArenaBlock *b = a->head;
    while (b && b->cap - b->used < need) b = b->next;
    if (!b) {
        b = block_new(need > ARENA_BLOCK_MIN ? need : ARENA_BLOCK_MIN);
        if (!b) return NULL;
        a->bytes_in_use += b->cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b + header_size() + b->used;
    b->used += need;
    return p;
}

void *arena_alloc(Arena *a, size_t size) {
    void *p = arena_alloc_uninit(a, size);
    if (p) memset(p, 0, size ? size : 1);
    return p;
}

void *arena_array(Arena *a, size_t n, size_t size) {
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    return arena_alloc(a, n * size);
}

void *arena_array_uninit(Arena *a, size_t n, size_t size) {
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    return arena_alloc_uninit(a, n * size);
}

char *arena_strndup(Arena *a, const char *s, size_t n) {
    char *p = arena_alloc_uninit(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(Arena *a, const char *s) {
    return arena_strndup(a, s, strlen(s));
}

void arena_reset(Arena *a) {
    for (ArenaBlock *b = a->head; b; b = b->next) b->used = 0;
}

void arena_free(Arena *a) {
    ArenaBlock *b = a->head;
    while (b) {
        ArenaBlock *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->bytes_in_use = 0;
}
