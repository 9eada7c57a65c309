/* torchzip.h - the ZIP container of a torch.save file (torch >= 1.6), read
 * from a buffer (the mapped file) without copying any data.
 *
 * Only what torch writes is accepted: one disk, stored (uncompressed,
 * unencrypted) entries, ZIP64 fields where sizes or offsets need them. Every
 * offset and size, from the end-of-central-directory records to each local
 * header, is checked against the buffer before it is used; an entry's data
 * is handed out as an offset and a size that lie inside it. */
#ifndef MERGELANG_TORCHZIP_H
#define MERGELANG_TORCHZIP_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/core/errbuf.h"

/* Longest entry name accepted (torch's are "archive/data/123"). */
#define TZIP_MAX_NAME 1024
/* Most entries accepted: one per storage, plus a handful. */
#define TZIP_MAX_ENTRIES (1u << 20)

typedef struct TzipEntry {
    char *name;            /* NUL-terminated copy; never holds a NUL byte */
    uint64_t offset;       /* of the data within the buffer */
    uint64_t size;
} TzipEntry;

typedef struct TzipArchive {
    size_t n_entries;
    TzipEntry *entries;    /* sorted by name (strcmp); names are unique */
} TzipArchive;

/* Reads the central directory of buf[0, len). label names the file in
 * messages. On failure fills err and leaves *out empty. */
int tzip_read(const char *label, const uint8_t *buf, uint64_t len, TzipArchive *out, ErrBuf *err);
/* Binary search by exact name; NULL when absent. */
const TzipEntry *tzip_find(const TzipArchive *a, const char *name);
void tzip_free(TzipArchive *a);

#endif
