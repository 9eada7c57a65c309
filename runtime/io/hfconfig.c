/* hfconfig.c - rewriting the config.json of a merged model; see hfconfig.h.
 *
 * Keys keep their order: an existing key is replaced in place and a missing
 * one appended, so the output diffs cleanly against the input. */
#include "runtime/io/hfconfig.h"
#include "runtime/io/smallfile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CONFIG_BYTES (16u * 1000u * 1000u)

static bool set_key(cJSON *root, const char *key, cJSON *value) {
    if (!value) return false;
    if (cJSON_GetObjectItemCaseSensitive(root, key))
        return cJSON_ReplaceItemInObjectCaseSensitive(root, key, value);
    if (cJSON_AddItemToObject(root, key, value)) return true;
    cJSON_Delete(value);
    return false;
}

/* Reads "<model_dir>/config.json"; *path is that file's name (freed by the
 * caller on success). Returns as smallfile_read with missing_ok. */
static int read_model_config(const char *model_dir, char **path, char **text, size_t *len, ErrBuf *err) {
    size_t dl = strlen(model_dir);
    *path = malloc(dl + sizeof "/config.json");
    if (!*path) return errbuf_set(err, "%s: out of memory", model_dir);
    memcpy(*path, model_dir, dl);
    memcpy(*path + dl, "/config.json", sizeof "/config.json");
    int rc = smallfile_read(*path, *path, MAX_CONFIG_BYTES, true, text, len, err);
    if (rc != 0) {
        free(*path);
        *path = NULL;
    }
    return rc;
}

int hfconfig_rewrite(const char *model_dir, const char *torch_dtype, long n_layers, long vocab_size, char **out,
                     size_t *out_len, ErrBuf *err) {
    *out = NULL;
    *out_len = 0;
    char *path = NULL, *text = NULL;
    size_t len = 0;
    int rc = read_model_config(model_dir, &path, &text, &len, err);
    if (rc != 0) return rc;
    rc = -1;
    cJSON *root = cJSON_ParseWithLength(text, len);
    char *json = NULL;
    if (!root || !cJSON_IsObject(root)) {
        errbuf_set(err, "%s: not a JSON object", path);
        goto done;
    }
    if (torch_dtype && !set_key(root, "torch_dtype", cJSON_CreateString(torch_dtype))) {
        errbuf_set(err, "%s: out of memory", path);
        goto done;
    }
    if (n_layers >= 0 && !set_key(root, "num_hidden_layers", cJSON_CreateNumber((double)n_layers))) {
        errbuf_set(err, "%s: out of memory", path);
        goto done;
    }
    /* Only where the key exists: a config without it keeps its own layout. */
    if (vocab_size >= 0 && cJSON_GetObjectItemCaseSensitive(root, "vocab_size") &&
        !set_key(root, "vocab_size", cJSON_CreateNumber((double)vocab_size))) {
        errbuf_set(err, "%s: out of memory", path);
        goto done;
    }
    json = cJSON_Print(root);
    if (!json) {
        errbuf_set(err, "%s: out of memory", path);
        goto done;
    }
    /* Copied so the caller frees with free() whatever hooks cJSON uses. */
    size_t n = strlen(json);
    char *copy = malloc(n + 2);
    if (!copy) {
        errbuf_set(err, "%s: out of memory", path);
        goto done;
    }
    memcpy(copy, json, n);
    copy[n] = '\n';
    copy[n + 1] = '\0';
    *out = copy;
    *out_len = n + 1;
    rc = 0;
done:
    if (json) cJSON_free(json);
    cJSON_Delete(root);
    free(text);
    free(path);
    return rc;
}

int hfconfig_get_long(const char *model_dir, const char *key, long *out, const char **why, ErrBuf *err) {
    *why = "no such key";
    char *path = NULL, *text = NULL;
    size_t len = 0;
    int rc = read_model_config(model_dir, &path, &text, &len, err);
    if (rc != 0) {
        if (rc == 1) *why = "no config.json";
        return rc;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    rc = 1;
    if (!root || !cJSON_IsObject(root)) {
        rc = errbuf_set(err, "%s: not a JSON object", path);
    } else {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
        /* Range first: converting a double outside long's range is undefined. */
        if (v && cJSON_IsNumber(v) && v->valuedouble >= -1e15 && v->valuedouble <= 1e15 &&
            v->valuedouble == floor(v->valuedouble)) {
            *out = (long)v->valuedouble;
            rc = 0;
        } else if (v) {
            *why = "not a whole number";
        }
    }
    cJSON_Delete(root);
    free(text);
    free(path);
    return rc;
}
