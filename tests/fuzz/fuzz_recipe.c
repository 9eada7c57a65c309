/* fuzz_recipe.c - libFuzzer target: recipe text through every stage but the
 * writing of outputs.
 *
 * The input is a recipe. It is lexed and parsed (and asked whether it looks
 * incomplete, as the REPL does), planned, and when planning succeeds the
 * per-tensor checks run (interp/exec/tensor_checks.h) and a few tensors of
 * every saved model and of every tensor-dependent global are
 * computed by the exec stage; a row-wise model is computed again for a row
 * range, as the output workers do for big tensors, and must give the same
 * rows.
 * save() calls are planned (their checks run) but never carried out:
 * output_run is not called, so nothing is written.
 *
 * The models a recipe can open are generated once per process into a
 * temporary folder, the current directory while an input runs (so seeds say
 * model("a")); it is removed at exit:
 *   a, b   float32, two blocks (9 tensors, Llama names)
 *   c      bfloat16, sharded with an index (same names and shapes)
 *   w      float32 with hidden size 5 (shapes disagree with a)
 *   l      a PEFT LoRA adapter (r = 2) for a's q_proj and up_proj
 *   m.merge    a module with a def and a constant
 *   self.merge a module importing itself
 * FUZZ_VERBOSE=1 in the environment prints the diagnostics.
 * The folder also holds a symlink "tests" to the starting directory's tests/
 * so libFuzzer's crash files (relative -artifact_prefix) land where
 * `make fuzz` expects them even when a crash happens inside the folder.
 *
 * Built by `make fuzz`; replayed on tests/fuzz/corpus/recipe by
 * tests/unit/test_fuzz_replay.c, which includes this file with
 * LLVMFuzzerTestOneInput renamed (hence the rf_ prefix on every static). */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interp/builtins/builtins.h"
#include "interp/plan/plan.h"
#include "interp/exec/exec.h"
#include "interp/output/ranges.h"
#include "interp/syntax/syntax.h"
#include "interp/exec/tensor_checks.h"
#include "runtime/io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char rf_dir[64];
static int rf_dir_fd = -1, rf_home_fd = -1;
static FILE *rf_sink;

static int rf_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rf_cleanup(void) {
    if (rf_dir[0]) nftw(rf_dir, rf_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A tiny Llama-shaped model: embeddings, two blocks, final norm, head. */
static int rf_model(const char *name, DType dt, int hidden, uint64_t shard_bytes, uint32_t seed) {
    static const char *const block[] = { "self_attn.q_proj.weight", "mlp.up_proj.weight",
                                         "input_layernorm.weight" };
    char names[9][64];
    StwSpec specs[9];
    size_t n = 0;
    snprintf(names[n], sizeof names[n], "model.embed_tokens.weight");
    specs[n] = (StwSpec){ names[n], dt, { 2, { 8, hidden } } };
    n++;
    for (int l = 0; l < 2; l++) {
        for (int k = 0; k < 3; k++) {
            snprintf(names[n], sizeof names[n], "model.layers.%d.%s", l, block[k]);
            Shape s = k == 0 ? (Shape){ 2, { hidden, hidden } }
                    : k == 1 ? (Shape){ 2, { 6, hidden } }
                             : (Shape){ 1, { hidden } };
            specs[n] = (StwSpec){ names[n], dt, s };
            n++;
        }
    }
    snprintf(names[n], sizeof names[n], "model.norm.weight");
    specs[n] = (StwSpec){ names[n], dt, { 1, { hidden } } };
    n++;
    snprintf(names[n], sizeof names[n], "lm_head.weight");
    specs[n] = (StwSpec){ names[n], dt, { 2, { 8, hidden } } };
    n++;

    char path[128];
    snprintf(path, sizeof path, "%s/%s", rf_dir, name);
    ErrBuf err;
    StWriter *w = stw_create(path, specs, n, shard_bytes, NULL, false, &err);
    if (!w) return -1;
    for (size_t i = 0; i < n; i++) {
        float vals[64];
        unsigned char bytes[64 * 8];
        int64_t numel = shape_numel(&specs[i].shape);
        for (int64_t j = 0; j < numel; j++) {
            seed = seed * 1664525u + 1013904223u;
            vals[j] = (float)((int)(seed >> 16) % 2001 - 1000) / 1000.0f;
        }
        dtype_encode_f32(dt, vals, bytes, (size_t)numel);
        if (stw_write(w, i, bytes, &err) != 0) {
            stw_abort(w);
            return -1;
        }
    }
    return stw_commit(w, &err);
}

/* A PEFT LoRA adapter for a (r = 2): q_proj and up_proj of both blocks. */
static int rf_adapter(const char *name) {
    static const char *const mods[] = { "self_attn.q_proj", "mlp.up_proj" };
    char names[8][96];
    StwSpec specs[8];
    size_t n = 0;
    for (int l = 0; l < 2; l++) {
        for (int k = 0; k < 2; k++) {
            int64_t out = k == 0 ? 4 : 6;
            snprintf(names[n], sizeof names[n], "base_model.model.model.layers.%d.%s.lora_A.weight", l, mods[k]);
            specs[n] = (StwSpec){ names[n], DT_F32, { 2, { 2, 4 } } };
            n++;
            snprintf(names[n], sizeof names[n], "base_model.model.model.layers.%d.%s.lora_B.weight", l, mods[k]);
            specs[n] = (StwSpec){ names[n], DT_F32, { 2, { out, 2 } } };
            n++;
        }
    }
    char dir[128], tmp[160], from[200], to[200];
    snprintf(dir, sizeof dir, "%s/%s", rf_dir, name);
    snprintf(tmp, sizeof tmp, "%s/weights", dir);
    if (mkdir(dir, 0755) != 0) return -1;
    ErrBuf err;
    StWriter *w = stw_create(tmp, specs, n, 1u << 20, NULL, false, &err);
    if (!w) return -1;
    float vals[12];
    for (int j = 0; j < 12; j++) vals[j] = 0.01f * (float)(j + 1);
    for (size_t i = 0; i < n; i++) {
        if (stw_write(w, i, vals, &err) != 0) {
            stw_abort(w);
            return -1;
        }
    }
    if (stw_commit(w, &err) != 0) return -1;
    snprintf(from, sizeof from, "%s/model.safetensors", tmp);
    snprintf(to, sizeof to, "%s/adapter_model.safetensors", dir);
    if (rename(from, to) != 0 || rmdir(tmp) != 0) return -1;
    snprintf(to, sizeof to, "%s/adapter_config.json", dir);
    FILE *f = fopen(to, "w");
    if (!f) return -1;
    fputs("{\"r\": 2, \"lora_alpha\": 4, \"use_rslora\": false}\n", f);
    return fclose(f);
}

static int rf_text(const char *name, const char *text) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", rf_dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

static bool rf_setup(void) {
    static int state; /* 0 not tried, 1 ready, -1 failed */
    if (state) return state > 0;
    state = -1;
    snprintf(rf_dir, sizeof rf_dir, "/tmp/mergelang-fuzz-recipe-XXXXXX");
    if (!mkdtemp(rf_dir)) {
        rf_dir[0] = '\0';
        return false;
    }
    atexit(rf_cleanup);
    /* FUZZ_VERBOSE=1 shows the diagnostics (to see what an input does). */
    const char *verbose = getenv("FUZZ_VERBOSE");
    rf_sink = verbose && *verbose == '1' ? stderr : fopen("/dev/null", "w");
    rf_home_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rf_dir_fd = open(rf_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!rf_sink || rf_home_fd < 0 || rf_dir_fd < 0) return false;
    char home[PATH_MAX], tests[PATH_MAX + 8], link[128];
    struct stat st;
    if (getcwd(home, sizeof home) && snprintf(tests, sizeof tests, "%s/tests", home) < (int)sizeof tests &&
        stat(tests, &st) == 0) {
        snprintf(link, sizeof link, "%s/tests", rf_dir);
        if (symlink(tests, link) != 0) return false;
    }
    if (rf_model("a", DT_F32, 4, 1u << 20, 1) != 0 || rf_model("b", DT_F32, 4, 1u << 20, 2) != 0 ||
        rf_model("c", DT_BF16, 4, 96, 3) != 0 || rf_model("w", DT_F32, 5, 1u << 20, 4) != 0 ||
        rf_adapter("l") != 0 ||
        rf_text("m.merge", "def half(x) = x / 2\nk = 3\n") != 0 ||
        rf_text("self.merge", "import \"self.merge\"\n") != 0)
        return false;
    state = 1;
    return true;
}

/* Computes value v for one output tensor, as interp/output/worker.c does,
 * and drops it.
 * A row-wise model is also computed for rows 1.. of its first dimension, as
 * the workers do for big tensors: those rows must come out the same. */
static void rf_force(const Plan *p, Value v, const TensorInfo *info, const TensorSet *set) {
    Arena arena;
    arena_init(&arena);
    Exec x;
    if (exec_init(&x, &arena, p->n_nodes, info, set) != 0) goto done;
    Value r = exec_force(&x, v);
    if (x.failed || v.kind != V_MODEL || r.kind != V_TENSOR || !r.u.tensor->f) goto done;
    const Tensor *whole = r.u.tensor;
    for (int64_t i = 0; i < whole->numel; i++) (void)whole->f[i];
    int64_t rows = info->shape.rank > 0 ? info->shape.dims[0] : 0;
    RangesGraph graph;
    size_t nodes;
    if (rows < 2 || ranges_of_save(p, v, &graph, &nodes) != 0 || graph != RANGES_ROWWISE ||
        !shape_equal(&whole->shape, &info->shape))
        goto done;
    Exec part;
    if (exec_init(&part, &arena, p->n_nodes, info, set) != 0) goto done;
    part.row_begin = 1;
    part.row_end = rows;
    Value pr = exec_force(&part, v);
    if (part.failed || pr.kind != V_TENSOR || !pr.u.tensor->f) goto done;
    Shape want = exec_shape(&part, &info->shape);
    if (!shape_equal(&pr.u.tensor->shape, &want)) abort();
    int64_t per_row = whole->numel / rows;
    for (int64_t i = 0; i < pr.u.tensor->numel; i++) {
        float a = whole->f[per_row + i], b = pr.u.tensor->f[i];
        if (a != b && !(a != a && b != b)) abort();
    }
done:
    arena_free(&arena);
}

/* The first, a middle and the last tensor of a model. */
static void rf_force_model(const Plan *p, Value m) {
    const TensorSet *set = m.u.node->set;
    if (set->n == 0) return;
    size_t picks[3] = { 0, set->n / 2, set->n - 1 };
    for (int k = 0; k < 3; k++)
        if (k == 0 || picks[k] != picks[k - 1]) rf_force(p, m, &set->items[picks[k]], set);
}

static void rf_exec(const Plan *p) {
    /* A block tensor all of a, b and c have, for per-tensor scalars. */
    static const TensorInfo q = { "model.layers.1.self_attn.q_proj.weight", { 2, { 4, 4 } }, DT_F32 };
    static const TensorModule blocks = { "model.layers.", 2 };
    static const TensorSet depth = { .n_layers = 2, .n_modules = 1, .modules = &blocks, .main_module = 0 };
    for (size_t i = 0; i < p->n_saves && i < 4; i++) rf_force_model(p, p->saves[i].model);
    size_t forced = 0;
    for (size_t i = 0; i < p->globals.n && forced < 8; i++) {
        Value v = p->globals.items[i].value;
        if (v.kind == V_MODEL) {
            rf_force_model(p, v);
            forced++;
        } else if (val_depends_on_tensor(v)) {
            rf_force(p, v, &q, &depth);
            forced++;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!rf_setup()) abort();
    SrcFile *src = src_from_string("fuzz.merge", (const char *)data, size);
    if (!src) return 0;
    (void)syn_incomplete(src->text, src->len);
    if (fchdir(rf_dir_fd) != 0) abort();
    Arena ast;
    arena_init(&ast);
    Diag diag;
    diag_init(&diag, rf_sink);
    Ast *program = syn_parse(src, &ast, &diag);
    if (program) {
        Plan plan;
        plan_init(&plan, &diag, &builtin_table);
        if (plan_program(&plan, program) == 0) {
            (void)tensor_checks_run(&plan);
            rf_exec(&plan);
        }
        plan_free(&plan);
    }
    arena_free(&ast);
    src_free(src);
    if (fchdir(rf_home_fd) != 0) abort();
    return 0;
}
