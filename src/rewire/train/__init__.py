"""The one training loop, its devices and its batch augmentations."""

from .augment import cutout, flip_translate
from .device import check_device
from .loop import SCHEDULES, evaluate, fit, make_optimizer, predict

__all__ = ["SCHEDULES", "check_device", "cutout", "evaluate", "fit", "flip_translate",
           "make_optimizer", "predict"]
