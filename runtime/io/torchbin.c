/* torchbin.c - a torch.save ZIP checkpoint as an StFile; see torchbin.h.
 *
 * Inside the archive every entry sits under one folder (torch names it
 * after the file, or "archive"): FOLDER/data.pkl, FOLDER/data/KEY for each
 * storage, FOLDER/version, maybe FOLDER/byteorder. The folder is found from
 * the one entry named FOLDER/data.pkl. */
#include "runtime/io/torchbin.h"
#include "runtime/io/torchpickle.h"
#include "runtime/io/torchzip.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define LABEL_MAX 300
#define TAR_MAGIC_AT 257

void tbin_close(StFile *f) {
    if (!f) return;
    for (size_t i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    free(f->tensors);
    if (f->mapped && f->map) munmap((void *)f->map, f->map_size);
    if (f->fd >= 0) close(f->fd);
    free(f->path);
    free(f);
}

static int cmp_tensor(const void *a, const void *b) {
    return strcmp(((const StTensor *)a)->name, ((const StTensor *)b)->name);
}

static const char *short_label(const char *path, char buf[LABEL_MAX + 4]) {
    size_t n = strlen(path);
    if (n <= LABEL_MAX) return path;
    snprintf(buf, LABEL_MAX + 4, "...%s", path + n - LABEL_MAX);
    return buf;
}

/* A pickle (protocol 2 starts 0x80 0x02) or a tar archive ("ustar" at byte
 * 257): what torch.save wrote before the ZIP format. */
static bool legacy_format(const uint8_t *buf, size_t len) {
    return (len >= 2 && buf[0] == 0x80 && buf[1] <= 5) ||
           (len >= TAR_MAGIC_AT + 5 && memcmp(buf + TAR_MAGIC_AT, "ustar", 5) == 0);
}

/* The folder prefix: the part before "/data.pkl" of the one entry so named. */
static int find_pickle(const char *label, const TzipArchive *z, const TzipEntry **pkl, size_t *prefix_len, ErrBuf *err) {
    *pkl = NULL;
    for (size_t i = 0; i < z->n_entries; i++) {
        const char *n = z->entries[i].name, *slash = strchr(n, '/');
        if (!slash || strcmp(slash, "/data.pkl") != 0) continue;
        if (*pkl) return errbuf_set(err, "%s: the archive holds two data.pkl entries ('%s' and '%s')", label, (*pkl)->name, n);
        *pkl = &z->entries[i];
        *prefix_len = (size_t)(slash - n);
    }
    if (!*pkl) return errbuf_set(err, "%s: a ZIP archive without a FOLDER/data.pkl entry is not a torch checkpoint", label);
    return 0;
}

/* Validates the archive in f->map and fills f->tensors. */
static int load(StFile *f, const char *label, ErrBuf *err) {
    const uint8_t *buf = f->map;
    size_t len = f->map_size;
    if (legacy_format(buf, len))
        return errbuf_set(err, "%s: legacy torch format (before torch 1.6): re-save with torch >= 1.6 or convert to safetensors", label);
    TzipArchive z;
    if (tzip_read(label, buf, len, &z, err) < 0) return -1;
    TpklStateDict sd = {0};
    int rc = -1;
    const TzipEntry *pkl;
    size_t prefix_len = 0;
    if (find_pickle(label, &z, &pkl, &prefix_len, err) < 0) goto out;
    char entry[TZIP_MAX_NAME + 80];
    snprintf(entry, sizeof entry, "%.*s/byteorder", (int)prefix_len, pkl->name);
    const TzipEntry *order = tzip_find(&z, entry);
    if (order && !(order->size == 6 && memcmp(buf + order->offset, "little", 6) == 0)) {
        errbuf_set(err, "%s: the archive's byteorder is not \"little\": big-endian checkpoints are not read", label);
        goto out;
    }
    if (pkl->size > TBIN_MAX_PICKLE) {
        errbuf_set(err, "%s: data.pkl is %" PRIu64 " bytes, more than the limit of %u", label, pkl->size, TBIN_MAX_PICKLE);
        goto out;
    }
    if (tpkl_parse(label, buf + pkl->offset, (size_t)pkl->size, &sd, err) < 0) goto out;
    f->tensors = calloc(sd.n_tensors ? sd.n_tensors : 1, sizeof *f->tensors);
    if (!f->tensors) {
        errbuf_set(err, "%s: out of memory", label);
        goto out;
    }
    for (size_t i = 0; i < sd.n_tensors; i++) {
        const TpklTensor *t = &sd.tensors[i];
        snprintf(entry, sizeof entry, "%.*s/data/%s", (int)prefix_len, pkl->name, t->storage_key);
        const TzipEntry *data = tzip_find(&z, entry);
        if (!data) {
            errbuf_set(err, "%s: tensor '%s': its storage '%s' is not in the archive", label, t->name, entry);
            goto out;
        }
        uint64_t size = dtype_size(t->dtype), numel = (uint64_t)shape_numel(&t->shape);
        /* The storage as the pickle declares it must be what the entry holds. */
        if (t->storage_numel > data->size / size || t->storage_numel * size != data->size) {
            errbuf_set(err, "%s: tensor '%s': storage '%s' holds %" PRIu64 " bytes, not the %" PRIu64 " elements of %s the pickle says",
                       label, t->name, entry, data->size, t->storage_numel, dtype_torch_name(t->dtype));
            goto out;
        }
        StTensor *st = &f->tensors[f->n_tensors];
        st->name = t->name;
        sd.tensors[i].name = NULL;   /* now owned by f */
        f->n_tensors++;
        st->dtype = t->dtype;
        st->shape = t->shape;
        st->data = buf + data->offset + t->storage_offset * size;
        st->nbytes = numel * size;
    }
    qsort(f->tensors, f->n_tensors, sizeof *f->tensors, cmp_tensor);
    for (size_t i = 1; i < f->n_tensors; i++) {
        if (strcmp(f->tensors[i - 1].name, f->tensors[i].name) == 0) {
            errbuf_set(err, "%s: tensor '%s' appears twice in the state dict", label, f->tensors[i].name);
            goto out;
        }
    }
    rc = 0;
out:
    tpkl_free(&sd);
    tzip_free(&z);
    return rc;
}

static StFile *new_file(const char *path) {
    StFile *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->fd = -1;
    if (!(f->path = strdup(path))) {
        free(f);
        return NULL;
    }
    return f;
}

StFile *tbin_open_memory(const char *label, const uint8_t *buf, size_t len, ErrBuf *err) {
    StFile *f = new_file(label);
    if (!f) {
        errbuf_set(err, "%s: out of memory", label);
        return NULL;
    }
    f->map = buf;
    f->map_size = len;
    if (load(f, label, err) < 0) {
        tbin_close(f);
        return NULL;
    }
    return f;
}

StFile *tbin_open(const char *path, ErrBuf *err) {
    char lbuf[LABEL_MAX + 4];
    const char *label = short_label(path, lbuf);
    StFile *f = new_file(path);
    if (!f) {
        errbuf_set(err, "%s: out of memory", label);
        return NULL;
    }
    struct stat st;
    f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f->fd < 0) {
        errbuf_set(err, "%s: %s", label, strerror(errno));
        goto fail;
    }
    if (fstat(f->fd, &st) != 0) {
        errbuf_set(err, "%s: %s", label, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        errbuf_set(err, "%s: not a regular file", label);
        goto fail;
    }
    if (st.st_size == 0) {
        errbuf_set(err, "%s: empty file (0 bytes): not a torch checkpoint", label);
        goto fail;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, f->fd, 0);
    if (m == MAP_FAILED) {
        errbuf_set(err, "%s: cannot map the file: %s", label, strerror(errno));
        goto fail;
    }
    f->map = m;
    f->map_size = (size_t)st.st_size;
    f->mapped = true;
    if (load(f, label, err) < 0) goto fail;
    return f;
fail:
    tbin_close(f);
    return NULL;
}
