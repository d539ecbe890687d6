"""p-SIREN: dense -> gradual magnitude sparsification -> sparse fine-tune -> ternary + STE."""

from .psiren import PRESETS, SirenConfig, run_psiren, train_dense

__all__ = ["PRESETS", "SirenConfig", "run_psiren", "train_dense"]
