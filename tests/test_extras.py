"""The light core: torch and numpy are enough for the library's core; a missing optional
dependency is one line naming the extra that brings it."""

import subprocess
import sys

import pytest

from rewire.cli import main
from rewire.extras import MissingExtra, extra_for, require

OPTIONAL = ["sklearn", "scipy", "numba", "matplotlib", "tqdm", "safetensors", "ray",
            "gymnasium", "Box2D", "imageio"]


def test_the_core_imports_with_no_optional_dependency():
    blocked = ", ".join(repr(m) for m in OPTIONAL)
    code = f"""
import sys
for name in [{blocked}]:
    sys.modules[name] = None  # import of it fails as if not installed
import rewire.sparse, rewire.prune, rewire.train, rewire.search, rewire.models, rewire.siren
import torch
from rewire.models import create_model
from rewire.sparse import ternarize, is_ternary
from rewire.progress import Progress
m = ternarize(create_model("aann-mnist-cnn", (1, 8, 8)))
Progress(3, "x").update()
print(is_ternary(m), sorted(n for n in [{blocked}] if sys.modules.get(n) is not None))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "[]"]


def test_require_names_the_extra():
    assert require("json", "x").__name__ == "json"
    assert extra_for("sklearn.manifold") == "graphs" and extra_for("numba") == "freenet"
    with pytest.raises(MissingExtra, match=r"rewire\.graphs needs networkx.*rewire\[graphs\]"):
        require("networkx.nope", "rewire.graphs")


@pytest.mark.parametrize("module,extra", [("sklearn", "graphs"), ("matplotlib", "plots")])
def test_a_command_without_its_extra_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch,
                                                             module, extra):
    for name in list(sys.modules):
        if name == module or name.startswith(module + "."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)
    out = tmp_path / "run"
    assert main(["freenet", "--k", "6", "--epochs", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"pip install 'rewire[{extra}]'" in err[0], err
    assert not out.exists()


def test_version_comes_from_the_package_metadata_and_the_package_is_typed():
    from importlib.metadata import version
    from pathlib import Path

    import rewire

    assert rewire.__version__ == version("rewire")
    assert (Path(rewire.__file__).parent / "py.typed").is_file()
