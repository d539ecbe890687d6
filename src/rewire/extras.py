"""Optional dependencies: which extra of ``pip install 'rewire[...]'`` brings each one.

The core (``rewire.sparse``, ``prune``, ``train``, ``search``, ``models``, ``siren``,
``data`` for the IDX data sets) needs torch and numpy only. A feature that needs more
imports it through :func:`require`, which names the extra in one line when it is missing;
the command line turns a missing module into that line and exit code 2.

Example:
    >>> require("numpy", "arrays").__name__
    'numpy'
    >>> extra_for("networkx")
    'graphs'
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "MissingExtra", "require", "extra_for", "missing_line"]

# top-level module -> (the PyPI package, the extra that installs it)
EXTRAS = {
    "networkx": ("networkx", "graphs"),
    "sklearn": ("scikit-learn", "graphs"),
    "scipy": ("scipy", "graphs"),
    "numba": ("numba", "freenet"),
    "matplotlib": ("matplotlib", "plots"),
    "tqdm": ("tqdm", "plots"),
    "safetensors": ("safetensors", "io"),
    "ray": ("ray", "ray"),
    "gymnasium": ("gymnasium[box2d]", "car"),
    "Box2D": ("gymnasium[box2d]", "car"),
    "imageio": ("imageio", "car"),
    "mkdocs": ("mkdocs-material", "docs"),
}


class MissingExtra(ModuleNotFoundError):
    """An optional dependency is not installed; the message names the extra."""


def extra_for(module: str) -> str | None:
    """The extra that installs top-level ``module`` (None when rewire does not know it)."""
    entry = EXTRAS.get(module.split(".")[0])
    return entry[1] if entry else None


def missing_line(module: str, feature: str | None = None) -> str:
    """``FEATURE needs PACKAGE: pip install 'rewire[EXTRA]'`` for a missing ``module``."""
    root = module.split(".")[0]
    package, extra = EXTRAS.get(root, (root, None))
    how = f"pip install 'rewire[{extra}]'" if extra else f"pip install {package}"
    return f"{feature or 'this'} needs {package}, which is not installed: {how}"


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtra` naming the extra to install.

    Args:
        module: the module to import (``"networkx"``, ``"sklearn.manifold"``).
        feature: what needs it, for the message (``"rewire.graphs"``).

    Returns:
        The imported module.

    Raises:
        MissingExtra: the module (or a module it imports) is not installed.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise MissingExtra(missing_line(exc.name or module, feature),
                           name=exc.name) from None
