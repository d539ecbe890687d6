"""Copy finished SENSE runs into results/ with a README generated from their results.json.

    python scripts/readme_sense.py DEST KEY RUN COMMAND [RUN COMMAND ...]

KEY names the paper figure (below): its quoted numbers go beside ours. With two runs (the
paper's rule and rewire's defaults) each is copied into its own sub-folder.
"""
import json
import shutil
import sys
from pathlib import Path

PAPER = {  # the paper's own words (001_723e3f7012d27f46.txt), quoted whole
    "fig8a": ("AANN Fig 8a: SENSE from a random 80%-sparse ternary CNN on MNIST",
              "random-layer schedule (a random layer for 3 successive neighbourhoods)",
              "\"(a) The validation line begins at 13.45% and ends at 69.5%, test line begins "
              "at 12.6% and ends at 63.4%.\"", 63.4),
    "fashion": ("SENSE from a random 80%-sparse ternary CNN on Fashion-MNIST",
                "random-layer schedule, as Fig 8a", "The paper has no Fashion-MNIST SENSE run; "
                "we know of no other gradient-free number to compare with.", None),
    "fig6": ("AANN Fig 6: SENSE from a random 90%-sparse ternary CNN on MNIST, round-robin",
             "round-robin over conv1, conv2, fc, 10 neighbourhoods each, repeated 3 times (the "
             "paper's budget: \"for 10 epochs each and then repeat the permutations 3 times\")",
             "\"Colored line begins at a validation accuracy of 12.34, and a final validation "
             "accuracy of 33.27. Black and orange begins as a test accuracy of 10.94, and "
             "reaches a final test accuracy of 25.68. Black and violet begins as a test "
             "accuracy of 10.94, and reaches a final test accuracy of 9.81.\"", 25.68),
    "fig7": ("AANN Fig 7: SENSE from a random 90%-sparse ternary CNN on MNIST, fc layer only",
             "the fc layer only, 90 neighbourhoods (the Fig 6 budget)",
             "\"Colored line begins at a validation accuracy of 12.34 and reaches a final "
             "validation accuracy of 35.87. Black and orange begins at a test accuracy of "
             "10.94 Reaches a final test accuracy of 27.73. Black and violet begins at a test "
             "accuracy of 10.94 Reaches a final test accuracy of 9.79.\"", 27.73),
}


def pct(v):
    return f"{v * 100:.2f}"


def copy(run: Path, dest: Path) -> tuple[dict, list[dict]]:
    r = json.loads((run / "results.json").read_text())
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    dest.mkdir(parents=True, exist_ok=True)
    for f in ["results.json", "climb.png", "config.json", "metrics.jsonl", "model.rwt"]:
        if (run / f).is_file():
            shutil.copy(run / f, dest / f)
    return r, rows


def rule(r: dict, cfg: dict) -> str:
    if cfg["criterion"] == "accuracy" and cfg["accept_top"] == 1:
        return "the paper's rule (accuracy, best neighbour only)"
    return (f"rewire's defaults ({cfg['criterion']}, up to {cfg['accept_top']} improving moves "
            f"per neighbourhood)")


def along(rows: list[dict]) -> str:
    out = ["| minutes | neighbourhoods | val % | test % |", "|---:|---:|---:|---:|"]
    last = None
    for m in [1, 2, 5, 10, 20, 30, 40, 50, 60]:
        sel = [x for x in rows if x["seconds"] <= m * 60]
        if sel and sel[-1] is not last:
            last = sel[-1]
            out.append(f"| {m} | {last['step']} | {pct(last['val_accuracy'])} | "
                       f"{pct(last['test_accuracy'])} |")
    return "\n".join(out)


def table(runs) -> str:
    head = ("| run | start val / test % | kept network: val / test % | last network: val / "
            "test % | ensemble val / test % | neighbourhoods | minutes |")
    out = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r, _, _ in runs:
        out.append(f"| {name} | {pct(r['start_val_accuracy'])} / {pct(r['start_test_accuracy'])}"
                   f" | {pct(r['final_val_accuracy'])} / **{pct(r['final_test_accuracy'])}** | "
                   f"{pct(r['last_val_accuracy'])} / {pct(r['last_test_accuracy'])} | "
                   f"{pct(r['ensemble_val_accuracy'])} / {pct(r['ensemble_test_accuracy'])} "
                   f"({r['ensemble_size']}) | {r['steps']} | {r['seconds'] / 60:.1f} |")
    return "\n".join(out)


def main() -> None:
    dest, key, rest = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    title, schedule, quote, number = PAPER[key]
    pairs = list(zip(rest[::2], rest[1::2]))
    runs, commands = [], []
    for run, command in pairs:
        run = Path(run)
        sub = dest if len(pairs) == 1 else dest / run.name.rsplit("-", 1)[-1]
        r, rows = copy(run, sub)
        cfg = json.loads((run / "config.json").read_text())
        runs.append((rule(r, cfg), r, rows, cfg))
        commands.append((sub.relative_to(dest) if sub != dest else Path("."), command))
    r0 = runs[0][1]
    paper_line = (f"Paper: **{number}%** test." if number is not None else "Paper: no number.")
    text = f"""# {title}

No gradients anywhere: {schedule}. Every neighbour is scored exactly (delta evaluator, integer
arithmetic) on a rotating batch of {r0['batch']} *training* images; a move is taken only if it
strictly beats the current network on that batch. The validation split only chooses the network
kept (best validation accuracy along the path), the ensemble members, and never a move; the
test split is only reported. Start: a random ternary wiring at {r0['sparsity'] * 100:.0f}%
sparsity, seed {r0['seed']}.

""" + "\n".join(f"```\n# {p}\n{c}\n```" if str(p) != "." else f"```\n{c}\n```"
                for p, c in commands) + f"""

{table(runs)}

{paper_line} The paper's own words: {quote}

Validation and test of the kept network differ by
{", ".join(f"{abs(r['final_val_accuracy'] - r['final_test_accuracy']) * 100:.2f} points ({n})"
           for n, r, _, _ in runs)}.
The family is kept: per-layer counts of -1, 0, +1 are identical at start and end
(`start_counts`, `final_counts` in each results.json).

""" + "\n\n".join(f"Along the way, {n}:\n\n{along(rows)}" for n, _, rows, _ in runs) + "\n\n" + \
        "\n".join(f"![climb, {n}]({p}/climb.png)" for (n, *_), (p, _) in zip(runs, commands)) + """

See docs/sense.md for the protocol and what was tried.
"""
    (dest / "README.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
