/* test_hashcache.c - remembered input hashes: found only under the exact
 * file identity and times, not remembered while a file is settling, kept
 * across a save and reload, dropped for another hash kind, and capped with
 * the least recently used entries going first. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/io/hashcache.h"
#include "tests/unit/check.h"

static char cache_path[256];

static struct stat fake_stat(uint64_t ino, int64_t size, int64_t mtime, int64_t ctime) {
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_dev = 7;
    st.st_ino = (ino_t)ino;
    st.st_size = (off_t)size;
    st.st_mtim.tv_sec = mtime;
    st.st_mtim.tv_nsec = 123456789;
    st.st_ctim.tv_sec = ctime;
    st.st_ctim.tv_nsec = 5;
    return st;
}

static void test_found_only_for_the_same_file(void) {
    unlink(cache_path);
    HashCache *c = hashcache_open(cache_path, "kind-a");
    CHECK(c != NULL);
    struct stat st = fake_stat(1, 100, 1000, 1000);
    hashcache_put(c, "/m/a.safetensors", &st, 0xabcdef, 5000);
    uint64_t h = 0;
    CHECK(hashcache_get(c, &st, &h) && h == 0xabcdef);
    /* Any field of the key that differs is another file, or changed content. */
    struct stat other = st;
    other.st_ctim.tv_nsec++;
    CHECK(!hashcache_get(c, &other, &h));
    other = st;
    other.st_mtim.tv_sec--;
    CHECK(!hashcache_get(c, &other, &h));
    other = st;
    other.st_mtim.tv_nsec++;
    CHECK(!hashcache_get(c, &other, &h));
    other = st;
    other.st_ctim.tv_sec++;
    CHECK(!hashcache_get(c, &other, &h));
    other = st;
    other.st_size++;
    CHECK(!hashcache_get(c, &other, &h));
    other = st;
    other.st_ino++;
    CHECK(!hashcache_get(c, &other, &h));
    other = st;
    other.st_dev++;
    CHECK(!hashcache_get(c, &other, &h));
    hashcache_close(c);
}

static void test_settling_files_are_not_remembered(void) {
    unlink(cache_path);
    HashCache *c = hashcache_open(cache_path, "kind-a");
    uint64_t h;
    struct stat fresh_m = fake_stat(1, 100, 4999, 1000), fresh_c = fake_stat(2, 100, 1000, 4999);
    hashcache_put(c, "/m/a", &fresh_m, 1, 5000);
    hashcache_put(c, "/m/b", &fresh_c, 2, 5000);
    CHECK(!hashcache_get(c, &fresh_m, &h));
    CHECK(!hashcache_get(c, &fresh_c, &h));
    struct stat settled = fake_stat(3, 100, 5000 - HASHCACHE_SETTLE_SECONDS, 5000 - HASHCACHE_SETTLE_SECONDS);
    hashcache_put(c, "/m/c", &settled, 3, 5000);
    CHECK(hashcache_get(c, &settled, &h) && h == 3);
    /* A path that would break the line format is not remembered. */
    struct stat odd = fake_stat(4, 100, 1000, 1000);
    hashcache_put(c, "/m/new\nline", &odd, 4, 5000);
    CHECK(!hashcache_get(c, &odd, &h));
    hashcache_close(c);
}

static void test_saved_and_reloaded(void) {
    unlink(cache_path);
    HashCache *c = hashcache_open(cache_path, "kind-a");
    struct stat a = fake_stat(1, 100, 1000, 1001), b = fake_stat(2, 1LL << 40, 1000, 1001);
    hashcache_put(c, "/m/a b.safetensors", &a, 0xffffffffffffffffull, 5000);
    hashcache_put(c, "/m/b.safetensors", &b, 42, 5000);
    hashcache_save(c);
    hashcache_close(c);
    c = hashcache_open(cache_path, "kind-a");
    uint64_t h = 0;
    CHECK(hashcache_get(c, &a, &h) && h == 0xffffffffffffffffull);
    CHECK(hashcache_get(c, &b, &h) && h == 42);
    hashcache_close(c);
    /* Another hash kind (a new hash function): nothing carries over. */
    c = hashcache_open(cache_path, "kind-b");
    CHECK(!hashcache_get(c, &a, &h));
    hashcache_close(c);
    /* A damaged file is read as far as it makes sense. */
    FILE *f = fopen(cache_path, "a");
    fputs("not a line\n0123 garbage\n", f);
    fclose(f);
    c = hashcache_open(cache_path, "kind-a");
    CHECK(hashcache_get(c, &b, &h) && h == 42);
    hashcache_close(c);
}

static void test_capped_least_recently_used_first(void) {
    unlink(cache_path);
    HashCache *c = hashcache_open(cache_path, "kind-a");
    size_t n = HASHCACHE_MAX_ENTRIES + 10;
    for (size_t i = 0; i < n; i++) {
        struct stat st = fake_stat(100 + i, 10, 1000, 1000);
        hashcache_put(c, "/m/x", &st, i, 5000);
    }
    /* Using the first entry makes it recent: it survives the cap. */
    struct stat first = fake_stat(100, 10, 1000, 1000);
    uint64_t h;
    CHECK(hashcache_get(c, &first, &h) && h == 0);
    hashcache_save(c);
    hashcache_close(c);
    c = hashcache_open(cache_path, "kind-a");
    CHECK(hashcache_get(c, &first, &h) && h == 0);
    size_t kept = 0;
    for (size_t i = 1; i < n; i++) {
        struct stat st = fake_stat(100 + i, 10, 1000, 1000);
        kept += hashcache_get(c, &st, &h);
    }
    CHECK(kept == HASHCACHE_MAX_ENTRIES - 1);
    struct stat second = fake_stat(101, 10, 1000, 1000), last = fake_stat(100 + n - 1, 10, 1000, 1000);
    hashcache_close(c);
    c = hashcache_open(cache_path, "kind-a");
    CHECK(!hashcache_get(c, &second, &h));
    CHECK(hashcache_get(c, &last, &h) && h == n - 1);
    hashcache_close(c);
}

static void test_trusted_file_systems(void) {
    /* Wherever the tests run (ext4, tmpfs, overlay...), writes move ctime. */
    CHECK(hashcache_trusts("/tmp"));
    CHECK(!hashcache_trusts("/no/such/path"));
}

static void test_default_path(void) {
    char buf[512];
    setenv("MERGELANG_CACHE_DIR", "/x/cache", 1);
    CHECK(hashcache_default_path(buf, sizeof buf));
    CHECK_STR(buf, "/x/cache/input-hashes");
    setenv("MERGELANG_CACHE_DIR", "", 1);
    CHECK(!hashcache_default_path(buf, sizeof buf));
    unsetenv("MERGELANG_CACHE_DIR");
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    CHECK(hashcache_default_path(buf, sizeof buf));
    CHECK_STR(buf, "/xdg/mergelang/input-hashes");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    CHECK(hashcache_default_path(buf, sizeof buf));
    CHECK_STR(buf, "/home/u/.cache/mergelang/input-hashes");
}

int main(void) {
    snprintf(cache_path, sizeof cache_path, "/tmp/mergelang-test-hashcache-%ld/sub/input-hashes", (long)getpid());
    RUN_TEST(test_found_only_for_the_same_file);
    RUN_TEST(test_settling_files_are_not_remembered);
    RUN_TEST(test_saved_and_reloaded);
    RUN_TEST(test_capped_least_recently_used_first);
    RUN_TEST(test_trusted_file_systems);
    RUN_TEST(test_default_path);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/mergelang-test-hashcache-%ld", (long)getpid());
    if (system(cmd) != 0) printf("  could not remove the test folder\n");
    return CHECK_DONE();
}
