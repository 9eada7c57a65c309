/* lexer.re - the re2c scanner for mergelang; produces Lemon's T_* codes.
 *
 * Security stance: recipes may be hostile. The whole source is in memory with
 * a NUL after it, and every block uses re2c's bounds-checked end
 * (re2c:eof = 0 with YYLIMIT and a '$' rule), so a NUL byte inside the text is
 * an ordinary byte and no rule can read past the end. Every block has a '*'
 * rule, so no input byte is left without an action. Build with -W.
 *
 * Notes for the next reader:
 * - Names and keywords are ASCII. Outside strings and comments any other
 *   byte is an error; inside strings the text must be valid UTF-8.
 * - A number glued to letters ("5GB", "1e") is one bad token rather than a
 *   number followed by a name, which would surface as a baffling syntax error.
 * - Escapes are checked by the scanner, then decoded into the arena by a
 *   plain loop once the string's end is known. */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/syntax/syntax_int.h"
#include "parser.h"

/*!re2c
    re2c:define:YYCTYPE = "unsigned char";
    re2c:define:YYCURSOR = "lx->cur";
    re2c:define:YYLIMIT = "lx->lim";
    re2c:define:YYMARKER = "lx->mark";
    re2c:yyfill:enable = 0;
    re2c:eof = 0;

    dig    = [0-9];
    hex    = [0-9a-fA-F];
    number = (dig+ ("." dig+)? | "." dig+) ([eE] [+-]? dig+)?;
    ident  = [A-Za-z_] [A-Za-z0-9_]*;
    utf8   = [\xc2-\xdf] [\x80-\xbf]
           | "\xe0" [\xa0-\xbf] [\x80-\xbf]
           | [\xe1-\xec\xee\xef] [\x80-\xbf]{2}
           | "\xed" [\x80-\x9f] [\x80-\xbf]
           | "\xf0" [\x90-\xbf] [\x80-\xbf]{2}
           | [\xf1-\xf3] [\x80-\xbf]{3}
           | "\xf4" [\x80-\x8f] [\x80-\xbf]{2};
*/

void lex_init(Lexer *lx, const SrcFile *src, Arena *arena) {
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->arena = arena;
    lx->cur = (const unsigned char *)src->text;
    lx->lim = lx->cur + src->len;
}

static uint32_t off(const Lexer *lx, const unsigned char *p) {
    return (uint32_t)(p - (const unsigned char *)lx->src->text);
}

static SrcSpan span(const Lexer *lx, const unsigned char *from, const unsigned char *to) {
    SrcSpan s = { lx->src, off(lx, from), off(lx, to) };
    return s;
}

static int fail(Lexer *lx, const unsigned char *from, const unsigned char *to, const char *msg) {
    snprintf(lx->msg, sizeof lx->msg, "%s", msg);
    lx->at = span(lx, from, to);
    return LEX_ERROR;
}

/* Shows one byte in a message: the character itself only when printable. */
static const char *byte_text(unsigned char c, char buf[8]) {
    if (c >= 0x21 && c < 0x7F) snprintf(buf, 8, "'%c'", c);
    else buf[0] = '\0';
    return buf;
}

static int hexval(unsigned char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Decodes the body of a checked string literal into the arena. */
static int decode_string(Lexer *lx, const unsigned char *p, const unsigned char *end,
                         SynToken *tok) {
    char *out = arena_alloc(lx->arena, (size_t)(end - p) + 1);
    if (!out) return fail(lx, p, end, "out of memory");
    size_t n = 0;
    while (p < end) {
        if (*p != '\\') {
            out[n++] = (char)*p++;
            continue;
        }
        switch (p[1]) {
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case 'r': out[n++] = '\r'; break;
        case 'x':
            out[n++] = (char)(hexval(p[2]) * 16 + hexval(p[3]));
            p += 2;
            break;
        default: out[n++] = (char)p[1]; break;  /* \\ \" \' */
        }
        p += 2;
    }
    out[n] = '\0';
    tok->v.str.s = out;
    tok->v.str.len = n;
    return T_STRING;
}

/* Called with lx->cur just past the opening quote. */
static int lex_string(Lexer *lx, SynToken *tok) {
    const unsigned char *quote = lx->cur - 1;
    for (;;) {
        lx->tok = lx->cur;
    /*!re2c
        $ {
            lx->unterminated = true;
            return fail(lx, quote, quote + 1, "unterminated string");
        }
        ["'] {
            if (*lx->tok != *quote) continue;
            if (!lx->arena) return T_STRING;
            return decode_string(lx, quote + 1, lx->tok, tok);
        }
        "\\" [\\"'ntr] { continue; }
        "\\x" hex hex {
            if (lx->tok[2] == '0' && lx->tok[3] == '0') {
                lx->hint = "strings cannot contain NUL bytes";
                return fail(lx, lx->tok, lx->cur, "invalid escape '\\x00' in string");
            }
            continue;
        }
        "\\x" {
            lx->hint = "write \\x followed by two hex digits, e.g. \\x41";
            return fail(lx, lx->tok, lx->cur, "invalid escape '\\x' in string");
        }
        "\\" ([\x20-\x7e] | utf8) {
            lx->hint = "the escapes are \\\\ \\\" \\' \\n \\t \\r and \\xHH";
            if (lx->tok[1] < 0x7F)
                snprintf(lx->msg, sizeof lx->msg, "invalid escape '\\%c' in string", lx->tok[1]);
            else
                snprintf(lx->msg, sizeof lx->msg, "invalid escape in string");
            lx->at = span(lx, lx->tok, lx->cur);
            return LEX_ERROR;
        }
        "\\" {
            if (lx->cur >= lx->lim) {
                lx->unterminated = true;
                return fail(lx, quote, quote + 1, "unterminated string");
            }
            if (*lx->cur == '\n' || *lx->cur == '\r') {
                lx->cur++;
                goto newline;
            }
            lx->hint = "the escapes are \\\\ \\\" \\' \\n \\t \\r and \\xHH";
            return fail(lx, lx->tok, lx->cur + 1, "invalid escape in string");
        }
        [\n\r] {
            goto newline;
        }
        [\x00] {
            return fail(lx, lx->tok, lx->cur, "NUL byte in string");
        }
        [\x01-\x08\x0b\x0c\x0e-\x1f\x7f] {
            lx->hint = "write control characters as escapes, e.g. \\x01";
            return fail(lx, lx->tok, lx->cur, "control character in string");
        }
        [\t\x20-\x7e] | utf8 { continue; }
        * {
            return fail(lx, lx->tok, lx->cur, "invalid UTF-8 in string");
        }
    */
    newline:
        lx->note = "the string starts here";
        lx->note_at = span(lx, quote, quote + 1);
        lx->hint = "close the string on the line where it starts; write \\n for a line break";
        return fail(lx, lx->cur - 1, lx->cur, "newline in string");
    }
}

static int lex_number(Lexer *lx, SynToken *tok) {
    /* Copied because strtod needs a terminator and the locale's decimal point. */
    char small[64], *buf = small;
    size_t n = (size_t)(lx->cur - lx->tok);
    if (n >= sizeof small && !(buf = malloc(n + 1)))
        return fail(lx, lx->tok, lx->cur, "out of memory");
    memcpy(buf, lx->tok, n);
    buf[n] = '\0';
    char *dot = memchr(buf, '.', n);
    const char *point = localeconv()->decimal_point;
    if (dot && point && point[0] && !point[1]) *dot = point[0];
    double v = strtod(buf, NULL);
    if (buf != small) free(buf);
    if (isinf(v)) return fail(lx, lx->tok, lx->cur, "number too large");
    tok->v.num = v;
    return T_NUMBER;
}

static int lex_bad_number(Lexer *lx) {
    const unsigned char *p = lx->tok;
    while (p < lx->cur && ((*p >= '0' && *p <= '9') || *p == '.')) p++;
    if (p < lx->cur && *p != 'e' && *p != 'E' && *p != '.')
        lx->hint = "write sizes and other values with units as strings, e.g. \"5GB\"";
    return fail(lx, lx->tok, lx->cur, "invalid number");
}

int lex_next(Lexer *lx, SynToken *tok) {
    char buf[8];
    for (;;) {
        lx->tok = lx->cur;
        tok->start = off(lx, lx->cur);
        tok->v.str.s = NULL;
        tok->v.str.len = 0;
    /*!re2c
        $ {
            tok->end = tok->start;
            return 0;
        }
        [ \t\r]+ { continue; }
        "#" [^\n]* { continue; }
        "\n" | ";" { tok->end = off(lx, lx->cur); return T_NEWLINE; }

        number {
            tok->end = off(lx, lx->cur);
            return lex_number(lx, tok);
        }
        (number | dig+ ".") [A-Za-z0-9_.]* { return lex_bad_number(lx); }
        ["'] {
            int code = lex_string(lx, tok);
            tok->end = off(lx, lx->cur);
            return code;
        }

        "if"     { tok->end = off(lx, lx->cur); return T_IF; }
        "then"   { tok->end = off(lx, lx->cur); return T_THEN; }
        "else"   { tok->end = off(lx, lx->cur); return T_ELSE; }
        "and"    { tok->end = off(lx, lx->cur); return T_AND; }
        "or"     { tok->end = off(lx, lx->cur); return T_OR; }
        "not"    { tok->end = off(lx, lx->cur); return T_NOT; }
        "true"   { tok->end = off(lx, lx->cur); return T_TRUE; }
        "false"  { tok->end = off(lx, lx->cur); return T_FALSE; }
        "none"   { tok->end = off(lx, lx->cur); return T_NONE; }
        "def"    { tok->end = off(lx, lx->cur); return T_DEF; }
        "param"  { tok->end = off(lx, lx->cur); return T_PARAM; }
        "import" { tok->end = off(lx, lx->cur); return T_IMPORT; }
        ident {
            tok->end = off(lx, lx->cur);
            tok->v.str.s = (const char *)lx->tok;
            tok->v.str.len = (size_t)(lx->cur - lx->tok);
            return T_NAME;
        }

        "==" { tok->end = off(lx, lx->cur); return T_EQ; }
        "!=" { tok->end = off(lx, lx->cur); return T_NE; }
        "<=" { tok->end = off(lx, lx->cur); return T_LE; }
        ">=" { tok->end = off(lx, lx->cur); return T_GE; }
        "<"  { tok->end = off(lx, lx->cur); return T_LT; }
        ">"  { tok->end = off(lx, lx->cur); return T_GT; }
        "~"  { tok->end = off(lx, lx->cur); return T_MATCH; }
        "="  { tok->end = off(lx, lx->cur); return T_ASSIGN; }
        "+"  { tok->end = off(lx, lx->cur); return T_PLUS; }
        "-"  { tok->end = off(lx, lx->cur); return T_MINUS; }
        "*"  { tok->end = off(lx, lx->cur); return T_STAR; }
        "/"  { tok->end = off(lx, lx->cur); return T_SLASH; }
        "("  { tok->end = off(lx, lx->cur); return T_LPAREN; }
        ")"  { tok->end = off(lx, lx->cur); return T_RPAREN; }
        "["  { tok->end = off(lx, lx->cur); return T_LBRACKET; }
        "]"  { tok->end = off(lx, lx->cur); return T_RBRACKET; }
        ","  { tok->end = off(lx, lx->cur); return T_COMMA; }

        "&&" { lx->hint = "write 'and'"; return fail(lx, lx->tok, lx->cur, "unexpected '&&'"); }
        "||" { lx->hint = "write 'or'"; return fail(lx, lx->tok, lx->cur, "unexpected '||'"); }
        "!"  { lx->hint = "write 'not' to negate, '!=' to compare"; return fail(lx, lx->tok, lx->cur, "unexpected '!'"); }
        "\x00" { return fail(lx, lx->tok, lx->cur, "unexpected NUL byte"); }
        utf8 { return fail(lx, lx->tok, lx->cur, "unexpected character"); }
        * {
            unsigned char c = *lx->tok;
            if (c >= 0x80) return fail(lx, lx->tok, lx->cur, "unexpected character");
            if (c < 0x20 || c == 0x7F) return fail(lx, lx->tok, lx->cur, "unexpected control character");
            snprintf(lx->msg, sizeof lx->msg, "unexpected character %s", byte_text(c, buf));
            lx->at = span(lx, lx->tok, lx->cur);
            return LEX_ERROR;
        }
    */
    }
}
