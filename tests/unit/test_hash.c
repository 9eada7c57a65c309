/* test_hash.c - the content hash: the same bytes give the same hash however
 * they are fed, any single changed bit or length changes it, and a file
 * hashes like its bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/io/hash.h"
#include "tests/unit/check.h"

#define N 5000

static unsigned char buf[N];

static void fill(void) {
    uint64_t s = 7;
    for (size_t i = 0; i < N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = (unsigned char)(s >> 56);
    }
}

static void test_chunking_does_not_matter(void) {
    fill();
    uint64_t whole = hash64(buf, N);
    for (size_t step = 1; step < 200; step += 13) {
        Hash64 h;
        hash64_init(&h);
        for (size_t off = 0; off < N; off += step) hash64_update(&h, buf + off, off + step <= N ? step : N - off);
        CHECK(hash64_final(&h) == whole);
    }
}

static void test_every_bit_matters(void) {
    fill();
    uint64_t whole = hash64(buf, N);
    int unchanged = 0;
    /* Positions in the first block, a stripe boundary, the middle and the tail. */
    const size_t pos[] = { 0, 7, 63, 64, 1023, 1024, 2500, 4991, 4999 };
    for (size_t k = 0; k < sizeof pos / sizeof pos[0]; k++)
        for (int b = 0; b < 8; b++) {
            buf[pos[k]] ^= (unsigned char)(1u << b);
            unchanged += hash64(buf, N) == whole;
            buf[pos[k]] ^= (unsigned char)(1u << b);
        }
    CHECK(unchanged == 0);
    CHECK(hash64(buf, N - 1) != whole);
    CHECK(hash64(buf, 0) != hash64("", 1));
    /* Swapping two 8-byte words that feed different lanes changes it. */
    unsigned char t[8];
    memcpy(t, buf + 64, 8);
    memcpy(buf + 64, buf + 72, 8);
    memcpy(buf + 72, t, 8);
    CHECK(hash64(buf, N) != whole);
}

static void test_file_matches_bytes(void) {
    fill();
    char path[] = "/tmp/mergelang-test-hash-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK(write(fd, buf, N) == N);
    close(fd);
    uint64_t h = 0, bytes = 0;
    ErrBuf err;
    CHECK(hash64_file(path, &h, &bytes, &err) == 0);
    CHECK(h == hash64(buf, N));
    CHECK(bytes == N);
    unlink(path);
    CHECK(hash64_file(path, &h, &bytes, &err) != 0);
}

int main(void) {
    RUN_TEST(test_chunking_does_not_matter);
    RUN_TEST(test_every_bit_matters);
    RUN_TEST(test_file_matches_bytes);
    return CHECK_DONE();
}
