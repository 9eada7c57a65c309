/* inputs.c - input hashes and shard-header metadata for provenance; see
 * inputs.h. Reads the input files and the hash cache (which it updates);
 * touches nothing else. */
#include "interp/output/inputs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "runtime/io/hash.h"
#include "runtime/io/hashcache.h"

typedef struct HashJob {
    ProvFile *files;
    const size_t *todo;        /* indices of the files to hash */
    size_t n, next;            /* next: atomic */
    bool *ok;
    const volatile sig_atomic_t *cancel;  /* checked between files */
} HashJob;

static void *hash_worker(void *arg) {
    HashJob *hj = arg;
    for (;;) {
        size_t k = __atomic_fetch_add(&hj->next, 1, __ATOMIC_RELAXED);
        if (k >= hj->n || (hj->cancel && *hj->cancel)) return NULL;
        size_t i = hj->todo[k];
        ErrBuf err;
        hj->ok[i] = hash64_file(hj->files[i].path, &hj->files[i].hash, &hj->files[i].bytes, &err) == 0;
    }
}

ProvFile *inputs_hash(Plan *p, int threads, const volatile sig_atomic_t *cancel, size_t *n) {
    size_t total = 0;
    for (size_t i = 0; i < p->n_ckpts; i++) total += p->ckpts[i].ckpt->n_shards;
    ProvFile *f = calloc(total + 1, sizeof *f);
    bool *ok = calloc(total + 1, sizeof *ok), *stat_ok = calloc(total + 1, sizeof *stat_ok);
    struct stat *st = calloc(total + 1, sizeof *st);
    size_t *todo = calloc(total + 1, sizeof *todo);
    *n = 0;
    if (!f || !ok || !stat_ok || !st || !todo) {
        free(ok);
        free(stat_ok);
        free(st);
        free(todo);
        return f;
    }
    char cache_path[4096];
    HashCache *cache =
        hashcache_default_path(cache_path, sizeof cache_path) ? hashcache_open(cache_path, PROV_HASH_NAME) : NULL;
    HashJob hj = { .files = f, .todo = todo, .ok = ok, .cancel = cancel };
    for (size_t i = 0, k = 0; i < p->n_ckpts; i++)
        for (size_t s = 0; s < p->ckpts[i].ckpt->n_shards; s++) f[k++].path = p->ckpts[i].ckpt->shards[s]->path;
    /* The time of the stats, not of the end of hashing: a file changed
     * within HASHCACHE_SETTLE_SECONDS before them is not remembered (its
     * times may not have moved since). */
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < total; i++) {
        /* Stat before hashing: a file changed meanwhile is remembered
         * under its old times, which it no longer has. */
        stat_ok[i] = stat(f[i].path, &st[i]) == 0;
        if (stat_ok[i] && hashcache_get(cache, &st[i], &f[i].hash)) {
            f[i].bytes = (uint64_t)st[i].st_size;
            ok[i] = true;
        } else {
            todo[hj.n++] = i;
        }
    }
    pthread_t tids[64];
    int started = 0;
    for (int t = 1; t < threads && t < 64 && (size_t)t < hj.n; t++)
        if (pthread_create(&tids[started], NULL, hash_worker, &hj) == 0) started++;
    hash_worker(&hj);
    for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
    for (size_t k = 0; k < hj.n; k++) {
        size_t i = todo[k];
        if (ok[i] && stat_ok[i] && hashcache_trusts(f[i].path))
            hashcache_put(cache, f[i].path, &st[i], f[i].hash, now);
    }
    hashcache_save(cache);
    hashcache_close(cache);
    /* A file that cannot be read now fails later, with a better message. */
    for (size_t i = 0; i < total; i++)
        if (ok[i]) f[(*n)++] = f[i];
    free(ok);
    free(stat_ok);
    free(st);
    free(todo);
    return f;
}

void inputs_meta(InputsMeta *m, const ProvFile *inputs, size_t n_inputs, const char *recipe, size_t recipe_len) {
    snprintf(m->recipe_hex, sizeof m->recipe_hex, "%016llx",
             (unsigned long long)(recipe ? hash64(recipe, recipe_len) : 0));
    m->inputs_json = NULL;
    size_t ij_len = 0;
    FILE *ij = open_memstream(&m->inputs_json, &ij_len);
    if (ij) {
        fputc('[', ij);
        for (size_t i = 0; i < n_inputs; i++) {
            fputs(i ? ", {\"path\": \"" : "{\"path\": \"", ij);
            for (const char *c = inputs[i].path; *c; c++) {
                if (*c == '"' || *c == '\\') fputc('\\', ij);
                if ((unsigned char)*c >= 0x20) fputc(*c, ij);
            }
            fprintf(ij, "\", \"hash\": \"%016llx\"}", (unsigned long long)inputs[i].hash);
        }
        fputc(']', ij);
        fclose(ij);
    }
    const char *kv[] = { "producer", "mergelang", "mergelang_recipe_hash", m->recipe_hex,
                         "mergelang_inputs", m->inputs_json ? m->inputs_json : "[]", NULL };
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) m->kv[i] = kv[i];
}

void inputs_meta_free(InputsMeta *m) {
    free(m->inputs_json);
    m->inputs_json = NULL;
}
