/* mergekit_int.h - shared by the files of `mergelang import-mergekit`:
 *
 *   mergekit_yaml.c    YAML text -> MkYNode trees (libyaml), with source spans
 *   mergekit_config.c  the method table; MkYNode documents -> MkStage records,
 *                      every field validated
 *   mergekit_emit.c    MkStage records -> recipe text
 *   mergekit_import.c  the command line
 *
 * Everything is allocated in one Arena owned by the command and freed at
 * its end. The importer context (Mk) is passed to every function; there is
 * no global state. */
#ifndef MERGELANG_MERGEKIT_INT_H
#define MERGELANG_MERGEKIT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/core/arena.h"
#include "interp/syntax/diag.h"

/* ---- YAML ------------------------------------------------------------------- */

typedef enum { MKY_SCALAR, MKY_SEQ, MKY_MAP } MkYKind;

typedef struct MkYNode MkYNode;
struct MkYNode {
    MkYKind kind;
    SrcSpan at;            /* the node's text */
    const char *text;      /* scalars: the value, NUL-terminated, no NUL inside */
    size_t len;
    bool plain;            /* scalars: written without quotes or block style */
    MkYNode **items;       /* sequences: the items; mappings: the keys (scalars) */
    MkYNode **vals;        /* mappings: the values, parallel to items */
    size_t n;
};

/* Parses every document of src into *docs (an arena array of roots) and
 * returns how many there are, or -1 after reporting errors to diag. Aliases
 * share nodes; merge keys (<<) are expanded; duplicate keys are errors. */
int mkimport_yaml_load(const SrcFile *src, Arena *arena, Diag *diag, MkYNode ***docs);
/* Plain "", "~", "null", "Null" or "NULL": YAML's null. */
bool mkimport_yaml_is_null(const MkYNode *n);
/* The value under key in a mapping, or NULL (also for a null value). */
const MkYNode *mkimport_yaml_get(const MkYNode *map, const char *key);

/* ---- methods ---------------------------------------------------------------- */

typedef enum { MKP_NUMBER, MKP_BOOL, MKP_CHOICE } MkPType;

/* A mergekit parameter and the built-in parameter it becomes. Its default
 * is not here: it is the built-in's, from the registry (mergekit's and
 * mergelang's defaults are the same; mkimport_param_default). */
typedef struct MkParam {
    const char *name;      /* mergekit's name */
    const char *arg;       /* the built-in's keyword; NULL when it has no effect */
    bool per_model;        /* a tensor parameter, read for each model */
    bool required;         /* mergekit has no default for it */
    MkPType type;
    const char *note;      /* why arg is NULL: a comment in the recipe */
    bool warn;             /* also warn when it is given (arg NULL) */
    /* The default of a parameter no built-in takes (passthrough's scale),
     * as recipe text. */
    const char *own_dflt;
} MkParam;

/* How the base model takes part, and so how the built-in is called. */
typedef enum {
    FORM_LIST,        /* f([inputs]): the base is one more input (linear, karcher) */
    FORM_LIST_BASE,   /* f([models], base = b): base optional (nuslerp, multislerp) */
    FORM_BASE_LIST,   /* f(base, [models]): base required (task arithmetic, sce, ...) */
    FORM_BASE_ONE,    /* f(base, model): exactly one other model (slerp, nearswap, ...) */
    FORM_PASSTHROUGH  /* one model per slice, optionally scaled */
} MkForm;

#define MK_MAX_PARAMS 10

typedef struct MkMethod {
    const char *name;      /* mergekit's merge_method */
    const char *builtin;   /* the mergelang built-in (NULL for passthrough) */
    MkForm form;
    int min_models, max_models;  /* models besides the base (all inputs for FORM_LIST); 0 = any */
    MkParam params[MK_MAX_PARAMS];
} MkMethod;

const MkMethod *mkimport_method(const char *name);
size_t mkimport_method_names(const char **out, size_t cap);
const MkParam *mkimport_param(const MkMethod *m, const char *name);
/* p's default as recipe text: the registry's default of the built-in
 * parameter it becomes; NULL when mergekit requires it. */
const char *mkimport_param_default(const MkMethod *m, const MkParam *p);
/* The method draws random numbers: its built-in takes seed= (the recipe
 * gets a `param seed`). */
bool mkimport_is_random(const MkMethod *m);

/* ---- the configuration ------------------------------------------------------------ */

typedef enum { REF_LOCAL, REF_HF, REF_MISSING, REF_STAGE } MkRefKind;

typedef struct MkRef {     /* one distinct model reference */
    const char *path;      /* as written, without @revision */
    const char *revision;  /* NULL when none */
    const char *var;       /* its recipe variable (stages: set when emitted) */
    SrcSpan at;            /* first mention */
    MkRefKind kind;
    int stage;             /* REF_STAGE: the stage it names */
} MkRef;

typedef struct MkSource {
    int ref;
    bool ranged;           /* slices form: layer_range given */
    long from, to;
    const MkYNode *params; /* mapping or NULL */
    SrcSpan at;
    bool appended;         /* the base model added to a models list, as mergekit does */
} MkSource;

typedef struct MkSlice {
    MkSource *src;
    size_t n;
    int base;              /* the slice's base_model, or -1 */
    const MkYNode *params;
    SrcSpan at;
} MkSlice;

typedef struct MkStage {
    const char *name;      /* mergekit-multi name, NULL for the final stage */
    SrcSpan at;            /* the document */
    const MkMethod *method;
    SrcSpan method_at;
    int base;              /* base_model, or -1 */
    SrcSpan base_at;
    const MkYNode *params; /* top-level parameters */
    bool slices_form;
    MkSlice *slices;
    size_t n_slices;
    const char *dtype, *out_dtype;  /* normalised names, or NULL */
    SrcSpan dtype_at, out_dtype_at;
    int tokenizer;         /* tokenizer_source model, or -1 */
    bool tokenizer_base;   /* tokenizer_source: base */
    SrcSpan tokenizer_at;
    const char *var;       /* the variable holding its result, once emitted */
    int mark;              /* ordering state */
    bool used;             /* named by another stage */
} MkStage;

typedef struct Mk {
    const SrcFile *src;
    const char *dir;       /* folder of the YAML file: where relative paths start */
    Diag *diag;
    Arena *arena;
    int n_warnings;
    MkRef *refs;
    size_t n_refs, cap_refs;
    MkStage *stages;
    size_t n_stages;
    const char **names;    /* recipe names in use */
    size_t n_names, cap_names;
} Mk;

/* "file:line:col: warning: ..." (warnings never stop the translation). */
void mkimport_warn(Mk *mk, SrcSpan at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reads every document into mk->stages; false after reporting errors. */
bool mkimport_read_config(Mk *mk, MkYNode **docs, size_t n_docs);
/* Checks a parameter value against its type (value forms of mergekit). */
bool mkimport_check_value(Mk *mk, const MkParam *p, const MkYNode *v);
/* The recipe text (malloc'ed, the caller frees it), or NULL after reporting
 * errors. yaml_name and recipe_name are shown in its header comment. */
char *mkimport_emit(Mk *mk, const char *yaml_name, const char *recipe_name);

/* A fresh recipe identifier made from hint ("m0.safetensors" -> "m0"),
 * distinct from keywords, built-ins and every name handed out before. */
const char *mkimport_name(Mk *mk, const char *hint);

#endif
