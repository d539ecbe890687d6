"""README of a first-neighbour results folder (AANN Fig 3, 4, 11)."""

from __future__ import annotations

from pathlib import Path

from ...files import read_json
from . import paper


def render(folder: Path, spec: dict) -> str:
    r = read_json(folder / "results.json")
    p = paper(spec["paper"])
    rows = "\n".join(
        f"| {name.removesuffix('.weight')} | {v['neighbours']} | {v['mean'] * 100:.2f} | "
        f"{v['min'] * 100:.2f} – {v['max'] * 100:.2f} | {v['fraction_better'] * 100:.1f}% |"
        for name, v in r["layers"].items())
    share = [v["fraction_better"] for v in r["layers"].values()]
    trend = ("grows with depth, as in the paper" if share == sorted(share)
             else "does not grow monotonically with depth here")
    cmd = "\n".join(spec["commands"].values())
    figures = p.get("figures", "Fig 3, 4, 11")
    title = (f"First neighbours of the {r['sparsity'] * 100:.0f}% p-SIREN "
             f"{r['dataset'].upper()} model (AANN {figures})")
    views = f"(the paper, {figures.split(',')[0]}: {p['quote']}). {p['note']}"
    tsne = p.get("tsne_figure", "Fig 4")
    return f"""# {title}

```
{cmd}
```

{r['layers'][next(iter(r['layers']))]['neighbours']} distinct first neighbours (one bit-swap each)
per layer of the pure-ternary {r['sparsity'] * 100:.0f}%-sparse CNN, scored exactly on the
{r['split']} split (a view, never used to select). Original: {r['original_accuracy'] * 100:.2f}%.

| layer | neighbours | mean % | range % | better than the original |
|---|---:|---:|---:|---:|
{rows}

The share of first neighbours that beat the original {trend} {views}

![histograms](histograms.png)

Embeddings of each layer's first-neighbour family (wirings as points, accuracy as height; the
blue dot is the original), t-SNE ({tsne}), LLE and Isomap (Fig 11):

![t-SNE](embed_tsne.png)
![LLE](embed_lle.png)
![Isomap](embed_isomap.png)
"""
