"""README of one p-SIREN model's results folder (``results/psiren-<dataset>-<pct>``)."""

from __future__ import annotations

from pathlib import Path

from ...files import read_json


def render(folder: Path, spec: dict) -> str:
    res = read_json(folder / "results.json")
    reload = res["reload"]
    same, same_wiring, n = (reload["identical_predictions"], reload["identical_weights"],
                            reload["test_examples"])
    pct = round(res["target_sparsity"] * 100)
    steps = "\n".join(f"| {name} | {s['sparsity'] * 100:.1f} | {s['val_accuracy'] * 100:.2f} | "
                      f"{s['test_accuracy'] * 100:.2f} |" for name, s in res["steps"].items())
    layers = "\n".join(f"| {r['layer']} | {r['weights']} | {r['minus']} | {r['zero']} | "
                       f"{r['plus']} | {r['sparsity'] * 100:.1f} |" for r in res["layers"])
    ratio = res["float32_bytes"] / res["packed_bytes"]
    command = "\n".join(spec["commands"].values())
    return f"""# p-SIREN on {res['dataset']} at {pct}% sparsity: one pure ternary CNN

```
{command}
```

The AANN MNIST CNN, weights exactly in {{-1, 0, +1}}, HardTanh, no biases, no per-layer scale,
{pct}% of the weights of every layer zero, seed {res['seed']}. Test accuracy:
**{res['test_accuracy'] * 100:.2f}%** (the paper's 90% network is near 91%, read off Figure 3).

Accuracy after each p-SIREN step (%):

| step | sparsity | validation | test |
|---|---:|---:|---:|
{steps}

Per-layer counts of the final network:

| layer | weights | -1 | 0 | +1 | sparsity % |
|---|---:|---:|---:|---:|---:|
{layers}

**Export.** `model.rwt` (Rice-coded gaps between nonzero weights plus one sign bit each) is
{res['packed_bytes']} bytes against {res['float32_bytes']} bytes for the float32 state_dict:
{ratio:.1f}x smaller. Reloaded with `rewire.models.load_model`, it gives
{'identical' if same_wiring else 'DIFFERENT'} weights and {'identical' if same else 'DIFFERENT'}
predictions on all {n} test images (`reload` in results.json).
"""
