/* provenance.c - writing and checking provenance.json; see provenance.h. */
#include "runtime/io/provenance.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/checkpoint.h"
#include "runtime/io/hash.h"

static cJSON *files_json(const ProvFile *f, size_t n, const char *key) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)f[i].hash);
        if (!o || !cJSON_AddStringToObject(o, key, f[i].path) ||
            !cJSON_AddNumberToObject(o, "bytes", (double)f[i].bytes) || !cJSON_AddStringToObject(o, "hash", hex)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return NULL;
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

char *prov_json(uint64_t recipe_hash, const ProvFile *inputs, size_t n_inputs, const ProvFile *shards,
                size_t n_shards) {
    cJSON *root = cJSON_CreateObject();
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)recipe_hash);
    cJSON *in = files_json(inputs, n_inputs, "path"), *out = files_json(shards, n_shards, "file");
    char *text = NULL;
    if (root && in && out && cJSON_AddStringToObject(root, "producer", "mergelang") &&
        cJSON_AddStringToObject(root, "hash", PROV_HASH_NAME) && cJSON_AddStringToObject(root, "recipe_hash", hex)) {
        cJSON_AddItemToObject(root, "inputs", in);
        cJSON_AddItemToObject(root, "shards", out);
        in = out = NULL;
        text = cJSON_Print(root);
    }
    cJSON_Delete(in);
    cJSON_Delete(out);
    cJSON_Delete(root);
    return text;
}

static char *read_text(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (64u << 20)) break;
            char *b = realloc(buf, cap);
            if (!b) break;
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    *len = n;
    return buf;
}

int prov_verify(const char *dir, FILE *report, ErrBuf *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/provenance.json", dir);
    size_t len = 0;
    char *text = read_text(path, &len);
    if (!text) return errbuf_set(err, "%s: cannot read (was the folder written by mergelang?)", path);
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *shards = root ? cJSON_GetObjectItemCaseSensitive(root, "shards") : NULL;
    if (!cJSON_IsArray(shards)) {
        cJSON_Delete(root);
        return errbuf_set(err, "%s: not a provenance file (no \"shards\" list)", path);
    }
    /* Hashes from another version of the hash cannot be compared: say so
     * rather than report every shard as changed. */
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "hash");
    if (cJSON_IsString(kind) && strcmp(kind->valuestring, PROV_HASH_NAME) != 0) {
        int rc = errbuf_set(err, "%s: its hashes are '%s'; this mergelang computes '%s' and cannot check them "
                                 "(re-run the merge to get a checkable folder)",
                            path, kind->valuestring, PROV_HASH_NAME);
        cJSON_Delete(root);
        return rc;
    }
    int bad = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, shards) {
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(s, "file");
        const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(s, "bytes");
        const cJSON *hash = cJSON_GetObjectItemCaseSensitive(s, "hash");
        if (!cJSON_IsString(file) || !cJSON_IsNumber(bytes) || !cJSON_IsString(hash) || strchr(file->valuestring, '/')) {
            fprintf(report, "FAIL %s: a malformed shard entry\n", path);
            bad = 1;
            continue;
        }
        char shard[4096 + 256];
        snprintf(shard, sizeof shard, "%s/%s", dir, file->valuestring);
        uint64_t h, n;
        ErrBuf e;
        if (hash64_file(shard, &h, &n, &e) != 0) {
            fprintf(report, "FAIL %s\n", e.msg);
            bad = 1;
            continue;
        }
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
        if ((double)n != bytes->valuedouble || strcmp(hex, hash->valuestring) != 0) {
            fprintf(report, "FAIL %s: content differs from provenance.json (%llu bytes, hash %s; recorded %.0f bytes, %s)\n",
                    shard, (unsigned long long)n, hex, bytes->valuedouble, hash->valuestring);
            bad = 1;
        } else {
            fprintf(report, "ok %s (%llu bytes, hash %s)\n", file->valuestring, (unsigned long long)n, hex);
        }
    }
    cJSON_Delete(root);
    ErrBuf e;
    Ckpt *c = ckpt_open(dir, &e);
    if (!c) {
        fprintf(report, "FAIL %s\n", e.msg);
        bad = 1;
    } else {
        fprintf(report, "ok %s: headers and index are consistent (%zu tensors in %zu shard%s)\n", dir,
                c->n_tensors, c->n_shards, c->n_shards == 1 ? "" : "s");
        ckpt_close(c);
    }
    return bad;
}
