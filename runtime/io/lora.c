/* lora.c - reading adapter_config.json; see lora.h. */
#include "runtime/io/lora.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int lora_read_config(const char *dir, LoraConfig *out, ErrBuf *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    /* O_NONBLOCK and a regular file only: a FIFO in a downloaded adapter
     * folder must not hang the run. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    FILE *f = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? fdopen(fd, "rb") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        return errbuf_set(err, "%s: cannot read (is '%s' a PEFT adapter folder?)", path, dir);
    }
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n == sizeof buf) return errbuf_set(err, "%s: larger than 64 KiB", path);
    cJSON *root = cJSON_ParseWithLength(buf, n);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return errbuf_set(err, "%s: not a JSON object", path);
    }
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "r");
    const cJSON *alpha = cJSON_GetObjectItemCaseSensitive(root, "lora_alpha");
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(root, "use_rslora");
    const cJSON *fifo = cJSON_GetObjectItemCaseSensitive(root, "fan_in_fan_out");
    int rc = 0;
    if (!cJSON_IsNumber(r) || r->valuedouble < 1 || r->valuedouble > 65536 || r->valuedouble != (long)r->valuedouble)
        rc = errbuf_set(err, "%s: \"r\" must be a positive whole number", path);
    else if (alpha && !cJSON_IsNumber(alpha))
        rc = errbuf_set(err, "%s: \"lora_alpha\" must be a number", path);
    else {
        out->r = (long)r->valuedouble;
        out->alpha = alpha ? alpha->valuedouble : (double)out->r;
        out->use_rslora = cJSON_IsTrue(rs);
        out->fan_in_fan_out = cJSON_IsTrue(fifo);
    }
    cJSON_Delete(root);
    return rc;
}
