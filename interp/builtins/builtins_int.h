/* builtins_int.h - what the files implementing built-ins share: argument
 * checks for the plan stage, argument readers for the exec stage, and the
 * plan/exec functions the table in builtins.c points at. */
#ifndef MERGELANG_BUILTINS_INT_H
#define MERGELANG_BUILTINS_INT_H

#include "interp/builtins/builtins.h"

/* ---- plan stage: checks report a located error and return false ---------- */

/* A node for a call of bi on args (all of bi's parameters, by index); a
 * model node when set is given, a per-tensor scalar node otherwise. */
Value bi_make_call(Plan *p, const Builtin *bi, Value *args, SrcSpan call, const TensorSet *set);
bool bi_expect_model(Plan *p, Value v, SrcSpan at, const char *what);
/* Every computable tensor of `first` must exist in m with the same shape. */
bool bi_check_compatible(Plan *p, const Builtin *bi, const TensorSet *first, Value m, SrcSpan at,
                         const char *first_label, const char *label);
/* The tensors model set m has and `first` lacks, which a merge keyed on
 * `first` does not write: a warning naming them, or an error for a head
 * `first` lacks (tied to its embedding). False after reporting an error. */
bool bi_check_extra(Plan *p, const Builtin *bi, const TensorSet *first, const TensorSet *m, SrcSpan at,
                    const char *first_label, const char *label);
/* A non-empty list of models; each must match `first` (or the list's first). */
bool bi_expect_models(Plan *p, const Builtin *bi, Value v, SrcSpan at, const TensorSet *first,
                      const char *first_label);
/* What a merge does with embedding and head tensors of different
 * vocabulary sizes. A method mergekit crops for has the parameter `vocab`:
 * "same" (the default) makes a difference an error that says how to
 * resolve it, "crop" is mergekit's rule (rectify_embed_sizes, with a
 * warning naming the tensor). Other methods (BI_VOCAB_NONE) refuse any
 * shape difference, as mergekit does. */
typedef enum BiVocab { BI_VOCAB_ERROR = -1, BI_VOCAB_NONE, BI_VOCAB_SAME, BI_VOCAB_CROP } BiVocab;
/* bi's `vocab` argument read and checked at plan time: BI_VOCAB_NONE when
 * bi has no such parameter, BI_VOCAB_ERROR after reporting a bad value. */
BiVocab bi_vocab_rule(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp);
/* As bi_expect_models, with mergekit's embedding rule for the task-arithmetic
 * family under vocab = "crop": a 2-D embedding or head tensor may be larger
 * than `first`'s (a bigger vocabulary) and is then cropped to it, top-left. */
bool bi_expect_models_cropped(Plan *p, const Builtin *bi, Value v, SrcSpan at,
                              const TensorSet *first, const char *first_label, BiVocab vocab);
/* The signature of a merge of models[0..k) (mergekit's rectify_embed_sizes):
 * every model must have each tensor of the first with the same shape, except
 * 2-D embedding and head tensors, which are cropped to the smallest rows and
 * columns under BI_VOCAB_CROP. Returns the first model's set, or a new one
 * with the cropped shapes; NULL after reporting an error. */
const TensorSet *bi_common_set(Plan *p, const Builtin *bi, const Value *models, size_t k,
                               SrcSpan at, BiVocab vocab);
bool bi_is_number_like(Value v);
/* The index of bi's parameter named pname, or -1 (builtin_param_index). */
int bi_param_index(const Builtin *bi, const char *pname);
/* The argument for bi's parameter named pname, or none when bi has none. */
Value bi_arg(const Builtin *bi, Value *args, const char *pname);
/* The same, or the parameter's default from bi's registry row when the
 * argument is none: for plan halves that decide on it when planning. */
Value bi_arg_or_default(const Builtin *bi, Value *args, const char *pname);
/* True when v is the string s. */
bool bi_str_is(Value v, const char *s);
/* none, one number for all models, or a list parallel to the models. */
bool bi_expect_per_model(Plan *p, Value v, size_t n_models, SrcSpan at, const char *pname);
bool bi_expect_number(Plan *p, Value v, SrcSpan at, const char *pname);
bool bi_expect_bool(Plan *p, Value v, SrcSpan at, const char *pname);

/* ---- exec stage: readers record a failure and return false ---------------- */

/* Readers of parameter pname of n's built-in. An argument that is none
 * (not given) reads as the parameter's default in the registry row
 * (builtins.c): the one place a default is written. A parameter without a
 * default of the kind asked for is an internal error. */
/* Model i's value of a forced per-model parameter. */
bool bi_per_model_at(Exec *x, const Node *n, Value v, size_t i, const char *pname, double *out);
/* Model i's weight (parameter "weights"), rounded to float32 as mergekit
 * builds its weight tensor in the compute dtype. Densities and the like
 * stay double: mergekit computes its counts as int(density * n) in Python
 * floats. */
bool bi_weight_at(Exec *x, const Node *n, Value v, size_t i, double *out);
/* A number that must be given (no default involved): t, lo, hi. */
bool bi_number_arg(Exec *x, const Node *n, Value v, const char *pname, double *out);
/* A number, or its default when v is none. */
bool bi_number_param(Exec *x, const Node *n, Value v, const char *pname, double *out);
bool bi_bool_param(Exec *x, const Node *n, Value v, const char *pname, bool *out);
/* A string choice ("sum", "count", ...), or its default when v is none;
 * V_ERROR after recording a failure. */
Value bi_choice_param(Exec *x, const Node *n, Value v, const char *pname);
Value bi_tensor_value(Tensor *t);
/* t itself when it has `shape`; its top-left block when it is a larger 2-D
 * tensor (embedding cropping); NULL after recording a failure otherwise. */
const Tensor *bi_crop_to(Exec *x, const Node *n, const Tensor *t, const Shape *shape);

/* ---- merge methods -------------------------------------------------------- */

/* The shape node n produces for the current tensor (its signature's). */
const Shape *bi_out_shape(Exec *x, const Node *n, const Tensor *fallback);
/* The float data of k forced tensors, each cropped to shape (embeddings of
 * different vocabulary sizes); NULL after recording a failure. */
const float **bi_gather(Exec *x, const Node *n, const Value *vals, size_t k, const Shape *shape);
/* A forced list argument's items (k set to their number). */
const Value *bi_items_of(Value v, size_t *k);
/* Plan-time check of a list of models, with the base first when it is a
 * model: the result's signature, or NULL after reporting an error. */
const TensorSet *bi_plan_models(Plan *p, const Builtin *bi, Value base, Value list, SrcSpan at,
                                BiVocab vocab, size_t min_models, size_t max_models);

/* ---- the task-arithmetic family (builtins_merge.c) ------------------------ */

typedef enum Sparsifier {
    SPARSIFY_NONE,
    SPARSIFY_MAGNITUDE,   /* TIES top-k */
    SPARSIFY_RANDOM,      /* DARE */
    SPARSIFY_OUTLIERS,    /* breadcrumbs */
    SPARSIFY_DELLA
} Sparsifier;

/* A method's fixed choices, the Builtin's `info` (its defaults are the
 * row's parameters). */
typedef struct GtaMethod {
    Sparsifier sparsify;
    int consensus;        /* GtaConsensus */
} GtaMethod;

/* ---- the built-ins -------------------------------------------------------- */

#define BI_DECLARE(name)                                                                     \
    Value bi_plan_##name(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call); \
    Value bi_exec_##name(Exec *x, const Node *n, Value *args);

Value bi_plan_model(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call);
Value bi_plan_save(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call);
BI_DECLARE(linear)
BI_DECLARE(slerp)
BI_DECLARE(gta)
extern const BuiltinStream gta_stream;
extern const BuiltinStream slerp_stream;
BI_DECLARE(nuslerp)
BI_DECLARE(multislerp)
BI_DECLARE(karcher)
BI_DECLARE(model_stock)
BI_DECLARE(nearswap)
BI_DECLARE(sce)
BI_DECLARE(ram)
BI_DECLARE(arcee_fusion)
BI_DECLARE(task_vectors)
BI_DECLARE(sparsify)
BI_DECLARE(consensus)
BI_DECLARE(select)
BI_DECLARE(drop)
BI_DECLARE(rename)
BI_DECLARE(untie)
BI_DECLARE(glob)
BI_DECLARE(regex)
BI_DECLARE(assert)
BI_DECLARE(lora)
BI_DECLARE(fisher)
BI_DECLARE(align)
Value bi_plan_len(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call);
Value bi_plan_range(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call);
Value bi_plan_map(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call);
Value bi_plan_zip(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call);
Value bi_plan_sum(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call);
BI_DECLARE(gradient)
BI_DECLARE(layers)
BI_DECLARE(stack)
BI_DECLARE(norm)
BI_DECLARE(mean)
BI_DECLARE(std)
BI_DECLARE(dot)
BI_DECLARE(cos)
BI_DECLARE(abs)
BI_DECLARE(sign)
BI_DECLARE(clamp)
BI_DECLARE(where)

#endif
