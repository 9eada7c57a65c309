/* mergekit_yaml.c - YAML text to MkYNode trees for the mergekit importer,
 * through libyaml's document API; see mergekit_int.h.
 *
 * The file may be hostile. Aliases can turn a document into a DAG whose
 * expansion is exponential ("billion laughs") or into a cycle. Each libyaml
 * node becomes exactly one MkYNode (aliases share it), a node reached again
 * while it is being built is reported as a cycle, and nesting is bounded, so
 * loading is linear in the input. The importer's walkers follow mergekit's
 * schema, which has a small fixed depth.
 *
 * libyaml marks count characters from the start of the stream (a UTF-8 BOM
 * excluded); spans need byte offsets, so marks are converted with a cursor
 * that walks the UTF-8 text. */
#include <string.h>
#include <yaml.h>

#include "interp/mergekit/mergekit_int.h"

#define MAX_DEPTH 64

typedef struct Loader {
    const SrcFile *src;
    Arena *arena;
    Diag *diag;
    size_t bom;            /* bytes of a UTF-8 byte order mark */
    size_t cur_chars, cur_bytes;
    yaml_document_t *doc;
    MkYNode **memo;        /* per libyaml node index - 1 */
    unsigned char *state;  /* 0 new, 1 being built, 2 done */
    bool failed;
} Loader;

static uint32_t byte_offset(Loader *l, size_t chars) {
    const unsigned char *t = (const unsigned char *)l->src->text;
    size_t len = l->src->len;
    if (chars < l->cur_chars) {
        l->cur_chars = 0;
        l->cur_bytes = l->bom;
    }
    while (l->cur_chars < chars && l->cur_bytes < len) {
        unsigned c = t[l->cur_bytes];
        size_t step = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        l->cur_bytes += step;
        l->cur_chars++;
    }
    if (l->cur_bytes > len) l->cur_bytes = len;
    return (uint32_t)l->cur_bytes;
}

static SrcSpan span_of(Loader *l, yaml_mark_t start, yaml_mark_t end) {
    SrcSpan s = { l->src, byte_offset(l, start.index), 0 };
    s.end = byte_offset(l, end.index);
    if (s.end < s.start) s.end = s.start;
    return s;
}

static bool fail(Loader *l, SrcSpan at, const char *msg, const char *hint) {
    diag_error(l->diag, at, "%s", msg);
    if (hint) diag_hint(l->diag, "%s", hint);
    l->failed = true;
    return false;
}

bool mkimport_yaml_is_null(const MkYNode *n) {
    if (!n || n->kind != MKY_SCALAR || !n->plain) return false;
    return n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
           strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0;
}

const MkYNode *mkimport_yaml_get(const MkYNode *map, const char *key) {
    if (!map || map->kind != MKY_MAP) return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->items[i]->text, key) == 0)
            return mkimport_yaml_is_null(map->vals[i]) ? NULL : map->vals[i];
    return NULL;
}

static MkYNode *convert(Loader *l, int index, int depth);

static bool add_pair(Loader *l, MkYNode *m, size_t *cap, MkYNode *k, MkYNode *v) {
    if (m->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        MkYNode **ki = arena_array(l->arena, ncap, sizeof *ki);
        MkYNode **vi = arena_array(l->arena, ncap, sizeof *vi);
        if (!ki || !vi) return fail(l, m->at, "out of memory", NULL);
        if (m->n) {
            memcpy(ki, m->items, m->n * sizeof *ki);
            memcpy(vi, m->vals, m->n * sizeof *vi);
        }
        m->items = ki;
        m->vals = vi;
        *cap = ncap;
    }
    m->items[m->n] = k;
    m->vals[m->n] = v;
    m->n++;
    return true;
}

static bool has_key(const MkYNode *m, const char *key, size_t *at) {
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->items[i]->text, key) == 0) {
            if (at) *at = i;
            return true;
        }
    }
    return false;
}

/* `<<: *defaults` or `<<: [*a, *b]`: keys of the merged mappings that the
 * mapping does not set itself (PyYAML's rule: explicit keys win, then the
 * first merged mapping that has the key). */
static bool merge_into(Loader *l, MkYNode *m, size_t *cap, const MkYNode *src) {
    const MkYNode *const *list = (const MkYNode *const *)&src;
    size_t n = 1;
    if (src->kind == MKY_SEQ) {
        list = (const MkYNode *const *)src->items;
        n = src->n;
    }
    for (size_t i = 0; i < n; i++) {
        const MkYNode *from = list[i];
        if (from->kind != MKY_MAP)
            return fail(l, from->at, "a merge key (<<) takes a mapping or a list of mappings",
                        "write `<<: *anchor` where the anchor names a mapping");
        for (size_t j = 0; j < from->n; j++)
            if (!has_key(m, from->items[j]->text, NULL) && !add_pair(l, m, cap, from->items[j], from->vals[j]))
                return false;
    }
    return true;
}

static MkYNode *convert_map(Loader *l, yaml_node_t *yn, MkYNode *m, int depth) {
    size_t cap = 0;
    const MkYNode *merges[16];
    size_t n_merges = 0;
    for (yaml_node_pair_t *p = yn->data.mapping.pairs.start; p < yn->data.mapping.pairs.top; p++) {
        MkYNode *k = convert(l, p->key, depth + 1);
        MkYNode *v = convert(l, p->value, depth + 1);
        if (!k || !v) return NULL;
        if (k->kind != MKY_SCALAR || mkimport_yaml_is_null(k)) {
            fail(l, k->at, "a mapping key must be a name", "keys are plain words such as `models:`");
            return NULL;
        }
        if (k->plain && strcmp(k->text, "<<") == 0) {
            if (n_merges == sizeof merges / sizeof merges[0]) {
                fail(l, k->at, "too many merge keys (<<) in one mapping", NULL);
                return NULL;
            }
            merges[n_merges++] = v;
            continue;
        }
        size_t first;
        if (has_key(m, k->text, &first)) {
            diag_error(l->diag, k->at, "duplicate key '%s'", k->text);
            diag_note(l->diag, m->items[first]->at, "first given here");
            diag_hint(l->diag, "mergekit would silently use the last one; remove one of them");
            l->failed = true;
            return NULL;
        }
        if (!add_pair(l, m, &cap, k, v)) return NULL;
    }
    for (size_t i = 0; i < n_merges; i++)
        if (!merge_into(l, m, &cap, merges[i])) return NULL;
    return m;
}

static MkYNode *convert(Loader *l, int index, int depth) {
    yaml_node_t *yn = yaml_document_get_node(l->doc, index);
    if (!yn) {
        fail(l, (SrcSpan){ l->src, 0, 0 }, "malformed YAML document", NULL);
        return NULL;
    }
    size_t i = (size_t)index - 1;
    SrcSpan at = span_of(l, yn->start_mark, yn->end_mark);
    if (l->state[i] == 2) return l->memo[i];
    if (l->state[i] == 1) {
        fail(l, at, "this node contains itself through an alias", "an alias (*name) must not refer to a node that encloses it");
        return NULL;
    }
    if (depth > MAX_DEPTH) {
        fail(l, at, "the YAML is nested too deeply", "a mergekit configuration needs only a few levels");
        return NULL;
    }
    const char *tag = (const char *)yn->tag;
    if (tag && strncmp(tag, "tag:yaml.org,2002:", 18) != 0) {
        diag_error(l->diag, at, "unsupported YAML tag '%s'", tag);
        diag_hint(l->diag, "mergekit reads configurations with yaml.safe_load, which refuses custom tags");
        l->failed = true;
        return NULL;
    }
    l->state[i] = 1;
    MkYNode *n = arena_alloc(l->arena, sizeof *n);
    if (!n) {
        fail(l, at, "out of memory", NULL);
        return NULL;
    }
    n->at = at;
    switch (yn->type) {
    case YAML_SCALAR_NODE: {
        n->kind = MKY_SCALAR;
        n->len = yn->data.scalar.length;
        if (memchr(yn->data.scalar.value, '\0', n->len)) {
            fail(l, at, "this value contains a NUL character", NULL);
            return NULL;
        }
        n->text = arena_strndup(l->arena, (const char *)yn->data.scalar.value, n->len);
        n->plain = yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (!n->text) {
            fail(l, at, "out of memory", NULL);
            return NULL;
        }
        break;
    }
    case YAML_SEQUENCE_NODE: {
        n->kind = MKY_SEQ;
        size_t k = (size_t)(yn->data.sequence.items.top - yn->data.sequence.items.start);
        n->items = arena_array(l->arena, k ? k : 1, sizeof *n->items);
        if (!n->items) {
            fail(l, at, "out of memory", NULL);
            return NULL;
        }
        for (yaml_node_item_t *it = yn->data.sequence.items.start; it < yn->data.sequence.items.top; it++) {
            MkYNode *c = convert(l, *it, depth + 1);
            if (!c) return NULL;
            n->items[n->n++] = c;
        }
        break;
    }
    case YAML_MAPPING_NODE:
        n->kind = MKY_MAP;
        if (!convert_map(l, yn, n, depth)) return NULL;
        break;
    default:
        fail(l, at, "malformed YAML node", NULL);
        return NULL;
    }
    l->state[i] = 2;
    l->memo[i] = n;
    return n;
}

/* libyaml's message, located: reader errors carry a byte offset, the others
 * a mark; the context ("while parsing a block mapping") and where it began
 * go into the message. */
static void report_parser_error(Loader *l, const yaml_parser_t *p) {
    SrcSpan at = { l->src, 0, 0 };
    if (p->error == YAML_READER_ERROR) {
        at.start = at.end = (uint32_t)(p->problem_offset > l->src->len ? l->src->len : p->problem_offset);
        diag_error(l->diag, at, "cannot read the YAML: %s", p->problem ? p->problem : "bad input");
        diag_hint(l->diag, "the file must be UTF-8 text");
        l->failed = true;
        return;
    }
    at.start = at.end = byte_offset(l, p->problem_mark.index);
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (p->context) {
        diag_error(l->diag, at, "invalid YAML: %s (%s that starts at line %zu)", problem, p->context,
                   p->context_mark.line + 1);
    } else {
        diag_error(l->diag, at, "invalid YAML: %s", problem);
    }
    l->failed = true;
}

int mkimport_yaml_load(const SrcFile *src, Arena *arena, Diag *diag, MkYNode ***docs) {
    Loader l = { .src = src, .arena = arena, .diag = diag };
    if (src->len >= 3 && memcmp(src->text, "\xEF\xBB\xBF", 3) == 0) l.bom = 3;
    if (src->len >= 2 && ((unsigned char)src->text[0] == 0xFE || (unsigned char)src->text[0] == 0xFF ||
                          src->text[0] == '\0' || src->text[1] == '\0')) {
        diag_error(diag, (SrcSpan){ src, 0, 0 }, "the YAML file is not UTF-8 text");
        diag_hint(diag, "save it as UTF-8");
        return -1;
    }
    l.cur_bytes = l.bom;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        diag_plain(diag, "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)src->text, src->len);
    size_t n = 0, cap = 0;
    MkYNode **out = NULL;
    for (;;) {
        yaml_document_t doc;
        if (!yaml_parser_load(&parser, &doc)) {
            report_parser_error(&l, &parser);
            break;
        }
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
            yaml_document_delete(&doc);
            break;
        }
        size_t k = (size_t)(doc.nodes.top - doc.nodes.start);
        l.doc = &doc;
        l.memo = arena_array(arena, k, sizeof *l.memo);
        l.state = arena_array(arena, k, 1);
        MkYNode *r = NULL;
        if (!l.memo || !l.state) fail(&l, (SrcSpan){ src, 0, 0 }, "out of memory", NULL);
        else r = convert(&l, 1, 0);
        yaml_document_delete(&doc);
        if (!r) break;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            MkYNode **m = arena_array(arena, ncap, sizeof *m);
            if (!m) {
                fail(&l, r->at, "out of memory", NULL);
                break;
            }
            if (n) memcpy(m, out, n * sizeof *m);
            out = m;
            cap = ncap;
        }
        out[n++] = r;
    }
    yaml_parser_delete(&parser);
    if (l.failed) return -1;
    *docs = out;
    return (int)n;
}
