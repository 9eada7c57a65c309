/* arena.c - bump allocator; see arena.h for why it exists. */
#include "arena.h"

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

void *arena_alloc(Arena *a, size_t size) {
    if (size == 0) size = 1;
    if (size > SIZE_MAX - ARENA_ALIGN) return NULL;
    size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    ArenaBlock *b = a->head;
    if (!b || b->cap - b->used < need) {
        if (need >= ARENA_BLOCK_MIN / 2) {
            /* Big request: its own block, linked behind the current one so the
             * current block keeps serving small requests. */
            ArenaBlock *big = block_new(need);
            if (!big) return NULL;
            big->used = need;
            a->bytes_in_use += need;
            if (b) {
                big->next = b->next;
                b->next = big;
            } else {
                a->head = big;
            }
            void *p = (char *)big + header_size();
            memset(p, 0, size);
            return p;
        }
        b = block_new(ARENA_BLOCK_MIN);
        if (!b) return NULL;
        a->bytes_in_use += ARENA_BLOCK_MIN;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b + header_size() + b->used;
    b->used += need;
    memset(p, 0, size);
    return p;
}

void *arena_array(Arena *a, size_t n, size_t size) {
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    return arena_alloc(a, n * size);
}

char *arena_strndup(Arena *a, const char *s, size_t n) {
    char *p = arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(Arena *a, const char *s) {
    return arena_strndup(a, s, strlen(s));
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
