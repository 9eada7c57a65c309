/* smallfile.h - reading a small metadata file (config.json, an index)
 * whole, safely: a FIFO or device in a downloaded folder must not hang the
 * run, and a huge file must not be read into memory. */
#ifndef MERGELANG_SMALLFILE_H
#define MERGELANG_SMALLFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/core/errbuf.h"

/* Reads path whole into a malloc'd NUL-terminated buffer (*out, *out_len)
 * when it is a regular file of at most max bytes; label names the file in
 * messages. Returns 0, or -1 with a message in err; with missing_ok, a file
 * that does not exist returns 1 and sets nothing. */
int smallfile_read(const char *path, const char *label, size_t max, bool missing_ok, char **out,
                   size_t *out_len, ErrBuf *err);

#endif
