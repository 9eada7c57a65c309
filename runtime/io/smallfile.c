/* smallfile.c - reading small metadata files whole (smallfile.h). */
#include "runtime/io/smallfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int smallfile_read(const char *path, const char *label, size_t max, bool missing_ok, char **out,
                   size_t *out_len, ErrBuf *err) {
    /* O_NONBLOCK: opening a FIFO returns at once; it is refused below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (missing_ok && errno == ENOENT) return 1;
        return errbuf_set(err, "%s: cannot open: %s", label, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        close(fd);
        return errbuf_set(err, "%s: not a regular file of at most %zu bytes", label, max);
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return errbuf_set(err, "%s: out of memory", label);
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        free(buf);
        return errbuf_set(err, "%s: could not read the whole file", label);
    }
    buf[size] = '\0';
    *out = buf;
    *out_len = size;
    return 0;
}
