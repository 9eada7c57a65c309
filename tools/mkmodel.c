/* mkmodel.c - generates tiny Llama-shaped checkpoints for tests and
 * examples, deterministically.
 *
 * Every tensor's values are a pure function of (seed, tensor name): each
 * tensor draws from its own splitmix64 stream seeded with a hash of the
 * name, so adding layers or reordering does not change existing tensors.
 * Normal variates are the sum of four uniforms, rescaled to unit variance:
 * only exactly-rounded IEEE operations are involved (no libm transcendental
 * functions), so the files are bit-identical on every machine.
 *
 * Fine-tunes (--finetune-of B --delta x) are base(seed B) + x * noise(seed S)
 * computed in float32, so models made from one base share it exactly and
 * their task vectors are known.
 *
 * --permute P shuffles the hidden units of each block, as a model that
 * computes the same function but was "born" in another order (the input of
 * align()): the MLP units (rows of gate_proj and up_proj, columns of
 * down_proj) and the key/value heads with their groups of query heads (rows
 * of q/k/v and their biases, columns of o_proj). Unit j of the result is
 * unit perm[j] of the unpermuted model; permutation.json lists perm per
 * block. --qkv-bias adds Qwen2-style q/k/v biases. Without these options
 * the output is what it always was. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/dtype.h"
#include "runtime/io/safetensors.h"

#define WEIGHT_STD 0.02
#define STREAM_WEIGHTS 0x5745494748545321ull /* domain tags keep weight and noise streams apart */
#define STREAM_NOISE 0x4e4f495345212121ull
#define STREAM_PERMUTE 0x5045524d55544521ull

typedef struct Options {
    const char *out;
    long layers, hidden, intermediate, vocab, kv_hidden;
    DType dtype;
    uint64_t shard_bytes;
    uint64_t seed;
    bool finetune;
    uint64_t base_seed;
    double delta;
    bool force;
    bool permute;
    uint64_t permute_seed;
    bool qkv_bias;
    const char *layout;    /* NULL: Llama; else a LAYOUTS entry */
} Options;

static void usage(FILE *to) {
    fprintf(to,
            "usage: mkmodel OUT_DIR [options]\n"
            "  --layers N           decoder layers (default 4)\n"
            "  --hidden D           hidden size (default 32)\n"
            "  --intermediate F     MLP size (default 64)\n"
            "  --vocab V            vocabulary size (default 64)\n"
            "  --kv-hidden K        rows of k_proj/v_proj (default D/2)\n"
            "  --dtype T            float32 | bfloat16 | float16 | float8_e4m3fn | float8_e5m2\n"
            "                       (default float32)\n"
            "  --shard SIZE         shard size, e.g. 20KB or 4096 (default: one file)\n"
            "  --seed S             seed (default 1)\n"
            "  --finetune-of B --delta X\n"
            "                       weights = base(seed B) + X * N(0,1) noise(seed S)\n"
            "  --permute P          shuffle each block's MLP units and key/value heads (seed P);\n"
            "                       permutation.json lists them\n"
            "  --qkv-bias           add q_proj/k_proj/v_proj biases (Qwen2-style)\n"
            "  --layout L           other tensor names and config.json: gpt2 (transformer.h.N, n_layer)\n"
            "                       or vlm (Gemma 3: language_model.model.layers.N with text_config,\n"
            "                       a 2-block vision_tower and a projector); no --permute\n"
            "  --force              replace OUT_DIR if it exists and is not empty\n");
}

/* ---- randomness ---------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static uint64_t stream_for(uint64_t seed, uint64_t domain, const char *name) {
    uint64_t s = seed ^ domain;
    uint64_t a = splitmix64(&s);
    s = a ^ fnv1a(name);
    return splitmix64(&s);
}

/* Approximately N(0, 1): the sum of four U(0,1) has mean 2, variance 1/3.
 * Each uniform is exact in a double and so is their sum. */
static double std_normal(uint64_t *state) {
    uint64_t a = splitmix64(state), b = splitmix64(state);
    double s = ((double)(a >> 32) + 0.5) + ((double)(a & 0xffffffffu) + 0.5) + ((double)(b >> 32) + 0.5) +
               ((double)(b & 0xffffffffu) + 0.5);
    return (s * 0x1p-32 - 2.0) * sqrt(3.0);
}

static bool is_norm(const char *name) {
    return strstr(name, "layernorm.weight") != NULL || strcmp(name, "model.norm.weight") == 0;
}

/* The float32 values of one tensor. */
static void generate(const Options *o, const char *name, float *dst, size_t n) {
    bool norm = is_norm(name);
    uint64_t ws = stream_for(o->finetune ? o->base_seed : o->seed, STREAM_WEIGHTS, name);
    for (size_t i = 0; i < n; i++) {
        double z = std_normal(&ws);
        dst[i] = (float)(norm ? 1.0 + WEIGHT_STD * z : WEIGHT_STD * z);
    }
    if (!o->finetune) return;
    uint64_t ns = stream_for(o->seed, STREAM_NOISE, name);
    float delta = (float)o->delta;
    for (size_t i = 0; i < n; i++) {
        /* Two statements, so no compiler fuses them into an FMA and the
         * result stays the float32 sum the usage text promises. */
        float step = delta * (float)std_normal(&ns);
        dst[i] = dst[i] + step;
    }
}

/* Head size 8 when it fits, else 4 heads, else the largest size that
 * divides both widths: the config must describe a model that could exist. */
static long head_dim_for(long D, long K) {
    if (D % 8 == 0 && K % 8 == 0) return 8;
    if (D % 4 == 0 && K % (D / 4) == 0) return D / 4;
    long a = D, b = K;
    while (b) {
        long r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* ---- options -------------------------------------------------------------------------- */

static bool parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s == '-') return false;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end) return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, Options *o) {
    *o = (Options){NULL, 4, 32, 64, 64, -1, DT_F32, 0, 1, false, 0, 0.0, false, false, 0, false, NULL};
    bool have_delta = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            if (o->out) {
                fprintf(stderr, "mkmodel: more than one output folder ('%s', '%s')\n", o->out, a);
                return -1;
            }
            o->out = a;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--force") == 0) {
            o->force = true;
            continue;
        }
        if (strcmp(a, "--qkv-bias") == 0) {
            o->qkv_bias = true;
            continue;
        }
        /* Both "--opt value" and "--opt=value". */
        char key[32];
        const char *val = strchr(a, '=');
        if (val) {
            snprintf(key, sizeof key, "%.*s", (int)(val - a), a);
            val++;
        } else {
            snprintf(key, sizeof key, "%s", a);
            if (i + 1 >= argc) {
                fprintf(stderr, "mkmodel: %s needs a value\n", a);
                return -1;
            }
            val = argv[++i];
        }
        bool ok;
        if (strcmp(key, "--layers") == 0) ok = parse_long(val, 0, 10000, &o->layers);
        else if (strcmp(key, "--hidden") == 0) ok = parse_long(val, 1, 1 << 20, &o->hidden);
        else if (strcmp(key, "--intermediate") == 0) ok = parse_long(val, 1, 1 << 22, &o->intermediate);
        else if (strcmp(key, "--vocab") == 0) ok = parse_long(val, 1, 1 << 22, &o->vocab);
        else if (strcmp(key, "--kv-hidden") == 0) ok = parse_long(val, 1, 1 << 20, &o->kv_hidden);
        else if (strcmp(key, "--seed") == 0) ok = parse_u64(val, &o->seed);
        else if (strcmp(key, "--finetune-of") == 0) {
            ok = parse_u64(val, &o->base_seed);
            o->finetune = true;
        }
        else if (strcmp(key, "--layout") == 0) {
            o->layout = val;
            ok = strcmp(val, "gpt2") == 0 || strcmp(val, "vlm") == 0;
        } else if (strcmp(key, "--shard") == 0) ok = stw_parse_size(val, &o->shard_bytes) == 0;
        else if (strcmp(key, "--permute") == 0) {
            ok = parse_u64(val, &o->permute_seed);
            o->permute = true;
        }
        else if (strcmp(key, "--delta") == 0) {
            char *end;
            o->delta = strtod(val, &end);
            ok = end != val && !*end && isfinite(o->delta);
            have_delta = true;
        } else if (strcmp(key, "--dtype") == 0) {
            ok = dtype_from_torch_name(val, &o->dtype) &&
                 (o->dtype == DT_F32 || o->dtype == DT_BF16 || o->dtype == DT_F16 || o->dtype == DT_F8_E4M3 ||
                  o->dtype == DT_F8_E5M2);
        } else {
            fprintf(stderr, "mkmodel: unknown option '%s'\n", key);
            return -1;
        }
        if (!ok) {
            fprintf(stderr, "mkmodel: bad value '%s' for %s\n", val, key);
            return -1;
        }
    }
    if (!o->out) {
        fprintf(stderr, "mkmodel: missing OUT_DIR\n");
        return -1;
    }
    if (o->finetune != have_delta) {
        fprintf(stderr, "mkmodel: --finetune-of and --delta go together\n");
        return -1;
    }
    if (o->layout && (o->permute || o->qkv_bias)) {
        fprintf(stderr, "mkmodel: --layout makes its own tensors: no --permute or --qkv-bias\n");
        return -1;
    }
    if (o->kv_hidden < 0) o->kv_hidden = o->hidden / 2 > 0 ? o->hidden / 2 : 1;
    long hd = head_dim_for(o->hidden, o->kv_hidden);
    if (o->permute && (o->hidden / hd) % (o->kv_hidden / hd) != 0) {
        fprintf(stderr, "mkmodel: --permute needs query heads (%ld) that key/value heads (%ld) divide\n",
                o->hidden / hd, o->kv_hidden / hd);
        return -1;
    }
    return 0;
}

/* ---- the model ---------------------------------------------------------------------------- */

static int add_spec(StwSpec *specs, size_t *n, const char *name, long d0, long d1) {
    char *copy = strdup(name);
    if (!copy) return -1;
    StwSpec *s = &specs[(*n)++];
    s->name = copy;
    s->dtype = DT_F32; /* set by the caller */
    s->shape.rank = d1 > 0 ? 2 : 1;
    s->shape.dims[0] = d0;
    s->shape.dims[1] = d1 > 0 ? d1 : 0;
    return 0;
}

static int build_specs(const Options *o, StwSpec **out, size_t *out_n) {
    size_t cap = 3 + 12 * (size_t)o->layers;
    StwSpec *specs = calloc(cap, sizeof *specs);
    if (!specs) return -1;
    size_t n = 0;
    long D = o->hidden, F = o->intermediate, V = o->vocab, K = o->kv_hidden;
    int rc = add_spec(specs, &n, "model.embed_tokens.weight", V, D);
    for (long i = 0; i < o->layers && rc == 0; i++) {
        static const struct { const char *suffix; int rows, cols; } parts[] = {
            /* 'D', 'K', 'F' pick the dimension; 0 = a vector */
            {"input_layernorm.weight", 'D', 0},
            {"self_attn.q_proj.weight", 'D', 'D'},
            {"self_attn.k_proj.weight", 'K', 'D'},
            {"self_attn.v_proj.weight", 'K', 'D'},
            {"self_attn.o_proj.weight", 'D', 'D'},
            {"self_attn.q_proj.bias", 'D', 0},
            {"self_attn.k_proj.bias", 'K', 0},
            {"self_attn.v_proj.bias", 'K', 0},
            {"post_attention_layernorm.weight", 'D', 0},
            {"mlp.gate_proj.weight", 'F', 'D'},
            {"mlp.up_proj.weight", 'F', 'D'},
            {"mlp.down_proj.weight", 'D', 'F'},
        };
        for (size_t p = 0; p < sizeof parts / sizeof parts[0] && rc == 0; p++) {
            if (strstr(parts[p].suffix, ".bias") && !o->qkv_bias) continue;
            char name[128];
            long dim[2];
            int which[2] = {parts[p].rows, parts[p].cols};
            for (int k = 0; k < 2; k++)
                dim[k] = which[k] == 'D' ? D : which[k] == 'K' ? K : which[k] == 'F' ? F : 0;
            snprintf(name, sizeof name, "model.layers.%ld.%s", i, parts[p].suffix);
            rc = add_spec(specs, &n, name, dim[0], dim[1]);
        }
    }
    if (rc == 0) rc = add_spec(specs, &n, "model.norm.weight", D, 0);
    if (rc == 0) rc = add_spec(specs, &n, "lm_head.weight", V, D);
    for (size_t i = 0; i < n; i++) specs[i].dtype = o->dtype;
    *out = specs;
    *out_n = n;
    return rc;
}

/* ---- --layout: other architectures' names ------------------------------------------ */

#define VLM_VISION_LAYERS 2

/* The tensors of o->layout, in the order written; shapes are small and
 * only roughly those of the real architecture (tests look at names,
 * depths and values). */
static int build_layout_specs(const Options *o, StwSpec **out, size_t *out_n) {
    size_t cap = 16 + 4 * (size_t)o->layers;
    StwSpec *specs = calloc(cap, sizeof *specs);
    if (!specs) return -1;
    size_t n = 0;
    long D = o->hidden, F = o->intermediate, V = o->vocab;
    char name[160];
    int rc = 0;
    if (strcmp(o->layout, "gpt2") == 0) {
        rc = add_spec(specs, &n, "transformer.wte.weight", V, D);
        if (rc == 0) rc = add_spec(specs, &n, "transformer.wpe.weight", 16, D);
        for (long i = 0; i < o->layers && rc == 0; i++) {
            snprintf(name, sizeof name, "transformer.h.%ld.ln_1.weight", i);
            rc = add_spec(specs, &n, name, D, 0);
            snprintf(name, sizeof name, "transformer.h.%ld.attn.c_attn.weight", i);
            if (rc == 0) rc = add_spec(specs, &n, name, 3 * D, D);
            snprintf(name, sizeof name, "transformer.h.%ld.mlp.c_fc.weight", i);
            if (rc == 0) rc = add_spec(specs, &n, name, F, D);
        }
        if (rc == 0) rc = add_spec(specs, &n, "transformer.ln_f.weight", D, 0);
        if (rc == 0) rc = add_spec(specs, &n, "lm_head.weight", V, D);
    } else {
        rc = add_spec(specs, &n, "language_model.model.embed_tokens.weight", V, D);
        for (long i = 0; i < o->layers && rc == 0; i++) {
            snprintf(name, sizeof name, "language_model.model.layers.%ld.input_layernorm.weight", i);
            rc = add_spec(specs, &n, name, D, 0);
            snprintf(name, sizeof name, "language_model.model.layers.%ld.self_attn.q_proj.weight", i);
            if (rc == 0) rc = add_spec(specs, &n, name, D, D);
            snprintf(name, sizeof name, "language_model.model.layers.%ld.mlp.up_proj.weight", i);
            if (rc == 0) rc = add_spec(specs, &n, name, F, D);
        }
        if (rc == 0) rc = add_spec(specs, &n, "language_model.model.norm.weight", D, 0);
        if (rc == 0) rc = add_spec(specs, &n, "language_model.lm_head.weight", V, D);
        if (rc == 0) rc = add_spec(specs, &n, "vision_tower.vision_model.embeddings.patch_embedding.weight", D, 12);
        for (long i = 0; i < VLM_VISION_LAYERS && rc == 0; i++) {
            snprintf(name, sizeof name, "vision_tower.vision_model.encoder.layers.%ld.layer_norm1.weight", i);
            rc = add_spec(specs, &n, name, D, 0);
            snprintf(name, sizeof name, "vision_tower.vision_model.encoder.layers.%ld.mlp.fc1.weight", i);
            if (rc == 0) rc = add_spec(specs, &n, name, F, D);
        }
        if (rc == 0) rc = add_spec(specs, &n, "vision_tower.vision_model.post_layernorm.weight", D, 0);
        if (rc == 0) rc = add_spec(specs, &n, "multi_modal_projector.mm_input_projection_weight", D, D);
    }
    for (size_t i = 0; i < n; i++) specs[i].dtype = o->dtype;
    *out = specs;
    *out_n = n;
    return rc;
}

/* config.json as the architecture spells it: GPT-2's n_layer, Gemma 3's
 * nested text_config and vision_config. */
static int write_layout_config(StWriter *w, const Options *o, ErrBuf *err) {
    char cfg[1024];
    int n;
    if (strcmp(o->layout, "gpt2") == 0)
        n = snprintf(cfg, sizeof cfg,
                     "{\n  \"architectures\": [\"GPT2LMHeadModel\"],\n  \"model_type\": \"gpt2\",\n"
                     "  \"n_embd\": %ld,\n  \"n_layer\": %ld,\n  \"n_positions\": 16,\n  \"vocab_size\": %ld,\n"
                     "  \"torch_dtype\": \"%s\"\n}\n",
                     o->hidden, o->layers, o->vocab, dtype_torch_name(o->dtype));
    else
        n = snprintf(cfg, sizeof cfg,
                     "{\n  \"architectures\": [\"Gemma3ForConditionalGeneration\"],\n  \"model_type\": \"gemma3\",\n"
                     "  \"text_config\": {\n    \"model_type\": \"gemma3_text\",\n    \"hidden_size\": %ld,\n"
                     "    \"num_hidden_layers\": %ld,\n    \"vocab_size\": %ld\n  },\n"
                     "  \"vision_config\": {\n    \"model_type\": \"siglip_vision_model\",\n"
                     "    \"num_hidden_layers\": %d\n  },\n  \"torch_dtype\": \"%s\"\n}\n",
                     o->hidden, o->layers, o->vocab, VLM_VISION_LAYERS, dtype_torch_name(o->dtype));
    return stw_add_file(w, "config.json", cfg, (size_t)n, err);
}

/* ---- --permute ------------------------------------------------------------------------ */

enum { UNITS_MLP, UNITS_HEADS };

/* The shuffle of block `layer`'s n units of one kind: Fisher-Yates on a
 * stream of its own. perm[j] = the unpermuted unit placed at j. */
static void unit_perm(const Options *o, long layer, int kind, long n, long *perm) {
    char tag[64];
    snprintf(tag, sizeof tag, "permute.%ld.%d", layer, kind);
    uint64_t st = stream_for(o->permute_seed, STREAM_PERMUTE, tag);
    for (long i = 0; i < n; i++) perm[i] = i;
    for (long i = n - 1; i > 0; i--) {
        long j = (long)(splitmix64(&st) % (uint64_t)(i + 1));
        long t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* The number of key/value heads (head size from head_dim_for). */
static long kv_heads_of(const Options *o) { return o->kv_hidden / head_dim_for(o->hidden, o->kv_hidden); }

/* Whether tensor `name` has units along its rows (*cols = false) or
 * columns, of which kind, in which block. */
static bool units_of(const char *name, long *layer, int *kind, bool *cols) {
    static const struct { const char *suffix; int kind; bool cols; } roles[] = {
        {"mlp.gate_proj.weight", UNITS_MLP, false},       {"mlp.up_proj.weight", UNITS_MLP, false},
        {"mlp.down_proj.weight", UNITS_MLP, true},        {"self_attn.q_proj.weight", UNITS_HEADS, false},
        {"self_attn.k_proj.weight", UNITS_HEADS, false},  {"self_attn.v_proj.weight", UNITS_HEADS, false},
        {"self_attn.o_proj.weight", UNITS_HEADS, true},   {"self_attn.q_proj.bias", UNITS_HEADS, false},
        {"self_attn.k_proj.bias", UNITS_HEADS, false},    {"self_attn.v_proj.bias", UNITS_HEADS, false},
    };
    static const char prefix[] = "model.layers.";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0) return false;
    char *end;
    *layer = strtol(name + sizeof prefix - 1, &end, 10);
    if (*end != '.') return false;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(end + 1, roles[i].suffix) == 0) {
            *kind = roles[i].kind;
            *cols = roles[i].cols;
            return true;
        }
    return false;
}

/* Rearranges the values of one tensor (tmp: scratch of the same size). */
static void permute_tensor(const Options *o, const StwSpec *spec, float *vals, float *tmp, long *perm) {
    long layer;
    int kind;
    bool cols;
    if (!units_of(spec->name, &layer, &kind, &cols)) return;
    long n = kind == UNITS_MLP ? o->intermediate : kv_heads_of(o);
    unit_perm(o, layer, kind, n, perm);
    size_t rows = (size_t)spec->shape.dims[0], width = spec->shape.rank == 2 ? (size_t)spec->shape.dims[1] : 1;
    memcpy(tmp, vals, rows * width * sizeof *vals);
    if (!cols) {
        size_t unit = rows / (size_t)n * width;
        for (long j = 0; j < n; j++)
            for (size_t e = 0; e < unit; e++) vals[(size_t)j * unit + e] = tmp[(size_t)perm[j] * unit + e];
    } else {
        size_t unit = width / (size_t)n;
        for (size_t r = 0; r < rows; r++)
            for (long j = 0; j < n; j++)
                for (size_t e = 0; e < unit; e++)
                    vals[r * width + (size_t)j * unit + e] = tmp[r * width + (size_t)perm[j] * unit + e];
    }
}

/* permutation.json: per block, the MLP and key/value head shuffles. */
static int write_permutation(StWriter *w, const Options *o, ErrBuf *err) {
    long kv = kv_heads_of(o), most = o->intermediate > kv ? o->intermediate : kv;
    size_t cap = 256 + (size_t)o->layers * ((size_t)o->intermediate + (size_t)kv) * 12;
    char *buf = malloc(cap);
    long *perm = malloc((size_t)most * sizeof *perm);
    if (!buf || !perm) {
        free(buf);
        free(perm);
        return errbuf_set(err, "out of memory");
    }
    size_t n = (size_t)snprintf(buf, cap,
                                "{\n  \"seed\": %" PRIu64 ",\n"
                                "  \"meaning\": \"unit j of block L is unit layers[L][kind][j] of the unpermuted model\",\n"
                                "  \"layers\": [",
                                o->permute_seed);
    for (long l = 0; l < o->layers; l++) {
        for (int kind = UNITS_MLP; kind <= UNITS_HEADS; kind++) {
            long count = kind == UNITS_MLP ? o->intermediate : kv;
            unit_perm(o, l, kind, count, perm);
            n += (size_t)snprintf(buf + n, cap - n, kind == UNITS_MLP ? "%s\n    {\"mlp\": [" : "], \"kv_heads\": [",
                                  l ? "," : "");
            for (long j = 0; j < count; j++) n += (size_t)snprintf(buf + n, cap - n, "%s%ld", j ? ", " : "", perm[j]);
        }
        n += (size_t)snprintf(buf + n, cap - n, "]}");
    }
    n += (size_t)snprintf(buf + n, cap - n, "\n  ]\n}\n");
    int rc = stw_add_file(w, "permutation.json", buf, n, err);
    free(buf);
    free(perm);
    return rc;
}

static int write_configs(StWriter *w, const Options *o, ErrBuf *err) {
    long D = o->hidden;
    long head_dim = head_dim_for(D, o->kv_hidden);
    long heads = D / head_dim;
    long kv_heads = o->kv_hidden / head_dim;
    char cfg[2048];
    int n = snprintf(cfg, sizeof cfg,
                     "{\n"
                     "  \"architectures\": [\"LlamaForCausalLM\"],\n"
                     "  \"model_type\": \"llama\",\n"
                     "  \"hidden_size\": %ld,\n"
                     "  \"intermediate_size\": %ld,\n"
                     "  \"num_hidden_layers\": %ld,\n"
                     "  \"num_attention_heads\": %ld,\n"
                     "  \"num_key_value_heads\": %ld,\n"
                     "  \"vocab_size\": %ld,\n"
                     "  \"rms_norm_eps\": 1e-05,\n"
                     "  \"hidden_act\": \"silu\",\n"
                     "  \"max_position_embeddings\": 2048,\n"
                     "  \"rope_theta\": 10000.0,\n"
                     "  \"tie_word_embeddings\": false,\n"
                     "  \"bos_token_id\": 1,\n"
                     "  \"eos_token_id\": 2,\n"
                     "  \"torch_dtype\": \"%s\"\n"
                     "}\n",
                     D, o->intermediate, o->layers, heads, kv_heads, o->vocab, dtype_torch_name(o->dtype));
    if (stw_add_file(w, "config.json", cfg, (size_t)n, err) < 0) return -1;
    static const char gen[] = "{\n  \"_from_model_config\": true,\n  \"bos_token_id\": 1,\n  \"eos_token_id\": 2\n}\n";
    return stw_add_file(w, "generation_config.json", gen, sizeof gen - 1, err);
}

int main(int argc, char **argv) {
    Options o;
    if (parse_args(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    StwSpec *specs = NULL;
    size_t n = 0;
    int status = 1;
    ErrBuf err = {""};
    float *vals = NULL, *scratch = NULL;
    long *perm = NULL;
    unsigned char *bytes = NULL;
    if ((o.layout ? build_layout_specs(&o, &specs, &n) : build_specs(&o, &specs, &n)) < 0) {
        fprintf(stderr, "mkmodel: out of memory\n");
        goto out;
    }
    /* The largest tensor sizes the buffers. */
    size_t max_numel = 1;
    for (size_t i = 0; i < n; i++) {
        size_t numel = (size_t)shape_numel(&specs[i].shape);
        if (numel > max_numel) max_numel = numel;
    }
    vals = malloc(max_numel * sizeof *vals);
    bytes = malloc(max_numel * dtype_size(o.dtype));
    if (o.permute) {
        scratch = malloc(max_numel * sizeof *scratch);
        perm = malloc((size_t)(o.intermediate > kv_heads_of(&o) ? o.intermediate : kv_heads_of(&o)) * sizeof *perm);
    }
    if (!vals || !bytes || (o.permute && (!scratch || !perm))) {
        fprintf(stderr, "mkmodel: out of memory\n");
        goto out;
    }
    StWriter *w = stw_create(o.out, specs, n, o.shard_bytes, NULL, o.force, &err);
    if (!w) {
        fprintf(stderr, "mkmodel: %s\n", err.msg);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t numel = (size_t)shape_numel(&specs[i].shape);
        generate(&o, specs[i].name, vals, numel);
        if (o.permute) permute_tensor(&o, &specs[i], vals, scratch, perm);
        dtype_encode_f32(o.dtype, vals, bytes, numel);
        if (stw_write(w, i, bytes, &err) < 0) {
            fprintf(stderr, "mkmodel: %s\n", err.msg);
            stw_abort(w);
            goto out;
        }
    }
    if ((o.layout ? write_layout_config(w, &o, &err) : write_configs(w, &o, &err)) < 0 || (o.permute && write_permutation(w, &o, &err) < 0)) {
        fprintf(stderr, "mkmodel: %s\n", err.msg);
        stw_abort(w);
        goto out;
    }
    if (stw_commit(w, &err) < 0) {
        fprintf(stderr, "mkmodel: %s\n", err.msg);
        goto out;
    }
    status = 0;
out:
    for (size_t i = 0; i < n; i++) free((char *)specs[i].name);
    free(specs);
    free(vals);
    free(scratch);
    free(perm);
    free(bytes);
    return status;
}
