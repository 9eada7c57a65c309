/* builtin_api.c - looking built-ins up in a table (builtin_api.h). */
#include "interp/plan/builtin_api.h"

#include <string.h>

const Builtin *builtin_table_find(const BuiltinTable *t, const char *name) {
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->items[i].name, name) == 0) return &t->items[i];
    return NULL;
}

int builtin_n_params(const Builtin *bi) {
    int n = 0;
    while (n < BUILTIN_MAX_PARAMS && bi->params[n]) n++;
    return n;
}
