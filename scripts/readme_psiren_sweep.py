"""Copy a finished p-SIREN sweep into results/psiren-<dataset>/ with a README generated from
its results.json (no number typed by hand).

    python scripts/readme_psiren_sweep.py RUN_FOLDER "COMMAND"
"""
import json
import shutil
import sys
from pathlib import Path

run, command = Path(sys.argv[1]), sys.argv[2]
s = json.loads((run / "results.json").read_text())
d = s["dataset"]
dest = Path(__file__).resolve().parents[1] / "results" / f"psiren-{d}"
dest.mkdir(parents=True, exist_ok=True)
for f in ["results.json", "results.csv", "table.md", "accuracy_vs_sparsity.png", "config.json"]:
    shutil.copy(run / f, dest / f)
t = {round(r["sparsity"], 2): r for r in s["by_sparsity"]}
seeds = sorted({r["seed"] for r in s["rows"]})
paper = {
    "mnist": "Figure 2a (no numbers in the text; its 90% network sits near 91% test, read off the "
             "axis of Figure 3)",
    "fashion-mnist": "Figure 12 (no numbers in the text)",
}[d]
r90 = t.get(0.89) or t.get(0.9)
headline = (f"At 89% sparsity: {r90['mean'] * 100:.2f} ± {r90['std'] * 100:.2f}% test "
            f"(min {r90['min'] * 100:.2f}) over {r90['seeds']} seeds; at 95%: "
            f"{t[0.95]['mean'] * 100:.2f} ± {t[0.95]['std'] * 100:.2f}%; dense float: "
            f"{t[0.0]['dense_mean'] * 100:.2f}%.")
best = max(s["by_sparsity"], key=lambda r: r["mean"])
shape = (f"The best ternary mean is at {best['sparsity'] * 100:.0f}% sparsity "
         f"({best['mean'] * 100:.2f}%), above the 0%-sparse ternary network "
         f"({t[0.0]['mean'] * 100:.2f}%): moderate sparsity helps a ternary network (the paper states no trend in its "
         "text). The gap to the dense float net is the price of {-1, 0, +1} "
         "weights without scales or biases.")
(dest / "README.md").write_text(f"""# p-SIREN sweep on {d}: sparse ternary CNNs at 15 sparsities (AANN {paper.split(' (')[0]})

```
{command}
```

The AANN MNIST CNN made pure ternary {{-1, 0, +1}} (no biases, no scales) by p-SIREN at the
paper's 15 sparsity levels, per-layer sparsity, seeds {', '.join(map(str, seeds))}; dense
training shared per seed; presets and decisions in docs/psiren.md. Test accuracy after each
of the four steps (mean ± std over seeds); "ternary" is the final network.

{headline}

{shape}

The paper: {paper}.

{(run / "table.md").read_text()}
![accuracy against sparsity](accuracy_vs_sparsity.png)

`results.json` holds one row per (sparsity, seed); `results.csv` the same table.
""")
print((dest / "README.md").read_text())
