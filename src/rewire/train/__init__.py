"""The one training loop, its devices and its batch augmentations."""

from .augment import flip_translate
from .device import check_device
from .loop import SCHEDULES, evaluate, fit, make_optimizer, predict

__all__ = ["SCHEDULES", "check_device", "evaluate", "fit", "flip_translate", "make_optimizer",
           "predict"]
