"""rewire: the wiring of sparse, ternary and topology-learned neural networks."""

__version__ = "0.1.0"
