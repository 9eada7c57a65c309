/* errbuf.h - how the runtime reports a failure to its caller.
 *
 * Runtime functions return 0 on success and -1 on failure, filling an ErrBuf
 * with one complete sentence that names the file and, where there is one,
 * the tensor ("models/a/model.safetensors: tensor 'x': offsets overlap ...").
 * The interpreter decides how to print it. */
#ifndef MERGELANG_ERRBUF_H
#define MERGELANG_ERRBUF_H

#include <stddef.h>

typedef struct ErrBuf {
    char msg[1024];
} ErrBuf;

/* printf-style; always returns -1 so callers can `return errbuf_set(...)`. */
int errbuf_set(ErrBuf *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
