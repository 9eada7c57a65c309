/* units.c - counts and byte sizes as text (units.h). */
#include "runtime/core/units.h"

#include <stdio.h>

char *units_count_text(uint64_t n, char *buf, size_t len) {
    char digits[24], grouped[32];
    int k = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    size_t w = 0;
    for (int i = 0; i < k; i++) {
        if (i > 0 && (k - i) % 3 == 0) grouped[w++] = ',';
        grouped[w++] = digits[i];
    }
    grouped[w] = '\0';
    snprintf(buf, len, "%s", grouped);
    return buf;
}

char *units_bytes_text(uint64_t n, char *buf, size_t len) {
    static const char *const units[] = { "kB", "MB", "GB", "TB", "PB" };
    if (n < 1000) {
        snprintf(buf, len, "%llu B", (unsigned long long)n);
        return buf;
    }
    double v = (double)n / 1000.0;
    size_t u = 0;
    /* 999.95 kB would print as "1000.0 kB": move up a unit before that. */
    while (v >= 999.95 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1000.0;
        u++;
    }
    snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}
