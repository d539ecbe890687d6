"""rewire: the wiring of sparse, ternary and topology-learned neural networks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rewire")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
