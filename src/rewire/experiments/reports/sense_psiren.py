"""README of the SENSE climbs from the 90% p-SIREN MNIST model (AANN Fig 5)."""

from __future__ import annotations

from pathlib import Path

from ...files import read_json, read_jsonl


def pct(x: float) -> str:
    return f"{x * 100:.2f}"


def _first(rows: list[dict], n: int) -> str:
    return "\n".join(f"| {r['step']} | {r['layer'].split('.')[0]} | "
                     f"{'yes' if r['accepted'] else 'no'} | {r['val_accuracy'] * 100:.2f} | "
                     f"{r['test_accuracy'] * 100:.2f} |" for r in rows[:n])


def plots(folder: Path, spec: dict) -> None:
    from ..sense_run import plot_climb

    for sub in ("hinge-top4", "paper-rule"):
        plot_climb(read_jsonl(folder / sub / "metrics.jsonl"),
                   read_json(folder / sub / "results.json"), folder / sub / "climb.png")


def _row(command: str, r: dict) -> str:
    return (f"`{command}` | {pct(r['start_val_accuracy'])} → {pct(r['final_val_accuracy'])} | "
            f"{pct(r['start_test_accuracy'])} → **{pct(r['final_test_accuracy'])}** | "
            f"{r['neighbours_scored']:,} |")


def render(folder: Path, spec: dict) -> str:
    c = spec["commands"]
    h = read_json(folder / "hinge-top4" / "results.json")
    p = read_json(folder / "paper-rule" / "results.json")
    ps = read_json(folder / spec["start"] / "results.json")
    v = read_json(folder / spec["views"] / "results.json")
    lay = v["layers"]
    gain = max(r["max"] for r in lay.values()) - v["original_accuracy"]
    better = {name.split(".")[0]: f"{r['fraction_better']:.1%}" for name, r in lay.items()}
    return f"""# SENSE from the 90% p-SIREN MNIST model (AANN Fig 5)

The start is the pure-ternary 90%-sparse CNN made by
`{c['start']}`
(test {pct(ps['test_accuracy'])}%). SENSE then climbs with the paper's round-robin schedule
(conv1, conv2, fc, 2 neighbourhoods each, repeated; 48 neighbourhoods), neighbours scored
exactly on the 6 000-image validation split; test accuracy is reported, never selected on.

| run | command | val start → end | test start → end | neighbours scored |
|---|---|---:|---:|---:|
| rewire defaults (hinge criterion, up to 4 moves a neighbourhood) | {_row(c['hinge-top4'], h)}
| the paper's rule (accuracy criterion, best neighbour only) | {_row(c['paper-rule'], p)}
| paper, Fig 5 | | | +3 points over 6 neighbourhoods (start ≈ 91%, read off Fig 3's axis) | |

**What this shows.** Validation accuracy climbs ({pct(h['start_val_accuracy'])} →
{pct(h['final_val_accuracy'])} with the defaults), test accuracy does not: our p-SIREN start
({pct(ps['test_accuracy'])}%) is already a local optimum *on the test set* for the sampled
neighbourhoods, and the moves that lift validation are fitted to its 6 000 images. The
first-neighbour histograms of the same model on the test set
(`../neighbours-psiren-mnist-90/`) show why: {better['conv1']} of the first conv layer's neighbours
beat it, {better['conv2']} of the second's and {better['fc']} of the fc layer's, by at most
{gain * 100:.2f} points. Its start was far weaker (≈ 91% at 90% sparsity, against our
{pct(ps['test_accuracy'])}%), which leaves more room to climb. Which split chose the paper's
moves its text does not settle: the Algorithm 2 box says "Evaluate test accuracy of all local
neighborhood networks" and moves to a better one, while its figures plot the climbing line
as validation accuracy and test accuracy beside it. (These climbs scored on validation, the
protocol of the time; SENSE now scores on training batches, see docs/sense.md.)

First neighbourhoods of each run:

| step | layer | accepted | val % | test % |
|---:|---|---|---:|---:|
{_first(read_jsonl(folder / "hinge-top4" / "metrics.jsonl"), 8)}

The paper's rule:

| step | layer | accepted | val % | test % |
|---:|---|---|---:|---:|
{_first(read_jsonl(folder / "paper-rule" / "metrics.jsonl"), 8)}

![climb, defaults](hinge-top4/climb.png)
![climb, paper's rule](paper-rule/climb.png)
"""
