/* torchzip.c - reading the central directory of a torch.save ZIP archive;
 * see torchzip.h.
 *
 * The layout (PKWARE APPNOTE 6.3): local headers with their data, then the
 * central directory (one record per entry), then the end-of-central-
 * directory record (EOCD), possibly preceded by a ZIP64 EOCD record and its
 * locator when counts, sizes or offsets do not fit in 16/32 bits. The
 * central directory is the authority (local headers may carry other extra
 * fields, e.g. torch's 64-byte alignment padding), but each entry's local
 * header is read too, since the data starts after its name and extra field. */
#include "runtime/io/torchzip.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define EOCD_SIG 0x06054b50u
#define EOCD_SIZE 22u
#define ZIP64_LOCATOR_SIG 0x07064b50u
#define ZIP64_LOCATOR_SIZE 20u
#define ZIP64_EOCD_SIG 0x06064b50u
#define ZIP64_EOCD_SIZE 56u
#define CENTRAL_SIG 0x02014b50u
#define CENTRAL_SIZE 46u
#define LOCAL_SIG 0x04034b50u
#define LOCAL_SIZE 30u
#define ZIP64_EXTRA_ID 0x0001u
#define MAX_COMMENT 65535u

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

void tzip_free(TzipArchive *a) {
    if (!a) return;
    for (size_t i = 0; i < a->n_entries; i++) free(a->entries[i].name);
    free(a->entries);
    a->entries = NULL;
    a->n_entries = 0;
}

const TzipEntry *tzip_find(const TzipArchive *a, const char *name) {
    size_t lo = 0, hi = a->n_entries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(a->entries[mid].name, name);
        if (r == 0) return &a->entries[mid];
        if (r < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const TzipEntry *)a)->name, ((const TzipEntry *)b)->name);
}

/* Where the central directory is and how many records it holds, from the
 * EOCD (and the ZIP64 records when the EOCD says they are needed). */
typedef struct Directory {
    uint64_t offset, size, count;
    uint64_t end;          /* where the directory must end: the first EOCD record */
} Directory;

static int find_directory(const char *label, const uint8_t *buf, uint64_t len, Directory *d, ErrBuf *err) {
    if (len < EOCD_SIZE) return errbuf_set(err, "%s: not a ZIP archive (%llu bytes is too short)", label, (unsigned long long)len);
    /* The EOCD is the last record; only its comment (at most 64 KiB) follows
     * it, and the comment must reach exactly to the end of the file. */
    uint64_t lowest = len - EOCD_SIZE > MAX_COMMENT ? len - EOCD_SIZE - MAX_COMMENT : 0;
    uint64_t at = len - EOCD_SIZE;
    for (;; at--) {
        if (rd32(buf + at) == EOCD_SIG && at + EOCD_SIZE + rd16(buf + at + 20) == len) break;
        if (at == lowest) return errbuf_set(err, "%s: not a ZIP archive (no end-of-central-directory record)", label);
    }
    const uint8_t *e = buf + at;
    if (rd16(e + 4) != 0 || rd16(e + 6) != 0)
        return errbuf_set(err, "%s: a ZIP archive split over several disks is not supported", label);
    d->count = rd16(e + 10);
    d->size = rd32(e + 12);
    d->offset = rd32(e + 16);
    d->end = at;
    bool wants64 = d->count == 0xffffu || d->size == 0xffffffffu || d->offset == 0xffffffffu;
    bool has_locator = at >= ZIP64_LOCATOR_SIZE && rd32(buf + at - ZIP64_LOCATOR_SIZE) == ZIP64_LOCATOR_SIG;
    if (has_locator) {
        const uint8_t *l = buf + at - ZIP64_LOCATOR_SIZE;
        uint64_t rec = rd64(l + 8);
        if (rd32(l + 4) != 0 || rd32(l + 16) > 1)
            return errbuf_set(err, "%s: a ZIP archive split over several disks is not supported", label);
        if (rec > at - ZIP64_LOCATOR_SIZE || at - ZIP64_LOCATOR_SIZE - rec < ZIP64_EOCD_SIZE || rd32(buf + rec) != ZIP64_EOCD_SIG)
            return errbuf_set(err, "%s: the ZIP64 end-of-central-directory locator points at byte %llu, where no ZIP64 record is",
                              label, (unsigned long long)rec);
        const uint8_t *z = buf + rec;
        if (rd32(z + 16) != 0 || rd32(z + 20) != 0)
            return errbuf_set(err, "%s: a ZIP archive split over several disks is not supported", label);
        d->count = rd64(z + 32);
        d->size = rd64(z + 40);
        d->offset = rd64(z + 48);
        d->end = rec;
    } else if (wants64) {
        return errbuf_set(err, "%s: the ZIP end-of-central-directory record needs ZIP64 fields, but there is no ZIP64 record", label);
    }
    if (d->offset > d->end || d->size > d->end - d->offset)
        return errbuf_set(err, "%s: the ZIP central directory (%llu bytes at byte %llu) lies outside the file",
                          label, (unsigned long long)d->size, (unsigned long long)d->offset);
    if (d->count > TZIP_MAX_ENTRIES)
        return errbuf_set(err, "%s: the ZIP archive lists %llu entries, more than the limit of %u", label,
                          (unsigned long long)d->count, TZIP_MAX_ENTRIES);
    /* Each record is at least CENTRAL_SIZE bytes: a count larger than the
     * directory can hold is a lie, caught before anything is allocated. */
    if (d->count > d->size / CENTRAL_SIZE)
        return errbuf_set(err, "%s: the ZIP archive claims %llu entries in a central directory of %llu bytes", label,
                          (unsigned long long)d->count, (unsigned long long)d->size);
    return 0;
}

/* Replaces the 0xffffffff fields of a central record by their ZIP64 values
 * (uncompressed size, compressed size, local header offset, in that order,
 * only those that overflowed). */
static int apply_zip64(const char *label, const char *name, const uint8_t *extra, uint32_t extra_len, uint64_t *usize,
                       uint64_t *csize, uint64_t *local, ErrBuf *err) {
    bool need_u = *usize == 0xffffffffu, need_c = *csize == 0xffffffffu, need_l = *local == 0xffffffffu;
    if (!need_u && !need_c && !need_l) return 0;
    uint32_t at = 0;
    while (extra_len - at >= 4) {
        uint16_t id = rd16(extra + at), size = rd16(extra + at + 2);
        if (size > extra_len - at - 4) break;
        if (id == ZIP64_EXTRA_ID) {
            const uint8_t *f = extra + at + 4;
            uint32_t want = 8u * (need_u + need_c + need_l);
            if (size < want) break;
            if (need_u) *usize = rd64(f), f += 8;
            if (need_c) *csize = rd64(f), f += 8;
            if (need_l) *local = rd64(f);
            return 0;
        }
        at += 4u + size;
    }
    return errbuf_set(err, "%s: ZIP entry '%s' needs a ZIP64 extra field, which is missing or too short", label, name);
}

int tzip_read(const char *label, const uint8_t *buf, uint64_t len, TzipArchive *out, ErrBuf *err) {
    out->n_entries = 0;
    out->entries = NULL;
    Directory d = {0};
    if (find_directory(label, buf, len, &d, err) < 0) return -1;
    out->entries = calloc(d.count ? d.count : 1, sizeof *out->entries);
    if (!out->entries) return errbuf_set(err, "%s: out of memory reading the ZIP directory", label);
    const uint8_t *p = buf + d.offset, *end = buf + d.offset + d.size;
    for (uint64_t i = 0; i < d.count; i++) {
        if ((uint64_t)(end - p) < CENTRAL_SIZE || rd32(p) != CENTRAL_SIG) {
            errbuf_set(err, "%s: ZIP central directory record %llu is damaged", label, (unsigned long long)i);
            goto fail;
        }
        uint16_t flags = rd16(p + 8), method = rd16(p + 10);
        uint32_t name_len = rd16(p + 28), extra_len = rd16(p + 30), comment_len = rd16(p + 32);
        uint64_t csize = rd32(p + 20), usize = rd32(p + 24), local = rd32(p + 42);
        if ((uint64_t)(end - p) - CENTRAL_SIZE < (uint64_t)name_len + extra_len + comment_len) {
            errbuf_set(err, "%s: ZIP central directory record %llu runs past the directory", label, (unsigned long long)i);
            goto fail;
        }
        const uint8_t *name = p + CENTRAL_SIZE;
        if (name_len == 0 || name_len > TZIP_MAX_NAME || memchr(name, '\0', name_len)) {
            errbuf_set(err, "%s: ZIP entry %llu has an empty, over-long or NUL-holding name", label, (unsigned long long)i);
            goto fail;
        }
        TzipEntry *e = &out->entries[out->n_entries];
        if (!(e->name = strndup((const char *)name, name_len))) {
            errbuf_set(err, "%s: out of memory reading the ZIP directory", label);
            goto fail;
        }
        out->n_entries++;
        if (apply_zip64(label, e->name, name + name_len, extra_len, &usize, &csize, &local, err) < 0) goto fail;
        if (flags & 1u) {
            errbuf_set(err, "%s: ZIP entry '%s' is encrypted", label, e->name);
            goto fail;
        }
        if (method != 0 || csize != usize) {
            errbuf_set(err, "%s: ZIP entry '%s' is compressed (method %u); only stored entries are read, as torch.save "
                       "writes them: re-save the checkpoint with torch.save or convert it to safetensors",
                       label, e->name, method);
            goto fail;
        }
        /* Data comes before the directory: local header, name, extra, data. */
        if (local > d.offset || d.offset - local < LOCAL_SIZE || rd32(buf + local) != LOCAL_SIG) {
            errbuf_set(err, "%s: ZIP entry '%s': no local header at byte %llu", label, e->name, (unsigned long long)local);
            goto fail;
        }
        const uint8_t *l = buf + local;
        uint64_t data = local + LOCAL_SIZE + rd16(l + 26) + rd16(l + 28);
        if (rd16(l + 26) != name_len || memcmp(l + LOCAL_SIZE, name, name_len) != 0 ||
            data > d.offset || usize > d.offset - data) {
            errbuf_set(err, "%s: ZIP entry '%s': its local header or its %llu bytes of data do not fit before the "
                       "central directory", label, e->name, (unsigned long long)usize);
            goto fail;
        }
        e->offset = data;
        e->size = usize;
        p += CENTRAL_SIZE + name_len + extra_len + comment_len;
    }
    qsort(out->entries, out->n_entries, sizeof *out->entries, cmp_entry);
    for (size_t i = 1; i < out->n_entries; i++) {
        if (strcmp(out->entries[i - 1].name, out->entries[i].name) == 0) {
            errbuf_set(err, "%s: ZIP entry '%s' is listed twice", label, out->entries[i].name);
            goto fail;
        }
    }
    return 0;
fail:
    tzip_free(out);
    return -1;
}
