/* test_registry.c - every row of the built-in registry (interp/builtins/
 * builtins.c) is complete and consistent: a doc line, a paper for every
 * method, parameters that are identifiers with the required ones first,
 * defaults that parse, a rendered signature that names only parameters
 * the row has. Also the rendering itself, pinned to the texts the error
 * hints showed before the registry rendered them. tests/commands/help/
 * checks what `mergelang help` makes of the rows (help NAME, help methods,
 * help builtins), tests/commands/completion/ the completion of help topics. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/check.h"
#include "interp/builtins/builtins.h"

static bool is_identifier(const char *s) {
    if (!s || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return false;
    for (const char *c = s; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '_')) return false;
    return true;
}

/* Prints which row failed, so a CHECK's line number is not the only clue. */
static bool row_ok(const Builtin *bi, bool ok, const char *what) {
    if (!ok) printf("  %s: %s\n", bi->name ? bi->name : "(unnamed)", what);
    return ok;
}

static void test_rows_complete(void) {
    CHECK(builtin_count() > 50);
    for (size_t i = 0; i < builtin_count(); i++) {
        const Builtin *bi = builtin_at(i);
        CHECK(row_ok(bi, is_identifier(bi->name), "name is not an identifier"));
        CHECK(row_ok(bi, builtin_find(bi->name) == bi, "name is not unique"));
        CHECK(row_ok(bi, bi->kind >= 0 && bi->kind < BK_N_KINDS, "no kind"));
        CHECK(row_ok(bi, bi->doc && bi->doc[0], "empty doc line"));
        CHECK(row_ok(bi, !bi->doc || !strchr(bi->doc, '\n'), "doc is more than one line"));
        CHECK(row_ok(bi, bi->kind != BK_METHOD || (bi->paper && bi->paper[0]), "a method without a paper"));
        CHECK(row_ok(bi, !bi->paper || bi->paper[0], "an empty paper (NULL means none)"));
        CHECK(row_ok(bi, bi->plan != NULL, "no plan half"));
        CHECK(row_ok(bi, strcmp(builtin_kind_title(bi->kind), "other") != 0, "kind has no title"));
    }
}

static void test_params(void) {
    for (size_t i = 0; i < builtin_count(); i++) {
        const Builtin *bi = builtin_at(i);
        int np = builtin_n_params(bi);
        CHECK(row_ok(bi, np >= 1 && np <= BUILTIN_MAX_PARAMS, "parameter count"));
        CHECK(row_ok(bi, bi->params[BUILTIN_MAX_PARAMS].name == NULL, "parameter list not terminated"));
        bool seen_default = false;
        for (int k = 0; k < np; k++) {
            const BuiltinParam *p = &bi->params[k];
            const char *name = p->name[0] == '*' ? p->name + 1 : p->name;
            CHECK(row_ok(bi, is_identifier(name), "a parameter name is not an identifier"));
            CHECK(row_ok(bi, p->name[0] != '*' || k == 0, "only the first parameter may be variadic"));
            CHECK(row_ok(bi, builtin_param_index(bi, p->name) == k, "a parameter name is given twice"));
            /* Calls give the required parameters first, by position. */
            CHECK(row_ok(bi, p->dflt || !seen_default, "a required parameter after one with a default"));
            seen_default = seen_default || p->dflt;
            Value v;
            CHECK(row_ok(bi, !p->dflt || builtin_default_value(p->dflt, &v), "a default that does not parse"));
        }
        CHECK(row_ok(bi, builtin_n_required(bi) >= 0 && builtin_n_required(bi) <= np, "n_required"));
    }
}

/* Every parameter the rendered signature names is one of the row's, and
 * the signature and hint fit the buffers the callers use. */
static void test_signatures(void) {
    for (size_t i = 0; i < builtin_count(); i++) {
        const Builtin *bi = builtin_at(i);
        char sig[BUILTIN_TEXT_MAX], hint[BUILTIN_TEXT_MAX];
        builtin_signature(bi, sig, sizeof sig);
        builtin_hint(bi, hint, sizeof hint);
        CHECK(row_ok(bi, strlen(hint) + 1 < sizeof hint, "hint does not fit BUILTIN_TEXT_MAX"));
        size_t nl = strlen(bi->name);
        CHECK(row_ok(bi, strncmp(sig, bi->name, nl) == 0 && sig[nl] == '(' && sig[strlen(sig) - 1] == ')',
                     "signature is not name(...)"));
        char body[BUILTIN_TEXT_MAX];
        snprintf(body, sizeof body, "%.*s", (int)(strlen(sig) - nl - 2), sig + nl + 1);
        int named = 0;
        for (char *tok = strtok(body, ","); tok; tok = strtok(NULL, ",")) {
            while (*tok == ' ') tok++;
            char *eq = strchr(tok, '=');
            if (eq) *eq = '\0';
            CHECK(row_ok(bi, builtin_param_index(bi, tok) >= 0, "the signature names a parameter the row lacks"));
            named++;
        }
        CHECK(row_ok(bi, named == builtin_n_params(bi), "the signature does not name every parameter"));
    }
}

/* The hints error messages showed before the registry rendered them. */
static void test_rendering(void) {
    char buf[BUILTIN_TEXT_MAX];
    CHECK_STR(builtin_signature(builtin_find("ties"), buf, sizeof buf),
              "ties(base, models, weights=1, density=1, lambda=1, normalize=true, rescale=false, "
              "consensus=\"sum\", weighted_election=true, divisor=\"weights\", trim=\"tensor\", vocab=\"same\")");
    CHECK_STR(builtin_signature(builtin_find("linear"), buf, sizeof buf),
              "linear(models, weights=1, normalize=true, vocab=\"same\")");
    CHECK_STR(builtin_hint(builtin_find("model"), buf, sizeof buf),
              "model(path, allow_nonfinite=false): a safetensors file or a Hugging Face model folder; NaN or "
              "infinity in its tensors is an error unless allowed");
    CHECK_STR(builtin_signature(builtin_find("stack"), buf, sizeof buf), "stack(*slices)");
    CHECK(builtin_n_required(builtin_find("save")) == 2);
    CHECK(builtin_n_required(builtin_find("slerp")) == 3);
    CHECK(builtin_n_required(builtin_find("range")) == 1);
    /* A short buffer is cut, never overrun. */
    char small[8];
    CHECK_STR(builtin_signature(builtin_find("ties"), small, sizeof small), "ties(ba");
}

static void test_default_values(void) {
    Value v;
    CHECK(builtin_default_value("1e-8", &v) && v.kind == V_NUM && v.u.num == 1e-8);
    CHECK(builtin_default_value("0.15", &v) && v.kind == V_NUM && v.u.num == 0.15);
    CHECK(builtin_default_value("true", &v) && v.kind == V_BOOL && v.u.b);
    CHECK(builtin_default_value("none", &v) && v.kind == V_NONE);
    CHECK(builtin_default_value("\"sum\"", &v) && v.kind == V_STR && v.u.str.len == 3 &&
          memcmp(v.u.str.s, "sum", 3) == 0);
    CHECK(!builtin_default_value("", &v));
    CHECK(!builtin_default_value(NULL, &v));
    CHECK(!builtin_default_value("sum", &v));
    CHECK(!builtin_default_value("\"a", &v));
    CHECK(!builtin_default_value("-1", &v));
    CHECK(!builtin_default_value("1x", &v));
}

/* The task-arithmetic family's defaults, as docs/methods.md tabulates
 * them after mergekit: normalize and rescale per method. */
static void test_method_defaults(void) {
    static const struct { const char *name, *normalize, *rescale; } table[] = {
        { "task_arithmetic", "false", NULL }, { "ties", "true", "false" },
        { "dare_ties", "false", "true" },      { "dare_linear", "false", "true" },
        { "breadcrumbs", "false", "false" },   { "breadcrumbs_ties", "false", "false" },
        { "della", "true", "true" },           { "della_linear", "false", "true" },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const Builtin *bi = builtin_find(table[i].name);
        CHECK(bi != NULL);
        if (!bi) continue;
        int n = builtin_param_index(bi, "normalize"), r = builtin_param_index(bi, "rescale");
        CHECK(n >= 0 && strcmp(bi->params[n].dflt, table[i].normalize) == 0);
        if (table[i].rescale) CHECK(r >= 0 && strcmp(bi->params[r].dflt, table[i].rescale) == 0);
        else CHECK(r < 0);
    }
}

/* save()'s shard default is a size the writer and the REPL's :plan read. */
static void test_save_shard_default(void) { CHECK(bi_save_default_shard_bytes() == 5000000000ull); }

int main(void) {
    RUN_TEST(test_rows_complete);
    RUN_TEST(test_params);
    RUN_TEST(test_signatures);
    RUN_TEST(test_rendering);
    RUN_TEST(test_default_values);
    RUN_TEST(test_method_defaults);
    RUN_TEST(test_save_shard_default);
    return CHECK_DONE();
}
