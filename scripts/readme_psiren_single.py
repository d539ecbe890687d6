"""Copy one finished ``rewire siren`` run into results/psiren-<dataset>-<pct>/ with a README
generated from its results.json, after checking that the packed export reloads to the same
predictions on the whole test set (no number typed by hand).

    python scripts/readme_psiren_single.py RUN_FOLDER "COMMAND" [--data-dir DIR]
"""
import argparse
import json
import shutil
from pathlib import Path

import torch

from rewire.data import load_dataset
from rewire.models import load_model
from rewire.sparse import read_wiring
from rewire.train import predict

p = argparse.ArgumentParser()
p.add_argument("run", type=Path)
p.add_argument("command")
p.add_argument("--data-dir", default=None)
a = p.parse_args()

res = json.loads((a.run / "results.json").read_text())
full = load_model(a.run / "model.pt")
packed = load_model(a.run / "model.rwt")
test = load_dataset(res["dataset"], a.data_dir).test
same = bool(torch.equal(predict(full, test.x), predict(packed, test.x)))
wa, wb = read_wiring(full), read_wiring(packed)
same_wiring = wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
res["reload"] = {"identical_predictions": same, "identical_weights": same_wiring,
                 "test_examples": len(test.x)}

pct = round(res["target_sparsity"] * 100)
dest = Path(__file__).resolve().parents[1] / "results" / f"psiren-{res['dataset']}-{pct}"
dest.mkdir(parents=True, exist_ok=True)
(dest / "results.json").write_text(json.dumps(res, indent=1))
shutil.copy(a.run / "config.json", dest / "config.json")
shutil.copy(a.run / "model.rwt", dest / "model.rwt")

steps = "\n".join(f"| {name} | {s['sparsity'] * 100:.1f} | {s['val_accuracy'] * 100:.2f} | "
                  f"{s['test_accuracy'] * 100:.2f} |" for name, s in res["steps"].items())
layers = "\n".join(f"| {r['layer']} | {r['weights']} | {r['minus']} | {r['zero']} | {r['plus']} "
                   f"| {r['sparsity'] * 100:.1f} |" for r in res["layers"])
ratio = res["float32_bytes"] / res["packed_bytes"]
(dest / "README.md").write_text(f"""# p-SIREN on {res['dataset']} at {pct}% sparsity: one pure ternary CNN

```
{a.command}
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
{ratio:.1f}x smaller. Reloaded with `rewire.sparse.load_packed`, it gives
{'identical' if same_wiring else 'DIFFERENT'} weights and {'identical' if same else 'DIFFERENT'}
predictions on all {len(test.x)} test images.

Checked with `python scripts/readme_psiren_single.py RUN "COMMAND" --data-dir ../shared/data`.
""")
print((dest / "README.md").read_text())
