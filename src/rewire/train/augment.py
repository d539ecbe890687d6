"""Batch augmentations for images, drawn from a seeded generator (same seed, same batches).

An augmentation is any callable ``augment(x, generator) -> x`` on a batch of
``(N, C, H, W)`` images; :func:`~rewire.train.fit` calls it on every training batch with a
generator seeded by ``(seed, epoch)``, so a resumed run augments exactly as an uninterrupted
one.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["Augment", "flip_translate"]

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def flip_translate(pad: int = 4, flip: bool = True) -> Augment:
    """Random horizontal flips and translations by up to ``pad`` pixels (the standard
    CIFAR-10 augmentation: pad by reflection, crop back at a random offset).

    Args:
        pad: largest shift in pixels, in each direction.
        flip: flip each image left-right with probability 1/2.

    Returns:
        The augmentation, ``augment(x, generator) -> x`` (same shape, same device).

    Raises:
        ValueError: a negative ``pad``.

    Example:
        >>> aug = flip_translate(pad=2)
        >>> x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
        >>> out = aug(x, torch.Generator().manual_seed(0))
        >>> out.shape == x.shape
        True
        >>> torch.equal(aug(x, torch.Generator().manual_seed(0)), out)
        True
    """
    if pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}")

    def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n, _, h, w = x.shape
        if flip:
            flips = torch.rand(n, generator=generator) < 0.5
            x = torch.where(flips.to(x.device)[:, None, None, None], x.flip(3), x)
        if pad == 0:
            return x
        oy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(x.device)
        ox = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(x.device)
        padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
        rows = (oy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
        cols = (ox[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
        batch = torch.arange(n, device=x.device)[:, None, None, None]
        chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
        return padded[batch, chans, rows, cols]

    return augment
