/* safetensors_read.c - opening and validating safetensors files; see
 * safetensors.h for the format and the security stance.
 *
 * A file is: 8-byte little-endian header length N, N bytes of JSON (an
 * object: "__metadata__" -> {string: string}, every other key a tensor
 * {"dtype", "shape", "data_offsets": [begin, end)} relative to the data
 * section), then the data section up to the end of the file.
 *
 * Implementation notes:
 * - The header is copied out of the mapping with a terminating NUL before
 *   cJSON sees it, so the parser can never read past the mapping whatever
 *   its own bounds checks do.
 * - JSON numbers arrive as doubles: integers are accepted only when integral
 *   and below 2^53, where every double is an exact integer (a larger literal
 *   may already have been rounded).
 * - cJSON keeps duplicate keys; tensors are sorted by name and adjacent equal
 *   names rejected.
 * - Everything is validated before the StFile is returned; afterwards data
 *   pointers are trusted (the file is mapped read-only; a file truncated by
 *   someone else while mapped can still raise SIGBUS, which no check here
 *   can prevent). */
#include "runtime/core/utf8.h"
#include "runtime/io/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_MAX_HEADER (100u * 1000u * 1000u) /* same limit as the reference reader */
#define LABEL_MAX 300                        /* bytes of a path shown in messages */
#define JSON_INT_LIMIT 9007199254740992.0   /* 2^53 */

/* The public StFile plus what st_close needs to know. */
typedef struct StFileImpl {
    StFile pub;
    bool mapped;
} StFileImpl;

/* A tensor entry while validating: offsets are kept for the overlap check. */
typedef struct Entry {
    StTensor t;
    uint64_t begin, end;
} Entry;

void st_close(StFile *f) {
    if (!f) return;
    StFileImpl *impl = (StFileImpl *)f;
    for (size_t i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    free(f->tensors);
    for (size_t i = 0; i < f->n_metadata; i++) {
        free(f->metadata_keys[i]);
        free(f->metadata_values[i]);
    }
    free(f->metadata_keys);
    free(f->metadata_values);
    if (impl->mapped && f->map) munmap((void *)f->map, f->map_size);
    if (f->fd >= 0) close(f->fd);
    free(f->path);
    free(impl);
}

int st_read_bytes(const StFile *f, const uint8_t *at, size_t len, void *dst) {
    if (f->fd < 0) {
        memcpy(dst, at, len);
        return 0;
    }
    uint64_t off = (uint64_t)(at - f->map);
    unsigned char *p = dst;
    while (len > 0) {
        ssize_t got = pread(f->fd, p, len, (off_t)off);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        p += got;
        len -= (size_t)got;
        off += (uint64_t)got;
    }
    return 0;
}

const StTensor *st_find(const StFile *f, const char *name) {
    size_t lo = 0, hi = f->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->tensors[mid].name, name);
        if (c == 0) return &f->tensors[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static int cmp_entry_name(const void *a, const void *b) {
    return strcmp(((const Entry *)a)->t.name, ((const Entry *)b)->t.name);
}

static int cmp_entry_offset(const void *a, const void *b) {
    const Entry *x = *(const Entry *const *)a, *y = *(const Entry *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* A JSON number that is an exact non-negative integer below 2^53. */
static bool json_uint(const cJSON *item, uint64_t *out) {
    if (!cJSON_IsNumber(item)) return false;
    double v = item->valuedouble;
    if (!isfinite(v) || v < 0 || v >= JSON_INT_LIMIT || v != floor(v)) return false;
    *out = (uint64_t)v;
    return true;
}

/* How many members of obj are called key (cJSON keeps duplicates). */
static int count_key(const cJSON *obj, const char *key) {
    int n = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        if (c->string && strcmp(c->string, key) == 0) n++;
    return n;
}

static int parse_metadata(StFile *f, const char *label, const cJSON *meta, ErrBuf *err) {
    if (!cJSON_IsObject(meta))
        return errbuf_set(err, "%s: \"__metadata__\" must be an object of strings", label);
    size_t n = 0;
    for (const cJSON *c = meta->child; c; c = c->next) {
        if (!cJSON_IsString(c))
            return errbuf_set(err, "%s: \"__metadata__\" entry '%s' must be a string", label,
                              c->string ? c->string : "");
        n++;
    }
    f->metadata_keys = calloc(n ? n : 1, sizeof(char *));
    f->metadata_values = calloc(n ? n : 1, sizeof(char *));
    if (!f->metadata_keys || !f->metadata_values)
        return errbuf_set(err, "%s: out of memory reading the header", label);
    for (const cJSON *c = meta->child; c; c = c->next) {
        char *k = strdup(c->string ? c->string : "");
        char *v = strdup(c->valuestring);
        if (!k || !v) {
            free(k);
            free(v);
            return errbuf_set(err, "%s: out of memory reading the header", label);
        }
        f->metadata_keys[f->n_metadata] = k;
        f->metadata_values[f->n_metadata] = v;
        f->n_metadata++;
    }
    return 0;
}

/* Validates one tensor entry (everything but overlaps and duplicates). The
 * name is filled in by the caller, which owns it. */
static int parse_entry(const char *label, const char *name, const cJSON *obj,
                       uint64_t data_size, Entry *e, ErrBuf *err) {
    if (!cJSON_IsObject(obj))
        return errbuf_set(err, "%s: tensor '%s': entry must be an object with dtype, shape and data_offsets",
                          label, name);
    static const char *const fields[] = {"dtype", "shape", "data_offsets"};
    for (int i = 0; i < 3; i++) {
        int k = count_key(obj, fields[i]);
        if (k == 0) return errbuf_set(err, "%s: tensor '%s': missing \"%s\"", label, name, fields[i]);
        if (k > 1) return errbuf_set(err, "%s: tensor '%s': \"%s\" given twice", label, name, fields[i]);
    }

    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(obj, "dtype");
    if (!cJSON_IsString(dt))
        return errbuf_set(err, "%s: tensor '%s': \"dtype\" must be a string", label, name);
    size_t dt_len = strlen(dt->valuestring);
    if (!dtype_from_st_name(dt->valuestring, dt_len, &e->t.dtype)) {
        /* Known to safetensors but not read here: said so before any size
         * is computed from it (the packed sub-byte formats have no whole
         * bytes per element, so their offsets are never checked as if). */
        const char *why = dtype_st_refusal(dt->valuestring, dt_len);
        if (why) return errbuf_set(err, "%s: tensor '%s': dtype %s: %s", label, name, dt->valuestring, why);
        return errbuf_set(err, "%s: tensor '%s': unknown dtype \"%.40s\"", label, name, dt->valuestring);
    }

    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(obj, "shape");
    if (!cJSON_IsArray(sh))
        return errbuf_set(err, "%s: tensor '%s': \"shape\" must be an array of integers", label, name);
    int rank = cJSON_GetArraySize(sh);
    if (rank > SHAPE_MAX_RANK)
        return errbuf_set(err, "%s: tensor '%s': rank %d exceeds the maximum of %d", label, name, rank,
                          SHAPE_MAX_RANK);
    e->t.shape.rank = rank;
    int d = 0;
    for (const cJSON *c = sh->child; c; c = c->next, d++) {
        uint64_t v;
        if (!json_uint(c, &v)) {
            if (cJSON_IsNumber(c) && c->valuedouble < 0)
                return errbuf_set(err, "%s: tensor '%s': shape dimension %d is negative", label, name, d);
            return errbuf_set(err, "%s: tensor '%s': shape dimension %d is not an integer in [0, 2^53)",
                              label, name, d);
        }
        e->t.shape.dims[d] = (int64_t)v;
    }
    char sbuf[200];
    shape_format(&e->t.shape, sbuf, sizeof sbuf);
    int64_t numel = shape_numel(&e->t.shape);
    uint64_t esize = dtype_size(e->t.dtype);
    if (numel < 0 || (uint64_t)numel > UINT64_MAX / esize)
        return errbuf_set(err, "%s: tensor '%s': shape %s is too large (element count overflows)", label,
                          name, sbuf);
    uint64_t nbytes = (uint64_t)numel * esize;

    const cJSON *off = cJSON_GetObjectItemCaseSensitive(obj, "data_offsets");
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || !json_uint(off->child, &e->begin) ||
        !json_uint(off->child->next, &e->end))
        return errbuf_set(err, "%s: tensor '%s': \"data_offsets\" must be two non-negative integers [begin, end]",
                          label, name);
    if (e->begin > e->end)
        return errbuf_set(err, "%s: tensor '%s': data_offsets [%llu, %llu] end before they begin", label, name,
                          (unsigned long long)e->begin, (unsigned long long)e->end);
    if (e->end > data_size)
        return errbuf_set(err,
                          "%s: tensor '%s': data_offsets [%llu, %llu] run past the end of the data "
                          "section (%llu bytes; file truncated?)",
                          label, name, (unsigned long long)e->begin, (unsigned long long)e->end,
                          (unsigned long long)data_size);
    if (e->end - e->begin != nbytes)
        return errbuf_set(err, "%s: tensor '%s': data_offsets [%llu, %llu] do not match dtype %s x shape %s (%llu bytes)",
                          label, name, (unsigned long long)e->begin, (unsigned long long)e->end,
                          dtype_st_name(e->t.dtype), sbuf, (unsigned long long)nbytes);
    e->t.nbytes = nbytes;
    return 0;
}

/* Sorted by name; duplicates and overlapping byte ranges rejected. */
static int check_entries(const char *label, Entry *ents, size_t n, ErrBuf *err) {
    qsort(ents, n, sizeof *ents, cmp_entry_name);
    for (size_t i = 1; i < n; i++)
        if (strcmp(ents[i - 1].t.name, ents[i].t.name) == 0)
            return errbuf_set(err, "%s: tensor '%s' appears more than once in the header", label, ents[i].t.name);

    Entry **by_off = malloc((n ? n : 1) * sizeof *by_off);
    if (!by_off) return errbuf_set(err, "%s: out of memory reading the header", label);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (ents[i].end > ents[i].begin) by_off[m++] = &ents[i]; /* empty ranges overlap nothing */
    qsort(by_off, m, sizeof *by_off, cmp_entry_offset);
    int rc = 0;
    for (size_t i = 1; i < m; i++) {
        const Entry *a = by_off[i - 1], *b = by_off[i];
        if (b->begin < a->end) {
            rc = errbuf_set(err, "%s: tensor '%s': data_offsets [%llu, %llu] overlap tensor '%s' [%llu, %llu]",
                            label, b->t.name, (unsigned long long)b->begin, (unsigned long long)b->end,
                            a->t.name, (unsigned long long)a->begin, (unsigned long long)a->end);
            break;
        }
    }
    free(by_off);
    return rc;
}

/* Validates buf as a safetensors image and fills f (whose map/map_size are
 * set by the caller). On failure f holds whatever was allocated so far. */
static int parse_image(StFile *f, const char *label, ErrBuf *err) {
    const uint8_t *buf = f->map;
    size_t len = f->map_size;
    if (len < 8)
        return errbuf_set(err, "%s: too short to be a safetensors file (%zu bytes)", label, len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | buf[i];
    if (hlen > len - 8)
        return errbuf_set(err, "%s: header length %llu runs past the end of the file (%zu bytes; truncated, "
                               "or not a safetensors file)",
                          label, (unsigned long long)hlen, len);
    if (hlen > ST_MAX_HEADER)
        return errbuf_set(err, "%s: header length %llu exceeds the 100 MB limit", label, (unsigned long long)hlen);
    size_t bad_at;
    if (!utf8_valid(buf + 8, (size_t)hlen, &bad_at))
        return errbuf_set(err, "%s: header is not valid UTF-8 (at byte %zu)", label, bad_at + 8);

    char *text = malloc((size_t)hlen + 1);
    if (!text) return errbuf_set(err, "%s: out of memory reading the header", label);
    memcpy(text, buf + 8, (size_t)hlen);
    text[hlen] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, (size_t)hlen, &end, false);
    int rc = -1;
    if (!root) {
        size_t pos = end && end >= text && end <= text + hlen ? (size_t)(end - text) : 0;
        errbuf_set(err, "%s: header is not valid JSON (near byte %zu of the header)", label, pos);
        goto out;
    }
    for (const char *p = end; p < text + hlen; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            errbuf_set(err, "%s: unexpected data after the header's JSON object (at byte %zu of the header)",
                       label, (size_t)(p - text));
            goto out;
        }
    }
    if (!cJSON_IsObject(root)) {
        errbuf_set(err, "%s: header must be a JSON object", label);
        goto out;
    }

    uint64_t data_size = len - 8 - hlen;
    size_t n = 0;
    int n_meta = 0;
    for (const cJSON *c = root->child; c; c = c->next) {
        if (strcmp(c->string, "__metadata__") == 0) n_meta++;
        else n++;
    }
    if (n_meta > 1) {
        errbuf_set(err, "%s: \"__metadata__\" appears more than once in the header", label);
        goto out;
    }
    if (n_meta == 1 && parse_metadata(f, label, cJSON_GetObjectItemCaseSensitive(root, "__metadata__"), err) < 0)
        goto out;

    Entry *ents = calloc(n ? n : 1, sizeof *ents);
    if (!ents) {
        errbuf_set(err, "%s: out of memory reading the header", label);
        goto out;
    }
    size_t k = 0;
    for (const cJSON *c = root->child; c; c = c->next) {
        if (strcmp(c->string, "__metadata__") == 0) continue;
        Entry *e = &ents[k];
        size_t name_len = strlen(c->string);
        if (name_len > ST_MAX_NAME) {
            errbuf_set(err, "%s: a tensor name of %zu bytes is longer than the limit of %d (it starts '%.40s')",
                       label, name_len, ST_MAX_NAME, c->string);
            goto fail_ents;
        }
        if (parse_entry(label, c->string, c, data_size, e, err) < 0) goto fail_ents;
        e->t.name = strdup(c->string);
        if (!e->t.name) {
            errbuf_set(err, "%s: out of memory reading the header", label);
            goto fail_ents;
        }
        e->t.data = buf + 8 + hlen + e->begin;
        k++;
    }
    if (check_entries(label, ents, n, err) < 0) goto fail_ents;

    f->tensors = malloc((n ? n : 1) * sizeof *f->tensors);
    if (!f->tensors) {
        errbuf_set(err, "%s: out of memory reading the header", label);
        goto fail_ents;
    }
    for (size_t i = 0; i < n; i++) f->tensors[i] = ents[i].t;
    f->n_tensors = n;
    free(ents);
    rc = 0;
    goto out;

fail_ents:
    for (size_t i = 0; i < k; i++) free(ents[i].t.name);
    free(ents);
out:
    cJSON_Delete(root);
    free(text);
    return rc;
}

static StFileImpl *file_new(const char *label) {
    StFileImpl *impl = calloc(1, sizeof *impl);
    if (!impl) return NULL;
    impl->pub.fd = -1;
    impl->pub.path = strdup(label);
    if (!impl->pub.path) {
        free(impl);
        return NULL;
    }
    return impl;
}

StFile *st_open_memory(const char *label, const uint8_t *buf, size_t len, ErrBuf *err) {
    StFileImpl *impl = file_new(label);
    if (!impl) {
        errbuf_set(err, "%s: out of memory", label);
        return NULL;
    }
    impl->pub.map = buf;
    impl->pub.map_size = len;
    if (parse_image(&impl->pub, label, err) < 0) {
        st_close(&impl->pub);
        return NULL;
    }
    return &impl->pub;
}

StFile *st_open(const char *full_path, ErrBuf *err) {
    /* Messages show the path cut to its last bytes when it is long, so the
     * reason after it always fits in the ErrBuf. */
    char label[LABEL_MAX + 4];
    size_t plen = strlen(full_path);
    const char *path = full_path;
    if (plen > LABEL_MAX) {
        snprintf(label, sizeof label, "...%s", full_path + plen - LABEL_MAX);
        path = label;
    }
    /* O_NONBLOCK: opening a FIFO must not hang; it is refused below. */
    int fd = open(full_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) errbuf_set(err, "%s: no such file or directory", path);
        else errbuf_set(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        errbuf_set(err, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        errbuf_set(err, "%s: is a directory, not a safetensors file", path);
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        errbuf_set(err, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if (st.st_size < 8) {
        errbuf_set(err, "%s: too short to be a safetensors file (%lld bytes)", path, (long long)st.st_size);
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        errbuf_set(err, "%s: too large to map on this system", path);
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    if (map == MAP_FAILED) {
        close(fd);
        errbuf_set(err, "%s: cannot map: %s", path, strerror(map_errno));
        return NULL;
    }
    StFileImpl *impl = file_new(full_path);
    if (!impl) {
        munmap(map, size);
        close(fd);
        errbuf_set(err, "%s: out of memory", path);
        return NULL;
    }
    impl->mapped = true;
    impl->pub.mapped = true;
    /* Kept open for st_read_bytes; blocking reads from here on. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    impl->pub.fd = fd;
    /* Tensors are read front to back: ask for large readahead. */
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    madvise(map, size, MADV_SEQUENTIAL);
    impl->pub.map = map;
    impl->pub.map_size = size;
    if (parse_image(&impl->pub, path, err) < 0) {
        st_close(&impl->pub);
        return NULL;
    }
    return &impl->pub;
}
