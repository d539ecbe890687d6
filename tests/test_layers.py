"""The layer contract: the library never imports the experiment layer or the command line,
and its packages import each other without cycles (lazy imports inside functions count)."""

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx

SRC = Path(__file__).resolve().parents[1] / "src" / "rewire"
LIBRARY = ("sparse", "prune", "train", "data", "models", "graphs", "search", "freenet",
           "predict", "siren", "car", "nas")
# the order the packages may import in: each only from those before it
ORDER = ["extras", "files", "seeds", "progress", "registry", "configs", "runs", "data",
         "sparse", "graphs", "models", "prune", "train", "predict", "nas", "search", "freenet",
         "siren", "car", "experiments", "cli"]


def _unit(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    return rel.parts[0]


def _imports(path: Path) -> set[str]:
    """The rewire units a module imports, at top level or inside functions."""
    tree = ast.parse(path.read_text())
    pkg = path.relative_to(SRC).parent.parts
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(pkg[: len(pkg) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [])
                if not parts:  # "from . import x" at the top
                    parts = [a.name for a in node.names]
                out.add(parts[0])
            elif node.module and node.module.split(".")[0] == "rewire":
                parts = node.module.split(".")[1:] or [a.name for a in node.names]
                out.add(parts[0])
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("rewire."):
                    out.add(a.name.split(".")[1])
    return out


def _graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for path in SRC.rglob("*.py"):
        unit = _unit(path)
        if unit in ("__init__", "__main__"):
            continue
        g.add_node(unit)
        for other in _imports(path) - {unit}:
            g.add_edge(unit, other)
    return g


def test_library_never_imports_the_experiment_layer_or_the_cli():
    g = _graph()
    for unit in LIBRARY:
        assert not ({"experiments", "cli"} & set(g.successors(unit))), unit


def test_units_import_only_lower_units_and_have_no_cycles():
    g = _graph()
    assert nx.is_directed_acyclic_graph(g), list(nx.simple_cycles(g))
    bad = [(a, b) for a, b in g.edges if ORDER.index(b) > ORDER.index(a)]
    assert not bad, f"imports against the layer order {ORDER}: {bad}"


def test_help_imports_no_torch():
    code = ("import sys; from rewire.cli import build_parser; build_parser(); "
            "print('torch' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]
