/* hfnames.c - tensor-name conventions; see hfnames.h. */
#include "runtime/io/hfnames.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_block_word(const char *s, size_t n) {
    return (n == 6 && memcmp(s, "layers", 6) == 0) || (n == 1 && s[0] == 'h') ||
           (n == 6 && memcmp(s, "blocks", 6) == 0) || (n == 5 && memcmp(s, "layer", 5) == 0) ||
           (n == 5 && memcmp(s, "block", 5) == 0);
}

/* Finds the numeric component after a block word; sets *at and *len. */
static long find_layer(const char *name, const char **at, size_t *at_len) {
    const char *prev = NULL;
    size_t prev_len = 0;
    const char *p = name;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (prev && is_block_word(prev, prev_len) && len > 0 && len < 10) {
            size_t i = 0;
            while (i < len && isdigit((unsigned char)p[i])) i++;
            if (i == len) {
                *at = p;
                *at_len = len;
                return strtol(p, NULL, 10);
            }
        }
        if (!dot) return -1;
        prev = p;
        prev_len = len;
        p = dot + 1;
    }
}

long hfname_layer(const char *name) {
    const char *at;
    size_t len;
    return find_layer(name, &at, &len);
}

long hfname_block(const char *name, size_t *prefix_len) {
    const char *at;
    size_t len;
    long l = find_layer(name, &at, &len);
    *prefix_len = l >= 0 ? (size_t)(at - name) : 0;
    return l;
}

/* Words that mark a multimodal model's non-language parts in the names
 * mergekit's descriptions use (vision_tower, vision_model, visual,
 * audio_tower, image_newline, multi_modal_projector, LLaVA's mm_projector). */
int hfname_is_aux(const char *name, size_t len) {
    static const char *const words[] = { "vision", "visual", "audio", "image", "multi_modal", "mm_projector" };
    for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
        size_t wl = strlen(words[w]);
        for (size_t i = 0; i + wl <= len; i++)
            if (memcmp(name + i, words[w], wl) == 0) return 1;
    }
    return 0;
}

int hfname_set_layer(const char *name, long layer, char *out, size_t outlen) {
    const char *at;
    size_t len;
    if (find_layer(name, &at, &len) < 0 || layer < 0) return -1;
    int w = snprintf(out, outlen, "%.*s%ld%s", (int)(at - name), name, layer, at + len);
    return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

int hfname_is_embedding(const char *name) {
    return hfname_layer(name) < 0 && !hfname_is_head(name) &&
           (strstr(name, "embed") || strstr(name, "wte") || strstr(name, "wpe"));
}

int hfname_is_head(const char *name) {
    return strncmp(name, "lm_head.", 8) == 0 || strcmp(name, "output.weight") == 0 ||
           strncmp(name, "embed_out.", 10) == 0;
}

/* 0: before the blocks (embeddings), 1: blocks, 2: after (final norm), 3: head. */
static int group_of(const char *name, long layer) {
    if (layer >= 0) return 1;
    if (hfname_is_head(name)) return 3;
    return hfname_is_embedding(name) ? 0 : 2;
}

/* Compares with runs of digits ordered by value, so "experts.10" follows "experts.9". */
static int natural_strcmp(const char *a, const char *b) {
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0') a++;
            while (*b == '0') b++;
            size_t la = 0, lb = 0;
            while (isdigit((unsigned char)a[la])) la++;
            while (isdigit((unsigned char)b[lb])) lb++;
            if (la != lb) return la < lb ? -1 : 1;
            int c = memcmp(a, b, la);
            if (c) return c;
            a += la;
            b += lb;
            continue;
        }
        if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    if (*a == *b) return 0;
    return *a ? 1 : -1;
}

int hfname_cmp(const char *a, const char *b) {
    long la = hfname_layer(a), lb = hfname_layer(b);
    int ga = group_of(a, la), gb = group_of(b, lb);
    if (ga != gb) return ga < gb ? -1 : 1;
    if (la != lb) return la < lb ? -1 : 1;
    int c = natural_strcmp(a, b);
    return c ? c : strcmp(a, b);
}
