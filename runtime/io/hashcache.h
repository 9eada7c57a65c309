/* hashcache.h - content hashes of input files remembered between runs, so
 * that merging the same checkpoints again does not read them all once more
 * just to hash them for provenance.
 *
 * An entry is keyed by what the file system changes whenever a file's
 * content changes: device, inode, size, and the modification and
 * status-change times to the nanosecond (the status-change time cannot be
 * set back by a user). A file changed too recently for its times to be
 * trusted (HASHCACHE_SETTLE_SECONDS before it was looked at) is hashed and
 * not remembered, as git does with its index; so are files on FAT, exFAT
 * and FUSE file systems, whose status-change times do not follow writes. The cache is a text file rewritten whole (to a
 * temporary, then renamed); it names the hash it holds, and a cache of
 * another hash kind is ignored. Only the input hashes provenance records
 * come from it; `verify` reads every file it checks. */
#ifndef MERGELANG_HASHCACHE_H
#define MERGELANG_HASHCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define HASHCACHE_SETTLE_SECONDS 2
/* Entries kept; the least recently used go first. */
#define HASHCACHE_MAX_ENTRIES 4096

typedef struct HashCache HashCache;

/* The cache file: $MERGELANG_CACHE_DIR/input-hashes, else under
 * $XDG_CACHE_HOME/mergelang or $HOME/.cache/mergelang. False (no caching)
 * when MERGELANG_CACHE_DIR is set but empty, or no folder can be named. */
bool hashcache_default_path(char *buf, size_t len);
/* Loads the cache at path (missing or unreadable: empty). kind names the
 * hash (e.g. "mergelang-hash64-v2"). NULL only when out of memory. */
HashCache *hashcache_open(const char *path, const char *kind);
/* The remembered hash of a file whose stat is st. */
bool hashcache_get(HashCache *c, const struct stat *st, uint64_t *hash);
/* Whether the file system holding path changes a file's status-change
 * time on every write (not FAT, exFAT or FUSE): only such files may be
 * remembered. */
bool hashcache_trusts(const char *path);
/* Remembers a hash computed from a file whose stat, taken before hashing,
 * is st (ignored when the file changed too recently: now is the current
 * time in seconds). */
void hashcache_put(HashCache *c, const char *path, const struct stat *st, uint64_t hash, int64_t now);
/* Writes the cache back if it changed (best effort: a cache that cannot
 * be written only costs time next run); creates the folder. */
void hashcache_save(HashCache *c);
void hashcache_close(HashCache *c);

#endif
