"""Pick the torch device a user asked for, or the best one present."""

from __future__ import annotations

import torch

from gnas.errors import GnasError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` means CUDA when present, else CPU; an unavailable device is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise GnasError(f"--device: {name!r} is not a device name (try auto, cpu, cuda, cuda:1)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GnasError(f"--device: {name!r} requested but CUDA is not available on this machine")
    return device
