/* model_card.c - what travels with a merged checkpoint besides its weights:
 * the recipe (recipe.merge, imports inlined so it stands alone) and the
 * model card (README.md with Hugging Face front matter, the methods used
 * with their papers as the built-in registry cites them, the inputs, and
 * the recipe text). */
#include "interp/output/model_card.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/builtins/builtins.h"

/* Copies f's text to out, replacing each import statement that ran in f by
 * the module's own text (once; later imports of it become a comment). */
static void inline_file(const Plan *p, const SrcFile *f, FILE *out, bool *done, int depth) {
    size_t pos = 0;
    for (;;) {
        /* the next import record in f after pos */
        const ImportRecord *next = NULL;
        for (size_t i = 0; i < p->n_imports; i++) {
            const ImportRecord *r = &p->imports[i];
            if (r->at.file != f || r->at.start < pos) continue;
            if (!next || r->at.start < next->at.start) next = r;
        }
        size_t upto = next ? next->at.start : f->len;
        fwrite(f->text + pos, 1, upto - pos, out);
        if (!next) return;
        const Module *m = &p->modules[next->module];
        if (done[next->module] || depth > 32) {
            fprintf(out, "# (%s: already inlined above)", m->src ? m->src->path : m->path);
        } else {
            done[next->module] = true;
            fprintf(out, "# ---- inlined from %s ----\n", m->src ? m->src->path : m->path);
            if (m->src) inline_file(p, m->src, out, done, depth + 1);
            fprintf(out, "# ---- end of %s ----", m->src ? m->src->path : m->path);
        }
        pos = next->at.end;
    }
}

char *card_recipe(const Plan *p, size_t *len) {
    char *text = NULL;
    *len = 0;
    if (!p->recipe) return NULL;
    FILE *out = open_memstream(&text, len);
    bool *done = calloc(p->n_modules + 1, sizeof *done);
    if (!out || !done) {
        if (out) fclose(out);
        free(done);
        free(text);
        return NULL;
    }
    inline_file(p, p->recipe, out, done, 0);
    free(done);
    fclose(out);
    return text;
}

/* The built-ins with a paper (the registry's, builtins.c) that v's graph
 * calls, each once, in the order first reached. */
static void collect(Value v, const Builtin **found, size_t *n, bool *seen, int depth) {
    if (depth > 200) return;
    if (v.kind == V_LIST) {
        for (size_t i = 0; i < v.u.list->n; i++) collect(v.u.list->items[i], found, n, seen, depth + 1);
        return;
    }
    if (!val_is_lazy(v) || seen[v.u.node->id]) return;
    const Node *node = v.u.node;
    seen[node->id] = true;
    switch (node->kind) {
    case N_CALL: {
        const Builtin *bi = node->u.call.bi;
        bool dup = false;
        for (size_t j = 0; j < *n; j++) dup = dup || found[j] == bi;
        if (bi->paper && !dup && *n < 32) found[(*n)++] = bi;
        for (size_t i = 0; i < node->u.call.nargs; i++) collect(node->u.call.args[i], found, n, seen, depth + 1);
        return;
    }
    case N_UNARY:
    case N_BINARY:
        collect(node->u.op.a, found, n, seen, depth + 1);
        collect(node->u.op.b, found, n, seen, depth + 1);
        return;
    case N_IF:
        collect(node->u.cond.cond, found, n, seen, depth + 1);
        collect(node->u.cond.then_, found, n, seen, depth + 1);
        collect(node->u.cond.else_, found, n, seen, depth + 1);
        return;
    default: return;
    }
}

char *card_readme(const Plan *p, const SaveRequest *r, const char *recipe, size_t *len) {
    char *text = NULL;
    *len = 0;
    FILE *out = open_memstream(&text, len);
    bool *seen = calloc((size_t)p->n_nodes + 1, sizeof *seen);
    if (!out || !seen) {
        if (out) fclose(out);
        free(seen);
        free(text);
        return NULL;
    }
    const Builtin *methods[32];
    size_t n_methods = 0;
    collect(r->model, methods, &n_methods, seen, 0);
    free(seen);
    fputs("---\nbase_model:\n", out);
    for (size_t i = 0; i < p->n_ckpts; i++) fprintf(out, "- %s\n", p->ckpts[i].path);
    fputs("tags:\n- merge\n- mergelang\nlibrary_name: transformers\n---\n\n", out);
    const char *slash = strrchr(r->path, '/');
    fprintf(out, "# %s\n\n", slash && slash[1] ? slash + 1 : r->path);
    fputs("This model is a merge of pre-trained language models, made with mergelang from the "
          "recipe below.\n\n## Merge methods\n\n",
          out);
    if (n_methods == 0) fputs("- plain arithmetic on the models (no merge method)\n", out);
    for (size_t i = 0; i < n_methods; i++) fprintf(out, "- `%s`: %s\n", methods[i]->name, methods[i]->paper);
    fputs("\n## Inputs\n\n", out);
    for (size_t i = 0; i < p->n_ckpts; i++) {
        const Ckpt *c = p->ckpts[i].ckpt;
        fprintf(out, "- `%s`%s%s\n", p->ckpts[i].path, r->config == c ? " (config)" : "",
                r->tokenizer == c ? " (tokenizer)" : "");
    }
    if (recipe) fprintf(out, "\n## Recipe\n\n```\n%s%s```\n", recipe,
                        recipe[0] && recipe[strlen(recipe) - 1] != '\n' ? "\n" : "");
    fclose(out);
    return text;
}
