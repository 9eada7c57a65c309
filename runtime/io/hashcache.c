/* hashcache.c - input hashes remembered between runs; see hashcache.h. */
#include "runtime/io/hashcache.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

typedef struct CacheEntry {
    uint64_t hash, dev, ino, used;
    int64_t size, mtime_s, mtime_ns, ctime_s, ctime_ns;
    char *path;                /* for a reader of the file; not part of the key */
} CacheEntry;

struct HashCache {
    char *path, *kind;
    CacheEntry *items;
    size_t n, cap;
    uint64_t clock;            /* last use stamp handed out */
    bool changed;
};

bool hashcache_default_path(char *buf, size_t len) {
    const char *dir = getenv("MERGELANG_CACHE_DIR");
    int n;
    if (dir) {
        if (!*dir) return false;
        n = snprintf(buf, len, "%s/input-hashes", dir);
    } else if ((dir = getenv("XDG_CACHE_HOME")) && *dir == '/') {
        n = snprintf(buf, len, "%s/mergelang/input-hashes", dir);
    } else if ((dir = getenv("HOME")) && *dir) {
        n = snprintf(buf, len, "%s/.cache/mergelang/input-hashes", dir);
    } else {
        return false;
    }
    return n > 0 && (size_t)n < len;
}

static const char HEADER[] = "mergelang input hashes 1";

static CacheEntry *add(HashCache *c) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        CacheEntry *m = realloc(c->items, cap * sizeof *m);
        if (!m) return NULL;
        c->items = m;
        c->cap = cap;
    }
    CacheEntry *e = &c->items[c->n++];
    memset(e, 0, sizeof *e);
    return e;
}

static void load(HashCache *c) {
    FILE *f = fopen(c->path, "r");
    if (!f) return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    bool first = true;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        if (first) {
            /* Another format or hash kind: start afresh. */
            char want[256];
            snprintf(want, sizeof want, "%s %s", HEADER, c->kind);
            first = false;
            if (strcmp(line, want) != 0) break;
            continue;
        }
        CacheEntry e = { 0 };
        int at = 0;
        unsigned long long hash, dev, ino;
        long long size, ms, mns, cs, cns;
        if (sscanf(line, "%16llx %lld %llu %llu %lld.%lld %lld.%lld %n", &hash, &size, &dev, &ino, &ms, &mns, &cs,
                   &cns, &at) != 8 || at == 0)
            continue;
        e.hash = hash;
        e.size = size;
        e.dev = dev;
        e.ino = ino;
        e.mtime_s = ms;
        e.mtime_ns = mns;
        e.ctime_s = cs;
        e.ctime_ns = cns;
        e.used = ++c->clock;
        CacheEntry *slot = add(c);
        if (!slot) break;
        *slot = e;
        slot->path = strdup(line + at);
    }
    free(line);
    fclose(f);
}

HashCache *hashcache_open(const char *path, const char *kind) {
    HashCache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->path = strdup(path);
    c->kind = strdup(kind);
    if (!c->path || !c->kind) {
        hashcache_close(c);
        return NULL;
    }
    load(c);
    return c;
}

static bool same_file(const CacheEntry *e, const struct stat *st) {
    return e->dev == (uint64_t)st->st_dev && e->ino == (uint64_t)st->st_ino && e->size == (int64_t)st->st_size &&
           e->mtime_s == (int64_t)st->st_mtim.tv_sec && e->mtime_ns == (int64_t)st->st_mtim.tv_nsec &&
           e->ctime_s == (int64_t)st->st_ctim.tv_sec && e->ctime_ns == (int64_t)st->st_ctim.tv_nsec;
}

static CacheEntry *find(HashCache *c, const struct stat *st) {
    for (size_t i = 0; i < c->n; i++)
        if (same_file(&c->items[i], st)) return &c->items[i];
    return NULL;
}

bool hashcache_get(HashCache *c, const struct stat *st, uint64_t *hash) {
    CacheEntry *e = c ? find(c, st) : NULL;
    if (!e) return false;
    *hash = e->hash;
    e->used = ++c->clock;
    c->changed = true;         /* its place in the order moved */
    return true;
}

/* File systems whose status-change time is not one a write always moves
 * (FAT and exFAT keep a creation time there; FUSE file systems vary). */
bool hashcache_trusts(const char *path) {
    struct statfs fs;
    if (statfs(path, &fs) != 0) return false;
    switch ((unsigned long)fs.f_type) {
    case 0x4d44:               /* FAT */
    case 0x2011bab0:           /* exFAT */
    case 0x65735546:           /* FUSE */
        return false;
    default:
        return true;
    }
}

void hashcache_put(HashCache *c, const char *path, const struct stat *st, uint64_t hash, int64_t now) {
    if (!c || strchr(path, '\n')) return;
    if (now - (int64_t)st->st_mtim.tv_sec < HASHCACHE_SETTLE_SECONDS ||
        now - (int64_t)st->st_ctim.tv_sec < HASHCACHE_SETTLE_SECONDS)
        return;
    char *p = strdup(path);
    CacheEntry *e = p ? find(c, st) : NULL;
    if (!e && p) e = add(c);
    if (!e) {
        free(p);
        return;
    }
    free(e->path);
    *e = (CacheEntry){ .hash = hash, .dev = (uint64_t)st->st_dev, .ino = (uint64_t)st->st_ino,
                       .used = ++c->clock, .size = (int64_t)st->st_size, .mtime_s = (int64_t)st->st_mtim.tv_sec,
                       .mtime_ns = (int64_t)st->st_mtim.tv_nsec, .ctime_s = (int64_t)st->st_ctim.tv_sec,
                       .ctime_ns = (int64_t)st->st_ctim.tv_nsec, .path = p };
    c->changed = true;
}

/* mkdir -p of the folder holding path. */
static void make_parents(const char *path) {
    char *dir = strdup(path);
    if (!dir) return;
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; *p; p++)
            if (*p == '/') {
                *p = '\0';
                mkdir(dir, 0755);
                *p = '/';
            }
        mkdir(dir, 0755);
    }
    free(dir);
}

static int by_use(const void *a, const void *b) {
    uint64_t x = ((const CacheEntry *)a)->used, y = ((const CacheEntry *)b)->used;
    return x < y ? -1 : x > y;
}

void hashcache_save(HashCache *c) {
    if (!c || !c->changed) return;
    make_parents(c->path);
    /* Oldest first; only the most recently used HASHCACHE_MAX_ENTRIES. */
    qsort(c->items, c->n, sizeof *c->items, by_use);
    size_t from = c->n > HASHCACHE_MAX_ENTRIES ? c->n - HASHCACHE_MAX_ENTRIES : 0;
    size_t len = strlen(c->path) + 32;
    char *tmp = malloc(len);
    if (!tmp) return;
    snprintf(tmp, len, "%s.%ld.tmp", c->path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(tmp);
        return;
    }
    fprintf(f, "%s %s\n", HEADER, c->kind);
    for (size_t i = from; i < c->n; i++) {
        const CacheEntry *e = &c->items[i];
        fprintf(f, "%016" PRIx64 " %" PRId64 " %" PRIu64 " %" PRIu64 " %" PRId64 ".%09" PRId64 " %" PRId64
                   ".%09" PRId64 " %s\n",
                e->hash, e->size, e->dev, e->ino, e->mtime_s, e->mtime_ns, e->ctime_s, e->ctime_ns,
                e->path ? e->path : "");
    }
    bool ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, c->path) != 0) unlink(tmp);
    else c->changed = false;
    free(tmp);
}

void hashcache_close(HashCache *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) free(c->items[i].path);
    free(c->items);
    free(c->path);
    free(c->kind);
    free(c);
}
