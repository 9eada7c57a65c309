/* lap.c - the Jonker-Volgenant assignment solver; see lap.h.
 *
 * Notation: rows i, columns j, c(i, j) the cost (negated when maximising,
 * which is exact in IEEE arithmetic). x[i] is the column of row i and y[j]
 * the row of column j (-1 when free); v[j] are column prices (the dual
 * variables). Every phase keeps one invariant: an assigned row's column has
 * the smallest reduced cost c(i, j) - v[j] of that row. Reduced costs
 * measured from that minimum are then non-negative edge lengths, so a
 * shortest augmenting path from a free row (Dijkstra) adds one assignment
 * and keeps the invariant; once every row is assigned the prices certify
 * that the assignment is optimal.
 *
 * The first three phases are cheap heuristics that assign most rows (JV's
 * initialisation): column reduction, reduction transfer, and two passes of
 * augmenting row reduction. The last phase runs one O(n^2) shortest-path
 * search per row still free, hence O(n^3) in the worst case. */
#include "runtime/kernels/lap.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct Lap {
    size_t n;
    const double *c;
    double sgn;                /* 1 to minimise, -1 to maximise */
    int32_t *x, *y;
    double *v;
} Lap;

static inline double cost(const Lap *L, size_t i, size_t j) { return L->sgn * L->c[i * L->n + j]; }

/* Column reduction: each column's price is its smallest cost and the row
 * holding it gets the column, unless it already has one (columns are
 * visited from the last, as JV do). Counts each row's claims in matches. */
static void column_reduction(Lap *L, int32_t *matches) {
    size_t n = L->n;
    /* Row by row for the cache; a strict < keeps the first row on ties,
     * exactly as a scan of each column from the top would. */
    for (size_t j = 0; j < n; j++) {
        L->v[j] = cost(L, 0, j);
        L->y[j] = 0;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double h = cost(L, i, j);
            if (h < L->v[j]) {
                L->v[j] = h;
                L->y[j] = (int32_t)i;
            }
        }
    for (size_t i = 0; i < n; i++) {
        L->x[i] = -1;
        matches[i] = 0;
    }
    for (size_t jj = n; jj-- > 0;) {
        int32_t i = L->y[jj];
        if (matches[i]++ == 0) L->x[i] = (int32_t)jj;
        else L->y[jj] = -1;
    }
}

/* Reduction transfer: a row that got exactly one column moves the slack to
 * its second-best column into that column's price, which makes the column
 * cheaper for no other row and leaves the row's choice a minimum. Returns
 * the number of free rows, listed in free_rows. */
static size_t reduction_transfer(Lap *L, const int32_t *matches, int32_t *free_rows) {
    size_t n = L->n, nfree = 0;
    for (size_t i = 0; i < n; i++) {
        if (matches[i] == 0) {
            free_rows[nfree++] = (int32_t)i;
            continue;
        }
        if (matches[i] != 1) continue;
        size_t j1 = (size_t)L->x[i];
        double m = INFINITY;
        for (size_t j = 0; j < n; j++) {
            if (j == j1) continue;
            double h = cost(L, i, j) - L->v[j];
            if (h < m) m = h;
        }
        /* v[j1] is c(i, j1) exactly (column reduction), so the reduced
         * cost of (i, j1) becomes m, the row's minimum. */
        L->v[j1] = cost(L, i, j1) - m;
    }
    return nfree;
}

/* Augmenting row reduction: a free row takes its cheapest column, lowering
 * that column's price until its second-best column is as cheap, and the
 * row it displaces is processed next. Two passes, as JV do; a bound on the
 * steps (and a check that a price really moves in floating point) makes
 * sure it ends, leaving whatever is still free to the augmentation. */
static size_t augmenting_row_reduction(Lap *L, int32_t *free_rows, size_t nfree) {
    size_t n = L->n;
    for (int pass = 0; pass < 2 && nfree > 0; pass++) {
        size_t k = 0, prev = nfree, budget = 8 * n + 64;
        nfree = 0;
        while (k < prev) {
            int32_t i = free_rows[k++];
            double u1 = cost(L, (size_t)i, 0) - L->v[0], u2 = INFINITY;
            int32_t j1 = 0, j2 = -1;
            for (size_t j = 1; j < n; j++) {
                double h = cost(L, (size_t)i, j) - L->v[j];
                if (h < u2) {
                    if (h >= u1) {
                        u2 = h;
                        j2 = (int32_t)j;
                    } else {
                        u2 = u1;
                        u1 = h;
                        j2 = j1;
                        j1 = (int32_t)j;
                    }
                }
            }
            int32_t i0 = L->y[j1];
            bool lowered = false;
            if (u1 < u2) {
                double vnew = L->v[j1] - (u2 - u1);
                if (!(vnew < L->v[j1])) {
                    /* The gap is below the price's precision: no progress
                     * is possible here; the shortest paths handle the row. */
                    free_rows[nfree++] = i;
                    continue;
                }
                L->v[j1] = vnew;
                lowered = true;
            } else if (i0 >= 0) {
                /* A tie: the second-best column is as good; take it. */
                j1 = j2;
                i0 = L->y[j2];
            }
            L->x[i] = j1;
            L->y[j1] = i;
            if (i0 < 0) continue;
            L->x[i0] = -1;
            if (lowered && budget > 0) {
                budget--;
                free_rows[--k] = i0;   /* the slot of i, now assigned */
            } else {
                free_rows[nfree++] = i0;
            }
        }
    }
    return nfree;
}

/* One shortest augmenting path from free row f (Dijkstra on reduced costs).
 * cols holds the columns in three parts: [0, low) scanned, [low, up) at the
 * current distance mu waiting to be scanned, [up, n) not reached yet. */
static void augment(Lap *L, int32_t f, double *d, int32_t *pred, int32_t *cols) {
    size_t n = L->n;
    for (size_t j = 0; j < n; j++) {
        d[j] = cost(L, (size_t)f, j) - L->v[j];
        pred[j] = f;
        cols[j] = (int32_t)j;
    }
    size_t low = 0, up = 0;
    double mu = 0;
    int32_t end = -1;
    while (end < 0) {
        if (up == low) {
            /* The columns at the next smallest distance; a free one ends
             * the search. */
            mu = d[cols[up++]];
            for (size_t k = up; k < n; k++) {
                int32_t j = cols[k];
                double h = d[j];
                if (h <= mu) {
                    if (h < mu) {
                        up = low;
                        mu = h;
                    }
                    cols[k] = cols[up];
                    cols[up++] = j;
                }
            }
            for (size_t k = low; k < up; k++)
                if (L->y[cols[k]] < 0) {
                    end = cols[k];
                    break;
                }
            if (end >= 0) break;
        }
        /* Scan one column at distance mu through the row holding it. */
        int32_t j1 = cols[low++];
        size_t i = (size_t)L->y[j1];
        double h = cost(L, i, (size_t)j1) - L->v[j1] - mu;
        for (size_t k = up; k < n; k++) {
            int32_t j = cols[k];
            double r = cost(L, i, (size_t)j) - L->v[j] - h;
            if (r < d[j]) {
                d[j] = r;
                pred[j] = (int32_t)i;
                if (r == mu) {
                    if (L->y[j] < 0) {
                        end = j;
                        break;
                    }
                    cols[k] = cols[up];
                    cols[up++] = j;
                }
            }
        }
    }
    /* New prices for the scanned columns keep every reduced cost of the
     * assigned rows non-negative with the path's edges at zero. */
    for (size_t k = 0; k < low; k++) {
        int32_t j = cols[k];
        L->v[j] += d[j] - mu;
    }
    for (;;) {
        int32_t i = pred[end];
        L->y[end] = i;
        int32_t next = L->x[i];
        L->x[i] = end;
        if (i == f) break;
        end = next;
    }
}

int lap_solve(size_t n, const double *c, LapSense sense, int32_t *col, double *total) {
    if (n > LAP_MAX_N) return -3;
    for (size_t k = 0; k < n * n; k++)
        if (!isfinite(c[k])) return -2;
    if (total) *total = 0;
    if (n == 0) return 0;
    if (n == 1) {
        col[0] = 0;
        if (total) *total = c[0];
        return 0;
    }
    Lap L = { .n = n, .c = c, .sgn = sense == LAP_MAXIMIZE ? -1.0 : 1.0, .x = col };
    L.y = malloc(n * sizeof *L.y);
    L.v = malloc(n * sizeof *L.v);
    double *d = malloc(n * sizeof *d);
    int32_t *matches = malloc(n * sizeof *matches);
    int32_t *free_rows = malloc(n * sizeof *free_rows);
    int32_t *pred = malloc(n * sizeof *pred);
    int rc = -1;
    if (!L.y || !L.v || !d || !matches || !free_rows || !pred) goto out;
    column_reduction(&L, matches);
    size_t nfree = reduction_transfer(&L, matches, free_rows);
    nfree = augmenting_row_reduction(&L, free_rows, nfree);
    /* matches is no longer needed: it holds the column order for augment. */
    for (size_t k = 0; k < nfree; k++) augment(&L, free_rows[k], d, pred, matches);
    if (total) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += c[i * n + (size_t)col[i]];
        *total = s;
    }
    rc = 0;
out:
    free(L.y);
    free(L.v);
    free(d);
    free(matches);
    free(free_rows);
    free(pred);
    return rc;
}
