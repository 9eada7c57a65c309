/* cmd_inspect.c - `mergelang inspect PATH`: what a checkpoint holds
 * (tensors, parameters, dtypes, bytes, layers, shards) and what it probably
 * is (config.json's architecture, or a guess from the tensor names), as
 * text or as one JSON object; `--tensors` adds every tensor in natural
 * order.
 *
 * Only headers are read (ckpt_open validates them), so inspecting a 70B
 * checkpoint takes as long as opening it. The config.json beside the
 * weights is untrusted too: it is size-limited and only two string fields
 * are read from it. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "interp/cmd/cmd_util.h"
#include "interp/cmd/commands.h"
#include "interp/syntax/diag.h"
#include "runtime/io/hfnames.h"

#define MAX_CONFIG_BYTES (4u << 20)

static const char usage_text[] =
    "usage: mergelang inspect PATH [--tensors] [--json]\n"
    "\n"
    "Describes a checkpoint (a .safetensors file, or a Hugging Face folder with\n"
    "model.safetensors or model.safetensors.index.json and its shards) from its\n"
    "headers, without reading tensor data: tensor count, parameters, dtypes,\n"
    "bytes, layer count, shards, and the architecture (from config.json, else\n"
    "guessed from the tensor names).\n"
    "\n"
    "  --tensors   also list every tensor (name, shape, dtype) in natural order\n"
    "  --json      print one JSON object instead of text\n"
    "  -h, --help  show this help\n"
    "\n"
    "exit status: 0 success, 1 the checkpoint cannot be read, 2 bad command line\n";

typedef struct Facts {
    uint64_t params, bytes;
    size_t per_dtype[DT_COUNT];
    size_t outside;             /* tensors outside the blocks */
    long n_layers;              /* highest block index + 1 */
    char arch[128];             /* "" when unknown */
    char model_type[64];        /* "" when config.json has none */
    const char *arch_source;    /* "config.json", "tensor names" or NULL */
} Facts;

static const char *dtype_label(DType dt) {
    const char *t = dtype_torch_name(dt);
    return t ? t : dtype_st_name(dt);
}

/* Copies a JSON string field of at most len-1 bytes; false when absent. */
static bool json_string(const cJSON *item, char *buf, size_t len) {
    if (!cJSON_IsString(item) || !item->valuestring) return false;
    snprintf(buf, len, "%s", item->valuestring);
    return buf[0] != '\0';
}

/* architectures[0] and model_type from <dir>/config.json; false when the
 * file is missing or says neither. A malformed file is not an error: the
 * weights are what was asked about. */
static bool arch_from_config(const char *dir, Facts *f) {
    size_t plen = strlen(dir) + sizeof "/config.json";
    char *path = malloc(plen);
    if (!path) return false;
    snprintf(path, plen, "%s/config.json", dir);
    struct stat st;
    FILE *in = NULL;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size <= MAX_CONFIG_BYTES)
        in = fopen(path, "rb");
    free(path);
    if (!in) return false;
    size_t size = (size_t)st.st_size;
    char *text = malloc(size ? size : 1);
    size_t n = text ? fread(text, 1, size, in) : 0;
    fclose(in);
    cJSON *root = text ? cJSON_ParseWithLength(text, n) : NULL;
    free(text);
    if (!root) return false;
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    bool have_arch = cJSON_IsArray(archs) && json_string(cJSON_GetArrayItem(archs, 0), f->arch, sizeof f->arch);
    bool have_type = json_string(cJSON_GetObjectItemCaseSensitive(root, "model_type"), f->model_type,
                                 sizeof f->model_type);
    cJSON_Delete(root);
    if (have_arch || have_type) f->arch_source = "config.json";
    return have_arch || have_type;
}

/* Name fragments that give an architecture away, most specific first: a
 * Gemma 3 has q_norm like a Qwen3 but also pre_feedforward_layernorm. */
static const struct { const char *needle, *label; } name_hints[] = {
    { ".block_sparse_moe.", "Mixtral-like (mixture of experts)" },
    { ".mlp.experts.", "mixture of experts (Qwen-MoE/DeepSeek-like)" },
    { ".self_attn.qkv_proj.", "Phi-3-like" },
    { ".pre_feedforward_layernorm.", "Gemma-2/3-like" },
    { ".self_attn.q_norm.", "Qwen3-like" },
    { ".attn.c_attn.", "GPT-2-like" },
    { "gpt_neox.layers.", "GPT-NeoX-like" },
    { ".self_attention.query_key_value.", "BLOOM/Falcon-like" },
    { "transformer.blocks.", "MPT-like" },
    { "model.decoder.layers.", "OPT-like" },
    { "encoder.layer.", "BERT-like" },
    { ".mixer.", "Mamba-like" },
    { ".self_attn.q_proj.", "Llama-like (Llama, Mistral, Qwen2)" },
    { "transformer.h.", "GPT-2-like" },
};

static void arch_from_names(const Ckpt *c, Facts *f) {
    for (size_t k = 0; k < sizeof name_hints / sizeof name_hints[0]; k++)
        for (size_t i = 0; i < c->n_tensors; i++)
            if (strstr(c->tensors[i].name, name_hints[k].needle)) {
                snprintf(f->arch, sizeof f->arch, "%s", name_hints[k].label);
                f->arch_source = "tensor names";
                return;
            }
}

static void gather(const Ckpt *c, Facts *f) {
    memset(f, 0, sizeof *f);
    long max_layer = -1;
    for (size_t i = 0; i < c->n_tensors; i++) {
        const CkptTensor *t = &c->tensors[i];
        int64_t numel = shape_numel(&t->shape);
        f->params += numel > 0 ? (uint64_t)numel : 0;
        f->bytes += t->nbytes;
        if (t->dtype < DT_COUNT) f->per_dtype[t->dtype]++;
        long l = hfname_layer(t->name);
        if (l < 0) f->outside++;
        else if (l > max_layer) max_layer = l;
    }
    f->n_layers = max_layer + 1;
    if (!arch_from_config(c->dir, f)) arch_from_names(c, f);
}

/* ---- text ------------------------------------------------------------------ */

static void print_text(const Ckpt *c, const Facts *f, const CkptTensor **order, FILE *out) {
    char a[32], b[32];
    fprintf(out, "checkpoint    %s\n", c->path);
    fputs("architecture  ", out);
    if (!f->arch_source) fputs("unknown", out);
    else if (f->arch[0] && f->model_type[0]) fprintf(out, "%s (%s)", f->arch, f->model_type);
    else fputs(f->arch[0] ? f->arch : f->model_type, out);
    if (f->arch_source) fprintf(out, ", %s %s", f->arch_source[0] == 'c' ? "from" : "guessed from",
                                f->arch_source);
    fputc('\n', out);
    fprintf(out, "tensors       %zu (%zu outside the blocks)\n", c->n_tensors, f->outside);
    fprintf(out, "layers        %ld\n", f->n_layers);
    fprintf(out, "parameters    %s\n", units_count_text(f->params, a, sizeof a));
    fputs("dtypes        ", out);
    bool first = true;
    for (int d = 0; d < DT_COUNT; d++) {
        if (!f->per_dtype[d]) continue;
        fprintf(out, "%s%s (%zu)", first ? "" : ", ", dtype_label((DType)d), f->per_dtype[d]);
        first = false;
    }
    fputs(first ? "none\n" : "\n", out);
    fprintf(out, "size          %s bytes", units_count_text(f->bytes, a, sizeof a));
    if (f->bytes >= 1000) fprintf(out, " (%s)", units_bytes_text(f->bytes, b, sizeof b));
    fputc('\n', out);
    fprintf(out, "shards        %zu", c->n_shards);
    if (c->n_shards == 1) fprintf(out, " (%s)", cmd_base_name(c->shards[0]->path));
    else if (c->n_shards > 1)
        fprintf(out, " (%s ... %s)", cmd_base_name(c->shards[0]->path),
                cmd_base_name(c->shards[c->n_shards - 1]->path));
    fputc('\n', out);
    if (!order) return;

    /* Columns as wide as their widest entry, so the listing reads as a table. */
    int name_w = 6, shape_w = 5, dtype_w = 5;
    char shape[128];
    for (size_t i = 0; i < c->n_tensors; i++) {
        int n = (int)strlen(order[i]->name);
        int s = (int)strlen(shape_format(&order[i]->shape, shape, sizeof shape));
        int d = (int)strlen(dtype_label(order[i]->dtype));
        if (n > name_w) name_w = n;
        if (s > shape_w) shape_w = s;
        if (d > dtype_w) dtype_w = d;
    }
    bool shards = c->n_shards > 1;
    fprintf(out, "\n%-*s  %-*s  %-*s%s\n", name_w, "tensor", shape_w, "shape", shards ? dtype_w : 0,
            "dtype", shards ? "  shard" : "");
    for (size_t i = 0; i < c->n_tensors; i++) {
        const CkptTensor *t = order[i];
        shape_format(&t->shape, shape, sizeof shape);
        if (shards)
            fprintf(out, "%-*s  %-*s  %-*s  %s\n", name_w, t->name, shape_w, shape, dtype_w,
                    dtype_label(t->dtype), cmd_base_name(t->file->path));
        else
            fprintf(out, "%-*s  %-*s  %s\n", name_w, t->name, shape_w, shape, dtype_label(t->dtype));
    }
}

/* ---- JSON ------------------------------------------------------------------ */

static cJSON *string_or_null(const char *s) {
    return s && s[0] ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* Builds the object; NULL when out of memory. cJSON's adders tolerate a NULL
 * child, so one check of the printed text at the end covers every step. */
static cJSON *build_json(const Ckpt *c, const Facts *f, const CkptTensor **order) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "path", c->path);
    cJSON_AddItemToObject(o, "architecture", string_or_null(f->arch));
    cJSON_AddItemToObject(o, "model_type", string_or_null(f->model_type));
    cJSON_AddItemToObject(o, "architecture_source", string_or_null(f->arch_source));
    cJSON_AddNumberToObject(o, "tensor_count", (double)c->n_tensors);
    cJSON_AddNumberToObject(o, "outside_blocks", (double)f->outside);
    cJSON_AddNumberToObject(o, "layers", (double)f->n_layers);
    cJSON_AddNumberToObject(o, "parameters", (double)f->params);
    cJSON_AddNumberToObject(o, "bytes", (double)f->bytes);
    cJSON *dtypes = cJSON_AddObjectToObject(o, "dtypes");
    for (int d = 0; d < DT_COUNT && dtypes; d++)
        if (f->per_dtype[d]) cJSON_AddNumberToObject(dtypes, dtype_label((DType)d), (double)f->per_dtype[d]);
    cJSON *shards = cJSON_AddArrayToObject(o, "shards");
    for (size_t i = 0; i < c->n_shards && shards; i++)
        cJSON_AddItemToArray(shards, cJSON_CreateString(cmd_base_name(c->shards[i]->path)));
    if (!order) return o;
    cJSON *list = cJSON_AddArrayToObject(o, "tensors");
    for (size_t i = 0; i < c->n_tensors && list; i++) {
        const CkptTensor *t = order[i];
        cJSON *e = cJSON_CreateObject();
        if (!e) break;
        cJSON_AddItemToArray(list, e);
        cJSON_AddStringToObject(e, "name", t->name);
        cJSON *dims = cJSON_AddArrayToObject(e, "shape");
        for (int k = 0; k < t->shape.rank && dims; k++)
            cJSON_AddItemToArray(dims, cJSON_CreateNumber((double)t->shape.dims[k]));
        cJSON_AddStringToObject(e, "dtype", dtype_label(t->dtype));
        cJSON_AddNumberToObject(e, "bytes", (double)t->nbytes);
        cJSON_AddStringToObject(e, "shard", cmd_base_name(t->file->path));
    }
    return o;
}

/* ---- entry point ------------------------------------------------------------- */

int cmd_inspect_main(int argc, char **argv) {
    const char *path = NULL;
    bool json = false, tensors = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) json = true;
        else if (strcmp(a, "--tensors") == 0) tensors = true;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "mergelang: inspect: unknown option '%s'\n"
                            "usage: mergelang inspect PATH [--tensors] [--json]\n", a);
            return 2;
        } else if (path) {
            fprintf(stderr, "mergelang: inspect takes one checkpoint ('%s' and '%s' given)\n", path, a);
            return 2;
        } else path = a;
    }
    if (!path) {
        fputs("mergelang: inspect needs a checkpoint: a .safetensors file or a model folder\n"
              "usage: mergelang inspect PATH [--tensors] [--json]\n", stderr);
        return 2;
    }

    Diag diag;
    diag_init(&diag, stderr);
    ErrBuf err = { "" };
    Ckpt *c = ckpt_open(path, &err);
    if (!c) {
        diag_plain(&diag, "%s", err.msg);
        return 1;
    }
    Facts f;
    gather(c, &f);
    const CkptTensor **order = NULL;
    int status = 0;
    if (tensors && !(order = cmd_natural_order(c))) {
        diag_plain(&diag, "out of memory");
        status = 1;
    } else if (json) {
        cJSON *o = build_json(c, &f, order);
        char *text = o ? cJSON_Print(o) : NULL;
        if (text) printf("%s\n", text);
        else {
            diag_plain(&diag, "out of memory");
            status = 1;
        }
        free(text);
        cJSON_Delete(o);
    } else {
        print_text(c, &f, order, stdout);
    }
    free(order);
    ckpt_close(c);
    if (fflush(stdout) != 0 && status == 0) {
        diag_plain(&diag, "cannot write the output: %s", strerror(errno));
        status = 1;
    }
    return status;
}
