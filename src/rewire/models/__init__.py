"""The papers' architectures, made by name."""

from .aann import AANNCNN
from .layers import HardTanh, set_grad_width
from .registry import create_model, list_models, model_spec, register_model

__all__ = ["AANNCNN", "HardTanh", "create_model", "list_models", "model_spec",
           "register_model", "set_grad_width"]
