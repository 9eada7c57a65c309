/* iofloor.c - the I/O floor a merge is measured against: read every input
 * byte once and write the output's bytes once, with plain read(2) and
 * write(2), from and to the same places, fsync'd like the merge's output.
 *
 *   iofloor [--no-sync] OUT_DIR OUT_BYTES INPUT...
 *
 * INPUT may be files or folders (their *.safetensors files are read). Prints
 * "read R bytes, wrote W bytes in S seconds" and removes what it wrote.
 * --no-sync leaves out the fsync: the floor of the page-cache copies alone,
 * without waiting for the disk. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUF (8u << 20)

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long long read_file(const char *path, char *buf) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        perror(path);
        exit(2);
    }
    long long total = 0;
    ssize_t n;
    while ((n = read(fd, buf, BUF)) > 0) total += n;
    close(fd);
    return total;
}

static long long read_any(const char *path, char *buf) {
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) return read_file(path, buf);
    DIR *d = opendir(path);
    long long total = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 12 || strcmp(e->d_name + len - 12, ".safetensors") != 0) continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        total += read_file(p, buf);
    }
    if (d) closedir(d);
    return total;
}

int main(int argc, char **argv) {
    int sync_out = 1;
    if (argc > 1 && strcmp(argv[1], "--no-sync") == 0) {
        sync_out = 0;
        argv++;
        argc--;
    }
    if (argc < 4) {
        fprintf(stderr, "usage: iofloor [--no-sync] OUT_DIR OUT_BYTES INPUT...\n");
        return 2;
    }
    long long out_bytes = atoll(argv[2]);
    char *buf = malloc(BUF);
    if (!buf) return 2;
    memset(buf, 0x3c, BUF);
    char out[4096];
    snprintf(out, sizeof out, "%s/iofloor.tmp", argv[1]);
    double t0 = now();
    long long in = 0;
    for (int i = 3; i < argc; i++) in += read_any(argv[i], buf);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror(out);
        return 2;
    }
    long long left = out_bytes;
    while (left > 0) {
        ssize_t n = write(fd, buf, left < BUF ? (size_t)left : BUF);
        if (n <= 0) {
            perror(out);
            return 2;
        }
        left -= n;
    }
    if (sync_out) fsync(fd);
    close(fd);
    double secs = now() - t0;
    unlink(out);
    printf("read %lld bytes, wrote %lld bytes in %.3f seconds\n", in, out_bytes, secs);
    free(buf);
    return 0;
}
