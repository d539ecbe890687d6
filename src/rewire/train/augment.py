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

__all__ = ["Augment", "cutout", "flip_translate"]

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


def cutout(size: int = 16) -> Augment:
    """Cutout (DeVries and Taylor, 2017): one ``size`` x ``size`` square per image, centred
    at a uniformly drawn pixel and clipped at the border, set to zero (the mean of
    standardised inputs).

    Args:
        size: side of the square in pixels (the paper's 16 for CIFAR-10); 0 leaves the
            batch unchanged.

    Returns:
        The augmentation, ``augment(x, generator) -> x`` (same shape, same device).

    Raises:
        ValueError: a negative ``size``.

    Example:
        >>> x = torch.ones(3, 1, 8, 8)
        >>> out = cutout(4)(x, torch.Generator().manual_seed(0))
        >>> [int((img == 0).sum()) <= 16 for img in out], bool((out == 0).any())
        ([True, True, True], True)
    """
    if size < 0:
        raise ValueError(f"cutout size must be >= 0, got {size}")

    def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if size == 0:
            return x
        n, _, h, w = x.shape
        cy = torch.randint(0, h, (n,), generator=generator).to(x.device)
        cx = torch.randint(0, w, (n,), generator=generator).to(x.device)
        rows = torch.arange(h, device=x.device)[None, :] - (cy[:, None] - size // 2)
        cols = torch.arange(w, device=x.device)[None, :] - (cx[:, None] - size // 2)
        inside = (((rows >= 0) & (rows < size))[:, :, None]
                  & ((cols >= 0) & (cols < size))[:, None, :])
        return x.masked_fill(inside[:, None], 0.0)

    return augment
