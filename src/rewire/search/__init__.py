"""Search over wirings: bit-swap moves, exact full and delta evaluators."""

from .evaluator import AANNEvaluator
from .moves import apply_swap, max_neighbours, nth_neighbour, sample_swaps

__all__ = ["AANNEvaluator", "apply_swap", "max_neighbours", "nth_neighbour", "sample_swaps"]
