/* hfarch.c - the architecture fields of config.json; see hfarch.h. */
#include "runtime/io/hfarch.h"
#include "runtime/io/smallfile.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HFARCH_MAX_CONFIG_BYTES (16u * 1000u * 1000u)

static long whole_number(const cJSON *v) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    return d >= 0 && d < 1e15 && d == (double)(long)d ? (long)d : -1;
}

int hfarch_read(const char *model_dir, HfArch *out, ErrBuf *err) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/config.json", model_dir) >= (int)sizeof path)
        return errbuf_set(err, "%s: path too long", model_dir);
    char *text = NULL;
    size_t len = 0;
    int rc = smallfile_read(path, path, HFARCH_MAX_CONFIG_BYTES, true, &text, &len, err);
    if (rc != 0) return rc;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return errbuf_set(err, "%s: not a JSON object", path);
    }
    memset(out, 0, sizeof *out);
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    const cJSON *list = cJSON_IsArray(archs) ? archs : NULL;
    const cJSON *a;
    size_t used = 0;
    cJSON_ArrayForEach(a, list) {
        if (!cJSON_IsString(a)) continue;
        int n = snprintf(out->architectures + used, sizeof out->architectures - used, "%s%s",
                         used ? ", " : "", a->valuestring);
        if (n < 0 || (size_t)n >= sizeof out->architectures - used) break;
        used += (size_t)n;
    }
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (cJSON_IsString(mt)) snprintf(out->model_type, sizeof out->model_type, "%s", mt->valuestring);
    out->hidden_size = whole_number(cJSON_GetObjectItemCaseSensitive(root, "hidden_size"));
    if (out->hidden_size < 0) {
        /* vision-language models keep the language model's sizes here */
        const cJSON *tc = cJSON_GetObjectItemCaseSensitive(root, "text_config");
        out->hidden_size = whole_number(cJSON_GetObjectItemCaseSensitive(tc, "hidden_size"));
    }
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(root, "tie_word_embeddings");
    out->tie_word_embeddings = cJSON_IsBool(tie) ? cJSON_IsTrue(tie) : -1;
    cJSON_Delete(root);
    return 0;
}
