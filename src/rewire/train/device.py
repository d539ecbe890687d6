"""Devices: one check that turns a user's ``device`` into a torch device or one clear line."""

from __future__ import annotations

import torch

__all__ = ["check_device"]


def check_device(device: str | torch.device | None) -> torch.device:
    """A torch device that exists here (``None`` means the CPU).

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``torch.device`` or ``None``.

    Returns:
        The ``torch.device``.

    Raises:
        ValueError: one line, for an unknown name or a CUDA device this machine lacks.

    Example:
        >>> check_device(None)
        device(type='cpu')
        >>> check_device("gpu")
        Traceback (most recent call last):
        ...
        ValueError: unknown device 'gpu' (expected 'cpu', 'cuda' or 'cuda:N')
    """
    try:
        dev = torch.device(device if device is not None else "cpu")
    except RuntimeError:
        raise ValueError(f"unknown device {device!r} (expected 'cpu', 'cuda' or 'cuda:N')"
                         ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but this machine has no CUDA device")
    if dev.type == "cuda" and (dev.index or 0) >= torch.cuda.device_count():
        raise ValueError(f"device {device!r} asked for, but this machine has "
                         f"{torch.cuda.device_count()} CUDA device(s)")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device {device!r}: rewire runs on 'cpu' or 'cuda'")
    return dev
