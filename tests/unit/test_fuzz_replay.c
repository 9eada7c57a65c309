/* test_fuzz_replay.c - replays the fuzz corpora without libFuzzer.
 *
 * Each tests/fuzz/fuzz_NAME.c target is compiled in here with its
 * LLVMFuzzerTestOneInput renamed, and every file of tests/fuzz/corpus/NAME
 * (the seeds, and every crash, hang or leak the fuzzer found, kept as
 * regression files) is fed to it. One test per target: it passes when every
 * file ran through without a crash; under `make asan` the sanitizers watch.
 *
 * The corpus folder is $FUZZ_CORPUS, else tests/fuzz/corpus from the current
 * directory (tests/run.sh runs from the repository root), else the one two
 * folders above the binary's folder (build/tests/..). */
#define LLVMFuzzerTestOneInput fuzz_recipe_one
#include "tests/fuzz/fuzz_recipe.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_safetensors_one
#include "tests/fuzz/fuzz_safetensors.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_index_one
#include "tests/fuzz/fuzz_index.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_mergekit_one
#include "tests/fuzz/fuzz_mergekit.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_torchbin_one
#include "tests/fuzz/fuzz_torchbin.c"
#undef LLVMFuzzerTestOneInput

#include <dirent.h>
#include <libgen.h>

#include "tests/unit/check.h"

static char corpus_root[PATH_MAX];

typedef int (*FuzzFn)(const uint8_t *, size_t);

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        unsigned char *grown = realloc(buf, cap * 2);
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Feeds every regular file of corpus_root/name to fn, in name order (so a
 * failure is reproducible); returns the number of files run, -1 when the
 * folder cannot be read. */
static int replay(const char *name, FuzzFn fn) {
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/%s", corpus_root, name);
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *grown);
            if (!grown) break;
            names = grown;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    int ran = 0;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX + 400];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        size_t len = 0;
        unsigned char *bytes = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? slurp(path, &len) : NULL;
        if (bytes) {
            /* Printed first, so a crash names the file that caused it. */
            printf("  replay %s/%s\n", name, names[i]);
            fflush(stdout);
            fn(bytes, len);
            ran++;
        }
        free(bytes);
        free(names[i]);
    }
    free(names);
    return ran;
}

static void run_target(const char *name, FuzzFn fn) {
    int ran = replay(name, fn);
    if (ran <= 0) printf("  no corpus files in %s/%s\n", corpus_root, name);
    CHECK(ran > 0);
}

static void replay_recipe(void) { run_target("recipe", fuzz_recipe_one); }
static void replay_safetensors(void) { run_target("safetensors", fuzz_safetensors_one); }
static void replay_index(void) { run_target("index", fuzz_index_one); }
static void replay_mergekit(void) { run_target("mergekit", fuzz_mergekit_one); }
static void replay_torchbin(void) { run_target("torchbin", fuzz_torchbin_one); }

static bool find_corpus(const char *argv0) {
    const char *env = getenv("FUZZ_CORPUS");
    struct stat st;
    if (env && *env) return realpath(env, corpus_root) != NULL;
    if (stat("tests/fuzz/corpus", &st) == 0 && S_ISDIR(st.st_mode))
        return realpath("tests/fuzz/corpus", corpus_root) != NULL;
    char exe[PATH_MAX], guess[PATH_MAX + 64];
    if (!realpath(argv0, exe)) return false;
    snprintf(guess, sizeof guess, "%s/../../tests/fuzz/corpus", dirname(exe));
    return realpath(guess, corpus_root) != NULL;
}

int main(int argc, char **argv) {
    (void)argc;
    if (!find_corpus(argv[0])) {
        printf("cannot find tests/fuzz/corpus (set FUZZ_CORPUS)\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN_TEST(replay_recipe);
    RUN_TEST(replay_safetensors);
    RUN_TEST(replay_index);
    RUN_TEST(replay_mergekit);
    RUN_TEST(replay_torchbin);
    return CHECK_DONE();
}
