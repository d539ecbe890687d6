"""The wiring of a ternary network: per layer, an int8 tensor in {-1, 0, +1}.

One type for every algorithm over structure: p-SIREN produces a wiring, SENSE moves through
the space of them, a pruning method edits one, the graph view reads one.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import nn

from .masks import Mask, param_list, prunable_weights, sparsify
from .report import sign_counts

__all__ = ["Wiring", "read_wiring", "write_wiring", "random_wiring"]


class Wiring(dict):
    """Mapping layer name -> int8 tensor with values in {-1, 0, +1}.

    A ``dict`` subclass, built like a dict; layer names are those of ``prunable_weights``.

    Example:
        >>> w = Wiring({"weight": torch.tensor([[1, 0], [0, -1]], dtype=torch.int8)})
        >>> w.sparsity, w.counts()
        (0.5, {'weight': {'minus': 1, 'zero': 2, 'plus': 1}})
    """

    def counts(self) -> dict[str, dict[str, int]]:
        """Per layer, how many weights are -1, 0 and +1."""
        return {name: sign_counts(w) for name, w in self.items()}

    @property
    def sparsity(self) -> float:
        """Share of zeros over all layers' entries (0.0 for an empty wiring)."""
        counts = self.counts().values()
        return sum(c["zero"] for c in counts) / max(sum(sum(c.values()) for c in counts), 1)

    def clone(self) -> Wiring:
        """A copy with every tensor cloned."""
        return Wiring({k: v.clone() for k, v in self.items()})

    def same_family(self, other: Wiring) -> bool:
        """True when both wirings have the same per-layer counts of -1, 0 and +1."""
        return self.keys() == other.keys() and self.counts() == other.counts()


def read_wiring(model: nn.Module) -> Wiring:
    """The sign pattern of every prunable weight (the effective, masked weight).

    Args:
        model: The model to read (not modified).

    Returns:
        The ``Wiring``: per prunable layer, the int8 sign of its weight, row-major.

    Example:
        >>> m = nn.Linear(2, 2)
        >>> _ = nn.init.eye_(m.weight)
        >>> read_wiring(m)["weight"]
        tensor([[1, 0],
                [0, 1]], dtype=torch.int8)
    """
    return Wiring({
        name: torch.sign(getattr(module, pname).detach()).to(torch.int8)
        .contiguous(memory_format=torch.contiguous_format)  # flat indices are row-major
        for name, (module, pname) in prunable_weights(model).items()
    })


def write_wiring(model: nn.Module, wiring: Wiring) -> nn.Module:
    """Set masks to ``wiring != 0`` and weights to the wiring's values (magnitude 1).

    Args:
        model: The model to rewire, in place; masks are added first where missing.
        wiring: Layer name -> tensor of that weight's shape with values in {-1, 0, +1};
            layers it does not name are left as they are.

    Returns:
        ``model`` itself.

    Raises:
        KeyError: If ``wiring`` names a layer ``model`` does not have (nothing is written).
        ValueError: If a tensor has another shape than its weight or a value outside
            {-1, 0, +1}.

    Example:
        >>> w = Wiring({"weight": torch.tensor([[1, 0], [0, -1]], dtype=torch.int8)})
        >>> read_wiring(write_wiring(nn.Linear(2, 2), w))["weight"].tolist()
        [[1, 0], [0, -1]]
    """
    sparsify(model)
    layers = prunable_weights(model)
    unknown = set(wiring) - set(layers)
    if unknown:
        raise KeyError(f"wiring names layers {sorted(unknown)} the model does not have")
    with torch.no_grad():
        for name, w in wiring.items():
            module, pname = layers[name]
            param = param_list(module, pname)
            if w.shape != param.original.shape:
                raise ValueError(f"wiring for {name!r} has shape {tuple(w.shape)}, "
                                 f"expected {tuple(param.original.shape)}")
            if w.abs().max() > 1:
                raise ValueError(f"wiring for {name!r} has values outside {{-1, 0, 1}}")
            cast(Mask, param[0]).mask.copy_(w != 0)
            param.original.copy_(w.to(param.original.dtype))
    return model


def random_wiring(model: nn.Module, sparsity: float, seed: int = 0) -> Wiring:
    """A random sparse ternary wiring for ``model``: in every layer exactly
    ``round(sparsity * n)`` zeros at uniformly random places, the rest -1 or +1 at random.

    Args:
        model: The model whose prunable weights give the layer names and shapes (not
            modified).
        sparsity: The share of zeros in every layer, in [0, 1).
        seed: Seed of a private generator (the global torch RNG is not touched).

    Returns:
        The ``Wiring``, one int8 tensor per prunable layer.

    Raises:
        ValueError: If ``sparsity`` is not in [0, 1).

    Example:
        >>> w = random_wiring(nn.Linear(10, 10), sparsity=0.9, seed=1)
        >>> w.counts()["weight"]["zero"], w.sparsity
        (90, 0.9)
    """
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity!r}")
    g = torch.Generator().manual_seed(seed)
    out = Wiring()
    for name, (module, pname) in prunable_weights(model).items():
        shape = getattr(module, pname).shape
        n = int(torch.Size(shape).numel())
        keep = n - round(sparsity * n)
        flat = torch.zeros(n, dtype=torch.int8)
        where = torch.randperm(n, generator=g)[:keep]
        flat[where] = (torch.randint(0, 2, (keep,), generator=g) * 2 - 1).to(torch.int8)
        out[name] = flat.view(shape)
    return out
