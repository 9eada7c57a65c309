/* mergekit_config.c - mergekit's configuration language for the importer:
 * the table of merge methods with their parameters (mergekit's names and
 * kinds, and the mergelang keyword each becomes; the defaults are the
 * built-ins' in the registry, interp/builtins/builtins.c), and the reading
 * of YAML documents into MkStage records.
 *
 * Every field is validated here, so the emitter can trust what it reads.
 * Policy for fields mergekit ignores without a word:
 *   - an unknown field of the structure (`base_modle:`, `slice:`) is an
 *     error: it is a typo that changes the merge;
 *   - an unknown *parameter* name is a warning: mergekit ignores it, and so
 *     does the translation, which therefore still does what mergekit does.
 * Fields mergekit reads but the recipe cannot express (LoRA adapters,
 * modules, union tokenizers, chat templates) are errors. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "interp/builtins/builtins.h"
#include "interp/mergekit/mergekit_int.h"
#include "interp/syntax/suggest.h"

/* ---- the method table ---------------------------------------------------------- */

/* Global parameters: a number or a flag under the same name as the
 * built-in's, with its default; `t` has none in mergekit and is required.
 * Per-model (tensor) parameters: PM, with the built-in's name (mergekit's
 * weight is our weights); P_WEIGHT is required by mergekit. */
#define NUM(n) { .name = n, .arg = n, .type = MKP_NUMBER }
#define FLAG(n) { .name = n, .arg = n, .type = MKP_BOOL }
#define REQUIRED_NUM(n) { .name = n, .arg = n, .required = true, .type = MKP_NUMBER }
#define PM(n, a) { .name = n, .arg = a, .per_model = true, .type = MKP_NUMBER }
#define P_WEIGHT { .name = "weight", .arg = "weights", .per_model = true, .required = true, .type = MKP_NUMBER }
#define P_DENSITY PM("density", "density")
#define P_GAMMA PM("gamma", "gamma")
#define P_EPSILON PM("epsilon", "epsilon")
#define P_LAMBDA NUM("lambda")
#define P_INT8 { .name = "int8_mask", .type = MKP_BOOL, \
                 .note = "a memory option of mergekit; no effect on the result" }
/* Not read by mergekit (it always elects by sum); mergelang's ties family
 * offers the count election, so the importer honours it. */
#define P_CONSENSUS { .name = "consensus_method", .arg = "consensus", .type = MKP_CHOICE }
#define TA_UNUSED(n, pm, t) { .name = n, .per_model = pm, .type = t, .warn = true, \
    .note = "task_arithmetic does not sparsify: mergekit reads " n " but it changes nothing" }

static const MkMethod methods[] = {
    { "linear", "linear", FORM_LIST, 1, 0, { P_WEIGHT, FLAG("normalize") } },
    { "slerp", "slerp", FORM_BASE_ONE, 1, 1, { REQUIRED_NUM("t") } },
    { "nuslerp", "nuslerp", FORM_LIST_BASE, 2, 2, { P_WEIGHT, FLAG("nuslerp_flatten"), FLAG("nuslerp_row_wise") } },
    { "multislerp", "multislerp", FORM_LIST_BASE, 1, 0, { P_WEIGHT, FLAG("normalize_weights"), NUM("eps") } },
    { "karcher", "karcher", FORM_LIST, 1, 0, { NUM("max_iter"), NUM("tol") } },
    { "task_arithmetic", "task_arithmetic", FORM_BASE_LIST, 1, 0,
      { P_WEIGHT, TA_UNUSED("density", true, MKP_NUMBER), P_LAMBDA, FLAG("normalize"),
        TA_UNUSED("rescale", false, MKP_BOOL), P_INT8 } },
    { "ties", "ties", FORM_BASE_LIST, 1, 0,
      { P_WEIGHT, P_DENSITY, P_LAMBDA, FLAG("normalize"), FLAG("rescale"), P_INT8, P_CONSENSUS } },
    { "dare_ties", "dare_ties", FORM_BASE_LIST, 1, 0,
      { P_WEIGHT, P_DENSITY, P_LAMBDA, FLAG("normalize"), FLAG("rescale"), P_INT8, P_CONSENSUS } },
    { "dare_linear", "dare_linear", FORM_BASE_LIST, 1, 0,
      { P_WEIGHT, P_DENSITY, P_LAMBDA, FLAG("normalize"), FLAG("rescale"), P_INT8 } },
    { "breadcrumbs", "breadcrumbs", FORM_BASE_LIST, 1, 0,
      { P_WEIGHT, P_DENSITY, P_GAMMA, P_LAMBDA, FLAG("normalize"), FLAG("rescale"), P_INT8 } },
    { "breadcrumbs_ties", "breadcrumbs_ties", FORM_BASE_LIST, 1, 0,
      { P_WEIGHT, P_DENSITY, P_GAMMA, P_LAMBDA, FLAG("normalize"), FLAG("rescale"), P_INT8, P_CONSENSUS } },
    { "della", "della", FORM_BASE_LIST, 1, 0,
      { P_WEIGHT, P_DENSITY, P_EPSILON, P_LAMBDA, FLAG("normalize"), FLAG("rescale"), P_INT8, P_CONSENSUS } },
    { "della_linear", "della_linear", FORM_BASE_LIST, 1, 0,
      { P_WEIGHT, P_DENSITY, P_EPSILON, P_LAMBDA, FLAG("normalize"), FLAG("rescale"), P_INT8 } },
    { "sce", "sce", FORM_BASE_LIST, 1, 0, { NUM("select_topk"), P_INT8 } },
    { "ram", "ram", FORM_BASE_LIST, 1, 0, { NUM("epsilon") } },
    { "ramplus_tl", "ramplus_tl", FORM_BASE_LIST, 1, 0, { NUM("epsilon"), NUM("r"), NUM("alpha") } },
    { "model_stock", "model_stock", FORM_BASE_LIST, 2, 0, { FLAG("filter_wise") } },
    { "nearswap", "nearswap", FORM_BASE_ONE, 1, 1, { REQUIRED_NUM("t") } },
    { "arcee_fusion", "arcee_fusion", FORM_BASE_ONE, 1, 1, { { .name = NULL } } },
    /* scale has no default in mergekit (no scaling); 1 is the same. */
    { "passthrough", NULL, FORM_PASSTHROUGH, 1, 1,
      { { .name = "scale", .arg = "scale", .per_model = true, .type = MKP_NUMBER, .own_dflt = "1" } } },
};

#define N_METHODS (sizeof methods / sizeof methods[0])

const MkMethod *mkimport_method(const char *name) {
    for (size_t i = 0; i < N_METHODS; i++)
        if (strcmp(methods[i].name, name) == 0) return &methods[i];
    return NULL;
}

size_t mkimport_method_names(const char **out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < N_METHODS && n < cap; i++) out[n++] = methods[i].name;
    return n;
}

const MkParam *mkimport_param(const MkMethod *m, const char *name) {
    for (int i = 0; i < MK_MAX_PARAMS && m->params[i].name; i++)
        if (strcmp(m->params[i].name, name) == 0) return &m->params[i];
    return NULL;
}

const char *mkimport_param_default(const MkMethod *m, const MkParam *p) {
    if (p->required) return NULL;
    if (!m->builtin || !p->arg) return p->own_dflt;
    const Builtin *bi = builtin_find(m->builtin);
    int i = bi ? builtin_param_index(bi, p->arg) : -1;
    return i >= 0 ? bi->params[i].dflt : NULL;
}

bool mkimport_is_random(const MkMethod *m) {
    const Builtin *bi = m->builtin ? builtin_find(m->builtin) : NULL;
    return bi && builtin_param_index(bi, "seed") >= 0;
}

/* ---- messages ---------------------------------------------------------------------- */

void mkimport_warn(Mk *mk, SrcSpan at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    /* Through diag: names from the YAML may hold control characters. */
    diag_vwarning(mk->diag, at, fmt, ap);
    va_end(ap);
    mk->n_warnings++;
}

static bool err(Mk *mk, SrcSpan at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool err(Mk *mk, SrcSpan at, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(mk->diag, at, "%s", msg);
    return false;
}

static const char *kind_name(const MkYNode *n) {
    if (mkimport_yaml_is_null(n)) return "nothing";
    switch (n->kind) {
    case MKY_SCALAR: return "a single value";
    case MKY_SEQ: return "a list";
    case MKY_MAP: return "a mapping";
    }
    return "a value";
}

/* ---- scalars ---------------------------------------------------------------------------- */

static bool is_bool_word(const MkYNode *n, bool *b) {
    static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
    static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };
    if (n->kind != MKY_SCALAR || !n->plain) return false;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(n->text, yes[i]) == 0) return *b = true, true;
        if (strcmp(n->text, no[i]) == 0) return *b = false, true;
    }
    return false;
}

/* A decimal number as Python's float() reads a config value: optional sign,
 * digits with an optional fraction, optional exponent. Infinities and NaN
 * are refused (no recipe value can hold them). */
static bool parse_number(const char *s, double *out) {
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    const char *digits = p;
    while (*p >= '0' && *p <= '9') p++;
    bool any = p > digits;
    if (*p == '.') {
        p++;
        const char *f = p;
        while (*p >= '0' && *p <= '9') p++;
        any = any || p > f;
    }
    if (!any) return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        const char *e = p;
        while (*p >= '0' && *p <= '9') p++;
        if (p == e) return false;
    }
    if (*p) return false;
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE) return false;
    *out = v;
    return true;
}

/* ---- parameter values ---------------------------------------------------------------------- */

static bool check_scalar(Mk *mk, const MkParam *p, const MkYNode *v) {
    double d;
    bool b;
    if (v->kind != MKY_SCALAR || mkimport_yaml_is_null(v))
        return err(mk, v->at, "parameter '%s' must be a value here, found %s", p->name, kind_name(v));
    if (p->type == MKP_CHOICE) {
        if (strcmp(v->text, "sum") == 0 || strcmp(v->text, "count") == 0) return true;
        err(mk, v->at, "%s must be sum or count, found '%s'", p->name, v->text);
        diag_hint(mk->diag, "sum elects the sign of the summed weighted deltas (mergekit); count, of the count of signs");
        return false;
    }
    if (is_bool_word(v, &b) || parse_number(v->text, &d)) return true;
    err(mk, v->at, "parameter '%s' must be a number, found '%s'", p->name, v->text);
    if (p->type == MKP_BOOL) diag_hint(mk->diag, "write true or false");
    return false;
}

static bool check_gradient(Mk *mk, const MkParam *p, const MkYNode *v) {
    if (p->type == MKP_CHOICE)
        return err(mk, v->at, "parameter '%s' takes one value, not a list", p->name);
    if (v->n == 0) {
        err(mk, v->at, "parameter '%s' is an empty list", p->name);
        diag_hint(mk->diag, "a gradient needs at least one value: [0, 0.5, 1]");
        return false;
    }
    for (size_t i = 0; i < v->n; i++) {
        const MkYNode *e = v->items[i];
        double d;
        bool b;
        if (e->kind != MKY_SCALAR || mkimport_yaml_is_null(e) || !(is_bool_word(e, &b) || parse_number(e->text, &d)))
            return err(mk, e->at, "entry %zu of the gradient '%s' must be a number, found %s", i + 1, p->name,
                       e->kind == MKY_SCALAR && !mkimport_yaml_is_null(e) ? e->text : kind_name(e));
    }
    return true;
}

bool mkimport_check_value(Mk *mk, const MkParam *p, const MkYNode *v) {
    if (v->kind == MKY_SCALAR) return check_scalar(mk, p, v);
    if (v->kind == MKY_MAP) {
        err(mk, v->at, "parameter '%s': a single {filter, value} entry must be inside a list", p->name);
        diag_hint(mk->diag, "write it as a list item: `- filter: ...` (mergekit fails when it evaluates this)");
        return false;
    }
    if (v->n == 0 || v->items[0]->kind != MKY_MAP) return check_gradient(mk, p, v);
    /* [{filter: s, value: v}, ..., {value: d}] */
    bool ok = true;
    for (size_t i = 0; i < v->n; i++) {
        const MkYNode *e = v->items[i];
        if (e->kind != MKY_MAP) {
            ok = err(mk, e->at, "entry %zu of '%s' must be a {filter, value} mapping like the others, found %s",
                     i + 1, p->name, kind_name(e));
            continue;
        }
        for (size_t k = 0; k < e->n; k++) {
            const char *key = e->items[k]->text;
            if (strcmp(key, "filter") == 0) {
                const MkYNode *f = e->vals[k];
                if (mkimport_yaml_is_null(f)) continue;
                if (f->kind != MKY_SCALAR) ok = err(mk, f->at, "a filter must be a string, found %s", kind_name(f));
            } else if (strcmp(key, "value") != 0) {
                static const char *const keys[] = { "filter", "value" };
                const char *near = suggest_closest(key, keys, 2);
                ok = err(mk, e->items[k]->at, "unknown field '%s' in a conditional value of '%s'", key, p->name);
                if (near) diag_hint(mk->diag, "did you mean '%s'?", near);
                else diag_hint(mk->diag, "an entry has `filter:` (a substring of the tensor name) and `value:`");
            }
        }
        const MkYNode *val = mkimport_yaml_get(e, "value");
        if (!val) {
            ok = err(mk, e->at, "entry %zu of '%s' has no value", i + 1, p->name);
            continue;
        }
        if (val->kind == MKY_MAP) {
            ok = err(mk, val->at, "the value of a conditional entry must be a number or a gradient list");
            continue;
        }
        if (val->kind == MKY_SEQ && val->n > 0 && val->items[0]->kind == MKY_MAP) {
            ok = err(mk, val->at, "conditional values do not nest: the value must be a number or a gradient list");
            continue;
        }
        if (!mkimport_check_value(mk, p, val)) ok = false;
    }
    return ok;
}

/* Checks a `parameters:` mapping for method m. level: 0 a model or slice
 * source, 1 a slice, 2 the top level. Unknown names are warnings (mergekit
 * ignores them); so are global parameters given per model, which mergekit
 * reads only from a slice or the top level. */
static bool check_params(Mk *mk, const MkMethod *m, const MkYNode *params, int level) {
    if (!params) return true;
    if (params->kind != MKY_MAP)
        return err(mk, params->at, "parameters must be a mapping (name: value lines), found %s", kind_name(params));
    bool ok = true;
    for (size_t i = 0; i < params->n; i++) {
        const MkYNode *key = params->items[i], *val = params->vals[i];
        const MkParam *p = mkimport_param(m, key->text);
        if (!p) {
            const char *names[MK_MAX_PARAMS];
            size_t n = 0;
            for (int k = 0; k < MK_MAX_PARAMS && m->params[k].name; k++) names[n++] = m->params[k].name;
            const char *near = suggest_closest(key->text, names, n);
            const char *other = NULL;
            for (size_t k = 0; k < N_METHODS && !other; k++)
                if (mkimport_param(&methods[k], key->text)) other = methods[k].name;
            mkimport_warn(mk, key->at, "%s has no parameter '%s'; mergekit ignores it, and so does the recipe",
                          m->name, key->text);
            if (near) diag_hint(mk->diag, "did you mean '%s'?", near);
            else if (other) diag_hint(mk->diag, "'%s' is a parameter of %s", key->text, other);
            continue;
        }
        if (mkimport_yaml_is_null(val)) continue;
        if (!mkimport_check_value(mk, p, val)) {
            ok = false;
            continue;
        }
        if (level == 0 && !p->per_model) {
            mkimport_warn(mk, key->at, "'%s' applies to the whole merge: mergekit reads it from the slice's or the "
                          "top-level parameters and ignores it here, and so does the recipe", p->name);
        } else if (!p->arg && p->warn) {
            mkimport_warn(mk, key->at, "%s: %s", p->name, p->note);
        }
    }
    return ok;
}

/* ---- fields ------------------------------------------------------------------------------------- */

/* An error when key is not in known (NULL-terminated). */
static bool check_key(Mk *mk, const MkYNode *keynode, const char *const *known, const char *where) {
    const char *key = keynode->text;
    size_t n = 0;
    while (known[n]) n++;
    for (size_t k = 0; k < n; k++)
        if (strcmp(known[k], key) == 0) return true;
    err(mk, keynode->at, "unknown field '%s' in %s", key, where);
    const char *near = suggest_closest(key, known, n);
    if (near) {
        diag_hint(mk->diag, "did you mean '%s'?", near);
        return false;
    }
    char list[512] = "";
    for (size_t k = 0; k < n; k++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "", known[k]);
    }
    diag_hint(mk->diag, "the fields of %s are: %s", where, list);
    return false;
}

/* Errors for the keys of map that are not in known (NULL-terminated). */
static bool check_keys(Mk *mk, const MkYNode *map, const char *const *known, const char *where) {
    bool ok = true;
    for (size_t i = 0; i < map->n; i++)
        if (!check_key(mk, map->items[i], known, where)) ok = false;
    return ok;
}

static const MkYNode *key_node(const MkYNode *map, const char *key) {
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->items[i]->text, key) == 0) return map->items[i];
    return NULL;
}

static bool expect_string(Mk *mk, const MkYNode *v, const char *field) {
    if (v->kind == MKY_SCALAR && !mkimport_yaml_is_null(v)) return true;
    return err(mk, v->at, "%s must be a string, found %s", field, kind_name(v));
}

/* ---- model references ----------------------------------------------------------------------------- */

static bool looks_like_hf_id(const char *s) {
    int slashes = 0;
    if (!*s || *s == '.' || *s == '/' || *s == '-') return false;
    size_t len = strlen(s);
    if (len > 96 || (len > 12 && strcmp(s + len - 12, ".safetensors") == 0)) return false;
    for (const char *p = s; *p; p++) {
        if (*p == '/') {
            if (++slashes > 1 || p[1] == '\0' || p[1] == '.' || p[1] == '-' || p[1] == '/') return false;
        } else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                     *p == '-' || *p == '_' || *p == '.')) {
            return false;
        }
    }
    return true;
}

static bool path_exists(const Mk *mk, const char *path) {
    struct stat st;
    if (path[0] == '/') return stat(path, &st) == 0;
    size_t len = strlen(mk->dir) + strlen(path) + 2;
    char *full = malloc(len);
    if (!full) return false;
    snprintf(full, len, "%s/%s", mk->dir, path);
    bool ok = stat(full, &st) == 0;
    free(full);
    return ok;
}

static int stage_named(const Mk *mk, const char *name) {
    for (size_t i = 0; i < mk->n_stages; i++)
        if (mk->stages[i].name && strcmp(mk->stages[i].name, name) == 0) return (int)i;
    return -1;
}

static int add_ref(Mk *mk, const char *path, const char *revision, SrcSpan at) {
    for (size_t i = 0; i < mk->n_refs; i++) {
        MkRef *r = &mk->refs[i];
        bool same_rev = (!r->revision && !revision) || (r->revision && revision && strcmp(r->revision, revision) == 0);
        if (strcmp(r->path, path) == 0 && same_rev) return (int)i;
    }
    if (mk->n_refs == mk->cap_refs) {
        size_t cap = mk->cap_refs ? mk->cap_refs * 2 : 8;
        MkRef *m = arena_array(mk->arena, cap, sizeof *m);
        if (!m) return err(mk, at, "out of memory"), -1;
        if (mk->n_refs) memcpy(m, mk->refs, mk->n_refs * sizeof *m);
        mk->refs = m;
        mk->cap_refs = cap;
    }
    MkRef *r = &mk->refs[mk->n_refs];
    memset(r, 0, sizeof *r);
    r->path = path;
    r->revision = revision;
    r->at = at;
    r->stage = stage_named(mk, path);
    if (r->stage >= 0) {
        r->kind = REF_STAGE;
        if (revision) mkimport_warn(mk, at, "'%s' names a stage of this file; the revision '%s' is ignored", path, revision);
    } else if (path_exists(mk, path)) {
        r->kind = REF_LOCAL;
        if (revision)
            mkimport_warn(mk, at, "'%s' is a local path; the revision '%s' applies to Hugging Face ids only", path, revision);
    } else if (looks_like_hf_id(path)) {
        r->kind = REF_HF;
    } else {
        r->kind = REF_MISSING;
        mkimport_warn(mk, at, "'%s' is not a file or folder here (paths are relative to the YAML's folder)", path);
    }
    return (int)mk->n_refs++;
}

/* A model reference: "path_or_hf_id[@revision]" or the object form
 * {model: {path, revision} | "id", lora, override_architecture}. LoRA
 * adapters are refused: they are merged into the model by PEFT first. */
static int read_ref(Mk *mk, const MkYNode *v, const char *field) {
    if (mkimport_yaml_is_null(v)) return err(mk, v->at, "%s is empty", field), -1;
    if (v->kind == MKY_MAP) {
        static const char *const keys[] = { "model", "lora", "override_architecture", NULL };
        if (!check_keys(mk, v, keys, "a model reference")) return -1;
        if (mkimport_yaml_get(v, "lora")) {
            err(mk, mkimport_yaml_get(v, "lora")->at, "LoRA adapters are not translated");
            diag_hint(mk->diag, "merge the adapter into its model first (PEFT merge_and_unload) and name that folder");
            return -1;
        }
        const MkYNode *arch = mkimport_yaml_get(v, "override_architecture");
        if (arch) mkimport_warn(mk, arch->at, "override_architecture changes only how mergekit reads the model; it is ignored");
        const MkYNode *inner = mkimport_yaml_get(v, "model");
        if (!inner) return err(mk, v->at, "%s has no `model:` field", field), -1;
        if (inner->kind == MKY_MAP) {
            static const char *const pkeys[] = { "path", "revision", NULL };
            if (!check_keys(mk, inner, pkeys, "a model path")) return -1;
            const MkYNode *path = mkimport_yaml_get(inner, "path");
            const MkYNode *rev = mkimport_yaml_get(inner, "revision");
            if (!path) return err(mk, inner->at, "the model has no `path:`"), -1;
            if (!expect_string(mk, path, "path") || (rev && !expect_string(mk, rev, "revision"))) return -1;
            return add_ref(mk, path->text, rev ? rev->text : NULL, path->at);
        }
        v = inner;
    }
    if (!expect_string(mk, v, field)) return -1;
    const char *s = v->text;
    if (strchr(s, '+')) {
        err(mk, v->at, "'%s' names a LoRA adapter (after '+'); adapters are not translated", s);
        diag_hint(mk->diag, "merge the adapter into its model first (PEFT merge_and_unload) and name that folder");
        return -1;
    }
    const char *at = strchr(s, '@');
    if (at && strchr(at + 1, '@')) return err(mk, v->at, "'%s' has more than one '@'", s), -1;
    if (at == s || (at && !at[1])) return err(mk, v->at, "'%s' is not a model reference", s), -1;
    if (!at) return add_ref(mk, s, NULL, v->at);
    char *path = arena_strndup(mk->arena, s, (size_t)(at - s));
    if (!path) return err(mk, v->at, "out of memory"), -1;
    return add_ref(mk, path, at + 1, v->at);
}

/* ---- documents ----------------------------------------------------------------------------------------- */

static bool read_dtype(Mk *mk, const MkYNode *v, const char **out, SrcSpan *at, const char *field) {
    if (!expect_string(mk, v, field)) return false;
    const char *s = v->text;
    if (strncmp(s, "torch.", 6) == 0) s += 6;
    static const char *const names[] = { "bfloat16", "float16", "float32" };
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = names[i];
            *at = v->at;
            return true;
        }
    }
    if (strcmp(s, "int64") == 0) {
        err(mk, v->at, "%s int64 is not translated: mergelang merges floating-point weights", field);
        return false;
    }
    err(mk, v->at, "unknown %s '%s'", field, v->text);
    static const char *const alias[][2] = { { "bf16", "bfloat16" }, { "bfloat", "bfloat16" }, { "fp16", "float16" },
                                            { "half", "float16" }, { "fp32", "float32" }, { "float", "float32" } };
    const char *near = suggest_closest(s, names, 3);
    for (size_t i = 0; i < sizeof alias / sizeof alias[0] && !near; i++)
        if (strcmp(s, alias[i][0]) == 0) near = alias[i][1];
    if (near) diag_hint(mk->diag, "did you mean '%s'? (mergekit accepts no abbreviations)", near);
    else diag_hint(mk->diag, "mergekit accepts bfloat16, float16 and float32 (and int64)");
    return false;
}

static bool read_tokenizer(Mk *mk, MkStage *st, const MkYNode *v, const char *field) {
    if (v->kind == MKY_SCALAR && strcmp(v->text, "union") == 0) {
        err(mk, v->at, "%s: union is not translated: mergekit builds a new vocabulary and remaps the embeddings",
            field);
        diag_hint(mk->diag, "if every model has the same vocabulary, `tokenizer_source: base` gives the same weights");
        return false;
    }
    st->tokenizer_at = v->at;
    if (v->kind == MKY_SCALAR && strcmp(v->text, "base") == 0) {
        st->tokenizer_base = true;
        return true;
    }
    st->tokenizer = read_ref(mk, v, field);
    return st->tokenizer >= 0;
}

/* tokenizer: {source: base | <model>}; tokens and padding remap embeddings. */
static bool read_tokenizer_block(Mk *mk, MkStage *st, const MkYNode *tk) {
    static const char *const keys[] = { "source", "tokens", "pad_to_multiple_of", NULL };
    if (tk->kind != MKY_MAP) return err(mk, tk->at, "tokenizer must be a mapping with `source:`, found %s", kind_name(tk));
    if (!check_keys(mk, tk, keys, "tokenizer")) return false;
    bool ok = true;
    const MkYNode *tokens = mkimport_yaml_get(tk, "tokens"), *pad = mkimport_yaml_get(tk, "pad_to_multiple_of");
    if (tokens) ok = err(mk, tokens->at, "tokenizer tokens are not translated (they remap embedding rows)");
    if (pad) ok = err(mk, pad->at, "pad_to_multiple_of is not translated (it adds embedding rows)");
    const MkYNode *s = mkimport_yaml_get(tk, "source");
    if (!s) {
        err(mk, tk->at, "tokenizer: source defaults to union, which is not translated");
        diag_hint(mk->diag, "write `source: base` when every model has the same vocabulary");
        return false;
    }
    return read_tokenizer(mk, st, s, "tokenizer source") && ok;
}

static bool read_range(Mk *mk, MkSource *s, const MkYNode *v) {
    if (v->kind != MKY_SEQ || v->n != 2)
        return err(mk, v->at, "layer_range must be a list of two layer numbers [from, to], found %s", kind_name(v));
    long x[2];
    for (int i = 0; i < 2; i++) {
        const MkYNode *e = v->items[i];
        char *end = NULL;
        errno = 0;
        long n = e->kind == MKY_SCALAR ? strtol(e->text, &end, 10) : -1;
        if (e->kind != MKY_SCALAR || !e->len || *end || errno || n < 0 || n > 1000000)
            return err(mk, e->at, "a layer number must be a whole number from 0, found %s",
                       e->kind == MKY_SCALAR ? e->text : kind_name(e));
        x[i] = n;
    }
    if (x[1] < x[0]) return err(mk, v->at, "layer_range [%ld, %ld] ends before it starts", x[0], x[1]);
    if (x[1] == x[0]) {
        err(mk, v->at, "layer_range [%ld, %ld] is empty: empty slices are not translated", x[0], x[1]);
        diag_hint(mk->diag, "mergekit uses an empty last slice to choose the model of the final norm and lm_head; "
                            "mergelang's layers() needs at least one layer");
        return false;
    }
    s->ranged = true;
    s->from = x[0];
    s->to = x[1];
    return true;
}

static bool grow_sources(Mk *mk, MkSlice *sl, size_t cap) {
    sl->src = arena_array(mk->arena, cap ? cap : 1, sizeof *sl->src);
    return sl->src || err(mk, sl->at, "out of memory");
}

static bool read_models(Mk *mk, MkStage *st, const MkYNode *v) {
    if (v->kind != MKY_SEQ || v->n == 0)
        return err(mk, v->at, "models must be a list of `- model: ...` entries, found %s", kind_name(v));
    st->n_slices = 1;
    st->slices = arena_alloc(mk->arena, sizeof *st->slices);
    if (!st->slices) return err(mk, v->at, "out of memory");
    MkSlice *sl = &st->slices[0];
    sl->at = v->at;
    sl->base = -1;
    if (!grow_sources(mk, sl, v->n + 1)) return false;
    bool ok = true;
    for (size_t i = 0; i < v->n; i++) {
        const MkYNode *e = v->items[i];
        static const char *const keys[] = { "model", "parameters", NULL };
        if (e->kind != MKY_MAP) {
            ok = err(mk, e->at, "each entry of models must be a mapping with `model:`, found %s", kind_name(e));
            continue;
        }
        if (!check_keys(mk, e, keys, "a models entry")) ok = false;
        const MkYNode *m = mkimport_yaml_get(e, "model");
        if (!m) {
            ok = err(mk, e->at, "this models entry has no `model:`");
            continue;
        }
        int ref = read_ref(mk, m, "model");
        if (ref < 0) {
            ok = false;
            continue;
        }
        for (size_t k = 0; k < sl->n; k++) {
            if (sl->src[k].ref == ref) {
                ok = err(mk, m->at, "'%s' is listed twice", mk->refs[ref].path);
                diag_note(mk->diag, sl->src[k].at, "first listed here");
            }
        }
        MkSource *s = &sl->src[sl->n++];
        s->ref = ref;
        s->at = m->at;
        s->params = mkimport_yaml_get(e, "parameters");
        if (!check_params(mk, st->method, s->params, 0)) ok = false;
    }
    return ok;
}

static bool read_slices(Mk *mk, MkStage *st, const MkYNode *v) {
    if (v->kind != MKY_SEQ || v->n == 0)
        return err(mk, v->at, "slices must be a list of `- sources: ...` entries, found %s", kind_name(v));
    st->slices_form = true;
    st->n_slices = v->n;
    st->slices = arena_array(mk->arena, v->n, sizeof *st->slices);
    if (!st->slices) return err(mk, v->at, "out of memory");
    bool ok = true;
    for (size_t i = 0; i < v->n; i++) {
        const MkYNode *e = v->items[i];
        MkSlice *sl = &st->slices[i];
        sl->at = e->at;
        sl->base = -1;
        static const char *const keys[] = { "sources", "base_model", "parameters", "residual_weight", NULL };
        if (e->kind != MKY_MAP) {
            ok = err(mk, e->at, "each slice must be a mapping with `sources:`, found %s", kind_name(e));
            continue;
        }
        if (!check_keys(mk, e, keys, "a slice")) ok = false;
        const MkYNode *rw = mkimport_yaml_get(e, "residual_weight");
        if (rw) mkimport_warn(mk, rw->at, "residual_weight is not used by mergekit; it is ignored");
        const MkYNode *b = mkimport_yaml_get(e, "base_model");
        if (b && (sl->base = read_ref(mk, b, "base_model")) < 0) ok = false;
        sl->params = mkimport_yaml_get(e, "parameters");
        if (!check_params(mk, st->method, sl->params, 1)) ok = false;
        const MkYNode *srcs = mkimport_yaml_get(e, "sources");
        if (!srcs) {
            ok = err(mk, e->at, "this slice has no `sources:`");
            continue;
        }
        if (srcs->kind != MKY_SEQ || srcs->n == 0) {
            ok = err(mk, srcs->at, "sources must be a list of `- model: ...` entries, found %s", kind_name(srcs));
            continue;
        }
        if (!grow_sources(mk, sl, srcs->n)) return false;
        for (size_t k = 0; k < srcs->n; k++) {
            const MkYNode *se = srcs->items[k];
            static const char *const skeys[] = { "model", "layer_range", "parameters", NULL };
            if (se->kind != MKY_MAP) {
                ok = err(mk, se->at, "each source must be a mapping with `model:` and `layer_range:`, found %s",
                         kind_name(se));
                continue;
            }
            if (!check_keys(mk, se, skeys, "a slice source")) ok = false;
            const MkYNode *m = mkimport_yaml_get(se, "model");
            const MkYNode *lr = mkimport_yaml_get(se, "layer_range");
            if (!m) ok = err(mk, se->at, "this source has no `model:`");
            if (!lr) {
                ok = err(mk, se->at, "this source has no `layer_range:`");
                diag_hint(mk->diag, "give the layers it contributes, half-open: layer_range: [0, 16]");
            }
            if (!m || !lr) continue;
            MkSource *s = &sl->src[sl->n];
            s->at = m->at;
            s->ref = read_ref(mk, m, "model");
            s->params = mkimport_yaml_get(se, "parameters");
            bool good = s->ref >= 0 && read_range(mk, s, lr);
            if (!check_params(mk, st->method, s->params, 0)) ok = false;
            if (!good) {
                ok = false;
                continue;
            }
            for (size_t j = 0; j < sl->n; j++) {
                if (sl->src[j].ref == s->ref) {
                    ok = err(mk, m->at, "'%s' is a source of this slice twice", mk->refs[s->ref].path);
                    diag_note(mk->diag, sl->src[j].at, "first here");
                    diag_hint(mk->diag, "mergekit keys a slice's tensors by model, so one of them would be lost");
                }
            }
            if (sl->n > 0 && s->to - s->from != sl->src[0].to - sl->src[0].from) {
                ok = err(mk, lr->at, "this source has %ld layers but the slice's first source has %ld",
                         s->to - s->from, sl->src[0].to - sl->src[0].from);
                diag_hint(mk->diag, "all inputs to a slice must contain the same number of layers");
            }
            sl->n++;
        }
    }
    return ok;
}

static bool read_doc(Mk *mk, MkStage *st, const MkYNode *root, bool multi) {
    st->at = root->at;
    st->base = st->tokenizer = -1;
    if (root->kind != MKY_MAP)
        return err(mk, root->at, "a mergekit configuration is a mapping of fields (merge_method:, models:, ...), "
                   "found %s", kind_name(root));
    static const char *const keys[] = { "merge_method", "models", "slices", "modules", "base_model", "parameters",
                                        "dtype", "out_dtype", "tokenizer_source", "tokenizer", "chat_template",
                                        "name", NULL };
    bool ok = true;
    const MkYNode *mm = mkimport_yaml_get(root, "merge_method");
    if (!mm) {
        const MkYNode *k = key_node(root, "merge_method");
        err(mk, k ? k->at : root->at, "%s", k ? "merge_method is empty" : "missing field 'merge_method'");
        diag_hint(mk->diag, "for example: merge_method: ties");
        return false;
    }
    if (!expect_string(mk, mm, "merge_method")) return false;
    st->method = mkimport_method(mm->text);
    st->method_at = mm->at;
    if (!st->method) {
        const char *names[N_METHODS];
        size_t n = mkimport_method_names(names, N_METHODS);
        err(mk, mm->at, "unknown merge_method '%s'", mm->text);
        const char *near = suggest_closest(mm->text, names, n);
        if (near) {
            diag_hint(mk->diag, "did you mean '%s'?", near);
        } else {
            char list[512] = "";
            for (size_t i = 0, used = 0; i < n && used < sizeof list; i++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
            diag_hint(mk->diag, "mergekit's methods: %s", list);
        }
        return false;
    }
    const MkYNode *models = mkimport_yaml_get(root, "models"), *slices = mkimport_yaml_get(root, "slices");
    if (models && slices) {
        err(mk, key_node(root, "slices")->at, "give either models or slices, not both");
        return false;
    }
    if (!models && !slices && !mkimport_yaml_get(root, "modules")) {
        err(mk, root->at, "missing field 'models' (or 'slices')");
        diag_hint(mk->diag, "list the models to merge: `models:` then `- model: path` lines");
        return false;
    }
    /* In the file's order, so that messages come out by line. */
    for (size_t i = 0; i < root->n; i++) {
        const char *key = root->items[i]->text;
        const MkYNode *k = root->items[i], *v = root->vals[i];
        if (!check_key(mk, k, keys, "a mergekit configuration")) ok = false;
        if (mkimport_yaml_is_null(v)) continue;
        if (strcmp(key, "name") == 0) {
            if (!multi && !expect_string(mk, v, "name")) ok = false;
        } else if (strcmp(key, "modules") == 0) {
            err(mk, k->at, "modules (multi-module architectures) are not translated");
            diag_hint(mk->diag, "translate one module at a time with `models:` or `slices:`");
            ok = false;
        } else if (strcmp(key, "chat_template") == 0) {
            err(mk, k->at, "chat_template is not translated");
            diag_hint(mk->diag, "remove it, and set the template in the output's tokenizer_config.json");
            ok = false;
        } else if (strcmp(key, "base_model") == 0) {
            st->base_at = v->at;
            if ((st->base = read_ref(mk, v, "base_model")) < 0) ok = false;
        } else if (strcmp(key, "parameters") == 0) {
            st->params = v;
            if (!check_params(mk, st->method, st->params, 2)) ok = false;
        } else if (strcmp(key, "dtype") == 0) {
            if (!read_dtype(mk, v, &st->dtype, &st->dtype_at, "dtype")) ok = false;
        } else if (strcmp(key, "out_dtype") == 0) {
            if (!read_dtype(mk, v, &st->out_dtype, &st->out_dtype_at, "out_dtype")) ok = false;
        } else if (strcmp(key, "tokenizer_source") == 0) {
            if (mkimport_yaml_get(root, "tokenizer")) {
                ok = err(mk, k->at, "tokenizer and tokenizer_source cannot both be given");
            } else if (!read_tokenizer(mk, st, v, "tokenizer_source")) {
                ok = false;
            }
        } else if (strcmp(key, "tokenizer") == 0) {
            if (!mkimport_yaml_get(root, "tokenizer_source") && !read_tokenizer_block(mk, st, v)) ok = false;
        } else if (strcmp(key, "models") == 0) {
            if (!read_models(mk, st, v)) {
                ok = false;
                models = NULL;
            }
        } else if (strcmp(key, "slices") == 0) {
            if (!read_slices(mk, st, v)) ok = false;
        }
    }
    if (models && st->base >= 0) {
        /* mergekit appends a base model that the list does not name. */
        MkSlice *sl = &st->slices[0];
        bool listed = false;
        for (size_t i = 0; i < sl->n; i++) listed = listed || sl->src[i].ref == st->base;
        if (!listed) {
            MkSource *s = &sl->src[sl->n++];
            s->ref = st->base;
            s->at = st->base_at;
            s->appended = true;
        }
    }
    return ok;
}

bool mkimport_read_config(Mk *mk, MkYNode **docs, size_t n_docs) {
    /* mergekit-multi: stage names first, so that references can name them. */
    size_t n = 0;
    for (size_t i = 0; i < n_docs; i++)
        if (!mkimport_yaml_is_null(docs[i])) n++;
    if (n == 0) {
        diag_error(mk->diag, (SrcSpan){ mk->src, 0, 0 }, "the file has no configuration");
        diag_hint(mk->diag, "a mergekit configuration starts with fields such as `merge_method:` and `models:`");
        return false;
    }
    mk->stages = arena_array(mk->arena, n, sizeof *mk->stages);
    if (!mk->stages) return err(mk, docs[0]->at, "out of memory");
    bool ok = true;
    const MkYNode *unnamed = NULL;
    for (size_t i = 0; i < n_docs; i++) {
        if (mkimport_yaml_is_null(docs[i])) {
            mkimport_warn(mk, docs[i]->at, "an empty document is skipped");
            continue;
        }
        MkStage *st = &mk->stages[mk->n_stages++];
        st->at = docs[i]->at;
        const MkYNode *name = docs[i]->kind == MKY_MAP ? mkimport_yaml_get(docs[i], "name") : NULL;
        if (n > 1 && !name) {
            if (unnamed) {
                ok = err(mk, docs[i]->at, "a second document without `name:`");
                diag_note(mk->diag, unnamed->at, "the first unnamed document (the final output) is here");
                diag_hint(mk->diag, "in a mergekit-multi file every stage but the final one has a name");
            }
            unnamed = docs[i];
        }
        if (!name) continue;
        if (!expect_string(mk, name, "name")) {
            ok = false;
            continue;
        }
        int prev = stage_named(mk, name->text);
        if (prev >= 0) {
            ok = err(mk, name->at, "a second stage named '%s'", name->text);
            diag_note(mk->diag, mk->stages[prev].at, "the first one is here");
            continue;
        }
        st->name = name->text;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_docs; i++) {
        if (mkimport_yaml_is_null(docs[i])) continue;
        if (!read_doc(mk, &mk->stages[k++], docs[i], n > 1)) ok = false;
    }
    return ok;
}
