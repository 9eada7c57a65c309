/* folder.c - an output folder's layout, writer and commit; see folder.h.
 * Touches the file system only through the safetensors writer (stw_*) and
 * by reading the config and tokenizer donors' files. */
#include "interp/output/folder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/hash.h"
#include "runtime/io/hfconfig.h"
#include "runtime/io/hfnames.h"
#include "runtime/io/smallfile.h"
#include "interp/output/model_card.h"

DType folder_tensor_dtype(const SaveRequest *r, const TensorInfo *t) {
    return r->has_dtype && dtype_is_computable(t->dtype) ? r->dtype : t->dtype;
}

uint64_t folder_bytes(const SaveRequest *r) {
    const TensorSet *set = r->model.u.node->set;
    uint64_t bytes = 0;
    for (size_t i = 0; i < set->n; i++)
        bytes += (uint64_t)shape_numel(&set->items[i].shape) * dtype_size(folder_tensor_dtype(r, &set->items[i]));
    return bytes;
}

static int config_rewrite(FolderSave *fs, ErrBuf *err);

int folder_prepare(Plan *p, FolderSave *fs, const SaveRequest *r, const char *const *meta) {
    fs->req = r;
    fs->set = r->model.u.node->set;
    size_t n = fs->set->n;
    if (n == 0) {
        diag_error(p->diag, r->span, "the saved model has no tensors");
        return -1;
    }
    fs->order = tset_natural_order(fs->set);
    fs->specs = malloc(n * sizeof *fs->specs);
    if (!fs->order || !fs->specs) {
        diag_error(p->diag, r->span, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const TensorInfo *t = &fs->set->items[fs->order[i]];
        fs->specs[i].name = t->name;
        fs->specs[i].shape = t->shape;
        fs->specs[i].dtype = folder_tensor_dtype(r, t);
        fs->bytes += (uint64_t)shape_numel(&t->shape) * dtype_size(fs->specs[i].dtype);
    }
    ErrBuf err;
    if (r->config && config_rewrite(fs, &err) < 0) {
        diag_error(p->diag, r->span, "%s", err.msg);
        return -1;
    }
    fs->writer = stw_create(r->path, fs->specs, n, r->shard_bytes, meta, p->overwrite, &err);
    if (!fs->writer) {
        diag_error(p->diag, r->span, "%s", err.msg);
        return -1;
    }
    return 0;
}

void folder_free(FolderSave *fs) {
    if (fs->writer) stw_abort(fs->writer);
    fs->writer = NULL;
    free(fs->order);
    free(fs->specs);
    free(fs->config_json);
    fs->config_json = NULL;
}

/* The dtype config.json advertises: the one asked for, else the stored dtype
 * of the first float tensor. */
static const char *config_dtype(const SaveRequest *r, const TensorSet *set) {
    if (r->has_dtype) return dtype_torch_name(r->dtype);
    for (size_t i = 0; i < set->n; i++)
        if (dtype_is_computable(set->items[i].dtype)) return dtype_torch_name(set->items[i].dtype);
    return NULL;
}

/* Rows of the output's token embedding (its vocabulary size), or -1.
 * Position embeddings (GPT-2's wpe) and a vision tower's patch embeddings
 * are embeddings too but say nothing of the vocabulary. */
static long embedding_rows(const TensorSet *set) {
    for (size_t i = 0; i < set->n; i++) {
        const char *name = set->items[i].name;
        if (hfname_is_embedding(name) && set->items[i].shape.rank == 2 && !strstr(name, "wpe") &&
            !strstr(name, "position") && !hfname_is_aux(name, strlen(name)))
            return (long)set->items[i].shape.dims[0];
    }
    return -1;
}

/* The tokenizer's files and generation settings, copied from their donor. */
static const char *const tokenizer_files[] = {
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
    "added_tokens.json", "vocab.json", "merges.txt", "vocab.txt", "chat_template.jinja",
    "chat_template.json", "generation_config.json",
};

/* No tokenizer file is that large (the largest published tokenizer.json
 * files are tens of MB). */
#define TOKENIZER_FILE_MAX ((size_t)512 << 20)

/* config.json of the save's config donor, rewritten for the output into
 * fs->config_json (left NULL when the donor has none). Returns 0, or -1
 * with a message in err. */
static int config_rewrite(FolderSave *fs, ErrBuf *err) {
    const SaveRequest *r = fs->req;
    /* The language model's depth; none to state for an encoder-decoder,
     * whose stacks layers() and stack() never change. */
    const TensorSet *set = fs->set;
    long layers = set->n_layers > 0 && (set->main_module >= 0 || set->n_modules <= 1) ? set->n_layers : -1;
    int c = hfconfig_rewrite(r->config->dir, config_dtype(r, fs->set), layers, embedding_rows(fs->set),
                             &fs->config_json, &fs->config_len, err);
    return c < 0 ? -1 : 0;
}

static int add_file(StWriter *w, const char *name, const char *data, size_t len, ErrBuf *err) {
    return data ? stw_add_file(w, name, data, len, err) : errbuf_set(err, "%s: out of memory", name);
}

int folder_commit(Plan *p, FolderSave *fs, bool quiet, const ProvFile *inputs, size_t n_inputs, const char *recipe,
                  size_t recipe_len) {
    const SaveRequest *r = fs->req;
    StWriter *w = fs->writer;
    fs->writer = NULL;
    ErrBuf err;
    int c = 0;
    if (fs->config_json) c = stw_add_file(w, "config.json", fs->config_json, fs->config_len, &err);
    for (size_t i = 0; c == 0 && r->tokenizer && i < sizeof tokenizer_files / sizeof *tokenizer_files; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", r->tokenizer->dir, tokenizer_files[i]);
        size_t len = 0;
        char *data = NULL;
        /* A tokenizer has only some of these files; one that exists but
         * cannot be read whole (a FIFO, a huge file) stops the save. */
        int rc = smallfile_read(path, path, TOKENIZER_FILE_MAX, true, &data, &len, &err);
        if (rc == 1) continue;
        c = rc < 0 ? -1 : stw_add_file(w, tokenizer_files[i], data, len, &err);
        free(data);
    }
    if (c == 0 && recipe) c = stw_add_file(w, "recipe.merge", recipe, recipe_len, &err);
    if (c == 0) {
        size_t len;
        char *card = card_readme(p, r, recipe, &len);
        c = add_file(w, "README.md", card, len, &err);
        free(card);
    }
    size_t shards = stw_shard_count(w);
    ProvFile *out = calloc(shards + 1, sizeof *out);
    for (size_t k = 0; c == 0 && out && k < shards; k++) {
        out[k].path = stw_shard_name(w, k);
        c = stw_shard_hash(w, k, &out[k].hash, &out[k].bytes, &err);
    }
    if (c == 0) {
        char *json = out ? prov_json(recipe ? hash64(recipe, recipe_len) : 0, inputs, n_inputs, out, shards) : NULL;
        c = add_file(w, "provenance.json", json, json ? strlen(json) : 0, &err);
        free(json);
    }
    free(out);
    if (c != 0) {
        stw_abort(w);
        diag_error(p->diag, r->span, "%s", err.msg);
        return -1;
    }
    if (stw_commit(w, &err) != 0) {
        diag_error(p->diag, r->span, "%s", err.msg);
        return -1;
    }
    if (!quiet)
        fprintf(stderr, "mergelang: wrote %s (%zu tensor%s, %.1f MB, %zu shard%s)\n", r->path, fs->set->n,
                fs->set->n == 1 ? "" : "s", (double)fs->bytes / 1e6, shards, shards == 1 ? "" : "s");
    return 0;
}
