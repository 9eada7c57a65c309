/* props.h - judging the output of a random-pruning merge (dare_linear,
 * dare_ties, della, della_linear) against the properties of a conformance
 * case, since random pruning cannot be compared element by element. The
 * checks and their tolerances are the ones conformance/README.md defines
 * under "Property cases"; the case's "properties.checks" selects them.
 *
 * The case folder holds case.json, base.safetensors and one
 * NAME.safetensors per entry of "models". The output is a .safetensors file
 * or a checkpoint folder; it must hold exactly the base's tensor names and
 * shapes (reported as the check "tensors"). Memory: one tensor of each input
 * and of the output at a time. */
#ifndef MERGELANG_PROPS_H
#define MERGELANG_PROPS_H

#include <stdbool.h>
#include <stdio.h>

#include "runtime/core/errbuf.h"

/* Writes one "ok NAME: ..." or "FAIL NAME: ..." line per check (per model
 * for the per-model checks) and finally "N checks passed, M failed" to
 * report, and stores N and M. verbose adds an indented detail line per
 * tensor and model. Returns 0 when the checks could run (whatever their
 * outcome); -1 with err filled when the case, an input or the output cannot
 * be read, the case names an unknown check, or the inputs do not match the
 * base. */
int props_check_case_ex(const char *case_dir, const char *output_path, FILE *report, bool verbose,
                        int *n_passed, int *n_failed, ErrBuf *err);

/* Same without detail lines; a failure to run is written to report as
 * "error: ...". */
int props_check_case(const char *case_dir, const char *output_path, FILE *report, int *n_passed, int *n_failed);

#endif
