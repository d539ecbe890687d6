"""Sparsity and ternarization on standard torch layers; the wiring type."""

from .export import (
    load_packed,
    pack_ternary,
    packed_report,
    read_packed,
    save_packed,
    unpack_ternary,
)
from .interop import MASK_PREFIX, bake, load_safetensors, save_safetensors
from .masks import (
                    Mask,
                    get_mask,
                    is_sparse,
                    layer_param,
                    masks,
                    prunable_weights,
                    set_mask,
                    sparsify,
)
from .report import format_report, sign_counts, sparsity, sparsity_report
from .ternary import Ternary, is_ternary, ternarize
from .wiring import Wiring, random_wiring, read_wiring, write_wiring

__all__ = ["MASK_PREFIX", "Mask", "Ternary", "Wiring", "bake", "format_report", "get_mask",
           "is_sparse", "is_ternary", "layer_param", "load_packed", "load_safetensors", "masks",
           "pack_ternary", "packed_report", "prunable_weights", "random_wiring", "read_packed",
           "read_wiring", "save_packed", "save_safetensors", "set_mask", "sign_counts",
           "sparsify", "sparsity", "sparsity_report", "ternarize", "unpack_ternary",
           "write_wiring"]
