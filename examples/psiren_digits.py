"""p-SIREN (AANN Algorithm 1) on the embedded digits: a 90%-sparse pure ternary CNN.

The four steps: dense training, gradual magnitude sparsification to 90% per layer, sparse
fine-tuning, then ternarization ({-1, 0, +1}, no biases, no scales) with straight-through
training of the signs. The digits preset is epochs (15, 15, 5, 30) with a step-4 learning
rate of 1e-2 (docs/psiren.md); this example halves the epochs to run in seconds.
`rewire siren --dataset digits --sparsity 0.9 --out runs/digits` is the same run with the
full preset, written to a run folder.

    python examples/psiren_digits.py
"""

from rewire.data import load_dataset
from rewire.siren import PRESETS, SirenConfig, run_psiren
from rewire.sparse import format_report, sparsity_report

preset = PRESETS["digits"]
print(f"digits preset: epochs {preset['epochs']}, ternary lr {preset['ternary_lr']}")
cfg = SirenConfig(dataset="digits", sparsity=0.9, seed=0, epochs=preset["epochs"],
                  ternary_lr=preset["ternary_lr"])
model, results = run_psiren(cfg, load_dataset("digits"))

for step, r in results["steps"].items():
    print(f"{step:<11} val {r['val_accuracy']:.4f}  test {r['test_accuracy']:.4f}  "
          f"sparsity {r['sparsity']:.4f}")
print(f"ternary network: test accuracy {results['test_accuracy']:.4f}, "
      f"sparsity {results['sparsity']:.4f}")
print(format_report(sparsity_report(model)))
