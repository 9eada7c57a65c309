/* builtins_heads.c - untie(m): a model whose head is tied to its embedding
 * (config.json's tie_word_embeddings; no head tensor in the checkpoint)
 * given the head it stands for, its embedding, as mergekit reads such a
 * model when it is merged with untied ones. */
#include <stdlib.h>
#include <string.h>

#include "runtime/io/hfnames.h"
#include "interp/builtins/builtins_int.h"

/* The head name untie() adds: the name Hugging Face's causal-LM classes
 * use for an untied head. */
#define UNTIE_HEAD_NAME "lm_head.weight"

/* Whether name reads as a token embedding (not a position embedding). */
static bool is_token_embedding(const char *name) {
    static const char *const parts[] = { "embed_tokens", "wte", "word_embeddings", "tok_embeddings" };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (strstr(name, parts[i])) return true;
    return false;
}

typedef struct UntieInfo {
    const char *embedding;     /* the input tensor the head is read from */
} UntieInfo;

static int info_cmp(const void *a, const void *b) {
    return strcmp(((const TensorInfo *)a)->name, ((const TensorInfo *)b)->name);
}

Value bi_plan_untie(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "untie() argument 'model'")) return val_error();
    const TensorSet *in = args[0].u.node->set;
    const TensorInfo *embedding = NULL, *only = NULL;
    size_t n_embeddings = 0;
    for (size_t i = 0; i < in->n; i++) {
        const TensorInfo *t = &in->items[i];
        if (hfname_is_head(t->name))
            return plan_error(p, sp[0], "untie(): the model already has a head, '%s'", t->name);
        if (!hfname_is_embedding(t->name) || t->shape.rank != 2 || !dtype_is_computable(t->dtype)) continue;
        n_embeddings++;
        only = t;
        if (is_token_embedding(t->name) && !embedding) embedding = t;
    }
    if (!embedding && n_embeddings == 1) embedding = only;
    if (!embedding)
        return plan_error(p, sp[0], "untie(): the model has %s, so there is no embedding to use as its head",
                          n_embeddings ? "several 2-D embeddings and none of them a token embedding"
                                       : "no 2-D embedding");
    TensorInfo *items = plan_alloc(p, (in->n + 1) * sizeof *items);
    memcpy(items, in->items, in->n * sizeof *items);
    items[in->n] = *embedding;
    items[in->n].name = UNTIE_HEAD_NAME;
    qsort(items, in->n + 1, sizeof *items, info_cmp);
    TensorSet *set = plan_alloc(p, sizeof *set);
    *set = *in;
    set->items = items;
    set->n = in->n + 1;
    UntieInfo *info = plan_alloc(p, sizeof *info);
    info->embedding = embedding->name;
    Value v = bi_make_call(p, bi, args, call, set);
    v.u.node->u.call.extra = info;
    return v;
}

Value bi_exec_untie(Exec *x, const Node *n, Value *args) {
    const UntieInfo *info = n->u.call.extra;
    const TensorSet *in = args[0].u.node->set;
    const char *src = strcmp(x->out->name, UNTIE_HEAD_NAME) == 0 ? info->embedding : x->out->name;
    const TensorInfo *t = tset_find(in, src);
    if (!t) return exec_fail(x, n->span, "untie(): no tensor '%s'", src);
    return exec_in_frame(x, args[0], t, in);
}
