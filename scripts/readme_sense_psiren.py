"""Copy the SENSE climbs from the 90% p-SIREN MNIST model and its first-neighbour views into
results/, with READMEs generated from their results.json files (no number typed by hand).

    python scripts/readme_sense_psiren.py RUN_HINGE RUN_PAPER NEIGHBOURS_RUN PSIREN_RUN
"""
import json
import shutil
import sys
from pathlib import Path

hinge, paper, views, psiren = (Path(p) for p in sys.argv[1:5])
root = Path(__file__).resolve().parents[1] / "results"
dest = root / "sense-psiren-mnist-90"
for run, sub in ((hinge, "hinge-top4"), (paper, "paper-rule")):
    (dest / sub).mkdir(parents=True, exist_ok=True)
    for f in ["results.json", "climb.png", "config.json", "metrics.jsonl"]:
        shutil.copy(run / f, dest / sub / f)
h = json.loads((hinge / "results.json").read_text())
p = json.loads((paper / "results.json").read_text())
ps = json.loads((psiren / "results.json").read_text())
shutil.copy(hinge / "results.json", dest / "results.json")


def steps(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def first(run, n):
    rows = steps(run)[:n]
    return "\n".join(f"| {r['step']} | {r['layer'].split('.')[0]} | {'yes' if r['accepted'] else 'no'}"
                     f" | {r['val_accuracy'] * 100:.2f} | {r['test_accuracy'] * 100:.2f} |"
                     for r in rows)


def pct(x):
    return f"{x * 100:.2f}"


cmd = ("OMP_NUM_THREADS=1 rewire sense --dataset mnist --data-dir ../shared/data "
       "--init runs/psiren-mnist-90/model.rwt --sparsity 0.9 --schedule round-robin --block 2 "
       "--steps 48")
readme = f"""# SENSE from the 90% p-SIREN MNIST model (AANN Fig 5)

The start is the pure-ternary 90%-sparse CNN made by
`rewire siren --dataset mnist --data-dir ../shared/data --sparsity 0.9 --seed 0 --out runs/psiren-mnist-90`
(test {pct(ps['test_accuracy'])}%). SENSE then climbs with the paper's round-robin schedule
(conv1, conv2, fc, 2 neighbourhoods each, repeated; 48 neighbourhoods), neighbours scored
exactly on the 6 000-image validation split; test accuracy is reported, never selected on.

| run | command | val start → end | test start → end | neighbours scored |
|---|---|---:|---:|---:|
| rewire defaults (hinge criterion, up to 4 moves a neighbourhood) | `{cmd} --out runs/sense-psiren-mnist-90` | {pct(h['start_val_accuracy'])} → {pct(h['final_val_accuracy'])} | {pct(h['start_test_accuracy'])} → **{pct(h['final_test_accuracy'])}** | {h['neighbours_scored']:,} |
| the paper's rule (accuracy criterion, best neighbour only) | `{cmd} --criterion accuracy --accept-top 1 --out runs/sense-psiren-mnist-90-paper` | {pct(p['start_val_accuracy'])} → {pct(p['final_val_accuracy'])} | {pct(p['start_test_accuracy'])} → **{pct(p['final_test_accuracy'])}** | {p['neighbours_scored']:,} |
| paper, Fig 5 | | | +3 points over 6 neighbourhoods (start ≈ 91%, read off Fig 3's axis) | |

**What this shows.** Validation accuracy climbs ({pct(h['start_val_accuracy'])} →
{pct(h['final_val_accuracy'])} with the defaults), test accuracy does not: our p-SIREN start
({pct(ps['test_accuracy'])}%) is already a local optimum *on the test set* for the sampled
neighbourhoods, and the moves that lift validation are fitted to its 6 000 images. The
first-neighbour histograms of the same model on the test set
(`../neighbours-psiren-mnist-90/`) show why: {{conv1}} of the first conv layer's neighbours
beat it, {{conv2}} of the second's and {{fc}} of the fc layer's, by at most
{{gain}} points. Two differences from the paper explain its +3 points: its start was far
weaker (≈ 91% at 90% sparsity, against our {pct(ps['test_accuracy'])}%), and its Algorithm 2
"evaluate[s] test accuracy of all local neighborhood networks" and moves on it, i.e. it
selects on the test set, which rewire never does.

First neighbourhoods of each run:

| step | layer | accepted | val % | test % |
|---:|---|---|---:|---:|
{first(hinge, 8)}

The paper's rule:

| step | layer | accepted | val % | test % |
|---:|---|---|---:|---:|
{first(paper, 8)}

![climb, defaults](hinge-top4/climb.png)
![climb, paper's rule](paper-rule/climb.png)
"""
v = json.loads((views / "results.json").read_text())
lay = v["layers"]
best_gain = max(r["max"] for r in lay.values()) - v["original_accuracy"]
readme = (readme.replace("{conv1}", f"{lay['conv1.weight']['fraction_better']:.1%}")
          .replace("{conv2}", f"{lay['conv2.weight']['fraction_better']:.1%}")
          .replace("{fc}", f"{lay['fc.weight']['fraction_better']:.1%}")
          .replace("{gain}", f"{best_gain * 100:.2f}"))
(dest / "README.md").write_text(readme)

vd = root / "neighbours-psiren-mnist-90"
vd.mkdir(parents=True, exist_ok=True)
for f in ["results.json", "config.json", "histograms.png", "embed_tsne.png", "embed_lle.png",
          "embed_isomap.png"]:
    shutil.copy(views / f, vd / f)
rows = "\n".join(f"| {name.split('.')[0]} | {r['neighbours']} | {pct(r['mean'])} | {pct(r['min'])}"
                 f" – {pct(r['max'])} | {r['fraction_better']:.1%} |" for name, r in lay.items())
(vd / "README.md").write_text(f"""# First neighbours of the 90% p-SIREN MNIST model (AANN Fig 3, 4, 11)

```
OMP_NUM_THREADS=1 rewire neighbours runs/psiren-mnist-90/model.rwt --dataset mnist --data-dir ../shared/data --count 500 --split test --out runs/neighbours-psiren-mnist-90
```

500 distinct first neighbours (one bit-swap) per layer of the pure-ternary 90%-sparse CNN,
scored on the 10 000 MNIST test images (a view, never used to select). Original: {pct(v['original_accuracy'])}%.

| layer | neighbours | mean test % | range % | better than the original |
|---|---:|---:|---:|---:|
{rows}

As in the paper (Fig 3: "as we move into deeper layers a larger percentage of the first family
nearest neighbors outperform the original"), the first conv layer is the most tightly
optimised and the share of better neighbours grows with depth. The paper's 90% model sat
near 91% test; ours at {pct(v['original_accuracy'])}%, so the room above it is smaller.

![histograms](histograms.png)

Embeddings of each layer's first-neighbour family (wirings as points, test accuracy as
height; the blue dot is the original), t-SNE (Fig 4), LLE and Isomap (Fig 11):

![t-SNE](embed_tsne.png)
![LLE](embed_lle.png)
![Isomap](embed_isomap.png)
""")
print((dest / "README.md").read_text())
