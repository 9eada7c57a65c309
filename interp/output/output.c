/* output.c - output_run, the entry point of the output stage; see
 * output.h. It sets the parts of a run up and runs them in order:
 * provenance of the inputs (inputs.c), the output folders (folder.c), the
 * work list (sched.c, cut by ranges.c), the workers and the writer
 * (worker.c, writer.c), progress and the summary (progress.c), then the
 * commits. All saves of a recipe are written in one pass: a tensor several
 * saves share is computed once, and every part is written at its fixed
 * offset, so the bytes do not depend on -j. */
#include "interp/output/output.h"

#include <stdlib.h>

#include "interp/output/inputs.h"
#include "interp/output/job.h"
#include "interp/output/model_card.h"
#include "interp/output/worker.h"

int output_run(Plan *p, const OutputOptions *opt) {
    size_t ns = p->n_saves;
    if (ns == 0) return 0;
    FolderSave *saves = calloc(ns, sizeof *saves);
    if (!saves) {
        diag_plain(p->diag, "out of memory");
        return -1;
    }
    Job job;
    job_init(&job, p, saves, ns, opt->cancel);
    int rc = -1;
    /* Provenance first: the recipe and every input's content hash go into
     * the header of each shard, which the writers fix at creation. */
    size_t n_inputs = 0, recipe_len = 0;
    ProvFile *inputs = inputs_hash(p, opt->threads, opt->cancel, &n_inputs);
    char *recipe = card_recipe(p, &recipe_len);
    InputsMeta meta;
    inputs_meta(&meta, inputs, n_inputs, recipe, recipe_len);
    for (size_t s = 0; s < ns; s++) {
        if (folder_prepare(p, &saves[s], &p->saves[s], meta.kv) != 0) {
            inputs_meta_free(&meta);
            goto done;
        }
    }
    inputs_meta_free(&meta);
    if (sched_build(&job.sched, p, saves, ns, opt->mem_bytes) != 0) {
        diag_plain(p->diag, "out of memory");
        goto done;
    }
    uint64_t bytes_total = 0;
    for (size_t s = 0; s < ns; s++) bytes_total += saves[s].bytes;
    progress_start(&job.progress, job.sched.n_items, bytes_total, opt->progress, opt->json != NULL);
    int started_ok = worker_run_all(&job, opt->threads);
    progress_stop(&job.progress);
    if (started_ok != 0) {
        diag_plain(p->diag, "out of memory, or cannot start threads");
        goto done;
    }
    if (opt->evaluated) *opt->evaluated = job.progress.evaluated;
    if (job.fail.set) {
        diag_error(p->diag, job.fail.at, "%s", job.fail.msg);
        goto done;
    }
    if (opt->cancel && *opt->cancel) {
        diag_plain(p->diag, "interrupted: nothing was written");
        goto done;
    }
    rc = 0;
    for (size_t s = 0; s < ns; s++)
        if (folder_commit(p, &saves[s], opt->quiet, inputs, n_inputs, recipe, recipe_len) != 0) rc = -1;
    if (rc == 0 && opt->json) progress_json(&job.progress, opt->json, saves, ns);
done:
    for (size_t s = 0; s < ns; s++) folder_free(&saves[s]);
    free(saves);
    free(inputs);
    free(recipe);
    job_free(&job);
    return rc;
}
