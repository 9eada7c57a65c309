/* builtins_layers.c - built-ins that change a model's set of tensor names:
 * layers(m, from, to) takes a slice of blocks, stack(s1, s2, ...) puts
 * slices one after another (frankenmerges, mergekit's passthrough slices).
 *
 * Both evaluate their input in a new frame (exec_in_frame): the output
 * tensor "model.layers.5.x" of stack may be block 1 of its second slice,
 * and inside that slice `layer` is 1 and `n_layers` the slice's length, so
 * a gradient restarts in each slice as in mergekit.
 *
 * Only the main module's blocks are sliced (graph.h: the language model of
 * a multimodal model); a vision tower and the projector pass through whole,
 * from the first slice. A model with several stacks of blocks none of which
 * is the language model's (T5, Whisper) is refused rather than guessed at
 * (docs/decisions.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/hfnames.h"
#include "interp/builtins/builtins_int.h"

#define NAME_MAX_LEN 1024

static int info_cmp(const void *a, const void *b) {
    return strcmp(((const TensorInfo *)a)->name, ((const TensorInfo *)b)->name);
}

/* A set with `like`'s modules, its main module `main_depth` blocks deep. */
static const TensorSet *finish_set(Plan *p, TensorInfo *items, size_t n, const TensorSet *like, long main_depth) {
    qsort(items, n, sizeof *items, info_cmp);
    TensorSet *set = plan_alloc(p, sizeof *set);
    set->items = items;
    set->n = n;
    TensorModule *mods = plan_alloc(p, (like->n_modules ? like->n_modules : 1) * sizeof *mods);
    if (like->n_modules) memcpy(mods, like->modules, like->n_modules * sizeof *mods);
    set->modules = mods;
    set->n_modules = like->n_modules;
    set->main_module = like->main_module;
    if (like->main_module >= 0) mods[like->main_module].n_blocks = main_depth;
    set->n_layers = like->main_module >= 0 ? main_depth : 0;
    return set;
}

/* False (with an error) when m's blocks to slice are ambiguous. */
static bool has_main_module(Plan *p, const TensorSet *in, SrcSpan at, const char *what) {
    if (in->n_modules <= 1 || in->main_module >= 0) return true;
    char mods[512];
    tset_describe_modules(in, mods, sizeof mods);
    diag_error(p->diag, at, "%s has several stacks of blocks and none is a language model's: %s", what, mods);
    diag_hint(p->diag, "select() one of them first, e.g. select(m, \"%s\") with the other parts it needs",
              in->modules[0].prefix);
    return false;
}

/* Tensors of a multimodal model's vision/audio side, which stack() takes
 * whole from its first slice, like the embeddings. */
static bool goes_with_embeddings(const char *name) {
    return hfname_is_embedding(name) || hfname_is_aux(name, strlen(name));
}

/* A copy of name with its block index replaced, in the plan arena. */
static const char *renamed(Plan *p, const char *name, long layer) {
    char buf[NAME_MAX_LEN];
    if (hfname_set_layer(name, layer, buf, sizeof buf) != 0) return NULL;
    return arena_strdup(&p->arena, buf);
}

static bool whole_number(Value v, long *out) {
    /* Range first: converting a double outside long's range is undefined. */
    if (v.kind != V_NUM || !(fabs(v.u.num) < 1e15) || v.u.num != floor(v.u.num)) return false;
    *out = (long)v.u.num;
    return true;
}

/* ---- layers(m, from, to) ------------------------------------------------------ */

Value bi_plan_layers(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "layers() argument 'model'")) return val_error();
    const TensorSet *in = args[0].u.node->set;
    if (!has_main_module(p, in, sp[0], "layers(): the model")) return val_error();
    long from, to;
    for (int i = 1; i <= 2; i++) {
        if (whole_number(args[i], i == 1 ? &from : &to)) continue;
        if (args[i].kind == V_NUM)
            return plan_error(p, sp[i], "layers() expects a whole number of blocks, found %g",
                              args[i].u.num);
        return plan_error(p, sp[i], "layers() expects a whole number of blocks, found %s",
                          val_kind_name(args[i].kind));
    }
    /* An empty range is allowed: mergekit uses a zero-block last slice to
     * choose which model supplies the final norm and head. */
    if (from < 0 || to > in->n_layers || from > to) {
        diag_error(p->diag, span_join(sp[1], sp[2]),
                   "layers %ld to %ld are outside the model's %ld blocks", from, to, in->n_layers);
        diag_hint(p->diag, "the range is half-open: layers(m, 0, %ld) is the whole model, "
                           "layers(m, k, k) none of its blocks", in->n_layers);
        return val_error();
    }
    TensorInfo *items = plan_alloc(p, (in->n ? in->n : 1) * sizeof *items);
    size_t n = 0;
    for (size_t i = 0; i < in->n; i++) {
        long l = tset_main_block(in, in->items[i].name);
        if (l >= 0 && (l < from || l >= to)) continue;
        items[n] = in->items[i];
        if (l >= 0 && !(items[n].name = renamed(p, in->items[i].name, l - from)))
            return plan_error(p, call, "tensor name '%s' is too long", in->items[i].name);
        n++;
    }
    return bi_make_call(p, bi, args, call, finish_set(p, items, n, in, to - from));
}

Value bi_exec_layers(Exec *x, const Node *n, Value *args) {
    const TensorSet *in = args[0].u.node->set;
    long from = (long)args[1].u.num;
    const char *name = x->out->name;
    char buf[NAME_MAX_LEN];
    long l = tset_main_block(n->set, name);
    if (l >= 0) {
        if (hfname_set_layer(name, l + from, buf, sizeof buf) != 0)
            return exec_fail(x, n->span, "tensor name '%s' is too long", name);
        name = buf;
    }
    const TensorInfo *info = tset_find(in, name);
    if (!info) return exec_fail(x, n->span, "the model has no tensor '%s'", name);
    return exec_in_frame(x, args[0], info, in);
}

/* ---- stack(s1, s2, ...) ------------------------------------------------------------ */

Value bi_plan_stack(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    const ValList *slices = args[0].u.list;
    if (slices->n == 0) return plan_error(p, call, "stack() needs at least one slice");
    size_t total = 0;
    long n_layers = 0;
    const TensorSet *like = NULL;    /* the first slice with a main module */
    for (size_t s = 0; s < slices->n; s++) {
        Value v = slices->items[s];
        if (v.kind != V_MODEL)
            return plan_error(p, sp[0], "stack(): slice %zu must be a model, found %s", s + 1,
                              val_kind_name(v.kind));
        const TensorSet *in = v.u.node->set;
        char what[64];
        snprintf(what, sizeof what, "stack(): slice %zu", s + 1);
        if (!has_main_module(p, in, sp[0], what)) return val_error();
        if (in->main_module >= 0) {
            const char *mine = in->modules[in->main_module].prefix;
            if (!like) like = in;
            else if (strcmp(mine, like->modules[like->main_module].prefix) != 0)
                return plan_error(p, sp[0], "stack(): slice %zu's blocks are '%sN' but an earlier slice's are '%sN'",
                                  s + 1, mine, like->modules[like->main_module].prefix);
        }
        total += in->n;
        n_layers += in->n_layers;
    }
    if (!like) like = slices->items[0].u.node->set;
    /* Embeddings come from the first slice; blocks from every slice in turn;
     * final norm and head from the last slice, as mergekit does. A vision
     * tower and its projector come whole from the first slice. */
    TensorInfo *items = plan_alloc(p, (total ? total : 1) * sizeof *items);
    size_t n = 0;
    long offset = 0;
    for (size_t s = 0; s < slices->n; s++) {
        const TensorSet *in = slices->items[s].u.node->set;
        for (size_t i = 0; i < in->n; i++) {
            const char *name = in->items[i].name;
            long l = tset_main_block(in, name);
            bool first = goes_with_embeddings(name) || tset_module_of(in, name);
            bool take = l >= 0 || (s == 0 && first) || (s == slices->n - 1 && !first);
            if (!take) continue;
            items[n] = in->items[i];
            if (l >= 0 && !(items[n].name = renamed(p, name, l + offset)))
                return plan_error(p, call, "tensor name '%s' is too long", name);
            n++;
        }
        offset += in->n_layers;
    }
    const TensorSet *set = finish_set(p, items, n, like, n_layers);
    for (size_t i = 1; i < set->n; i++)
        if (strcmp(set->items[i - 1].name, set->items[i].name) == 0)
            return plan_error(p, call, "stack(): tensor '%s' would come from two slices",
                              set->items[i].name);
    return bi_make_call(p, bi, args, call, set);
}

Value bi_exec_stack(Exec *x, const Node *n, Value *args) {
    const ValList *slices = args[0].u.list;
    const char *name = x->out->name;
    size_t s = 0;
    long local = -1, l = tset_main_block(n->set, name);
    if (l >= 0) {
        long offset = 0;
        for (s = 0; s < slices->n; s++) {
            long len = slices->items[s].u.node->set->n_layers;
            if (l < offset + len) break;
            offset += len;
        }
        if (s == slices->n) return exec_fail(x, n->span, "block %ld is beyond the stack", l);
        local = l - offset;
    } else if (!goes_with_embeddings(name) && !tset_module_of(n->set, name)) {
        s = slices->n - 1;
    }
    const TensorSet *in = slices->items[s].u.node->set;
    char buf[NAME_MAX_LEN];
    if (local >= 0) {
        if (hfname_set_layer(name, local, buf, sizeof buf) != 0)
            return exec_fail(x, n->span, "tensor name '%s' is too long", name);
        name = buf;
    }
    const TensorInfo *info = tset_find(in, name);
    if (!info) return exec_fail(x, n->span, "slice %zu has no tensor '%s'", s + 1, name);
    return exec_in_frame(x, slices->items[s], info, in);
}
