/* checkpoint.c - opening a checkpoint (one safetensors file, or a Hugging
 * Face folder, sharded or not) as one sorted table of tensors; see
 * checkpoint.h.
 *
 * The index file is as untrusted as a header: shard names come from it and
 * are joined to the folder path, so anything but a plain file name is
 * refused before any path is built. Only the tensors the weight_map lists
 * are exposed; a shard may hold more (they are ignored, as the Hugging Face
 * loaders ignore them). */
#include "runtime/io/checkpoint.h"
#include "runtime/io/smallfile.h"
#include "runtime/io/torchbin.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_NAME "model.safetensors.index.json"
#define TORCH_NAME "pytorch_model.bin"
#define TORCH_INDEX_NAME "pytorch_model.bin.index.json"
#define MAX_INDEX_BYTES (100u * 1000u * 1000u)
#define LABEL_MAX 300

void ckpt_close(Ckpt *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n_shards; i++) {
        if (c->torch_shards) tbin_close(c->shards[i]);
        else st_close(c->shards[i]);
    }
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
        if (c->torch_shards) tbin_close(f);
        else st_close(f);
        return errbuf_set(err, "%s: out of memory", c->path);
    }
    c->shards[0] = f;
    c->n_shards = 1;
    for (size_t i = 0; i < f->n_tensors; i++) c->tensors[i] = from_st(&f->tensors[i], f);
    c->n_tensors = f->n_tensors;
    return 0;
}

/* A path as messages show it: cut to its last LABEL_MAX bytes ("...tail")
 * when longer, so that the reason after it always fits in an ErrBuf. */
static const char *short_label(const char *path, char buf[LABEL_MAX + 4]) {
    size_t n = strlen(path);
    if (n <= LABEL_MAX) return path;
    snprintf(buf, LABEL_MAX + 4, "...%s", path + n - LABEL_MAX);
    return buf;
}

static bool plain_file_name(const char *s) {
    return *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static size_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

/* One file of the checkpoint, in its format. */
static StFile *open_file(const Ckpt *c, const char *path, ErrBuf *err) {
    return c->torch_shards ? tbin_open(path, err) : st_open(path, err);
}

/* Whether path names a PyTorch file (by its extension, as the Hugging Face
 * loaders decide). */
static bool torch_path(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && strcmp(path + n - 4, ".bin") == 0;
}

/* Opens the shards named by the index and builds the tensor table from its
 * weight_map. */
static int open_index(Ckpt *c, const char *index_path, ErrBuf *err) {
    char lbuf[LABEL_MAX + 4];
    const char *label = short_label(index_path, lbuf);
    char *text = NULL;
    size_t len = 0;
    if (smallfile_read(index_path, label, MAX_INDEX_BYTES, false, &text, &len, err) < 0) return -1;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    int rc = -1;
    size_t *slots = NULL;
    const char **shard_names = NULL;
    const cJSON *map = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (!root) {
        size_t pos = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        errbuf_set(err, "%s: not valid JSON (near byte %zu)", label, pos);
        goto out;
    }
    if (!cJSON_IsObject(root) || !cJSON_IsObject(map)) {
        errbuf_set(err, "%s: must be a JSON object with a \"weight_map\" object", label);
        goto out;
    }
    size_t n = 0;
    for (const cJSON *e = map->child; e; e = e->next) {
        /* Names are checked for length before they are quoted, so every
         * message below has room for its reason. */
        size_t name_len = strlen(e->string);
        if (name_len > ST_MAX_NAME) {
            errbuf_set(err, "%s: a tensor name of %zu bytes is longer than the limit of %d (it starts '%.40s')",
                       label, name_len, ST_MAX_NAME, e->string);
            goto out;
        }
        if (!cJSON_IsString(e)) {
            errbuf_set(err, "%s: tensor '%s': the shard name must be a string", label, e->string);
            goto out;
        }
        size_t shard_len = strlen(e->valuestring);
        if (shard_len > NAME_MAX) {
            errbuf_set(err, "%s: tensor '%s': a shard name of %zu bytes is longer than a file name can be",
                       label, e->string, shard_len);
            goto out;
        }
        if (!plain_file_name(e->valuestring)) {
            errbuf_set(err, "%s: tensor '%s': shard name '%s' must be a plain file name inside the folder",
                       label, e->string, e->valuestring);
            goto out;
        }
        n++;
    }

    /* Each distinct shard is opened once, in order of first mention; a hash
     * of shard names (slot: index + 1) finds it again, so a weight_map of
     * many entries and many shards is not quadratic. */
    size_t n_slots = 16;
    while (n_slots < 2 * n) n_slots *= 2;
    c->shards = calloc(n ? n : 1, sizeof *c->shards);
    c->tensors = calloc(n ? n : 1, sizeof *c->tensors);
    slots = calloc(n_slots, sizeof *slots);
    shard_names = calloc(n ? n : 1, sizeof *shard_names);
    if (!c->shards || !c->tensors || !slots || !shard_names) {
        errbuf_set(err, "%s: out of memory", label);
        goto out;
    }
    for (const cJSON *e = map->child; e; e = e->next) {
        StFile *sf = NULL;
        size_t h = name_hash(e->valuestring) & (n_slots - 1);
        for (; slots[h] && !sf; h = (h + 1) & (n_slots - 1))
            if (strcmp(shard_names[slots[h] - 1], e->valuestring) == 0) sf = c->shards[slots[h] - 1];
        if (!sf) {
            char *p = join(c->dir, e->valuestring);
            if (!p) {
                errbuf_set(err, "%s: out of memory", label);
                goto out;
            }
            struct stat st;
            if (lstat(p, &st) != 0 && errno == ENOENT) {
                errbuf_set(err, "%s: tensor '%s': shard '%s' does not exist", label, e->string,
                           e->valuestring);
                free(p);
                goto out;
            }
            sf = open_file(c, p, err);
            free(p);
            if (!sf) goto out;
            shard_names[c->n_shards] = e->valuestring;
            c->shards[c->n_shards++] = sf;
            slots[h] = c->n_shards;
        }
        const StTensor *t = st_find(sf, e->string);
        if (!t) {
            errbuf_set(err, "%s: tensor '%s' is mapped to shard '%s', which does not contain it", label,
                       e->string, e->valuestring);
            goto out;
        }
        c->tensors[c->n_tensors++] = from_st(t, sf);
    }
    qsort(c->tensors, c->n_tensors, sizeof *c->tensors, cmp_tensor);
    for (size_t i = 1; i < c->n_tensors; i++) {
        if (strcmp(c->tensors[i - 1].name, c->tensors[i].name) == 0) {
            errbuf_set(err, "%s: tensor '%s' is listed twice in the weight_map", label, c->tensors[i].name);
            goto out;
        }
    }
    rc = 0;
out:
    free(slots);
    free(shard_names);
    cJSON_Delete(root);
    free(text);
    return rc;
}

/* Whether something (anything, even a dangling symlink) is at path: then
 * it is the file the folder means, and opening it reports what is wrong. */
static bool present(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

Ckpt *ckpt_open(const char *path, ErrBuf *err) {
    char lbuf[LABEL_MAX + 4];
    const char *label = short_label(path, lbuf);
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) errbuf_set(err, "%s: no such file or directory", label);
        else errbuf_set(err, "%s: %s", label, strerror(errno));
        return NULL;
    }
    Ckpt *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        errbuf_set(err, "%s: out of memory", label);
        return NULL;
    }

    if (!S_ISDIR(st.st_mode)) {
        const char *slash = strrchr(path, '/');
        c->dir = slash == path ? strdup("/") : slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
        c->torch_shards = torch_path(path);
        StFile *f = c->dir ? open_file(c, path, err) : NULL;
        if (!c->dir) errbuf_set(err, "%s: out of memory", label);
        if (!f || take_single(c, f, err) < 0) goto fail;
        return c;
    }

    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') len--;
    c->dir = strndup(path, len);
    char *single = c->dir ? join(c->dir, "model.safetensors") : NULL;
    char *index = c->dir ? join(c->dir, INDEX_NAME) : NULL;
    char *torch_single = c->dir ? join(c->dir, TORCH_NAME) : NULL;
    char *torch_index = c->dir ? join(c->dir, TORCH_INDEX_NAME) : NULL;
    int rc = -1;
    if (!single || !index || !torch_single || !torch_index) {
        errbuf_set(err, "%s: out of memory", label);
    } else if (present(single)) {
        StFile *f = st_open(single, err);
        rc = f ? take_single(c, f, err) : -1;
    } else if (present(index)) {
        rc = open_index(c, index, err);
    } else if (present(torch_single)) {
        c->torch_shards = true;
        StFile *f = tbin_open(torch_single, err);
        rc = f ? take_single(c, f, err) : -1;
    } else if (present(torch_index)) {
        c->torch_shards = true;
        rc = open_index(c, torch_index, err);
    } else {
        errbuf_set(err, "folder %s has no checkpoint: neither model.safetensors nor %s, nor PyTorch's %s or %s",
                   label, INDEX_NAME, TORCH_NAME, TORCH_INDEX_NAME);
    }
    free(single);
    free(index);
    free(torch_single);
    free(torch_index);
    if (rc < 0) goto fail;
    return c;
fail:
    ckpt_close(c);
    return NULL;
}
