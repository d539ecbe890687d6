"""Search over wirings: bit-swap moves, exact full and delta evaluators, SENSE."""

from .evaluator import DeltaEvaluator, make_evaluator, read_ternary
from .forward import ForwardEvaluator
from .moves import apply_swap, max_neighbours, nth_neighbour, sample_swaps
from .sense import SenseConfig, run_sense, with_wiring

__all__ = ["DeltaEvaluator", "ForwardEvaluator", "apply_swap", "make_evaluator",
           "max_neighbours", "nth_neighbour", "read_ternary", "run_sense", "sample_swaps",
           "SenseConfig", "with_wiring"]
