/* progress.c - progress line, memory sampler and --json summary of a run;
 * see progress.h. Touches only its Progress (counters are atomic) and
 * writes to stderr (the line) and the summary's stream. */
#include "interp/output/progress.h"

#include <sys/resource.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Redraws one status line on stderr four times a second until the workers
 * finish: items and bytes done, throughput, time left. */
static void *progress_line(void *arg) {
    Progress *pr = arg;
    double start = now_seconds();
    for (bool first = true; first || !__atomic_load_n(&pr->finished, __ATOMIC_ACQUIRE); first = false) {
        if (!first) {
            struct timespec pause = { 0, 250000000 };
            nanosleep(&pause, NULL);
        }
        double t = now_seconds() - start;
        uint64_t done = __atomic_load_n(&pr->bytes_done, __ATOMIC_RELAXED);
        size_t items = __atomic_load_n(&pr->items_done, __ATOMIC_RELAXED);
        /* No rate from the first fraction of a second: it would be noise. */
        double rate = t > 0.2 ? (double)done / t : 0;
        double left = rate > 0 ? (double)(pr->bytes_total - done) / rate : 0;
        fprintf(stderr, "\r\033[K  %zu/%zu parts  %.2f/%.2f GB  %.0f MB/s  %.0fs left", items, pr->items_total,
                (double)done / 1e9, (double)pr->bytes_total / 1e9, rate / 1e6, left);
    }
    fputs("\r\033[K", stderr);
    return NULL;
}

/* Anonymous resident memory in bytes (RssAnon in /proc/self/status): the
 * process's own memory, without the input pages mapped from the page
 * cache, which ru_maxrss counts too. 0 when it cannot be read. */
static uint64_t rss_anon(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %llu kB", &kb) == 1) break;
    fclose(f);
    return (uint64_t)kb * 1024;
}

/* Samples rss_anon every 20 ms while the workers run, for --json. */
static void *sample_rss(void *arg) {
    Progress *pr = arg;
    while (!__atomic_load_n(&pr->finished, __ATOMIC_ACQUIRE)) {
        uint64_t r = rss_anon();
        if (r > pr->peak_anon) pr->peak_anon = r;
        struct timespec pause = { 0, 20000000 };
        nanosleep(&pause, NULL);
    }
    return NULL;
}

void progress_start(Progress *pr, size_t items_total, uint64_t bytes_total, bool line, bool sample_memory) {
    pr->items_total = items_total;
    pr->bytes_total = bytes_total;
    pr->line = line && pthread_create(&pr->line_thread, NULL, progress_line, pr) == 0;
    pr->started = now_seconds();
    pr->peak_anon = rss_anon();
    pr->sampling = sample_memory && pthread_create(&pr->sampler_thread, NULL, sample_rss, pr) == 0;
}

void progress_stop(Progress *pr) {
    __atomic_store_n(&pr->finished, 1, __ATOMIC_RELEASE);
    if (pr->line) pthread_join(pr->line_thread, NULL);
    if (pr->sampling) pthread_join(pr->sampler_thread, NULL);
    pr->line = pr->sampling = false;
}

void progress_evaluated(Progress *pr, long nodes) {
    __atomic_fetch_add(&pr->evaluated, nodes, __ATOMIC_RELAXED);
}

void progress_item_done(Progress *pr) {
    __atomic_fetch_add(&pr->items_done, 1, __ATOMIC_RELAXED);
}

void progress_written(Progress *pr, uint64_t bytes) {
    __atomic_fetch_add(&pr->bytes_done, bytes, __ATOMIC_RELAXED);
}

void progress_json(const Progress *pr, FILE *out, const FolderSave *saves, size_t n_saves) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    size_t tensors = 0;
    fputs("{\"outputs\": [", out);
    for (size_t s = 0; s < n_saves; s++) {
        fputs(s ? ", {\"path\": \"" : "{\"path\": \"", out);
        for (const char *c = saves[s].req->path; *c; c++) {
            if (*c == '"' || *c == '\\') fputc('\\', out);
            if ((unsigned char)*c >= 0x20) fputc(*c, out);
        }
        fprintf(out, "\", \"tensors\": %zu, \"bytes\": %llu}", saves[s].set->n, (unsigned long long)saves[s].bytes);
        tensors += saves[s].set->n;
    }
    fprintf(out, "], \"tensors\": %zu, \"bytes\": %llu, \"seconds\": %.3f, \"peak_rss_mb\": %.1f, "
            "\"peak_anon_mb\": %.1f}\n",
            tensors, (unsigned long long)pr->bytes_total, now_seconds() - pr->started, (double)ru.ru_maxrss / 1024,
            (double)pr->peak_anon / 1048576);
}
