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
# issue 13: SENSE from random starts with the general evaluator (training-batch scoring)
S="rewire sense --dataset mnist $D --init random"
done_ $RUNS/sense-random-mnist-80 && python scripts/readme_sense.py results/sense-random-mnist-80 fig8a \
  $RUNS/sense-random-mnist-80 "$S --sparsity 0.8 --schedule random3 --steps 100000 --max-minutes 60 --out runs/sense-random-mnist-80"
done_ $RUNS/sense-random-fashion-mnist-80 && python scripts/readme_sense.py results/sense-random-fashion-mnist-80 fashion \
  $RUNS/sense-random-fashion-mnist-80 "rewire sense --dataset fashion-mnist $D --init random --sparsity 0.8 --schedule random3 --steps 100000 --max-minutes 40 --out runs/sense-random-fashion-mnist-80
# then resumed from its folder with a 60-minute budget (the budget is not part of a run's identity):
rewire sense --dataset fashion-mnist $D --init random --sparsity 0.8 --schedule random3 --steps 100000 --max-minutes 60 --out runs/sense-random-fashion-mnist-80"
P="--criterion accuracy --accept-top 1"
for s in round-robin fc; do
  key=fig6; [ $s = fc ] && key=fig7
  done_ $RUNS/sense-random-mnist-90-$s-paper && done_ $RUNS/sense-random-mnist-90-$s-defaults && \
    python scripts/readme_sense.py results/sense-random-mnist-90-$s $key \
    $RUNS/sense-random-mnist-90-$s-paper "$S --sparsity 0.9 --schedule $s --block 10 --steps 90 $P --out runs/sense-random-mnist-90-$s-paper" \
    $RUNS/sense-random-mnist-90-$s-defaults "$S --sparsity 0.9 --schedule $s --block 10 --steps 90 --out runs/sense-random-mnist-90-$s-defaults"
done
done_ $RUNS/neighbours-psiren-mnist-95 && python scripts/readme_neighbours.py results/neighbours-psiren-mnist-95 \
  $RUNS/neighbours-psiren-mnist-95 $RUNS/psiren-mnist-95 \
  "rewire siren --dataset mnist $D --sparsity 0.95 --out runs/psiren-mnist-95" \
  "rewire neighbours runs/psiren-mnist-95/model.rwt --dataset mnist $D --count 500 --split test --out runs/neighbours-psiren-mnist-95"
true
