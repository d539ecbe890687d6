"""Search over wirings: bit-swap moves, exact full and delta evaluators, SENSE."""

from .evaluator import DeltaEvaluator, make_evaluator, read_ternary
from .forward import ForwardEvaluator
from .moves import apply_swap, max_neighbours, nth_neighbour, sample_swaps

__all__ = ["DeltaEvaluator", "ForwardEvaluator", "apply_swap", "make_evaluator",
           "max_neighbours", "nth_neighbour", "read_ternary", "sample_swaps"]
