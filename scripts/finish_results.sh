#!/bin/sh
# Write results/ from the long runs once they have finished (each generator refuses a run
# folder without its summary). Run from the repository root; RUNS is where the run folders
# live (outside git).
set -e
RUNS=${RUNS:-../runs}
D="--data-dir ../shared/data"
done_() { [ -f "$1/results.json" ] || { echo "skip: $1 not finished"; return 1; }; }

done_ $RUNS/prune-ffn-mnist && python scripts/readme_deepstruct.py ffn $RUNS/prune-ffn-mnist \
  "OMP_NUM_THREADS=1 rewire prune-ffn $D --workers 2 --out runs/prune-ffn-mnist"
done_ $RUNS/prune-rnn-reber && done_ $RUNS/prune-rnn-reber-iterative && \
  python scripts/readme_deepstruct.py rnn $RUNS/prune-rnn-reber \
  "OMP_NUM_THREADS=1 rewire prune-rnn $D --seeds 0 --workers 2 --out runs/prune-rnn-reber" \
  $RUNS/prune-rnn-reber-iterative \
  "OMP_NUM_THREADS=1 rewire prune-rnn --iterative $D --seeds 0 --workers 2 --out runs/prune-rnn-reber-iterative"
FULL=$RUNS/priors-reber-deepstruct-full  # optional: one epoch on the whole training split
set --
[ -f $FULL/results.json ] && set -- $FULL \
  "OMP_NUM_THREADS=1 rewire priors --dataset reber-deepstruct --epochs 1 --train-examples 16875 $D --workers 2 --out runs/priors-reber-deepstruct-full"
done_ $RUNS/priors-reber && done_ $RUNS/priors-reber-deepstruct && \
  python scripts/readme_deepstruct.py priors \
  $RUNS/priors-reber-deepstruct "OMP_NUM_THREADS=1 rewire priors --dataset reber-deepstruct $D --workers 2 --out runs/priors-reber-deepstruct" \
  $RUNS/priors-reber "OMP_NUM_THREADS=1 rewire priors --dataset reber $D --workers 2 --out runs/priors-reber" \
  "$@"
# Everything else: copy the run's files into results/NAME/ (or NAME/SUB/), write its
# report.json (kind, paper entry, commands; see src/rewire/experiments/reports/), then
#   rewire report results/NAME
true
