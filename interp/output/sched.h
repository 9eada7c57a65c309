/* sched.h - which parts of output_run's work run when. Every output tensor
 * is a slot (save, position); slots with the same tensor context (name,
 * block count, shape, dtype) form a group, computed once by one Exec for
 * every save that writes it. Each group becomes one part or several row
 * ranges (ranges.h decides); a streamed group's ranges pass through
 * statistics rounds before they are computed. Workers claim parts in
 * natural tensor order, within the --mem budget (the estimated bytes of the
 * parts being computed) and while the writer keeps up. */
#ifndef MERGELANG_OUTPUT_SCHED_H
#define MERGELANG_OUTPUT_SCHED_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interp/exec/exec_stats.h"
#include "interp/output/folder.h"
#include "interp/output/ranges.h"

typedef struct Job Job;

typedef struct SchedSlot {
    size_t save, pos;
    const TensorInfo *info;
} SchedSlot;

typedef struct SchedStream SchedStream;

/* A unit of work: rows [row_begin, row_end) of a group's tensor (0, 0: all). */
typedef struct SchedItem {
    size_t group;
    int64_t row_begin, row_end;
    size_t index;              /* in the static list: its place in the write order */
    SchedStream *stream;       /* a streamed tensor's row range, else NULL */
    size_t part;               /* which range of the streamed tensor */
    int round;                 /* statistics round, or -1: compute and write */
    uint64_t mem;              /* estimated bytes while it is computed */
} SchedItem;

/* A tensor computed in row ranges after statistics passes: every range is
 * scanned in round 0, 1, ... (the last range in closes the round), then
 * computed and written. */
struct SchedStream {
    ExecStats *stats;
    size_t first;              /* index of its first range in the static list */
    size_t n_parts;
    size_t pending;            /* ranges of the current stage not finished */
    int round;                 /* current statistics round, -1 once computing */
};

/* Built before the workers start; from `next` on, guarded by job->lock
 * while they run. */
typedef struct Sched {
    SchedSlot *slots;          /* sorted into groups */
    size_t *group_start;       /* n_groups + 1 offsets into slots */
    size_t n_groups;
    RangesGraph *save_graph;   /* by save */
    SchedItem *items;
    size_t n_items;
    size_t next;               /* next static item to claim */
    SchedStream *streams;
    size_t n_streams;
    ExecHints *hints;          /* shared by the streamed tensors */
    SchedItem *runnable;       /* tasks of streamed tensors ready to run, a stack */
    size_t n_runnable, cap_runnable;
    size_t in_flight;          /* tasks claimed, not finished */
    pthread_cond_t work;       /* ready tasks arrived, the writer moved on, or in_flight reached 0 */
    uint64_t mem_budget, mem_in_use;
    pthread_cond_t mem_freed;
} Sched;

void sched_init(Sched *s);
/* Groups the slots of every save and cuts the groups into items;
 * mem_bytes is the --mem budget (0: a quarter of physical memory).
 * Returns -1 when out of memory. */
int sched_build(Sched *s, const Plan *p, const FolderSave *saves, size_t n_saves, uint64_t mem_bytes);
void sched_free(Sched *s);

/* The slots of a group: [*first, returned end). */
const SchedSlot *sched_group(const Sched *s, size_t group, const SchedSlot **first);
/* Whether save's graph streams (it is computed in a statistics round). */
bool sched_save_streams(const Sched *s, size_t save);

/* Takes the next task into *it; false when there is none left or the job
 * stopped. May wait. */
bool sched_claim(Job *job, SchedItem *it);
/* Waits until the item's estimated memory fits the budget (an item alone
 * always fits); *held tells sched_mem_release to give it back. */
void sched_mem_acquire(Job *job, const SchedItem *it, bool *held);
/* Gives the item's memory back once computed (before its bytes wait for
 * the writer, so a worker waiting on the writer never holds memory others
 * wait for). */
void sched_mem_release(Job *job, const SchedItem *it, bool *held);
/* A claimed task is done: a streamed tensor's last range of a round closes
 * the round and queues the next stage. */
void sched_task_done(Job *job, const SchedItem *it);
/* Job->lock held: wakes workers waiting for work (the writer moved on), or
 * every waiting worker (the job stopped). */
void sched_wake_locked(Sched *s);
void sched_wake_all_locked(Sched *s);

#endif
