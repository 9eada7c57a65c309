/* safetensors_write.c - writing a checkpoint folder atomically; see the
 * writing section of safetensors.h.
 *
 * Implementation notes:
 * - Headers are built with cJSON (names are escaped correctly); integers are
 *   inserted as raw text so that no size is ever printed through a double.
 *   The header is padded with spaces to a multiple of 8 bytes, as the
 *   reference writer does, so tensor data starts 8-aligned in the file.
 * - Shard files are sized with ftruncate at creation, so they are sparse
 *   until written: running out of space shows up in stw_write or at the
 *   fsync in stw_commit, and both report it with the file's name.
 * - stw_write only touches tensor i's own slot and its own byte range, which
 *   is what makes concurrent calls for different i safe. The caller joins
 *   its threads before stw_commit reads the written flags.
 * - Replacing an existing target: rename it aside, rename the new folder in,
 *   then delete the old one. A crash in between leaves the old folder under
 *   its ".old" name, never a half-written folder under the target name. */
#include "runtime/io/safetensors.h"

#include "runtime/io/hash.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_NAME "model.safetensors.index.json"

typedef struct Slot {
    char *name;
    DType dtype;
    Shape shape;
    uint64_t nbytes;
    size_t shard;
    uint64_t file_offset;  /* absolute, header included */
    bool written;
    uint64_t part_bytes;       /* bytes written by stw_write_part (atomic) */
} Slot;

typedef struct Shard {
    char name[64];
    int fd;
    uint64_t file_size;
    /* Content hash of bytes [0, hashed), extended by writes that continue
     * exactly where it stops: a caller writing in file order gets the hash
     * without reading the file back. */
    Hash64 hash;
    uint64_t hashed;
} Shard;

struct StWriter {
    char *target;   /* as given, trailing slashes removed */
    char *parent;   /* folder holding target */
    char *base;     /* last component of target */
    char *tmp;      /* "<parent>/.<base>.tmp-<pid>-<n>" */
    bool overwrite;
    size_t n;
    Slot *slots;
    size_t n_shards;
    Shard *shards;
    pthread_mutex_t hash_lock;  /* guards every shard's hash and hashed */
};

/* strerror_r has two incompatible signatures (GNU returns char *, XSI int);
 * _Generic picks the matching helper so this compiles against either and
 * stays thread-safe, which plain strerror is not. */
static const char *pick_gnu(char *r, char *buf) { (void)buf; return r; }
static const char *pick_xsi(int r, char *buf) { return r == 0 ? buf : "unknown error"; }
#define ERRTEXT(e, buf)                                                          \
    _Generic(strerror_r((e), (buf), sizeof(buf)), char *: pick_gnu, int: pick_xsi)( \
        strerror_r((e), (buf), sizeof(buf)), (buf))

/* A hint for the errors a user can do something about. */
static const char *hint(int e) {
    switch (e) {
    case ENOSPC: return " (disk full?)";
#ifdef EDQUOT
    case EDQUOT: return " (disk quota exceeded?)";
#endif
    case EFBIG: return " (over the file-size limit of the file system or of this process)";
    case EIO: return " (hardware or file-system error)";
    case EROFS: return " (read-only file system)";
    default: return "";
    }
}

static int io_error(ErrBuf *err, int e, const char *what, const char *file, const char *extra) {
    char buf[128];
    return errbuf_set(err, "%s: %s%s: %s%s", file, what, extra ? extra : "", ERRTEXT(e, buf), hint(e));
}

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- removing folders -------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
    (void)sb;
    (void)ftw;
    /* Depth-first and physical: symlinks are removed, never followed. */
    int rc = (type == FTW_DP) ? rmdir(path) : unlink(path);
    return rc != 0 && errno != ENOENT ? -1 : 0;
}

static int remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path);
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int fsync_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    /* Some file systems cannot fsync a directory; that is not a failure. */
    if (rc != 0 && (errno == EINVAL || errno == EBADF)) rc = 0;
    close(fd);
    return rc;
}

/* 1 when path is a folder with nothing in it, 0 when not, -1 on error. */
static int dir_is_empty(const char *path) {
    DIR *d = opendir(path);
    if (!d) return -1;
    int empty = 1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            empty = 0;
            break;
        }
    }
    closedir(d);
    return empty;
}

/* ---- writing files ------------------------------------------------------------- */

static int pwrite_all(int fd, const void *data, size_t len, uint64_t off) {
    const char *p = data;
    while (len > 0) {
        size_t chunk = len > (1u << 30) ? (1u << 30) : len;
        ssize_t w = pwrite(fd, p, chunk, (off_t)off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (w == 0) {
            errno = EIO; /* no progress and no reason given */
            return -1;
        }
        p += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static void free_writer(StWriter *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_shards; i++)
        if (w->shards[i].fd >= 0) close(w->shards[i].fd);
    for (size_t i = 0; i < w->n; i++) free(w->slots[i].name);
    free(w->slots);
    free(w->shards);
    free(w->target);
    free(w->parent);
    free(w->base);
    free(w->tmp);
    pthread_mutex_destroy(&w->hash_lock);
    free(w);
}

void stw_abort(StWriter *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_shards; i++) {
        if (w->shards[i].fd >= 0) close(w->shards[i].fd);
        w->shards[i].fd = -1;
    }
    if (w->tmp) remove_tree(w->tmp);
    free_writer(w);
}

/* Raw JSON integer, so sizes never pass through a double. */
static cJSON *raw_u64(uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return cJSON_CreateRaw(buf);
}

/* The JSON header of shard s, padded with spaces to a multiple of 8. */
static char *build_header(const StWriter *w, size_t s, const char *const *meta_kv, size_t *out_len) {
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
    bool ok = root && meta && cJSON_AddStringToObject(meta, "format", "pt");
    for (size_t k = 0; ok && meta_kv && meta_kv[k]; k += 2)
        ok = meta_kv[k + 1] && cJSON_AddStringToObject(meta, meta_kv[k], meta_kv[k + 1]);
    uint64_t off = 0;
    for (size_t i = 0; ok && i < w->n; i++) {
        const Slot *t = &w->slots[i];
        if (t->shard != s) continue;
        /* Each item is attached as soon as it exists, so deleting root
         * frees everything whichever step fails. */
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToObject(root, t->name, e)) {
            cJSON_Delete(e);
            ok = false;
            break;
        }
        cJSON *shape = NULL, *offs = NULL;
        ok = cJSON_AddStringToObject(e, "dtype", dtype_st_name(t->dtype)) &&
             (shape = cJSON_AddArrayToObject(e, "shape")) != NULL;
        for (int d = 0; ok && d < t->shape.rank; d++)
            ok = cJSON_AddItemToArray(shape, raw_u64((uint64_t)t->shape.dims[d]));
        ok = ok && (offs = cJSON_AddArrayToObject(e, "data_offsets")) != NULL &&
             cJSON_AddItemToArray(offs, raw_u64(off)) && cJSON_AddItemToArray(offs, raw_u64(off + t->nbytes));
        off += t->nbytes;
    }
    char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!json) return NULL;
    size_t len = strlen(json);
    size_t padded = (len + 7) & ~(size_t)7;
    char *out = malloc(padded + 1);
    if (out) {
        memcpy(out, json, len);
        memset(out + len, ' ', padded - len);
        out[padded] = '\0';
        *out_len = padded;
    }
    cJSON_free(json);
    return out;
}

/* Splits target into parent and base (trailing slashes ignored). */
static int split_target(StWriter *w, const char *target_dir, ErrBuf *err) {
    size_t len = strlen(target_dir);
    while (len > 1 && target_dir[len - 1] == '/') len--;
    w->target = strndup(target_dir, len);
    if (!w->target) return errbuf_set(err, "%s: out of memory", target_dir);
    char *slash = strrchr(w->target, '/');
    const char *b = slash ? slash + 1 : w->target;
    if (*b == '\0' || strcmp(b, ".") == 0 || strcmp(b, "..") == 0)
        return errbuf_set(err, "'%s' cannot be used as an output folder: name the folder itself", target_dir);
    w->base = strdup(b);
    if (!slash) w->parent = strdup(".");
    else if (slash == w->target) w->parent = strdup("/");
    else w->parent = strndup(w->target, (size_t)(slash - w->target));
    if (!w->base || !w->parent) return errbuf_set(err, "%s: out of memory", target_dir);
    return 0;
}

static int check_target(const StWriter *w, ErrBuf *err) {
    struct stat st;
    if (lstat(w->target, &st) != 0) {
        if (errno == ENOENT) return 0;
        return errbuf_set(err, "'%s': cannot check the output folder: %s", w->target, strerror(errno));
    }
    if (w->overwrite) return 0;
    if (!S_ISDIR(st.st_mode))
        return errbuf_set(err, "'%s' already exists and is not a folder (use --force to replace it)", w->target);
    int empty = dir_is_empty(w->target);
    if (empty < 0)
        return errbuf_set(err, "'%s': cannot read the output folder: %s", w->target, strerror(errno));
    if (!empty)
        return errbuf_set(err, "'%s' already exists and is not empty (use --force to replace it)", w->target);
    return 0;
}

/* Greedy in the given order; shard_bytes == 0 means no limit. */
static int plan_shards(StWriter *w, uint64_t shard_bytes, ErrBuf *err) {
    size_t shard = 0;
    uint64_t cur = 0;
    bool cur_empty = true;
    for (size_t i = 0; i < w->n; i++) {
        uint64_t nb = w->slots[i].nbytes;
        if (shard_bytes && !cur_empty && (cur + nb > shard_bytes || cur + nb < cur)) {
            shard++;
            cur = 0;
        }
        w->slots[i].shard = shard;
        cur += nb;
        cur_empty = false;
    }
    w->n_shards = shard + 1;
    if (w->n_shards > 99999)
        return errbuf_set(err, "%s: %zu shards is too many; use a larger shard size", w->target, w->n_shards);
    w->shards = calloc(w->n_shards, sizeof *w->shards);
    if (!w->shards) return errbuf_set(err, "%s: out of memory", w->target);
    for (size_t s = 0; s < w->n_shards; s++) {
        w->shards[s].fd = -1;
        if (w->n_shards == 1) snprintf(w->shards[s].name, sizeof w->shards[s].name, "model.safetensors");
        else
            snprintf(w->shards[s].name, sizeof w->shards[s].name, "model-%05zu-of-%05zu.safetensors", s + 1,
                     w->n_shards);
    }
    return 0;
}

static int make_tmp_dir(StWriter *w, ErrBuf *err) {
    /* The attempt number makes concurrent writers in one process distinct
     * without any shared counter. */
    for (unsigned n = 0; n < 10000; n++) {
        char *p = str_printf("%s/.%s.tmp-%ld-%u", w->parent, w->base, (long)getpid(), n);
        if (!p) return errbuf_set(err, "%s: out of memory", w->target);
        if (mkdir(p, 0755) == 0) {
            w->tmp = p;
            return 0;
        }
        int e = errno;
        free(p);
        if (e != EEXIST) {
            char buf[128];
            return errbuf_set(err, "'%s': cannot create a temporary folder in '%s': %s%s", w->target, w->parent,
                              ERRTEXT(e, buf), hint(e));
        }
    }
    return errbuf_set(err, "'%s': cannot find a free temporary folder name in '%s'", w->target, w->parent);
}

static int create_shard_files(StWriter *w, const char *const *meta_kv, ErrBuf *err) {
    for (size_t s = 0; s < w->n_shards; s++) {
        Shard *sh = &w->shards[s];
        size_t hlen = 0;
        char *header = build_header(w, s, meta_kv, &hlen);
        if (!header) return errbuf_set(err, "%s/%s: out of memory building the header", w->target, sh->name);
        uint64_t data_start = 8 + (uint64_t)hlen, off = data_start;
        for (size_t i = 0; i < w->n; i++) {
            if (w->slots[i].shard != s) continue;
            w->slots[i].file_offset = off;
            off += w->slots[i].nbytes;
        }
        sh->file_size = off;

        char *path = str_printf("%s/%s", w->tmp, sh->name);
        char *shown = str_printf("%s/%s", w->target, sh->name);
        int rc = 0;
        if (!path || !shown) {
            rc = errbuf_set(err, "%s: out of memory", w->target);
        } else {
            sh->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            unsigned char len8[8];
            for (int b = 0; b < 8; b++) len8[b] = (unsigned char)((uint64_t)hlen >> (8 * b));
            if (sh->fd < 0) rc = io_error(err, errno, "cannot create", shown, NULL);
            else if (ftruncate(sh->fd, (off_t)sh->file_size) != 0)
                rc = io_error(err, errno, "cannot size the file", shown, NULL);
            else if (pwrite_all(sh->fd, len8, 8, 0) != 0 || pwrite_all(sh->fd, header, hlen, 8) != 0)
                rc = io_error(err, errno, "cannot write the header", shown, NULL);
            hash64_init(&sh->hash);
            hash64_update(&sh->hash, len8, 8);
            hash64_update(&sh->hash, header, hlen);
            sh->hashed = 8 + (uint64_t)hlen;
        }
        free(path);
        free(shown);
        free(header);
        if (rc < 0) return rc;
    }
    return 0;
}

static int cmp_name_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Two tensors with one name would make an unreadable file; say so now. */
static int check_unique(const StWriter *w, ErrBuf *err) {
    const char **names = malloc((w->n ? w->n : 1) * sizeof *names);
    if (!names) return errbuf_set(err, "%s: out of memory", w->target);
    for (size_t i = 0; i < w->n; i++) names[i] = w->slots[i].name;
    qsort(names, w->n, sizeof *names, cmp_name_ptr);
    int rc = 0;
    for (size_t i = 1; i < w->n && rc == 0; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            rc = errbuf_set(err, "%s: tensor '%s' is listed twice", w->target, names[i]);
    free(names);
    return rc;
}

StWriter *stw_create(const char *target_dir, const StwSpec *specs, size_t n, uint64_t shard_bytes,
                     const char *const *meta_kv, bool overwrite, ErrBuf *err) {
    StWriter *w = calloc(1, sizeof *w);
    if (!w) {
        errbuf_set(err, "%s: out of memory", target_dir);
        return NULL;
    }
    w->overwrite = overwrite;
    pthread_mutex_init(&w->hash_lock, NULL);
    if (split_target(w, target_dir, err) < 0) goto fail;
    w->slots = calloc(n ? n : 1, sizeof *w->slots);
    if (!w->slots) {
        errbuf_set(err, "%s: out of memory", target_dir);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        Slot *t = &w->slots[i];
        char sbuf[200];
        int64_t numel = shape_numel(&specs[i].shape);
        size_t es = dtype_size(specs[i].dtype);
        if (es == 0 || specs[i].shape.rank < 0 || specs[i].shape.rank > SHAPE_MAX_RANK || numel < 0 ||
            (uint64_t)numel > UINT64_MAX / 2 / es) {
            shape_format(&specs[i].shape, sbuf, sizeof sbuf);
            errbuf_set(err, "%s: tensor '%s': invalid dtype or shape %s", target_dir, specs[i].name, sbuf);
            w->n = i;
            goto fail;
        }
        t->name = strdup(specs[i].name);
        w->n = i + 1;
        if (!t->name) {
            errbuf_set(err, "%s: out of memory", target_dir);
            goto fail;
        }
        t->dtype = specs[i].dtype;
        t->shape = specs[i].shape;
        t->nbytes = (uint64_t)numel * es;
    }
    if (check_unique(w, err) < 0) goto fail;
    for (size_t k = 0; meta_kv && meta_kv[k]; k += 2)
        if (!meta_kv[k + 1]) {
            errbuf_set(err, "%s: metadata key '%s' has no value", target_dir, meta_kv[k]);
            goto fail;
        }
    if (check_target(w, err) < 0) goto fail;
    if (plan_shards(w, shard_bytes, err) < 0) goto fail;
    if (make_tmp_dir(w, err) < 0) goto fail;
    if (create_shard_files(w, meta_kv, err) < 0) goto fail;
    return w;
fail:
    stw_abort(w);
    return NULL;
}

size_t stw_shard_count(const StWriter *w) {
    return w->n_shards;
}

const char *stw_shard_name(const StWriter *w, size_t k) {
    return k < w->n_shards ? w->shards[k].name : NULL;
}

const char *stw_tmp_dir(const StWriter *w) {
    return w->tmp;
}

static void extend_hash(StWriter *w, Shard *sh, uint64_t file_offset, const void *bytes, size_t len) {
    pthread_mutex_lock(&w->hash_lock);
    if (file_offset == sh->hashed) {
        hash64_update(&sh->hash, bytes, len);
        sh->hashed += len;
    }
    pthread_mutex_unlock(&w->hash_lock);
}

int stw_shard_hash(StWriter *w, size_t k, uint64_t *hash, uint64_t *bytes, ErrBuf *err) {
    if (k >= w->n_shards) return errbuf_set(err, "%s: shard %zu out of range", w->target, k);
    Shard *sh = &w->shards[k];
    pthread_mutex_lock(&w->hash_lock);
    bool whole = sh->hashed == sh->file_size;
    if (whole) {
        *hash = hash64_final(&sh->hash);
        *bytes = sh->file_size;
    }
    pthread_mutex_unlock(&w->hash_lock);
    if (whole) return 0;
    char *path = str_printf("%s/%s", w->tmp, sh->name);
    if (!path) return errbuf_set(err, "%s: out of memory", w->target);
    int rc = hash64_file(path, hash, bytes, err);
    free(path);
    return rc;
}

int stw_write(StWriter *w, size_t i, const void *bytes, ErrBuf *err) {
    if (i >= w->n) return errbuf_set(err, "%s: tensor index %zu out of range", w->target, i);
    Slot *t = &w->slots[i];
    Shard *sh = &w->shards[t->shard];
    if (pwrite_all(sh->fd, bytes, (size_t)t->nbytes, t->file_offset) != 0) {
        int e = errno;
        char shown[512], extra[320];
        snprintf(shown, sizeof shown, "%s/%s", w->target, sh->name);
        snprintf(extra, sizeof extra, " '%s'", t->name);
        return io_error(err, e, "cannot write tensor", shown, extra);
    }
    extend_hash(w, sh, t->file_offset, bytes, (size_t)t->nbytes);
    t->written = true;
    return 0;
}

int stw_write_part(StWriter *w, size_t i, uint64_t offset, const void *bytes, size_t len, ErrBuf *err) {
    if (i >= w->n) return errbuf_set(err, "%s: tensor index %zu out of range", w->target, i);
    Slot *t = &w->slots[i];
    if (offset > t->nbytes || len > t->nbytes - offset)
        return errbuf_set(err, "%s: tensor '%s': bytes %llu..%llu are outside its %llu bytes", w->target, t->name,
                          (unsigned long long)offset, (unsigned long long)(offset + len),
                          (unsigned long long)t->nbytes);
    Shard *sh = &w->shards[t->shard];
    if (pwrite_all(sh->fd, bytes, len, t->file_offset + offset) != 0) {
        int e = errno;
        char shown[512], extra[320];
        snprintf(shown, sizeof shown, "%s/%s", w->target, sh->name);
        snprintf(extra, sizeof extra, " '%s'", t->name);
        return io_error(err, e, "cannot write tensor", shown, extra);
    }
    extend_hash(w, sh, t->file_offset + offset, bytes, len);
    /* Complete when the parts add up; callers write disjoint parts. */
    if (__atomic_add_fetch(&t->part_bytes, (uint64_t)len, __ATOMIC_ACQ_REL) == t->nbytes) t->written = true;
    return 0;
}

/* A plain file name inside the folder that does not collide with ours. */
static bool extra_name_ok(const StWriter *w, const char *relname) {
    if (!*relname || strchr(relname, '/') || strcmp(relname, ".") == 0 || strcmp(relname, "..") == 0) return false;
    if (strcmp(relname, INDEX_NAME) == 0) return false;
    for (size_t s = 0; s < w->n_shards; s++)
        if (strcmp(relname, w->shards[s].name) == 0) return false;
    return true;
}

int stw_add_file(StWriter *w, const char *relname, const void *data, size_t len, ErrBuf *err) {
    if (!extra_name_ok(w, relname))
        return errbuf_set(err, "%s: '%s' cannot be added to the output folder (not a plain file name, or it "
                               "clashes with a shard or the index)",
                          w->target, relname);
    char *path = str_printf("%s/%s", w->tmp, relname);
    char *shown = str_printf("%s/%s", w->target, relname);
    int rc = 0;
    if (!path || !shown) {
        rc = errbuf_set(err, "%s: out of memory", w->target);
        goto out;
    }
    /* O_TRUNC without O_EXCL: adding the same extra file twice keeps the last. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = io_error(err, errno, "cannot create", shown, NULL);
        goto out;
    }
    if (pwrite_all(fd, data, len, 0) != 0) rc = io_error(err, errno, "cannot write", shown, NULL);
    else if (fsync(fd) != 0) rc = io_error(err, errno, "cannot flush", shown, NULL);
    if (close(fd) != 0 && rc == 0) rc = io_error(err, errno, "cannot close", shown, NULL);
out:
    free(path);
    free(shown);
    return rc;
}

static int write_index(StWriter *w, ErrBuf *err) {
    uint64_t total = 0;
    for (size_t i = 0; i < w->n; i++) total += w->slots[i].nbytes;
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(root, "metadata");
    cJSON *map = cJSON_AddObjectToObject(root, "weight_map");
    bool ok = root && meta && map && cJSON_AddItemToObject(meta, "total_size", raw_u64(total));
    for (size_t i = 0; ok && i < w->n; i++)
        ok = cJSON_AddStringToObject(map, w->slots[i].name, w->shards[w->slots[i].shard].name) != NULL;
    char *json = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!json) return errbuf_set(err, "%s/%s: out of memory", w->target, INDEX_NAME);
    size_t len = strlen(json);
    char *text = malloc(len + 2);
    if (!text) {
        cJSON_free(json);
        return errbuf_set(err, "%s/%s: out of memory", w->target, INDEX_NAME);
    }
    memcpy(text, json, len);
    text[len] = '\n';
    cJSON_free(json);
    /* stw_add_file refuses the index name, so write it directly. */
    char *path = str_printf("%s/%s", w->tmp, INDEX_NAME);
    char *shown = str_printf("%s/%s", w->target, INDEX_NAME);
    int rc = 0;
    if (!path || !shown) {
        rc = errbuf_set(err, "%s: out of memory", w->target);
    } else {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            rc = io_error(err, errno, "cannot create", shown, NULL);
        } else {
            if (pwrite_all(fd, text, len + 1, 0) != 0) rc = io_error(err, errno, "cannot write", shown, NULL);
            else if (fsync(fd) != 0) rc = io_error(err, errno, "cannot flush", shown, NULL);
            if (close(fd) != 0 && rc == 0) rc = io_error(err, errno, "cannot close", shown, NULL);
        }
    }
    free(path);
    free(shown);
    free(text);
    return rc;
}

/* Moves the finished temporary folder onto the target. */
static int install(StWriter *w, ErrBuf *err) {
    if (rename(w->tmp, w->target) == 0) return 0;
    int e = errno;
    /* An empty target folder is replaced by rename itself; anything else
     * lands here and needs overwrite. */
    if (e != ENOTEMPTY && e != EEXIST && e != ENOTDIR && e != EISDIR) {
        char buf[128];
        return errbuf_set(err, "'%s': cannot move the finished output into place: %s%s", w->target,
                          ERRTEXT(e, buf), hint(e));
    }
    if (!w->overwrite)
        return errbuf_set(err, "'%s' already exists and is not empty (use --force to replace it)", w->target);
    char *old = NULL;
    for (unsigned n = 0; n < 10000 && !old; n++) {
        char *p = str_printf("%s/.%s.old-%ld-%u", w->parent, w->base, (long)getpid(), n);
        if (!p) return errbuf_set(err, "%s: out of memory", w->target);
        struct stat st;
        if (lstat(p, &st) != 0 && errno == ENOENT) old = p;
        else free(p);
    }
    if (!old) return errbuf_set(err, "'%s': cannot find a free name to move the old folder aside", w->target);
    if (rename(w->target, old) != 0) {
        char buf[128];
        int e2 = errno;
        errbuf_set(err, "'%s': cannot move the existing folder aside: %s", w->target, ERRTEXT(e2, buf));
        free(old);
        return -1;
    }
    if (rename(w->tmp, w->target) != 0) {
        char buf[128];
        int e2 = errno;
        rename(old, w->target); /* put the old one back; nothing better to do if that fails */
        errbuf_set(err, "'%s': cannot move the finished output into place: %s", w->target, ERRTEXT(e2, buf));
        free(old);
        return -1;
    }
    remove_tree(old);
    free(old);
    return 0;
}

int stw_commit(StWriter *w, ErrBuf *err) {
    for (size_t i = 0; i < w->n; i++) {
        if (!w->slots[i].written) {
            errbuf_set(err, "%s: tensor '%s' was never written", w->target, w->slots[i].name);
            goto fail;
        }
    }
    for (size_t s = 0; s < w->n_shards; s++) {
        Shard *sh = &w->shards[s];
        char shown[512];
        snprintf(shown, sizeof shown, "%s/%s", w->target, sh->name);
        if (fsync(sh->fd) != 0) {
            io_error(err, errno, "cannot flush", shown, NULL);
            goto fail;
        }
        int rc = close(sh->fd);
        sh->fd = -1;
        if (rc != 0) {
            io_error(err, errno, "cannot close", shown, NULL);
            goto fail;
        }
    }
    if (w->n_shards > 1 && write_index(w, err) < 0) goto fail;
    if (fsync_dir(w->tmp) != 0) {
        io_error(err, errno, "cannot flush the folder", w->target, NULL);
        goto fail;
    }
    if (install(w, err) < 0) goto fail;
    fsync_dir(w->parent); /* best effort: the data itself is already safe */
    free_writer(w);
    return 0;
fail:
    stw_abort(w);
    return -1;
}

/* ---- sizes ------------------------------------------------------------------------ */

int stw_parse_size(const char *s, uint64_t *out) {
    const char *p = s;
    if (!p || *p < '0' || *p > '9') return -1;
    uint64_t ip = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned dig = (unsigned)(*p - '0');
        if (ip > (UINT64_MAX - dig) / 10) return -1;
        ip = ip * 10 + dig;
    }
    /* Up to 6 fraction digits keep frac * mult within 64 bits for TiB. */
    uint64_t frac = 0, scale = 1;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return -1;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (scale >= 1000000) return -1;
            frac = frac * 10 + (uint64_t)(*p - '0');
            scale *= 10;
        }
    }
    while (*p == ' ') p++;
    static const struct { const char *unit; uint64_t mult; } units[] = {
        {"", 1},
        {"K", 1000ull}, {"KB", 1000ull}, {"KIB", 1024ull},
        {"M", 1000000ull}, {"MB", 1000000ull}, {"MIB", 1048576ull},
        {"G", 1000000000ull}, {"GB", 1000000000ull}, {"GIB", 1073741824ull},
        {"T", 1000000000000ull}, {"TB", 1000000000000ull}, {"TIB", 1099511627776ull},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(p, units[i].unit) != 0) continue;
        uint64_t m = units[i].mult;
        if (ip > UINT64_MAX / m) return -1;
        uint64_t v = ip * m, f = frac * m / scale;
        if (v > UINT64_MAX - f) return -1;
        *out = v + f;
        return 0;
    }
    return -1;
}
