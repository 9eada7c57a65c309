/* test_syntax.c - the front end: lexer tokens, parsed trees (as ast_dump
 * S-expressions), and the exact text of diagnostics, caret lines included. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/check.h"
#include "interp/syntax/ast.h"
#include "interp/syntax/diag.h"
#include "interp/syntax/syntax.h"
#include "interp/syntax/syntax_int.h"
#include "parser.h"

/* ---- helpers ---------------------------------------------------------------- */

typedef struct Result {
    char *dump;     /* ast_dump of the program, NULL on error */
    char *diag;     /* everything printed to the Diag */
    int n_errors;
} Result;

static Result parse_n(const char *text, size_t len) {
    Result r = { NULL, NULL, 0 };
    SrcFile *f = src_from_string("recipe.merge", text, len);
    if (!f) return r;
    Arena arena;
    arena_init(&arena);
    size_t diag_len = 0;
    FILE *out = open_memstream(&r.diag, &diag_len);
    Diag d;
    diag_init(&d, out);
    Ast *prog = syn_parse(f, &arena, &d);
    fclose(out);
    r.n_errors = d.n_errors;
    if (prog) {
        size_t dump_len = 0;
        FILE *dump = open_memstream(&r.dump, &dump_len);
        ast_dump(prog, dump);
        fclose(dump);
    }
    arena_free(&arena);
    src_free(f);
    return r;
}

static Result parse(const char *text) {
    return parse_n(text, strlen(text));
}

static void result_free(Result *r) {
    free(r->dump);
    free(r->diag);
}

/* The program's dump, or the diagnostics when it failed to parse. */
#define CHECK_TREE(src, want)                                                  \
    do {                                                                       \
        Result r_ = parse(src);                                                \
        CHECK_STR(r_.dump ? r_.dump : r_.diag, want);                          \
        result_free(&r_);                                                      \
    } while (0)

#define CHECK_DIAG_N(src, len, want)                                           \
    do {                                                                       \
        Result r_ = parse_n(src, len);                                         \
        CHECK(r_.dump == NULL);                                                \
        CHECK(r_.n_errors == 1);                                               \
        CHECK_STR(r_.diag, want);                                              \
        result_free(&r_);                                                      \
    } while (0)

#define CHECK_DIAG(src, want) CHECK_DIAG_N(src, strlen(src), want)

/* Lexes all of text; returns the codes as "code code ..." via buf. */
static int lex_codes(const char *text, int *codes, int max) {
    SrcFile *f = src_from_string("t", text, strlen(text));
    Arena arena;
    arena_init(&arena);
    Lexer lx;
    lex_init(&lx, f, &arena);
    SynToken t;
    int n = 0, code;
    while (n < max && (code = lex_next(&lx, &t)) > 0) codes[n++] = code;
    if (code == LEX_ERROR && n < max) codes[n++] = LEX_ERROR;
    arena_free(&arena);
    src_free(f);
    return n;
}

/* Lexes one token of text (after optional blanks) and checks it. */
static int lex_one(const char *text, SynToken *tok, Arena *arena, SrcFile **f, Lexer *lx) {
    *f = src_from_string("t", text, strlen(text));
    lex_init(lx, *f, arena);
    return lex_next(lx, tok);
}

/* The message and byte span of the lexer error in text. */
static void lex_error(const char *text, char *msg, size_t n, uint32_t *start, uint32_t *end) {
    SrcFile *f = src_from_string("t", text, strlen(text));
    Arena arena;
    arena_init(&arena);
    Lexer lx;
    lex_init(&lx, f, &arena);
    SynToken t;
    int code;
    msg[0] = '\0';
    *start = *end = 0;
    while ((code = lex_next(&lx, &t)) > 0) {}
    if (code == LEX_ERROR) {
        snprintf(msg, n, "%s", lx.msg);
        *start = lx.at.start;
        *end = lx.at.end;
    }
    arena_free(&arena);
    src_free(f);
}

/* ---- lexer ------------------------------------------------------------------------ */

static void test_lexer_tokens(void) {
    int c[64];
    int n = lex_codes("if then else and or not true false none def param import lambda x_1 _", c, 64);
    int want[] = { T_IF, T_THEN, T_ELSE, T_AND, T_OR, T_NOT, T_TRUE, T_FALSE, T_NONE,
                   T_DEF, T_PARAM, T_IMPORT, T_NAME, T_NAME, T_NAME };
    CHECK(n == (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < n && i < (int)(sizeof want / sizeof want[0]); i++) CHECK(c[i] == want[i]);

    n = lex_codes("+ - * / == != < <= > >= ~ = ( ) [ ] , ; \n", c, 64);
    int ops[] = { T_PLUS, T_MINUS, T_STAR, T_SLASH, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
                  T_MATCH, T_ASSIGN, T_LPAREN, T_RPAREN, T_LBRACKET, T_RBRACKET, T_COMMA,
                  T_NEWLINE, T_NEWLINE };
    CHECK(n == (int)(sizeof ops / sizeof ops[0]));
    for (int i = 0; i < n && i < (int)(sizeof ops / sizeof ops[0]); i++) CHECK(c[i] == ops[i]);

    /* comments and blanks vanish; "<=" is one token, "< =" two */
    n = lex_codes("a<=b # c = d\n\t< =", c, 64);
    CHECK(n == 6);
    CHECK(c[0] == T_NAME && c[1] == T_LE && c[2] == T_NAME && c[3] == T_NEWLINE);
    CHECK(c[4] == T_LT && c[5] == T_ASSIGN);
    /* no-space forms */
    n = lex_codes("f(x)[0]-1", c, 64);
    CHECK(n == 9 && c[6] == T_RBRACKET && c[7] == T_MINUS && c[8] == T_NUMBER);
}

static void test_lexer_numbers(void) {
    const char *texts[] = { "5", "0.5", ".5", "1e-3", "2.5E+4", "007", "1e3", "123456789012" };
    double values[] = { 5, 0.5, 0.5, 1e-3, 2.5e4, 7, 1000, 123456789012.0 };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        Arena arena;
        arena_init(&arena);
        SrcFile *f;
        Lexer lx;
        SynToken t;
        int code = lex_one(texts[i], &t, &arena, &f, &lx);
        CHECK(code == T_NUMBER);
        CHECK(t.v.num == values[i]);
        CHECK(t.start == 0 && t.end == strlen(texts[i]));
        CHECK(lex_next(&lx, &t) == 0);
        arena_free(&arena);
        src_free(f);
    }
    char msg[128];
    uint32_t s, e;
    lex_error("x = 5GB", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "invalid number");
    CHECK(s == 4 && e == 7);
    lex_error("1e", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "invalid number");
    lex_error("1.", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "invalid number");
    lex_error("1.5.2", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "invalid number");
    CHECK(s == 0 && e == 5);
    lex_error("3_000", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "invalid number");
    lex_error("1e400", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "number too large");
}

static void test_lexer_strings(void) {
    struct { const char *src, *value; size_t len; } cases[] = {
        { "\"plain\"", "plain", 5 },
        { "'single'", "single", 6 },
        { "\"a\\\\b\\\"c\\'d\"", "a\\b\"c'd", 7 },
        { "'\\n\\t\\r'", "\n\t\r", 3 },
        { "\"\\x41\\x7e\\xFF\"", "A~\xff", 3 },
        { "'say \"hi\"'", "say \"hi\"", 8 },
        { "\"it's\"", "it's", 4 },
        { "\"h\xc3\xa9llo \xe2\x82\xac\"", "h\xc3\xa9llo \xe2\x82\xac", 10 },
        { "\"tab\there\"", "tab\there", 8 },
        { "''", "", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Arena arena;
        arena_init(&arena);
        SrcFile *f;
        Lexer lx;
        SynToken t;
        int code = lex_one(cases[i].src, &t, &arena, &f, &lx);
        CHECK(code == T_STRING);
        if (code == T_STRING) {
            CHECK(t.v.str.len == cases[i].len);
            CHECK(memcmp(t.v.str.s, cases[i].value, cases[i].len) == 0);
            CHECK(t.v.str.s[t.v.str.len] == '\0');
            CHECK(t.start == 0 && t.end == strlen(cases[i].src));
        }
        arena_free(&arena);
        src_free(f);
    }

    char msg[128];
    uint32_t s, e;
    lex_error("x = \"a\\qb\"", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "invalid escape '\\q' in string");
    CHECK(s == 6 && e == 8);
    lex_error("\"\\x00\"", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "invalid escape '\\x00' in string");
    CHECK(s == 1 && e == 5);
    lex_error("\"\\x4g\"", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "invalid escape '\\x' in string");
    CHECK(s == 1 && e == 3);
    lex_error("\"\\0\"", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "invalid escape '\\0' in string");
    lex_error("x = 'abc", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "unterminated string");
    CHECK(s == 4 && e == 5);
    lex_error("x = 'abc\\", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "unterminated string");
    CHECK(s == 4 && e == 5);
    lex_error("x = \"abc\ny\"", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "newline in string");
    CHECK(s == 8 && e == 9);
    lex_error("\"a\x01\"", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "control character in string");
    lex_error("\"a\xff\"", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "invalid UTF-8 in string");
    CHECK(s == 2 && e == 3);
    lex_error("\"\xed\xa0\x80\"", msg, sizeof msg, &s, &e);  /* a UTF-16 surrogate */
    CHECK_STR(msg, "invalid UTF-8 in string");
}

static void test_lexer_bad_characters(void) {
    char msg[128];
    uint32_t s, e;
    lex_error("a = \xc3\xa9", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "unexpected character");
    CHECK(s == 4 && e == 6);
    lex_error("a = \xff", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "unexpected character");
    CHECK(s == 4 && e == 5);
    lex_error("a = $b", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "unexpected character '$'");
    lex_error("a = .", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "unexpected character '.'");
    lex_error("a = b && c", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "unexpected '&&'");
    lex_error("a\x1b", msg, sizeof msg, &s, &e);
    CHECK_STR(msg, "unexpected control character");
    /* a NUL byte is an ordinary (wrong) byte, not the end of the text */
    SrcFile *f = src_from_string("t", "a \0 b", 5);
    Lexer lx;
    lex_init(&lx, f, NULL);
    SynToken t;
    CHECK(lex_next(&lx, &t) == T_NAME);
    CHECK(lex_next(&lx, &t) == LEX_ERROR);
    CHECK_STR(lx.msg, "unexpected NUL byte");
    CHECK(lx.at.start == 2 && lx.at.end == 3);
    src_free(f);
    /* ...also at the very end, and inside comments it is skipped */
    f = src_from_string("t", "a # x\0y\n\0", 9);
    lex_init(&lx, f, NULL);
    CHECK(lex_next(&lx, &t) == T_NAME);
    CHECK(lex_next(&lx, &t) == T_NEWLINE);
    CHECK(lex_next(&lx, &t) == LEX_ERROR);
    CHECK(lx.at.start == 8);
    src_free(f);
}

/* ---- trees -------------------------------------------------------------------------- */

static void test_dump_examples(void) {
    CHECK_TREE("out = linear([a, b], weights=[0.5, 0.5])",
               "(program (assign out (call linear (list a b) (kw weights (list 0.5 0.5)))))");
    CHECK_TREE("out = ties(base, [a, b], density=0.5)",
               "(program (assign out (call ties base (list a b) (kw density 0.5))))");
    CHECK_TREE("", "(program)");
    CHECK_TREE("\n\n# nothing\n;\n", "(program)");
    CHECK_TREE("a = 1\nb = 2", "(program (assign a 1) (assign b 2))");
    CHECK_TREE("x = true; y = false; z = none",
               "(program (assign x true) (assign y false) (assign z none))");
    CHECK_TREE("s = \"a\\\"b\\n\\x01\"", "(program (assign s \"a\\\"b\\n\\x01\"))");
    CHECK_TREE("n = 0.1 + 1e-3 + 2.5E+4 + .5 + 7",
               "(program (assign n (+ (+ (+ (+ 0.10000000000000001 0.001) 25000) 0.5) 7)))");
    CHECK_TREE("f(lambda=0.8)", "(program (expr (call f (kw lambda 0.80000000000000004))))");
}

static void test_precedence(void) {
    struct { const char *src, *tree; } cases[] = {
        { "1 + 2 * 3", "(+ 1 (* 2 3))" },
        { "1 * 2 + 3", "(+ (* 1 2) 3)" },
        { "1 - 2 - 3", "(- (- 1 2) 3)" },
        { "1 / 2 / 3", "(/ (/ 1 2) 3)" },
        { "(1 + 2) * 3", "(* (+ 1 2) 3)" },
        { "-a * b", "(* (neg a) b)" },
        { "- - a", "(neg (neg a))" },
        { "a - -b", "(- a (neg b))" },
        { "-f(x)[0]", "(neg (index (call f x) 0))" },
        { "a + b < c * d", "(< (+ a b) (* c d))" },
        { "a == b and c != d", "(and (== a b) (!= c d))" },
        { "a or b and c", "(or a (and b c))" },
        { "a and b or c", "(or (and a b) c)" },
        { "not a and b", "(and (not a) b)" },
        { "not a == b", "(not (== a b))" },
        { "not not a", "(not (not a))" },
        { "name ~ \"attn\" or layer >= 3", "(or (~ name \"attn\") (>= layer 3))" },
        { "a <= b", "(<= a b)" },
        { "a > b", "(> a b)" },
        { "-2 * -x + 1", "(+ (* (neg 2) (neg x)) 1)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char src[128], want[256];
        snprintf(src, sizeof src, "x = %s", cases[i].src);
        snprintf(want, sizeof want, "(program (assign x %s))", cases[i].tree);
        CHECK_TREE(src, want);
    }
}

static void test_if_else(void) {
    CHECK_TREE("y = if c then a else b + 1", "(program (assign y (if c a (+ b 1))))");
    CHECK_TREE("y = if c then a else b or d", "(program (assign y (if c a (or b d))))");
    CHECK_TREE("y = if a < b then a + 1 else b * 2",
               "(program (assign y (if (< a b) (+ a 1) (* b 2))))");
    CHECK_TREE("y = if a then if b then c else d else e",
               "(program (assign y (if a (if b c d) e)))");
    CHECK_TREE("y = if a then b else if c then d else e",
               "(program (assign y (if a b (if c d e))))");
    CHECK_TREE("y = 1 + if c then 2 else 3 * 4", "(program (assign y (+ 1 (if c 2 (* 3 4)))))");
    CHECK_TREE("y = (if c then a else b) + 1", "(program (assign y (+ (if c a b) 1)))");
    CHECK_TREE("out = if name ~ \"self_attn\" then attn else rest",
               "(program (assign out (if (~ name \"self_attn\") attn rest)))");
}

static void test_calls_lists_index(void) {
    CHECK_TREE("f()", "(program (expr (call f)))");
    CHECK_TREE("f(a,)", "(program (expr (call f a)))");
    CHECK_TREE("f(a, b = 1, c = [1,],)",
               "(program (expr (call f a (kw b 1) (kw c (list 1)))))");
    CHECK_TREE("f(x == y)", "(program (expr (call f (== x y))))");
    CHECK_TREE("f(g(h))(1)", "(program (expr (call (call f (call g h)) 1)))");
    CHECK_TREE("x = []", "(program (assign x (list)))");
    CHECK_TREE("x = [[1, 2], [3]]", "(program (assign x (list (list 1 2) (list 3))))");
    CHECK_TREE("x = m[\"x\"]", "(program (assign x (index m \"x\")))");
    CHECK_TREE("x = m[0][i + 1]", "(program (assign x (index (index m 0) (+ i 1))))");
    CHECK_TREE("x = [a, b][0]", "(program (assign x (index (list a b) 0)))");
    CHECK_TREE("x = (f)(1)", "(program (assign x (call f 1)))");
    CHECK_TREE("save(out, \"out/m\", dtype = \"bfloat16\", shard = \"5GB\", config = base)",
               "(program (expr (call save out \"out/m\" (kw dtype \"bfloat16\") "
               "(kw shard \"5GB\") (kw config base))))");
}

static void test_statements(void) {
    CHECK_TREE("def f(p, q = 1) = p * q",
               "(program (def f (p (kw q 1)) (* p q)))");
    CHECK_TREE("def soup(ms,) = linear(ms, normalize = true)",
               "(program (def soup (ms) (call linear ms (kw normalize true))))");
    CHECK_TREE("def k() = 1", "(program (def k () 1))");
    CHECK_TREE("param density = 0.5", "(program (param density 0.5))");
    CHECK_TREE("import \"x.merge\"", "(program (import \"x.merge\"))");
    CHECK_TREE("import stdlib", "(program (import stdlib))");
    CHECK_TREE("print(x)", "(program (expr (call print x)))");
    CHECK_TREE("x", "(program (expr x))");
    CHECK_TREE("def f(a) = a\nparam d = 0.5\nimport \"x.merge\"\ny = f(d)",
               "(program (def f (a) a) (param d 0.5) (import \"x.merge\") "
               "(assign y (call f d)))");
}

static void test_newlines(void) {
    /* inside brackets */
    CHECK_TREE("x = [1,\n  2,\n\n  3\n]", "(program (assign x (list 1 2 3)))");
    CHECK_TREE("x = f(\n  a,\n  b = 2,\n)", "(program (assign x (call f a (kw b 2))))");
    CHECK_TREE("x = (1\n + 2)", "(program (assign x (+ 1 2)))");
    /* after a token that cannot end a statement */
    CHECK_TREE("x =\n  1 +\n  2 *\n  3", "(program (assign x (+ 1 (* 2 3))))");
    CHECK_TREE("x = a and\n b or\n not\n c", "(program (assign x (or (and a b) (not c))))");
    CHECK_TREE("x = if\n c then\n a else\n b", "(program (assign x (if c a b)))");
    CHECK_TREE("x = a ~\n \"b\"", "(program (assign x (~ a \"b\")))");
    /* 'then' and 'else' may start a line */
    CHECK_TREE("out = if c\n  then a\n  else b\ny = 1",
               "(program (assign out (if c a b)) (assign y 1))");
    /* separators collapse; comments; no final newline; CRLF */
    CHECK_TREE("a = 1;; b = 2\n\n\n;c = 3;", "(program (assign a 1) (assign b 2) (assign c 3))");
    CHECK_TREE("# head\na = 1 # one\n# tail", "(program (assign a 1))");
    CHECK_TREE("a = 1\r\nb = [1,\r\n 2]\r\n", "(program (assign a 1) (assign b (list 1 2)))");
    /* a newline after an operand does end the statement */
    CHECK_TREE("a = 1\n-2", "(program (assign a 1) (expr (neg 2)))");
}

static void test_spans(void) {
    const char *text = "x = (a + b) * f(c, k = 1)\nparam p = m[0]";
    SrcFile *f = src_from_string("t", text, strlen(text));
    Arena arena;
    arena_init(&arena);
    Diag d;
    FILE *null = fopen("/dev/null", "w");
    diag_init(&d, null);
    Ast *prog = syn_parse(f, &arena, &d);
    CHECK(prog != NULL);
    if (prog) {
        CHECK(prog->kind == AST_PROGRAM && prog->u.list.n == 2);
        CHECK(prog->span.start == 0 && prog->span.end == strlen(text));
        Ast *assign = prog->u.list.items[0];
        CHECK(assign->kind == AST_ASSIGN);
        CHECK(assign->span.start == 0 && assign->span.end == 25);
        CHECK(assign->u.bind.name_span.start == 0 && assign->u.bind.name_span.end == 1);
        Ast *mul = assign->u.bind.value;
        CHECK(mul->kind == AST_BINARY && mul->u.op.op == OP_MUL);
        CHECK(mul->span.start == 4 && mul->span.end == 25);
        CHECK(mul->u.op.op_span.start == 12 && mul->u.op.op_span.end == 13);
        Ast *add = mul->u.op.a;   /* the parentheses belong to it */
        CHECK(add->span.start == 4 && add->span.end == 11);
        CHECK(add->u.op.op_span.start == 7);
        Ast *call = mul->u.op.b;
        CHECK(call->kind == AST_CALL && call->span.start == 14 && call->span.end == 25);
        Ast *kw = call->u.call.args.items[1];
        CHECK(kw->kind == AST_KWARG && kw->span.start == 19 && kw->span.end == 24);
        CHECK(kw->u.bind.name_span.start == 19 && kw->u.bind.name_span.end == 20);
        Ast *param = prog->u.list.items[1];
        CHECK(param->kind == AST_PARAM && param->span.start == 26 && param->span.end == 40);
        CHECK(param->u.bind.name_span.start == 32 && param->u.bind.name_span.end == 33);
        Ast *index = param->u.bind.value;
        CHECK(index->kind == AST_INDEX && index->span.start == 36 && index->span.end == 40);
        CHECK(index->u.op.op_span.start == 37 && index->u.op.op_span.end == 40);
        CHECK(index->span.file == f);
    }
    CHECK(d.n_errors == 0);
    fclose(null);
    arena_free(&arena);
    src_free(f);
}

/* ---- diagnostics ------------------------------------------------------------------- */

static void test_syntax_error_on_line_3(void) {
    CHECK_DIAG("base = model(\"b\")\n# comment\nout = (a + )\nnext = 1\n",
               "recipe.merge:3:12: error: expected an expression, found ')'\n"
               "    3 | out = (a + )\n"
               "      |            ^\n");
}

static void test_expected_messages(void) {
    CHECK_DIAG("f(a b)",
               "recipe.merge:1:5: error: expected ')' or ',', found name 'b'\n"
               "    1 | f(a b)\n"
               "      |     ^\n");
    CHECK_DIAG("param x 5",
               "recipe.merge:1:9: error: expected '=', found number 5\n"
               "    1 | param x 5\n"
               "      |         ^\n");
    CHECK_DIAG("y = if a b",
               "recipe.merge:1:10: error: expected 'then', found name 'b'\n"
               "    1 | y = if a b\n"
               "      |          ^\n");
    CHECK_DIAG("y = if a then b\n",
               "recipe.merge:1:16: error: expected 'else', found end of line\n"
               "    1 | y = if a then b\n"
               "      |                ^\n");
    CHECK_DIAG("x = a \"s\"",
               "recipe.merge:1:7: error: expected end of line, found string\n"
               "    1 | x = a \"s\"\n"
               "      |       ^~~\n");
    CHECK_DIAG("x = [1, 2 3]",
               "recipe.merge:1:11: error: expected ']' or ',', found number 3\n"
               "    1 | x = [1, 2 3]\n"
               "      |           ^\n");
    CHECK_DIAG("x = [1,,]",
               "recipe.merge:1:8: error: expected an expression or ']', found ','\n"
               "    1 | x = [1,,]\n"
               "      |        ^\n");
    CHECK_DIAG("x = f(,)",
               "recipe.merge:1:7: error: expected an expression or ')', found ','\n"
               "    1 | x = f(,)\n"
               "      |       ^\n");
    CHECK_DIAG("def f(a b) = a",
               "recipe.merge:1:9: error: expected ')', ',' or '=', found name 'b'\n"
               "    1 | def f(a b) = a\n"
               "      |         ^\n");
    CHECK_DIAG("def 3",
               "recipe.merge:1:5: error: expected a name, found number 3\n"
               "    1 | def 3\n"
               "      |     ^\n");
    CHECK_DIAG("import 5",
               "recipe.merge:1:8: error: expected a name or a string, found number 5\n"
               "    1 | import 5\n"
               "      |        ^\n");
    CHECK_DIAG("x = 1 +",
               "recipe.merge:1:8: error: expected an expression, found end of input\n"
               "    1 | x = 1 +\n"
               "      |        ^\n");
    CHECK_DIAG("x = 1 +\n\n",
               "recipe.merge:2:1: error: expected an expression, found end of input\n"
               "    2 | \n"
               "      | ^\n");
    CHECK_DIAG("x = then",
               "recipe.merge:1:5: error: expected an expression, found 'then'\n"
               "    1 | x = then\n"
               "      |     ^~~~\n");
    CHECK_DIAG("x = 1; else",
               "recipe.merge:1:8: error: expected a statement, found 'else'\n"
               "    1 | x = 1; else\n"
               "      |        ^~~~\n");
    CHECK_DIAG("x = f(a) = 2",
               "recipe.merge:1:10: error: expected end of line, found '='\n"
               "    1 | x = f(a) = 2\n"
               "      |          ^\n"
               "  hint: use '==' to compare\n");
    CHECK_DIAG("ok = a < b < c",
               "recipe.merge:1:12: error: expected end of line, found '<'\n"
               "    1 | ok = a < b < c\n"
               "      |            ^\n"
               "  hint: comparisons do not chain: write 'a < b and b < c'\n");
    CHECK_DIAG("x = 1\n  * 2",
               "recipe.merge:2:3: error: expected a statement, found '*'\n"
               "    2 |   * 2\n"
               "      |   ^\n"
               "  hint: to continue an expression on the next line, end the line above "
               "with the operator\n");
    CHECK_DIAG("x = 1 2; y = 3 4",
               "recipe.merge:1:7: error: expected end of line, found number 2\n"
               "    1 | x = 1 2; y = 3 4\n"
               "      |       ^\n");
    CHECK_DIAG("x = a\n;b = ; c",
               "recipe.merge:2:6: error: expected an expression, found ';'\n"
               "    2 | ;b = ; c\n"
               "      |      ^\n");
}

static void test_brackets(void) {
    CHECK_DIAG("x = 1)\n",
               "recipe.merge:1:6: error: unmatched ')'\n"
               "    1 | x = 1)\n"
               "      |      ^\n");
    CHECK_DIAG("x = ]",
               "recipe.merge:1:5: error: unmatched ']'\n"
               "    1 | x = ]\n"
               "      |     ^\n");
    CHECK_DIAG("x = f([1, 2)\n",
               "recipe.merge:1:12: error: expected ']' to close '[', found ')'\n"
               "    1 | x = f([1, 2)\n"
               "      |            ^\n"
               "recipe.merge:1:7: note: '[' opened here\n"
               "    1 | x = f([1, 2)\n"
               "      |       ^\n");
    CHECK_DIAG("x = f(\n  a,\n  [b]\n",
               "recipe.merge:3:6: error: expected ')' before end of input\n"
               "    3 |   [b]\n"
               "      |      ^\n"
               "recipe.merge:1:6: note: '(' opened here\n"
               "    1 | x = f(\n"
               "      |      ^\n");
    CHECK_DIAG("x = [(1,\n 2]",
               "recipe.merge:1:8: error: expected ')', found ','\n"
               "    1 | x = [(1,\n"
               "      |        ^\n");
    CHECK_DIAG("x = [(1\n ]",
               "recipe.merge:2:2: error: expected ')' to close '(', found ']'\n"
               "    2 |  ]\n"
               "      |  ^\n"
               "recipe.merge:1:6: note: '(' opened here\n"
               "    1 | x = [(1\n"
               "      |      ^\n");
}

static void test_lexer_errors_reported(void) {
    CHECK_DIAG("a = 1\nb = 'abc\nc = 2\n",
               "recipe.merge:2:9: error: newline in string\n"
               "    2 | b = 'abc\n"
               "      |         ^\n"
               "recipe.merge:2:5: note: the string starts here\n"
               "    2 | b = 'abc\n"
               "      |     ^\n"
               "  hint: close the string on the line where it starts; write \\n for a line break\n");
    CHECK_DIAG("b = 'abc",
               "recipe.merge:1:5: error: unterminated string\n"
               "    1 | b = 'abc\n"
               "      |     ^\n");
    CHECK_DIAG("p = \"dir\\model\"",
               "recipe.merge:1:9: error: invalid escape '\\m' in string\n"
               "    1 | p = \"dir\\model\"\n"
               "      |         ^~\n"
               "  hint: the escapes are \\\\ \\\" \\' \\n \\t \\r and \\xHH\n");
    CHECK_DIAG("save(m, shard = 5GB)",
               "recipe.merge:1:17: error: invalid number\n"
               "    1 | save(m, shard = 5GB)\n"
               "      |                 ^~~\n"
               "  hint: write sizes and other values with units as strings, e.g. \"5GB\"\n");
    CHECK_DIAG_N("x = a\0b\n", 8,
                 "recipe.merge:1:6: error: unexpected NUL byte\n"
                 "    1 | x = a?b\n"
                 "      |      ^\n");
    CHECK_DIAG_N("x = \"a\0b\"\n", 10,
                 "recipe.merge:1:7: error: NUL byte in string\n"
                 "    1 | x = \"a?b\"\n"
                 "      |       ^\n");
    CHECK_DIAG("x = \xe2\x80\x9cq\xe2\x80\x9d",
               "recipe.merge:1:5: error: unexpected character\n"
               "    1 | x = \xe2\x80\x9cq\xe2\x80\x9d\n"
               "      |     ^\n");
    /* the first error wins, whichever part finds it; a bracket left open
     * on an earlier line is pointed out */
    CHECK_DIAG("x = (1 +\ny = 'oops",
               "recipe.merge:2:3: error: expected ')', found '='\n"
               "    2 | y = 'oops\n"
               "      |   ^\n"
               "recipe.merge:1:5: note: '(' opened here\n"
               "    1 | x = (1 +\n"
               "      |     ^\n");
}

static void test_utf8_and_tabs(void) {
    /* columns count code points; the caret line pads with one space each */
    CHECK_DIAG("n = (\"h\xc3\xa9llo \xe2\x82\xac\" + )",
               "recipe.merge:1:18: error: expected an expression, found ')'\n"
               "    1 | n = (\"h\xc3\xa9llo \xe2\x82\xac\" + )\n"
               "      |                  ^\n");
    /* tabs are repeated so the caret lines up in any tab setting */
    CHECK_DIAG("\tx =\t(a +\t)",
               "recipe.merge:1:11: error: expected an expression, found ')'\n"
               "    1 | \tx =\t(a +\t)\n"
               "      | \t   \t    \t^\n");
    /* control characters are shown as '?', tab kept */
    CHECK_DIAG("# \x1b[31m\nx = \"\x1b\"",
               "recipe.merge:2:6: error: control character in string\n"
               "    2 | x = \"?\"\n"
               "      |      ^\n"
               "  hint: write control characters as escapes, e.g. \\x01\n");
    /* invalid UTF-8 counts one column per byte and shows as '?' */
    CHECK_DIAG("# \xff\xfe\nx = \xff",
               "recipe.merge:2:5: error: unexpected character\n"
               "    2 | x = ?\n"
               "      |     ^\n");
}

static void test_limits(void) {
    size_t n = 100000;
    char *text = malloc(n + 8);
    memcpy(text, "x = ", 4);
    memset(text + 4, '(', n);
    text[n + 4] = '\0';
    Result r = parse(text);
    CHECK(r.dump == NULL && r.n_errors == 1);
    CHECK(r.diag && strncmp(r.diag, "recipe.merge:1:261: error: expression nested too deeply\n", 56) == 0);
    result_free(&r);

    memset(text + 4, '-', n);
    r = parse(text);
    CHECK(r.dump == NULL && r.n_errors == 1);
    CHECK(r.diag && strstr(r.diag, "error: expression nested too deeply\n"));
    result_free(&r);

    for (size_t i = 0; i + 1 < n; i += 2) {
        text[4 + i] = 'a';
        text[5 + i] = '+';
    }
    text[4 + n - 1] = 'a';
    r = parse(text);
    CHECK(r.dump == NULL && r.n_errors == 1);
    CHECK(r.diag && strncmp(r.diag, "recipe.merge:1:1: error: expression nested too deeply\n", 54) == 0);
    result_free(&r);

    /* a long but flat statement is fine; past 20000 tokens the trial
     * parses are skipped and the message says less */
    memcpy(text, "x = [", 5);
    for (size_t i = 0; i + 1 < n; i += 2) {
        text[5 + i] = '1';
        text[6 + i] = ',';
    }
    strcpy(text + 5 + n - 2, "]");
    r = parse(text);
    CHECK(r.dump != NULL && r.n_errors == 0);
    result_free(&r);
    strcpy(text + 5 + n - 2, "1 2]");
    r = parse(text);
    CHECK(r.n_errors == 1);
    CHECK(r.diag && strstr(r.diag, "error: unexpected number 2\n"));
    result_free(&r);
    free(text);

    /* deep but within limits */
    char ok[512] = "x = ";
    for (int i = 0; i < 100; i++) strcat(ok, "[");
    for (int i = 0; i < 100; i++) strcat(ok, "]");
    r = parse(ok);
    CHECK(r.dump != NULL);
    result_free(&r);
}

static void test_diag_api(void) {
    const char *text = "a = 1\n\tb = f(x,\n\t      y)\nlast";
    SrcFile *f = src_from_string("r.merge", text, strlen(text));
    CHECK(f && f->n_lines == 4);
    int line, col;
    src_line_col(f, 0, &line, &col);
    CHECK(line == 1 && col == 1);
    src_line_col(f, 5, &line, &col);     /* the newline: just past "a = 1" */
    CHECK(line == 1 && col == 6);
    src_line_col(f, 7, &line, &col);
    CHECK(line == 2 && col == 2);
    src_line_col(f, (uint32_t)strlen(text), &line, &col);
    CHECK(line == 4 && col == 5);

    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    Diag d;
    diag_init(&d, out);
    SrcSpan call = { f, 11, 26 };        /* f(x,\n ... y): carets stop at the line end */
    diag_error(&d, call, "wrong %s", "call");
    diag_note(&d, (SrcSpan){ f, 24, 25 }, "this one");
    diag_hint(&d, "try %d", 2);
    diag_plain(&d, "no place");
    diag_error(&d, (SrcSpan){ NULL, 0, 0 }, "nowhere");
    fclose(out);
    CHECK_STR(buf,
              "r.merge:2:6: error: wrong call\n"
              "    2 | \tb = f(x,\n"
              "      | \t    ^~~~\n"
              "r.merge:3:9: note: this one\n"
              "    3 | \t      y)\n"
              "      | \t       ^\n"
              "  hint: try 2\n"
              "mergelang: error: no place\n"
              "mergelang: error: nowhere\n");
    CHECK(d.n_errors == 3);
    free(buf);

    /* max_errors: later errors are counted, not printed, nor their notes */
    buf = NULL;
    out = open_memstream(&buf, &len);
    diag_init(&d, out);
    d.max_errors = 1;
    diag_error(&d, (SrcSpan){ f, 0, 1 }, "first");
    diag_error(&d, (SrcSpan){ f, 0, 1 }, "second");
    diag_note(&d, (SrcSpan){ f, 0, 1 }, "of second");
    diag_hint(&d, "for second");
    fclose(out);
    CHECK_STR(buf, "r.merge:1:1: error: first\n    1 | a = 1\n      | ^\n");
    CHECK(d.n_errors == 2);
    free(buf);
    src_free(f);

    /* line numbers take five columns */
    char big[4096] = "";
    for (int i = 0; i < 1233; i++) strcat(big, "\n");
    strcat(big, "x = )");
    Result r = parse(big);
    CHECK_STR(r.diag,
              "recipe.merge:1234:5: error: unmatched ')'\n"
              " 1234 | x = )\n"
              "      |     ^\n");
    result_free(&r);
}

static void test_src_load(void) {
    char path[] = "/tmp/test_syntax_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    const char *text = "x = 1\ny = 2\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    SrcFile *f = src_load(path);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->len == strlen(text) && memcmp(f->text, text, f->len) == 0);
        CHECK(f->text[f->len] == '\0');
        CHECK(f->n_lines == 2 && f->line_starts[1] == 6);
        CHECK_STR(f->path, path);
        src_free(f);
    }
    /* one byte over 8 MiB is refused, without reading it all */
    CHECK(ftruncate(fd, (off_t)8 * 1024 * 1024 + 1) == 0);
    errno = 0;
    CHECK(src_load(path) == NULL && errno == EFBIG);
    CHECK(ftruncate(fd, (off_t)8 * 1024 * 1024) == 0);
    f = src_load(path);
    CHECK(f != NULL && f->len == (size_t)8 * 1024 * 1024);
    src_free(f);
    close(fd);
    unlink(path);
    errno = 0;
    CHECK(src_load("/nonexistent/recipe.merge") == NULL && errno == ENOENT);
}

static void test_incomplete(void) {
    struct { const char *text; bool more; } cases[] = {
        { "x = 1", false },
        { "x = 1\n", false },
        { "", false },
        { "x =", true },
        { "x = 1 +\n", true },
        { "x = f(a,", true },
        { "x = [1,\n 2", true },
        { "x = [1, 2]", false },
        { "x = \"abc", true },
        { "x = 'a\\", true },
        { "x = if c then", true },
        { "x = if c then a else", true },
        { "x = a and # more below\n", true },
        { "x = not", true },
        { "x = a ~", true },
        { "x = )", false },          /* an error: let the parser say so */
        { "x = \"a\\q\"", false },
        { "def f(a) =", true },
        { "x = f(a)(", true },
        { "y = m[", true },
        { "x = if c", false },
        { "x = 1 + ;", false },
        { "x = (1;", true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool got = syn_incomplete(cases[i].text, strlen(cases[i].text));
        if (got != cases[i].more) printf("  syn_incomplete(\"%s\") = %d\n", cases[i].text, got);
        CHECK(got == cases[i].more);
    }
    /* the text need not be NUL-terminated */
    CHECK(syn_incomplete("x = (1)", 5) == true);
}

static void test_ast_helpers(void) {
    CHECK_STR(ast_op_text(OP_ADD), "+");
    CHECK_STR(ast_op_text(OP_MATCH), "~");
    CHECK_STR(ast_op_text(OP_AND), "and");
    CHECK_STR(ast_op_text(OP_GE), ">=");
    CHECK_STR(ast_op_text(OP_NOT), "not");
    SrcFile *f = src_from_string("t", "abcdef", 6);
    SrcSpan a = { f, 1, 2 }, b = { f, 4, 6 }, none = { NULL, 0, 0 };
    SrcSpan j = span_join(a, b);
    CHECK(j.file == f && j.start == 1 && j.end == 6);
    j = span_join(b, a);
    CHECK(j.start == 1 && j.end == 6);
    j = span_join(none, b);
    CHECK(j.file == f && j.start == 4 && j.end == 6);
    j = span_join(a, none);
    CHECK(j.start == 1 && j.end == 2);

    Arena arena;
    arena_init(&arena);
    AstList l = { NULL, 0, 0 };
    for (int i = 0; i < 100; i++)
        CHECK(ast_list_push(&arena, &l, ast_new_num(&arena, a, i)) == 0);
    CHECK(l.n == 100 && l.items[99]->u.num == 99);
    /* a NULL item (a failed allocation) poisons the list and what holds it */
    CHECK(ast_list_push(&arena, &l, NULL) == -1);
    CHECK(ast_new_list(&arena, AST_LIST, a, l) == NULL);
    CHECK(ast_new_op(&arena, AST_BINARY, OP_ADD, a, NULL, NULL) == NULL);
    arena_free(&arena);
    src_free(f);
}

int main(void) {
    RUN_TEST(test_lexer_tokens);
    RUN_TEST(test_lexer_numbers);
    RUN_TEST(test_lexer_strings);
    RUN_TEST(test_lexer_bad_characters);
    RUN_TEST(test_dump_examples);
    RUN_TEST(test_precedence);
    RUN_TEST(test_if_else);
    RUN_TEST(test_calls_lists_index);
    RUN_TEST(test_statements);
    RUN_TEST(test_newlines);
    RUN_TEST(test_spans);
    RUN_TEST(test_syntax_error_on_line_3);
    RUN_TEST(test_expected_messages);
    RUN_TEST(test_brackets);
    RUN_TEST(test_lexer_errors_reported);
    RUN_TEST(test_utf8_and_tabs);
    RUN_TEST(test_limits);
    RUN_TEST(test_diag_api);
    RUN_TEST(test_src_load);
    RUN_TEST(test_incomplete);
    RUN_TEST(test_ast_helpers);
    return CHECK_DONE();
}
