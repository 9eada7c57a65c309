#!/bin/sh
# tests/examples/run.sh - every recipe in examples/ runs on the generated
# demo models and writes its outputs; the by-hand and built-in task
# arithmetic of task_vectors.merge agree; rebasin.merge's re-basin merge
# equals the merge of the unshuffled models. Run by tests/run.sh.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
passed=0
failed=0
if ! sh examples/demo.sh "$B" >/dev/null 2>&1; then
    # demo.sh stops at the first failing recipe; run them one by one to say which
    :
fi
for r in examples/*.merge; do
    if "$B/mergelang" run "$r" --force -q 2>/tmp/mergelang-example.$$; then
        passed=$((passed + 1))
    else
        cat /tmp/mergelang-example.$$
        echo "FAIL $r"
        failed=$((failed + 1))
    fi
done
rm -f /tmp/mergelang-example.$$
if "$B/stcompare" examples/out/tasks-by-hand examples/out/tasks-builtin --atol 1e-6 --rtol 1e-5 >/dev/null; then
    passed=$((passed + 1))
else
    echo "FAIL task_vectors: by hand and built-in differ"
    failed=$((failed + 1))
fi
# rebasin.merge: aligning recovers the shuffle exactly, so the re-basin merge
# is the average of the unshuffled models; plain averaging is far from it
if "$B/stcompare" examples/out/rebasin examples/out/rebasin-ideal --identical >/dev/null &&
    ! "$B/stcompare" examples/out/rebasin-naive examples/out/rebasin-ideal --atol 1e-3 >/dev/null; then
    passed=$((passed + 1))
else
    echo "FAIL rebasin: the re-basin merge is not the merge of the unshuffled models"
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
