/* builtin_api.c - looking built-ins up in a table, and reading a row's
 * parameter data: defaults as values, the signature text of hints and
 * help (builtin_api.h). */
#include "interp/plan/builtin_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const Builtin *builtin_table_find(const BuiltinTable *t, const char *name) {
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->items[i].name, name) == 0) return &t->items[i];
    return NULL;
}

int builtin_n_params(const Builtin *bi) {
    int n = 0;
    while (n < BUILTIN_MAX_PARAMS && bi->params[n].name) n++;
    return n;
}

int builtin_n_required(const Builtin *bi) {
    int n = 0;
    while (n < BUILTIN_MAX_PARAMS && bi->params[n].name && !bi->params[n].dflt) n++;
    return n;
}

int builtin_param_index(const Builtin *bi, const char *pname) {
    for (int i = 0; i < BUILTIN_MAX_PARAMS && bi->params[i].name; i++)
        if (strcmp(bi->params[i].name, pname) == 0) return i;
    return -1;
}

size_t builtin_param_names(const Builtin *bi, const char **names) {
    size_t n = 0;
    while (n < BUILTIN_MAX_PARAMS && bi->params[n].name) {
        names[n] = bi->params[n].name;
        n++;
    }
    return n;
}

bool builtin_default_value(const char *text, Value *out) {
    size_t len = text ? strlen(text) : 0;
    if (len == 0) return false;
    if (strcmp(text, "none") == 0) return *out = val_none(), true;
    if (strcmp(text, "true") == 0) return *out = val_bool(true), true;
    if (strcmp(text, "false") == 0) return *out = val_bool(false), true;
    if (len >= 2 && text[0] == '"' && text[len - 1] == '"') {
        if (memchr(text + 1, '"', len - 2) || memchr(text + 1, '\\', len - 2)) return false;
        out->kind = V_STR;
        out->u.str.s = text + 1;
        out->u.str.len = len - 2;
        return true;
    }
    /* Numbers as the lexer writes them: digits first, no sign. */
    if (text[0] < '0' || text[0] > '9') return false;
    char *end = NULL;
    double v = strtod(text, &end);
    if (*end) return false;
    *out = val_num(v);
    return true;
}

char *builtin_signature(const Builtin *bi, char *buf, size_t len) {
    size_t used = 0;
    if (len == 0) return buf;
    buf[0] = '\0';
#define PUT(...)                                                                 \
    do {                                                                         \
        if (used < len) {                                                        \
            int w_ = snprintf(buf + used, len - used, __VA_ARGS__);              \
            used += w_ > 0 ? (size_t)w_ : 0;                                     \
        }                                                                        \
    } while (0)
    PUT("%s(", bi->name);
    for (int i = 0; i < BUILTIN_MAX_PARAMS && bi->params[i].name; i++) {
        const BuiltinParam *p = &bi->params[i];
        PUT("%s%s", i ? ", " : "", p->name);
        if (p->dflt) PUT("=%s", p->dflt);
    }
    PUT(")");
#undef PUT
    return buf;
}

char *builtin_hint(const Builtin *bi, char *buf, size_t len) {
    builtin_signature(bi, buf, len);
    size_t used = strlen(buf);
    if (bi->doc && bi->doc[0] && used + 1 < len) snprintf(buf + used, len - used, ": %s", bi->doc);
    return buf;
}
