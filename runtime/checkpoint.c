/* checkpoint.c - opening a checkpoint (one safetensors file, or a Hugging
 * Face folder, sharded or not) as one sorted table of tensors; see
 * checkpoint.h.
 *
 * The index file is as untrusted as a header: shard names come from it and
 * are joined to the folder path, so anything but a plain file name is
 * refused before any path is built. Only the tensors the weight_map lists
 * are exposed; a shard may hold more (they are ignored, as the Hugging Face
 * loaders ignore them). */
#include "checkpoint.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_NAME "model.safetensors.index.json"
#define MAX_INDEX_BYTES (100u * 1000u * 1000u)

void ckpt_close(Ckpt *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n_shards; i++) st_close(c->shards[i]);
    free(c->shards);
    free(c->tensors);
    free(c->path);
    free(c->dir);
    free(c);
}

const CkptTensor *ckpt_find(const Ckpt *c, const char *name) {
    size_t lo = 0, hi = c->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(c->tensors[mid].name, name);
        if (r == 0) return &c->tensors[mid];
        if (r < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

void ckpt_read_f32(const CkptTensor *t, float *dst) {
    int64_t n = shape_numel(&t->shape);
    dtype_decode_f32(t->dtype, t->data, dst, n > 0 ? (size_t)n : 0);
}

static char *join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static int cmp_tensor(const void *a, const void *b) {
    return strcmp(((const CkptTensor *)a)->name, ((const CkptTensor *)b)->name);
}

static CkptTensor from_st(const StTensor *t, const StFile *f) {
    CkptTensor c = {t->name, t->dtype, t->shape, t->data, t->nbytes, f};
    return c;
}

/* Every tensor of a single file; already sorted by name. */
static int take_single(Ckpt *c, StFile *f, ErrBuf *err) {
    c->shards = malloc(sizeof *c->shards);
    c->tensors = malloc((f->n_tensors ? f->n_tensors : 1) * sizeof *c->tensors);
    if (!c->shards || !c->tensors) {
        st_close(f);
        return errbuf_set(err, "%s: out of memory", c->path);
    }
    c->shards[0] = f;
    c->n_shards = 1;
    for (size_t i = 0; i < f->n_tensors; i++) c->tensors[i] = from_st(&f->tensors[i], f);
    c->n_tensors = f->n_tensors;
    return 0;
}

/* Reads a small file whole, NUL-terminated. */
static int read_file(const char *path, size_t max, char **out, size_t *out_len, ErrBuf *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return errbuf_set(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        close(fd);
        return errbuf_set(err, "%s: not a regular file of at most %zu bytes", path, max);
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return errbuf_set(err, "%s: out of memory", path);
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        free(buf);
        return errbuf_set(err, "%s: could not read the whole file", path);
    }
    buf[size] = '\0';
    *out = buf;
    *out_len = size;
    return 0;
}

static bool plain_file_name(const char *s) {
    return *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* Opens the shards named by the index and builds the tensor table from its
 * weight_map. */
static int open_index(Ckpt *c, const char *index_path, ErrBuf *err) {
    char *text = NULL;
    size_t len = 0;
    if (read_file(index_path, MAX_INDEX_BYTES, &text, &len, err) < 0) return -1;
    cJSON *root = cJSON_ParseWithLength(text, len);
    int rc = -1;
    const cJSON *map = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (!root) {
        errbuf_set(err, "%s: not valid JSON", index_path);
        goto out;
    }
    if (!cJSON_IsObject(root) || !cJSON_IsObject(map)) {
        errbuf_set(err, "%s: must be a JSON object with a \"weight_map\" object", index_path);
        goto out;
    }
    size_t n = 0;
    for (const cJSON *e = map->child; e; e = e->next) {
        if (!cJSON_IsString(e)) {
            errbuf_set(err, "%s: tensor '%s': the shard name must be a string", index_path, e->string);
            goto out;
        }
        if (!plain_file_name(e->valuestring)) {
            errbuf_set(err, "%s: tensor '%s': shard name '%s' must be a plain file name inside the folder",
                       index_path, e->string, e->valuestring);
            goto out;
        }
        n++;
    }

    /* Each distinct shard is opened once, in order of first mention. */
    c->shards = calloc(n ? n : 1, sizeof *c->shards);
    c->tensors = calloc(n ? n : 1, sizeof *c->tensors);
    if (!c->shards || !c->tensors) {
        errbuf_set(err, "%s: out of memory", index_path);
        goto out;
    }
    for (const cJSON *e = map->child; e; e = e->next) {
        StFile *sf = NULL;
        for (size_t s = 0; s < c->n_shards && !sf; s++) {
            const char *slash = strrchr(c->shards[s]->path, '/');
            if (strcmp(slash ? slash + 1 : c->shards[s]->path, e->valuestring) == 0) sf = c->shards[s];
        }
        if (!sf) {
            char *p = join(c->dir, e->valuestring);
            if (!p) {
                errbuf_set(err, "%s: out of memory", index_path);
                goto out;
            }
            struct stat st;
            if (stat(p, &st) != 0 && errno == ENOENT) {
                errbuf_set(err, "%s: tensor '%s': shard '%s' does not exist", index_path, e->string,
                           e->valuestring);
                free(p);
                goto out;
            }
            sf = st_open(p, err);
            free(p);
            if (!sf) goto out;
            c->shards[c->n_shards++] = sf;
        }
        const StTensor *t = st_find(sf, e->string);
        if (!t) {
            errbuf_set(err, "%s: tensor '%s' is mapped to shard '%s', which does not contain it", index_path,
                       e->string, e->valuestring);
            goto out;
        }
        c->tensors[c->n_tensors++] = from_st(t, sf);
    }
    qsort(c->tensors, c->n_tensors, sizeof *c->tensors, cmp_tensor);
    for (size_t i = 1; i < c->n_tensors; i++) {
        if (strcmp(c->tensors[i - 1].name, c->tensors[i].name) == 0) {
            errbuf_set(err, "%s: tensor '%s' is listed twice in the weight_map", index_path, c->tensors[i].name);
            goto out;
        }
    }
    rc = 0;
out:
    cJSON_Delete(root);
    free(text);
    return rc;
}

static bool is_regular(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

Ckpt *ckpt_open(const char *path, ErrBuf *err) {
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) errbuf_set(err, "%s: no such file or directory", path);
        else errbuf_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    Ckpt *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        errbuf_set(err, "%s: out of memory", path);
        return NULL;
    }

    if (!S_ISDIR(st.st_mode)) {
        const char *slash = strrchr(path, '/');
        c->dir = slash == path ? strdup("/") : slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
        StFile *f = c->dir ? st_open(path, err) : NULL;
        if (!c->dir) errbuf_set(err, "%s: out of memory", path);
        if (!f || take_single(c, f, err) < 0) goto fail;
        return c;
    }

    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') len--;
    c->dir = strndup(path, len);
    char *single = c->dir ? join(c->dir, "model.safetensors") : NULL;
    char *index = c->dir ? join(c->dir, INDEX_NAME) : NULL;
    int rc = -1;
    if (!single || !index) {
        errbuf_set(err, "%s: out of memory", path);
    } else if (is_regular(single)) {
        StFile *f = st_open(single, err);
        rc = f ? take_single(c, f, err) : -1;
    } else if (is_regular(index)) {
        rc = open_index(c, index, err);
    } else {
        errbuf_set(err, "folder %s has neither model.safetensors nor %s", path, INDEX_NAME);
    }
    free(single);
    free(index);
    if (rc < 0) goto fail;
    return c;
fail:
    ckpt_close(c);
    return NULL;
}
