/* units.h - numbers as people read them, the one way every command and
 * the REPL print them: counts with thousands separators ("22,688") and
 * byte sizes in decimal units ("90.8 kB", "2.2 GB", "512 B"). */
#ifndef MERGELANG_UNITS_H
#define MERGELANG_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* n with a comma every three digits; returns buf. */
char *units_count_text(uint64_t n, char *buf, size_t len);
/* n bytes as "N B" below 1000, else one decimal in kB, MB, GB, TB or PB
 * (never "1000.0 kB": a value that would round to 1000 moves up a unit);
 * returns buf. */
char *units_bytes_text(uint64_t n, char *buf, size_t len);

#endif
