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

/* The keys architectures use for the language model's depth and
 * vocabulary (GPT-2, GPTBigCode, Jais and old Phi say n_layer; ChatGLM
 * padded_vocab_size), and the sub-objects a multimodal config nests the
 * language model's settings in (Gemma 3, Mistral 3, Llama 4, Qwen3-VL:
 * text_config; InternVL: llm_config; DeepSeek-VL: language_config). */
static const char *const layer_keys[] = { "num_hidden_layers", "n_layer", "num_layers", "n_layers" };
static const char *const vocab_keys[] = { "vocab_size", "n_vocab", "padded_vocab_size" };
static const char *const dtype_keys[] = { "torch_dtype", "dtype" };
static const char *const text_configs[] = { "text_config", "language_config", "llm_config", "text_model" };

/* Sets every key of `keys` that `obj` already has to a copy of value;
 * returns how many, or -1 when out of memory. */
static int update_existing(cJSON *obj, const char *const *keys, size_t n_keys, const cJSON *value) {
    int found = 0;
    for (size_t k = 0; k < n_keys; k++) {
        if (!cJSON_GetObjectItemCaseSensitive(obj, keys[k])) continue;
        if (!set_key(obj, keys[k], cJSON_Duplicate(value, false))) return -1;
        found++;
    }
    return found;
}

/* update_existing on the top level and on each nested language config. */
static int update_everywhere(cJSON *root, const char *const *keys, size_t n_keys, const cJSON *value) {
    int found = update_existing(root, keys, n_keys, value);
    for (size_t c = 0; found >= 0 && c < sizeof text_configs / sizeof *text_configs; c++) {
        cJSON *sub = cJSON_GetObjectItemCaseSensitive(root, text_configs[c]);
        if (!cJSON_IsObject(sub)) continue;
        int f = update_existing(sub, keys, n_keys, value);
        found = f < 0 ? -1 : found + f;
    }
    return found;
}

#define N_OF(a) (sizeof (a) / sizeof *(a))

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
    cJSON *value = NULL;
    char *json = NULL;
    if (!root || !cJSON_IsObject(root)) {
        errbuf_set(err, "%s: not a JSON object", path);
        goto done;
    }
    /* Every copy of a setting is updated where it already is and no second
     * spelling is added: a config stating two different depths would be
     * read one way by one loader and the other way by another. */
    if (torch_dtype) {
        value = cJSON_CreateString(torch_dtype);
        /* torch_dtype is added when absent, as transformers writes it. */
        if (!value || update_everywhere(root, dtype_keys, N_OF(dtype_keys), value) < 0 ||
            (!cJSON_GetObjectItemCaseSensitive(root, "torch_dtype") && !cJSON_GetObjectItemCaseSensitive(root, "dtype") &&
             !set_key(root, "torch_dtype", cJSON_Duplicate(value, false))))
            goto oom;
        cJSON_Delete(value);
        value = NULL;
    }
    if (n_layers >= 0) {
        value = cJSON_CreateNumber((double)n_layers);
        int found = value ? update_everywhere(root, layer_keys, N_OF(layer_keys), value) : -1;
        if (found < 0) goto oom;
        if (found == 0) {
            errbuf_set(err, "%s: no layer count to update to the merged model's %ld blocks (looked for "
                            "num_hidden_layers, n_layer, num_layers, n_layers at the top and in text_config, "
                            "language_config, llm_config, text_model)", path, n_layers);
            goto done;
        }
        cJSON_Delete(value);
        value = NULL;
    }
    /* Only where a key exists: a config without one keeps its own layout. */
    if (vocab_size >= 0) {
        value = cJSON_CreateNumber((double)vocab_size);
        if (!value || update_everywhere(root, vocab_keys, N_OF(vocab_keys), value) < 0) goto oom;
        cJSON_Delete(value);
        value = NULL;
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
    goto done;
oom:
    cJSON_Delete(value);
    value = NULL;
    errbuf_set(err, "%s: out of memory", path);
done:
    cJSON_Delete(value);
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
