/* shape.c - see shape.h. */
#include "runtime/core/shape.h"

#include <stdio.h>

int64_t shape_numel(const Shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) {
        int64_t d = s->dims[i];
        if (d < 0) return -1;
        if (d != 0 && n > INT64_MAX / d) return -1;
        n *= d;
    }
    return n;
}

bool shape_equal(const Shape *a, const Shape *b) {
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return true;
}

char *shape_format(const Shape *s, char *buf, size_t n) {
    if (n == 0) return buf;
    size_t pos = 0;
    int w = snprintf(buf, n, "[");
    pos = w > 0 ? (size_t)w : 0;
    for (int i = 0; i < s->rank && pos < n; i++) {
        w = snprintf(buf + pos, n - pos, "%s%lld", i ? ", " : "", (long long)s->dims[i]);
        if (w < 0) break;
        pos += (size_t)w;
    }
    if (pos < n) snprintf(buf + pos, n - pos, "]");
    buf[n - 1] = '\0';
    return buf;
}
