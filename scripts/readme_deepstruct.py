"""Copy the FFN pruning run into results/prune-ffn-mnist with a generated README; the last
script left until that folder's re-run lands and `rewire report` renders it (docs/plan.md).

    python scripts/readme_deepstruct.py ffn RUN "COMMAND"
"""
import json
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from rewire.prune import SCHEMES

root = Path(__file__).resolve().parents[1] / "results"
kind, run, command = sys.argv[1], Path(sys.argv[2]), sys.argv[3]


def copy(dest, names):
    dest.mkdir(parents=True, exist_ok=True)
    for f in names:
        if (run / f).is_file():
            shutil.copy(run / f, dest / f)


def base_accuracy() -> dict:
    """Test accuracy (%) of the dense base nets of the run, per model."""
    import torch

    from rewire.data import load_dataset
    from rewire.models import create_model
    from rewire.train import evaluate

    cfg = json.loads((run / "config.json").read_text())
    data = load_dataset(cfg["dataset"], "../shared/data")
    out = defaultdict(list)
    for f in sorted((run / "base").glob("*_seed*.pt")):
        name = f.stem.rsplit("_seed", 1)[0]
        net = create_model(name, data.input_shape, data.num_classes)
        net.load_state_dict(torch.load(f, weights_only=True))
        out[name].append(evaluate(net, data.test)["accuracy"] * 100)
    return dict(out)


def ffn():
    dest = root / "prune-ffn-mnist"
    copy(dest, ["results.json", "table.md", "config.json", "prune_ffn_one_shot.png",
                "prune_ffn_all_schemes.png"])
    rows = json.loads((run / "results.json").read_text())["rows"]
    acc = defaultdict(list)
    for r in rows:
        acc[(r["model"], r["method"], r["scheme"], r["retrained"], round(r["amount"], 3))].append(
            r["test_accuracy"] * 100)

    def at(model, method, scheme, retrained, amount):
        v = acc.get((model, method, scheme, retrained, amount))
        return f"{np.mean(v):.2f} ± {np.std(v):.2f} ({len(v)} seeds)" if v else "–"

    seeds = sorted({r["seed"] for r in rows})
    key = "\n".join(
        f"| {m} | {at('mlp-100', m, 'one-shot', True, 0.8)} | {at('mlp-100', m, 'one-shot', False, 0.8)} |"
        f" {at('lenet-300-100', m, 'one-shot', True, 0.8)} |"
        for m in ["magnitude-blinded", "magnitude-uniform", "magnitude-distributed", "obd",
                  "random"])
    base = base_accuracy()
    bases = "; ".join(f"{m}: {np.mean(v):.2f} ± {np.std(v):.2f}" for m, v in base.items())
    blinded = {sc: np.mean([r["test_accuracy"] * 100 for r in rows if r["model"] == "mlp-100"
                            and r["method"] == "magnitude-blinded" and r["retrained"]
                            and r["scheme"] == sc and abs(r["amount"] - 0.8) <= 0.03])
               for sc in SCHEMES}
    one = acc[("mlp-100", "magnitude-blinded", "one-shot", True, 0.8)]
    order = [np.mean(acc[("mlp-100", m, "one-shot", True, 0.8)])
             for m in ["magnitude-blinded", "magnitude-uniform", "random"]]
    checks = (
        f"- Dense base nets before pruning (test %, 3 seeds): {bases}.\n"
        f"- mlp-100, magnitude class-blinded, 80%, re-trained: one-shot "
        f"{' / '.join(f'{v:.2f}' for v in one)} (seeds); by scheme (levels within 0.03 of 80%): "
        + ", ".join(f"{k} {v:.2f}" for k, v in blinded.items())
        + f". Target ≥ 98: {'met' if max(blinded.values()) >= 98 else 'not met'} by "
        f"{', '.join(k for k, v in blinded.items() if v >= 98) or 'no scheme'}; the paper: 97.5.\n"
        f"- Order at 80% one-shot re-trained, mlp-100: class-blinded {order[0]:.2f} > "
        f"class-uniform {order[1]:.2f} > random {order[2]:.2f}: "
        f"{'as in the paper' if order[0] > order[1] > order[2] else 'NOT as in the paper'}.")
    (dest / "README.md").write_text(f"""# Pruning feed-forward nets on MNIST (deepstruct Fig 2a)

```
{command}
```

Five selection methods × four schemes on mlp-100 (784-100-10) and LeNet-300-100, each with one
re-training epoch after every pruning step and without; seeds {', '.join(map(str, seeds))}.
Decisions in docs/deepstruct.md.

At 80% of the weights pruned, one-shot, test accuracy (%):

| method | mlp-100, re-trained | mlp-100, no re-training | LeNet-300-100, re-trained |
|---|---:|---:|---:|
{key}

The paper: magnitude class-blinded on the 784-100-10 net at 80% with re-training, 97.5%;
class-blinded clearly ahead, OBD nearly the same, random lowest (Fig 2a, no table).

{checks}

![one-shot](prune_ffn_one_shot.png)
![all schemes](prune_ffn_all_schemes.png)

## Every method, scheme and level

{(run / "table.md").read_text()}
""")


if kind != "ffn":
    sys.exit("rnn and priors folders are rendered by `rewire report results/FOLDER` now")
ffn()
print((root / "prune-ffn-mnist" / "README.md").read_text())
