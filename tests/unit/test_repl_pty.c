/* test_repl_pty.c - drives the real REPL through a pseudo-terminal, as a
 * user at a keyboard would: history recall with the up arrow (within a
 * session and from the history file of an earlier one), tab completion of
 * a built-in and of a tensor name inside m["..., an error with its caret
 * followed by a command that works, Ctrl-C dropping a half-typed line,
 * Ctrl-C stopping a save with nothing left behind, and Ctrl-D leaving with
 * status 0. The completion function is also called
 * directly, for the cases a terminal shows only as cursor movements.
 *
 * The binary is $BIN, else build/mergelang next to this test's folder; a
 * small model is made with mkmodel from the same folder. Each step waits
 * for the text it expects; the 10-second limit only keeps a broken REPL
 * from hanging the suite, nothing depends on timing. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/check.h"
#include "interp/builtins/builtins.h"
#include "interp/repl/repl_int.h"
#include "interp/syntax/syntax.h"

static char bin[PATH_MAX], mkmodel[PATH_MAX], dir[PATH_MAX], hist[PATH_MAX + 32];

typedef struct Pty {
    pid_t pid;
    int fd;
    char buf[1 << 18];
    size_t len, pos;
} Pty;

static Pty term;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool start(Pty *t) {
    struct winsize ws = { .ws_row = 40, .ws_col = 160 };
    t->len = t->pos = 0;
    t->pid = forkpty(&t->fd, NULL, NULL, &ws);
    if (t->pid < 0) return false;
    if (t->pid == 0) {
        if (chdir(dir) != 0) _exit(126);
        setenv("MERGELANG_HISTORY", hist, 1);
        setenv("HOME", dir, 1);
        setenv("MERGELANG_CACHE_DIR", "", 1);   /* no hash cache in the test's folder */
        setenv("TERM", "vt100", 1);
        execl(bin, bin, "repl", (char *)NULL);
        _exit(127);
    }
    return true;
}

/* Reads until s appears after what earlier calls consumed. */
static bool expect(Pty *t, const char *s) {
    double deadline = now() + 10.0;
    size_t n = strlen(s);
    for (;;) {
        if (t->len - t->pos >= n) {
            const char *hit = memmem(t->buf + t->pos, t->len - t->pos, s, n);
            if (hit) {
                t->pos = (size_t)(hit - t->buf) + n;
                return true;
            }
        }
        double left = deadline - now();
        if (left <= 0) break;
        struct pollfd p = { .fd = t->fd, .events = POLLIN };
        int rc = poll(&p, 1, (int)(left * 1000) + 1);
        if (rc < 0 && errno == EINTR) continue;
        if (rc <= 0) break;
        if (t->len == sizeof t->buf) break;
        ssize_t k = read(t->fd, t->buf + t->len, sizeof t->buf - t->len);
        if (k <= 0) break;
        t->len += (size_t)k;
    }
    printf("  expected \"%s\"; the terminal showed after the last match:\n%.*s\n", s,
           (int)(t->len - t->pos), t->buf + t->pos);
    return false;
}

/* Keys typed while the terminal is still in cooked mode (the REPL between
 * two lines) would be read by the line discipline's rules: ^D would become
 * a NUL. A user hardly types that fast; the test waits for libedit's raw
 * mode (TCGETS on the master reports the slave's settings). */
static void wait_raw(Pty *t) {
    double deadline = now() + 10.0;
    struct termios tio;
    while (tcgetattr(t->fd, &tio) == 0 && (tio.c_lflag & ICANON) && now() < deadline) {
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
}

static void type(Pty *t, const char *s) {
    wait_raw(t);
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t k = write(t->fd, s, n);
        if (k <= 0) return;
        s += k;
        n -= (size_t)k;
    }
}

/* Ctrl-D at an empty prompt; returns the exit status (-1 if it hung). */
static int quit(Pty *t) {
    type(t, "\x04");
    int status = 0;
    double deadline = now() + 10.0;
    for (;;) {
        /* Drain output so the child never blocks writing. */
        char tmp[4096];
        struct pollfd p = { .fd = t->fd, .events = POLLIN };
        if (poll(&p, 1, 50) > 0 && read(t->fd, tmp, sizeof tmp) <= 0) {
            /* EOF/EIO: the child closed the terminal */
        }
        pid_t w = waitpid(t->pid, &status, WNOHANG);
        if (w == t->pid) break;
        if (now() > deadline) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &status, 0);
            close(t->fd);
            return -1;
        }
    }
    close(t->fd);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        printf("  the REPL ended with %s %d\n", WIFEXITED(status) ? "status" : "signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_history_recall(void) {
    unlink(hist);
    Pty *t = &term;
    CHECK(start(t));
    CHECK(expect(t, "merge> "));
    type(t, "40 + 2\r");
    CHECK(expect(t, "42"));
    CHECK(expect(t, "merge> "));
    type(t, "\x1b[A");          /* up arrow: the previous line comes back */
    CHECK(expect(t, "40 + 2"));
    type(t, "\r");
    CHECK(expect(t, "42"));
    CHECK(expect(t, "merge> "));
    CHECK(quit(t) == 0);
    /* A new session recalls it from the history file. */
    FILE *f = fopen(hist, "r");
    char text[4096] = "";
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f) fclose(f);
    CHECK(strstr(text, "40") != NULL);
    CHECK(start(t));
    CHECK(expect(t, "merge> "));
    type(t, "\x1b[A");
    CHECK(expect(t, "40 + 2"));
    type(t, "\r");
    CHECK(expect(t, "42"));
    CHECK(expect(t, "merge> "));
    CHECK(quit(t) == 0);
}

static void test_complete_builtin(void) {
    Pty *t = &term;
    CHECK(start(t));
    CHECK(expect(t, "merge> "));
    type(t, "base = model(\"base\")\r");
    CHECK(expect(t, "merge> "));
    /* Completions are checked by what they insert (the line around them
     * is redrawn with cursor movements) and by the result of running it. */
    type(t, "lin\t");
    CHECK(expect(t, "ear("));
    type(t, "[base, base], normal\t");   /* a keyword argument of linear */
    CHECK(expect(t, "ize = "));
    type(t, "true)\r");
    CHECK(expect(t, "model: 21 tensors"));
    CHECK(expect(t, "merge> "));
    CHECK(quit(t) == 0);
}

static void test_complete_tensor(void) {
    Pty *t = &term;
    CHECK(start(t));
    CHECK(expect(t, "merge> "));
    type(t, "base = model(\"base\")\r");
    CHECK(expect(t, "merge> "));
    type(t, "base[\"model.emb\t");
    CHECK(expect(t, "ed_tokens.weight\"]"));
    type(t, "\r");
    CHECK(expect(t, "model.embed_tokens.weight: [64, 32] float32"));
    CHECK(expect(t, "norm "));
    CHECK(expect(t, "merge> "));
    /* Names are completed one dotted part at a time; a second tab lists. */
    type(t, "base[\"model.l\t");
    CHECK(expect(t, "ayers."));
    type(t, "\t");
    CHECK(expect(t, "model.layers.1."));
    type(t, "\x03");            /* Ctrl-C drops the line */
    CHECK(expect(t, "^C"));
    CHECK(expect(t, "merge> "));
    type(t, ":inf\t");
    CHECK(expect(t, "o "));
    type(t, "base\r");
    CHECK(expect(t, "architecture  LlamaForCausalLM"));
    CHECK(expect(t, "merge> "));
    CHECK(quit(t) == 0);
}

static void test_error_then_success(void) {
    Pty *t = &term;
    CHECK(start(t));
    CHECK(expect(t, "merge> "));
    type(t, "base = model(\"base\")\r");
    CHECK(expect(t, "merge> "));
    type(t, "bse + 1\r");
    CHECK(expect(t, "error: unknown name 'bse'"));
    CHECK(expect(t, "| bse + 1"));
    CHECK(expect(t, "| ^~~"));
    CHECK(expect(t, "did you mean 'base'?"));
    CHECK(expect(t, "merge> "));
    type(t, "base\r");
    CHECK(expect(t, "model: 21 tensors, 2 layers"));
    CHECK(expect(t, "merge> "));
    CHECK(quit(t) == 0);
}

static void test_ctrl_c_and_continuation(void) {
    Pty *t = &term;
    CHECK(start(t));
    CHECK(expect(t, "merge> "));
    type(t, "1 +");
    CHECK(expect(t, "1 +"));
    type(t, "\x03");
    CHECK(expect(t, "^C"));
    CHECK(expect(t, "merge> "));
    type(t, "6 * 7\r");        /* 43 if "1 +" had been kept */
    CHECK(expect(t, "42"));
    CHECK(expect(t, "merge> "));
    type(t, "x = [1,\r");
    CHECK(expect(t, "  ...> "));
    type(t, "2]\r");
    CHECK(expect(t, "merge> "));
    type(t, "x\r");
    CHECK(expect(t, "[1, 2]"));
    CHECK(expect(t, "merge> "));
    CHECK(quit(t) == 0);
}

/* A save shows its progress; Ctrl-C then stops it between two tensors,
 * leaves nothing behind (no folder, no temporary), and the session goes
 * on. The model is big enough (about 260 MB of float32) that the save is
 * still running long after its first progress line. */
static void test_ctrl_c_stops_a_save(void) {
    Pty *t = &term;
    CHECK(start(t));
    CHECK(expect(t, "merge> "));
    type(t, "big = model(\"big\")\r");
    CHECK(expect(t, "merge> "));
    type(t, "save(linear([big, big], weights = [0.25, 0.75]), \"saved\")\r");
    CHECK(expect(t, " parts "));
    /* Straight to the terminal, whose line discipline turns it into
     * SIGINT (type() would wait for the prompt's editing mode). */
    CHECK(write(t->fd, "\x03", 1) == 1);
    CHECK(expect(t, "interrupted: nothing was written"));
    CHECK(expect(t, "merge> "));
    type(t, "6 * 7\r");
    CHECK(expect(t, "42"));
    CHECK(expect(t, "merge> "));
    CHECK(quit(t) == 0);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/saved", dir);
    CHECK(access(path, F_OK) != 0);
    /* Only what the test made is left in the folder: no temporary. */
    char cmd[2 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep -v -e '^base$' -e '^big$' -e '^history$')\"", dir);
    CHECK(system(cmd) == 0);
}

/* ---- completion, called directly ------------------------------------------------- */

static Repl session;
static SrcFile *session_src;

static bool session_start(void) {
    memset(&session, 0, sizeof session);
    session.out = stdout;
    diag_init(&session.diag, stdout);
    arena_init(&session.ast);
    plan_init(&session.plan, &session.diag, &builtin_table);
    session.plan.allow_rebind = true;
    char text[PATH_MAX + 128];
    snprintf(text, sizeof text, "base = model(\"%s/base\")\ndef f(alpha, beta = 2) = alpha\n", dir);
    session_src = src_from_string("<test>", text, strlen(text));
    Ast *prog = session_src ? syn_parse(session_src, &session.ast, &session.diag) : NULL;
    return prog && plan_program(&session.plan, prog) == 0;
}

static void session_end(void) {
    plan_free(&session.plan);
    arena_free(&session.ast);
    src_free(session_src);
}

/* Completes text; checks the candidates (joined by spaces) and the text
 * added after a unique one. */
static void check_completion(const char *text, const char *want, const char *want_append, int line) {
    ReplMatches m;
    repl_complete(&session, text, strlen(text), &m);
    char got[1024] = "";
    for (size_t i = 0; i < m.n; i++) {
        size_t used = strlen(got);
        snprintf(got + used, sizeof got - used, "%s%s", i ? " " : "", m.items[i]);
    }
    if (strcmp(got, want) != 0) {
        printf("  line %d: completing '%s' gave '%s', want '%s'\n", line, text, got, want);
        check_test_failed = 1;
    }
    const char *app = m.append ? m.append : "";
    if (want_append && strcmp(app, want_append) != 0) {
        printf("  line %d: completing '%s' appends '%s', want '%s'\n", line, text, app, want_append);
        check_test_failed = 1;
    }
    repl_matches_free(&m);
}

#define COMPLETES(text, want, append) check_completion(text, want, append, __LINE__)

static void test_completion_cases(void) {
    CHECK(session_start());
    COMPLETES("lin", "linear", "(");
    COMPLETES("x = ba", "base", "");
    COMPLETES("f(1, be", "beta", " = ");
    COMPLETES("linear([base], norm", "norm normalize", NULL);
    COMPLETES("linear([base], normal", "normalize", " = ");
    COMPLETES("base[\"model.emb", "model.embed_tokens.weight", "\"]");
    COMPLETES("base['model.l", "model.layers.0. model.layers.1.", NULL);
    COMPLETES("base[\"model.layers.1.self_attn.q", "model.layers.1.self_attn.q_proj.weight", "\"]");
    COMPLETES("select(base, \"model.no", "model.norm.weight", "\"");
    COMPLETES(":co", ":conflicts", " ");
    COMPLETES(":t", ":tensors :time", NULL);
    COMPLETES(":diff ba", "base", "");
    COMPLETES("x = 1 # lin", "", NULL);
    COMPLETES("x = 12", "", NULL);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "m = model(\"%s/ba", dir);
    char want[PATH_MAX + 32];
    snprintf(want, sizeof want, "%s/base/", dir);
    COMPLETES(path, want, "");
    session_end();
}

static void test_unfinished_if(void) {
    CHECK(repl_unfinished_if("x = if a then b", 15));
    CHECK(!repl_unfinished_if("x = if a then b else c", 22));
    CHECK(!repl_unfinished_if("x = \"if\"", 9));
    CHECK(!repl_unfinished_if("x = 1 # if", 10));
    CHECK(repl_unfinished_if("x = if a then (if b then c else d)", 34));
}

/* The folder holding this test binary's build: <build>/tests/test_repl_pty. */
static bool find_build(void) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return false;
    exe[n] = '\0';
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(exe, '/');
        if (!slash) return false;
        *slash = '\0';
    }
    const char *env = getenv("BIN");
    snprintf(bin, sizeof bin, "%s", env && *env ? env : exe);
    if (!(env && *env)) strncat(bin, "/mergelang", sizeof bin - strlen(bin) - 1);
    snprintf(mkmodel, sizeof mkmodel, "%.*s/mkmodel", (int)(sizeof mkmodel - 16), exe);
    return access(bin, X_OK) == 0 && access(mkmodel, X_OK) == 0;
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    if (!find_build()) {
        printf("FAIL setup: cannot find mergelang and mkmodel\n0 passed, 1 failed\n");
        return 1;
    }
    snprintf(dir, sizeof dir, "/tmp/mergelang-pty-XXXXXX");
    if (!mkdtemp(dir)) {
        printf("FAIL setup: mkdtemp\n0 passed, 1 failed\n");
        return 1;
    }
    snprintf(hist, sizeof hist, "%s/history", dir);
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "'%s' '%s/base' --layers 2 --seed 1 >/dev/null", mkmodel, dir);
    if (system(cmd) != 0) {
        printf("FAIL setup: mkmodel\n0 passed, 1 failed\n");
        return 1;
    }
    snprintf(cmd, sizeof cmd,
             "'%s' '%s/big' --layers 4 --hidden 1024 --intermediate 2816 --vocab 8000 --seed 2 >/dev/null", mkmodel,
             dir);
    if (system(cmd) != 0) {
        printf("FAIL setup: mkmodel (big)\n0 passed, 1 failed\n");
        return 1;
    }
    RUN_TEST(test_history_recall);
    RUN_TEST(test_complete_builtin);
    RUN_TEST(test_complete_tensor);
    RUN_TEST(test_error_then_success);
    RUN_TEST(test_ctrl_c_and_continuation);
    RUN_TEST(test_ctrl_c_stops_a_save);
    RUN_TEST(test_completion_cases);
    RUN_TEST(test_unfinished_if);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("  (could not remove %s)\n", dir);
    return CHECK_DONE();
}
