/* test_utf8.c - strict UTF-8 validation (runtime/core/utf8.h) on byte
 * strings whose verdicts follow from the definition (RFC 3629). */
#include "runtime/core/utf8.h"
#include "tests/unit/check.h"

static bool valid(const char *s, size_t n, size_t *bad_at) {
    return utf8_valid((const unsigned char *)s, n, bad_at);
}

static void test_accepts(void) {
    CHECK(valid("", 0, NULL));
    CHECK(valid("model.layers.0.weight", 21, NULL));
    CHECK(valid("\xc3\xa9", 2, NULL));               /* U+00E9 */
    CHECK(valid("\xe2\x82\xac", 3, NULL));           /* U+20AC */
    CHECK(valid("\xf0\x9f\x98\x80", 4, NULL));       /* U+1F600 */
    CHECK(valid("\xf4\x8f\xbf\xbf", 4, NULL));       /* U+10FFFF, the last */
    CHECK(valid("\xed\x9f\xbf", 3, NULL));           /* U+D7FF, before the surrogates */
}

static void test_refuses(void) {
    size_t at = 99;
    CHECK(!valid("ab\xc0\x80", 4, &at) && at == 2);  /* overlong NUL */
    CHECK(!valid("\xe0\x80\xaf", 3, &at) && at == 0); /* overlong '/' */
    CHECK(!valid("x\xed\xa0\x80", 4, &at) && at == 1); /* U+D800, a surrogate */
    CHECK(!valid("\xf4\x90\x80\x80", 4, &at) && at == 0); /* U+110000 */
    CHECK(!valid("abc\xe2\x82", 5, &at) && at == 3); /* cut short */
    CHECK(!valid("\xc3\x28", 2, &at) && at == 0);    /* bad continuation */
    CHECK(!valid("\x80", 1, &at) && at == 0);        /* a lone continuation byte */
    CHECK(!valid("\xff", 1, NULL));                  /* never in UTF-8; NULL bad_at is allowed */
}

int main(void) {
    RUN_TEST(test_accepts);
    RUN_TEST(test_refuses);
    return CHECK_DONE();
}
