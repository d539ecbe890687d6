#!/bin/sh
# Write results/ from the long runs once they have finished (each generator refuses a run
# folder without its summary). Run from the repository root; RUNS is where the run folders
# live (outside git).
set -e
RUNS=${RUNS:-../runs}
D="--data-dir ../shared/data"
done_() { [ -f "$1/results.json" ] || { echo "skip: $1 not finished"; return 1; }; }

done_ $RUNS/psiren-mnist && python scripts/readme_psiren_sweep.py $RUNS/psiren-mnist \
  "rewire sweep --dataset mnist $D --workers 2 --out runs/psiren-mnist"
done_ $RUNS/psiren-fashion-mnist && python scripts/readme_psiren_sweep.py $RUNS/psiren-fashion-mnist \
  "rewire sweep --dataset fashion-mnist $D --workers 2 --out runs/psiren-fashion-mnist"
done_ $RUNS/freenet-table && python scripts/readme_freenet_table.py $RUNS/freenet-table \
  "OMP_NUM_THREADS=1 rewire freenet-table $D --workers 2 --out runs/freenet-table"
done_ $RUNS/prune-ffn-mnist && python scripts/readme_deepstruct.py ffn $RUNS/prune-ffn-mnist \
  "OMP_NUM_THREADS=1 rewire prune --kind ffn $D --workers 2 --out runs/prune-ffn-mnist"
done_ $RUNS/prune-rnn-reber && done_ $RUNS/prune-rnn-reber-iterative && \
  python scripts/readme_deepstruct.py rnn $RUNS/prune-rnn-reber \
  "OMP_NUM_THREADS=1 rewire prune --kind rnn $D --seeds 0 --workers 2 --out runs/prune-rnn-reber" \
  $RUNS/prune-rnn-reber-iterative \
  "OMP_NUM_THREADS=1 rewire prune --kind rnn --iterative $D --seeds 0 --workers 2 --out runs/prune-rnn-reber-iterative"
FULL=$RUNS/priors-reber-deepstruct-full  # optional: one epoch on the whole training split
set --
[ -f $FULL/results.json ] && set -- $FULL \
  "OMP_NUM_THREADS=1 rewire priors --dataset reber-deepstruct --epochs 1 --train-examples 16875 $D --workers 2 --out runs/priors-reber-deepstruct-full"
done_ $RUNS/priors-reber && done_ $RUNS/priors-reber-deepstruct && \
  python scripts/readme_deepstruct.py priors \
  $RUNS/priors-reber-deepstruct "OMP_NUM_THREADS=1 rewire priors --dataset reber-deepstruct $D --workers 2 --out runs/priors-reber-deepstruct" \
  $RUNS/priors-reber "OMP_NUM_THREADS=1 rewire priors --dataset reber $D --workers 2 --out runs/priors-reber" \
  "$@"
true
