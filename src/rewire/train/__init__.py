"""The one training loop."""

from .loop import evaluate, fit, make_optimizer, predict

__all__ = ["evaluate", "fit", "make_optimizer", "predict"]
