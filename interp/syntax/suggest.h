/* suggest.h - "did you mean ...?" for misspelt names and keywords. */
#ifndef MERGELANG_SUGGEST_H
#define MERGELANG_SUGGEST_H

#include <stddef.h>

/* The candidate closest to word by edit distance, or NULL when none is
 * close enough to be a plausible typo (distance at most 1 for short words,
 * 2 for words of 5+ characters, 3 for 9+). */
const char *suggest_closest(const char *word, const char *const *cands, size_t n);

#endif
