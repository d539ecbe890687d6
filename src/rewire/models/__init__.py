"""The papers' architectures, made by name."""

from .aann import AANNCNN
from .files import load_model
from .mlp import mlp
from .registry import create_model, list_models, model_spec, register_model
from .rnn import CELLS, GraphNet, GraphRNN, ReberRNN

__all__ = ["AANNCNN", "CELLS", "GraphNet", "GraphRNN", "ReberRNN", "create_model",
           "list_models", "load_model", "mlp", "model_spec", "register_model"]
