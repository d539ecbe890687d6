"""The command line as a contract: every bad input is one line on stderr, exit code 2, no
traceback, and nothing written; the corrected command then runs into the same folder."""

import json
import os
import subprocess
import sys

import pytest
import torch

from rewire import configs
from rewire.cli import COMMANDS, build_parser, main
from rewire.models import create_model
from rewire.prune import magnitude
from rewire.sparse import save_packed, ternarize


@pytest.fixture
def files(tmp_path):
    """Bad and good input files, in a folder of their own."""
    d = tmp_path / "in"
    d.mkdir()
    m = ternarize(create_model("aann-mnist-cnn", (1, 8, 8)))
    magnitude(m, 0.9)
    save_packed(m, d / "good.rwt")
    blob = (d / "good.rwt").read_bytes()
    (d / "cut.rwt").write_bytes(blob[:-9])
    (d / "empty.pt").write_bytes(b"")
    (d / "results.json").write_text(json.dumps({"rows": [{"x": 1}]}))
    (d / "list.json").write_text("[1, 2]")
    (d / "broken.json").write_text("{ not json")
    (d / "unknown.json").write_text(json.dumps({"sparsity": 0.5, "colour": "red"}))
    (d / "wrongtype.json").write_text(json.dumps({"sparsity": "high"}))
    (d / "a-file").write_text("keep me")
    torch.save({"state_dict": {}}, d / "nospec.pt")
    return d


O = "{out}"
BAD = [
    ([], "required: COMMAND"),
    (["nope"], "invalid choice: 'nope'"),
    (["siren"], "required: --out"),
    (["siren", "--bogus", "1", "--out", O], "unrecognized arguments: --bogus"),
    (["siren", "--sparsity", "x", "--out", O], "invalid number value: 'x'"),
    (["siren", "--sparsity", "1.0", "--out", O], "--sparsity must be < 1.0"),
    (["siren", "--sparsity", "-0.5", "--out", O], "--sparsity must be >= 0.0"),
    (["siren", "--dataset", "imagenet", "--out", O], "--dataset: unknown value 'imagenet'"),
    (["siren", "--dataset", "reber", "--out", O], "--dataset: unknown value 'reber'"),
    (["siren", "--batch-size", "0", "--out", O], "--batch-size must be >= 1"),
    (["siren", "--limit", "0", "--out", O], "--limit must be >= 10"),
    (["siren", "--epochs", "1,2", "--out", O], "four numbers"),
    (["siren", "--epochs", "1,2,x,4", "--out", O], "invalid comma-separated integer value"),
    (["siren", "--scope", "row", "--out", O], "--scope: unknown value 'row'"),
    (["siren", "--lr", "0", "--out", O], "--lr must be >="),
    (["siren", "--dataset", "mnist", "--data-dir", "/no/such/dir", "--out", O],
     "data folder /no/such/dir does not exist"),
    (["siren", "--epochs", "1,1,1,1", "--out", "{in}/a-file"], "is a file, not a run folder"),
    (["siren", "--config", "{in}/missing.json", "--out", O], "no such file"),
    (["siren", "--config", "{in}/broken.json", "--out", O], "not valid json"),
    (["siren", "--config", "{in}/unknown.json", "--out", O], "unknown option(s) colour"),
    (["siren", "--config", "{in}/wrongtype.json", "--out", O], "--sparsity must be a number"),
    (["sweep", "--sparsities", "0.5,1.5", "--out", O], "--sparsities must be < 1.0"),
    (["sweep", "--seeds", ",", "--out", O], "--seeds must not be empty"),
    (["sweep", "--workers", "0", "--out", O], "--workers must be >= 1"),
    (["sense", "--steps", "-1", "--out", O], "--steps must be >= 0"),
    (["sense", "--model", "resnet-50", "--out", O], "--model: unknown value 'resnet-50'"),
    (["sense", "--neighbours", "0", "--out", O], "--neighbours must be >= 1"),
    (["sense", "--neighbours", "conv1=x", "--out", O], "invalid neighbours value"),
    (["sense", "--steps", "2", "--neighbours", "conv3=5", "--out", O], "no layer 'conv3'"),
    (["sense", "--device", "tpu", "--out", O], "unknown device"),
    (["siren", "--device", "tpu", "--epochs", "0,0,0,0", "--out", O], "unknown device"),
    (["freenet", "--device", "cuda:7", "--epochs", "1", "--out", O], "device 'cuda:7'"),
    (["sense", "--init", "{in}/missing.pt", "--out", O], "no such model file"),
    (["sense", "--init", "{in}/empty.pt", "--out", O], "not a readable torch file"),
    (["sense", "--init", "{in}/cut.rwt", "--out", O], "truncated or corrupt"),
    (["sense", "--init", "{in}/nospec.pt", "--out", O], "not a rewire model file"),
    (["sense", "--batch", "-5", "--out", O], "--batch must be >= 0"),
    (["sense", "--init", "psiren", "--model", "car-cnn", "--out", O], "--init psiren trains"),
    (["neighbours", "{in}/missing.rwt", "--out", O], "no such model file"),
    (["neighbours", "{in}/good.rwt", "--split", "train", "--out", O], "--split: unknown value"),
    (["neighbours", "{in}/good.rwt", "--count", "0", "--out", O], "--count must be >= 1"),
    (["freenet", "--k", "0", "--out", O], "--k must be >= 1"),
    (["freenet", "--epsilon", "0", "--out", O], "--epsilon must lie in (0, 1)"),
    (["freenet", "--dropout", "1.0", "--out", O], "--dropout must be < 1.0"),
    (["freenet-table", "--datasets", "mnist,foo", "--out", O], "--datasets: unknown value 'foo'"),
    (["freenet-theorem", "--k", "1", "--out", O], "--k must be >= 2"),
    (["prune-ffn", "--methods", "taylor", "--out", O], "--methods: unknown value 'taylor'"),
    (["prune-ffn", "--models", "resnet", "--out", O], "--models: unknown value 'resnet'"),
    (["prune-rnn", "--amounts", "0.5,1.2", "--out", O], "--amounts must be in [0, 1]"),
    (["prune-rnn", "--cells", "lstm2", "--out", O], "--cells: unknown value 'lstm2'"),
    (["priors", "--nodes", "9,3", "--out", O], "--nodes must be a range"),
    (["priors", "--generators", "erdos", "--out", O], "--generators: unknown value 'erdos'"),
    (["priors", "--graphs", "0", "--out", O], "--graphs must be >= 1"),
    (["predict", "{in}/missing.json", "--out", O], "no such results file"),
    (["predict", "{in}/list.json", "--out", O], "has no rows"),
    (["predict", "{in}/results.json", "--out", O], "row 0 lacks"),
    (["predict", "{in}/broken.json", "--out", O], "not a JSON results file"),
    (["report", "{in}/results.json"], "not a readable torch file"),
    (["report", "{in}/missing.rwt"], "no such model file"),
    (["report", "{in}/cut.rwt"], "truncated or corrupt"),
    (["report", "{in}/empty.pt"], "not a readable torch file"),
    (["car", "expert", "--seeds", "0", "--out", O], "--seeds must be >= 1"),
    (["car", "expert", "--seeds-from", "-1", "--out", O], "--seeds-from must be >= 0"),
    (["car", "expert"], "required: --out"),
    (["car"], "required"),
    (["car", "steer"], "invalid choice"),
    (["car", "record", "--actions", "4", "--out", O], "--actions must be 3 or 5"),
    (["car", "drive", "{in}/missing.rwt", "--out", O], "no such model file"),
    (["car", "drive", "{in}/cut.rwt", "--out", O], "truncated or corrupt"),
    (["car", "drive", "{in}/missing.rwt", "--video", "a.avi", "--out", O], ".gif or .mp4"),
    (["car", "record", "--seeds-from", "99990", "--out", O], "reach the evaluation seeds"),
    (["siren", "--dataset", "carracing", "--data-dir", "{in}", "--out", O], "no demonstrations"),
    (["car", "train", "{in}", "--out", O], "no demonstrations"),
    (["car", "train", "{in}", "--rounds", "3", "--seeds-from", "99980", "--out", O],
     "reach the evaluation seeds"),
    (["car", "train", "{in}", "--epochs", "1,2", "--out", O], "four numbers"),
    (["car", "train", "--out", O], "required"),
    (["nas", "search", "--population", "10", "--candidates", "5", "--out", O],
     "must be at least --population"),
    (["nas", "search", "--depth", "9,6", "--out", O], "lo <= hi"),
    (["nas", "search", "--strategies", "annealing", "--out", O], "unknown value 'annealing'"),
    (["nas", "search", "--mutation", "1.5", "--out", O], "probability"),
    (["nas", "search", "--dataset", "carracing", "--out", O], "unknown value 'carracing'"),
    (["nas", "train", "{in}/missing.json", "--out", O], "no such"),
    (["nas", "train", "{in}/broken.json", "--out", O], "json"),
    (["nas", "train", "{in}/list.json", "--out", O], "genotype"),
    (["nas", "draw", "{in}/unknown.json", "--out", O], "genotype"),
    (["nas", "train", "{in}/a-file", "--out", O], "json"),
]


def _listing(root):
    return sorted((str(p.relative_to(root)), p.read_bytes() if p.is_file() else None)
                  for p in root.rglob("*"))


@pytest.mark.parametrize("argv,message", BAD, ids=[" ".join(a[:3]) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(argv, message, files, tmp_path,
                                                         capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    argv = [a.format(out=out, **{"in": files}) for a in argv]
    before = _listing(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rewire"), captured.err
    assert message.lower() in err[0].lower(), err[0]
    assert "Traceback" not in captured.err + captured.out
    assert _listing(tmp_path) == before  # nothing written, nothing left behind


def test_at_least_40_bad_inputs_across_every_command():
    assert len(BAD) >= 40
    named = {" ".join(a[:n]) for a, _ in BAD for n in (1, 2)}
    assert named >= set(COMMANDS)


def test_a_typo_leaves_no_folder_and_the_corrected_command_runs_into_it(tmp_path, capsys):
    out = tmp_path / "P"
    bad = ["prune-ffn", "--dataset", "digits", "--models", "mlp-100", "--methods", "taylor",
           "--schemes", "one-shot", "--seeds", "0", "--base-epochs", "1", "--out", str(out)]
    assert main(bad) == 2 and not out.exists()
    good = [a if a != "taylor" else "magnitude-uniform" for a in bad]
    assert main(good) == 0
    assert json.loads((out / "results.json").read_text())["rows"]


def test_a_run_stopped_at_its_config_is_not_a_run(tmp_path):
    """An older version left config.json before validating: a new config replaces it."""
    from rewire.runs import RunFolder

    RunFolder(tmp_path, {"experiment": "x", "methods": ["taylor"]})
    run = RunFolder(tmp_path, {"experiment": "x", "methods": ["random"]})
    assert json.loads((tmp_path / "config.json").read_text())["methods"] == ["random"]
    assert not run.resumed


def test_time_budgets_are_not_part_of_a_run(tmp_path):
    a = configs.SenseRun(max_minutes=10, device="cpu", out="a")
    b = configs.SenseRun(max_minutes=60, device="cuda", out="b")
    assert configs.identity(a) == configs.identity(b)


def test_config_file_and_print_config(tmp_path, capsys):
    f = tmp_path / "c.toml"
    f.write_text('dataset = "mnist"\nsparsity = 0.5\nepochs = [1, 2, 3, 4]\n')
    assert main(["siren", "--config", str(f), "--sparsity", "0.7", "--out", "x",
                 "--print-config"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert (cfg["dataset"], cfg["sparsity"], cfg["epochs"]) == ("mnist", 0.7, [1, 2, 3, 4])
    assert not (tmp_path / "x").exists()


def test_every_option_has_help_and_shows_its_default():
    def leaves(parser, prefix=""):
        for a in parser._actions:
            if a.dest in ("command", "leaf"):
                for name, p in a.choices.items():
                    yield from leaves(p, f"{prefix}{name} ")
                return
        yield prefix.strip(), parser

    named = dict(leaves(build_parser()))
    assert set(named) == set(COMMANDS)
    for name, p in named.items():
        for action in p._actions:
            if action.dest in ("help",):
                continue
            assert action.help, (name, action.dest)
        text = p.format_help()
        assert "(default:" in text or name in ("report", "predict"), name


def test_names_in_the_configs_match_the_registries():
    from rewire import prune
    from rewire.data import DATASETS
    from rewire.graphs import GENERATORS
    from rewire.models import CELLS, list_models

    assert tuple(DATASETS) == configs.DATASETS
    assert tuple(prune.METHODS) == configs.PRUNE_METHODS
    assert tuple(prune.SCHEMES) == configs.PRUNE_SCHEMES
    assert tuple(CELLS) == configs.CELLS and tuple(GENERATORS) == configs.GENERATORS
    assert set(configs.SEARCHABLE) <= set(list_models())


def test_version_and_python_dash_m(tmp_path):
    r = subprocess.run([sys.executable, "-m", "rewire", "--version"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stdout.startswith("rewire ")


def test_ctrl_c_says_how_to_resume(monkeypatch, tmp_path, capsys):
    from rewire.experiments import commands

    def interrupted(cfg):
        raise KeyboardInterrupt
    monkeypatch.setattr(commands, "siren", interrupted)
    assert main(["siren", "--out", str(tmp_path / "r")]) == 130
    assert capsys.readouterr().err.strip() == ("rewire: interrupted; re-run the same command "
                                               "to resume")


def test_an_internal_error_is_one_line_with_the_traceback_saved(monkeypatch, tmp_path, capsys):
    from rewire.experiments import commands

    def broken(cfg):
        raise ZeroDivisionError("division by zero")
    monkeypatch.setattr(commands, "siren", broken)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert main(["siren", "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "internal error (ZeroDivisionError" in err[0]
    saved = err[0].rsplit(" ", 1)[-1]
    assert "Traceback" in open(saved).read()
    os.remove(saved)
