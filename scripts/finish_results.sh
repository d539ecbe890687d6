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
# Everything else: copy the run's files into results/NAME/ (or NAME/SUB/), write its
# report.json (kind, paper entry, commands; see src/rewire/experiments/reports/), then
#   rewire report results/NAME
true
