/* utf8.h - strict UTF-8 validation (no overlong forms, no surrogates,
 * nothing above U+10FFFF), as safetensors' readers require of headers and
 * tensor names; shared by the safetensors and PyTorch .bin readers. */
#ifndef MERGELANG_UTF8_H
#define MERGELANG_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is valid; else false with the offset of the first bad
 * sequence in *bad_at (bad_at may be NULL). */
bool utf8_valid(const unsigned char *s, size_t n, size_t *bad_at);

#endif
