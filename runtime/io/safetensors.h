/* safetensors.h - reading and writing single safetensors files.
 *
 * Security stance: a checkpoint may come from a stranger. st_open validates
 * everything before any pointer into the file is handed out: the 8-byte
 * header length is within the file, the header parses as a JSON object
 * (cJSON_ParseWithLength; cJSON never leaves this module), every tensor has a
 * known dtype, a shape of non-negative integers whose element count does not
 * overflow, data_offsets [begin, end) inside the data section, dtype x shape
 * = end - begin, no two tensors overlap, no duplicate names, no name longer
 * than ST_MAX_NAME. Any violation is an error naming the file and the
 * tensor; nothing crashes or hangs.
 *
 * The file is memory-mapped read-only; tensor data pointers point into the
 * mapping and stay valid until st_close. cJSON's error pointer is global, so
 * open files on one thread. */
#ifndef MERGELANG_SAFETENSORS_H
#define MERGELANG_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/core/dtype.h"
#include "runtime/core/errbuf.h"
#include "runtime/core/shape.h"

/* Longest tensor name accepted, in bytes (real ones are under 100): a
 * longer one is refused, so that every message quoting names fits. */
#define ST_MAX_NAME 256

typedef struct StTensor {
    char *name;
    DType dtype;
    Shape shape;
    const uint8_t *data;   /* into the mapping; may be unaligned */
    uint64_t nbytes;
} StTensor;

typedef struct StFile {
    char *path;
    const uint8_t *map;    /* whole file, PROT_READ */
    size_t map_size;
    bool mapped;           /* map is a file mapping (st_open), not a borrowed buffer: its
                              pages may be released with madvise(MADV_DONTNEED) */
    int fd;                /* the open file (st_open), for st_read_bytes; else -1 */
    size_t n_tensors;
    StTensor *tensors;     /* sorted by name (strcmp) */
    size_t n_metadata;     /* "__metadata__" string pairs, in file order */
    char **metadata_keys;
    char **metadata_values;
} StFile;

/* Opens, maps and validates path. Returns NULL and fills err on failure. */
StFile *st_open(const char *path, ErrBuf *err);
/* Validates an in-memory image (same checks as st_open); the StFile borrows
 * buf, which must outlive it. For tests and fuzzing. */
/* Copies len bytes of f starting at `at` (a pointer into f->map) to dst:
 * with pread from the open file when there is one, so that reading tensor
 * data neither faults the mapping in nor leaves it resident; -1 when the
 * file cannot be read (errno set). */
int st_read_bytes(const StFile *f, const uint8_t *at, size_t len, void *dst);
StFile *st_open_memory(const char *label, const uint8_t *buf, size_t len, ErrBuf *err);
void st_close(StFile *f);
/* Binary search by exact name; NULL when absent. */
const StTensor *st_find(const StFile *f, const char *name);

/* ---- writing -------------------------------------------------------------
 * A writer produces one checkpoint folder: one or more shard files, the
 * index when there is more than one shard, and any extra files. Every shape
 * and dtype is known up front, so the layout (which tensor goes to which
 * shard at which offset) and every header are fixed at creation; tensor data
 * is then written with pwrite at its offset, in any order, from any thread.
 * Everything goes into a temporary folder beside the target
 * ("<parent>/.<name>.tmp-<pid>-<n>") that is renamed onto the target only by
 * stw_commit, so an interrupted or failed run leaves nothing that looks done. */

typedef struct StwSpec {
    const char *name;
    DType dtype;
    Shape shape;
} StwSpec;

typedef struct StWriter StWriter;

/* Plans shards of at most shard_bytes of tensor data each (a tensor larger
 * than that gets a shard of its own), creates the temporary folder and the
 * shard files with their headers, sized to their final length. Tensors are
 * laid out in the order given. meta_kv is a NULL-terminated list of
 * key, value, key, value... strings added to "__metadata__" after
 * "format": "pt". Fails if target exists and is not an empty folder, unless
 * overwrite is set. */
StWriter *stw_create(const char *target_dir, const StwSpec *specs, size_t n,
                     uint64_t shard_bytes, const char *const *meta_kv,
                     bool overwrite, ErrBuf *err);
size_t stw_shard_count(const StWriter *w);
/* Shard k's file name in the folder ("model-00001-of-00002.safetensors"). */
const char *stw_shard_name(const StWriter *w, size_t k);
/* The temporary folder being written (until stw_commit renames it). */
const char *stw_tmp_dir(const StWriter *w);
/* Writes tensor i's bytes (already in its dtype, exactly its byte size).
 * Safe to call concurrently for different i. */
int stw_write(StWriter *w, size_t i, const void *bytes, ErrBuf *err);
/* Writes len bytes of tensor i at byte `offset` within the tensor, for
 * tensors computed in parts; the tensor counts as written once disjoint
 * parts cover it. Safe to call concurrently. */
int stw_write_part(StWriter *w, size_t i, uint64_t offset, const void *bytes, size_t len, ErrBuf *err);
/* The content hash (runtime/io/hash.h) and size of shard k as written so far:
 * kept up to date while tensor bytes arrive in file order, else computed by
 * reading the file. Call after the last write. */
int stw_shard_hash(StWriter *w, size_t k, uint64_t *hash, uint64_t *bytes, ErrBuf *err);
/* Writes an extra file (e.g. config.json) into the folder. */
int stw_add_file(StWriter *w, const char *relname, const void *data, size_t len, ErrBuf *err);
/* Checks every tensor was written, fsyncs, writes model.safetensors.index.json
 * when there are several shards (metadata.total_size, weight_map), and renames
 * the folder onto the target (replacing an existing one when overwrite was
 * set). Frees w whether it succeeds or not; on failure the temporary folder
 * is removed. */
int stw_commit(StWriter *w, ErrBuf *err);
/* Removes the temporary folder and frees w. */
void stw_abort(StWriter *w);

/* Parses "5GB", "500MB", "2G", "1.5GB", "4GiB", "123" (bytes). K/M/G/T and
 * KB/MB/GB/TB are decimal (as mergekit), KiB/MiB/GiB/TiB binary. */
int stw_parse_size(const char *s, uint64_t *out);

#endif
