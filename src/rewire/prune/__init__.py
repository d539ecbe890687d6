"""Pruning: selection methods and schedules over masks."""

from .methods import Magnitude, PruningMethod, apply_pruning, check_amount, magnitude
from .schedules import GradualPruning, gradual_amount

__all__ = ["GradualPruning", "Magnitude", "PruningMethod", "apply_pruning", "check_amount",
           "gradual_amount", "magnitude"]
