"""The one resolver of torch devices for the package (``"auto"``, names, ``torch.device``).

Imports torch only inside the function, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import Any


def resolve_device(device: Any = "auto") -> Any:
    """A ``torch.device`` for ``device``; ``"auto"`` (or None) is CUDA when available, else CPU.

    Raises a ``ValueError`` naming ``device`` for an unknown name, and for a CUDA device on a
    machine without CUDA or without that device index.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    import torch

    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str | torch.device):
        raise ValueError(
            f"device: expected 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device, got {type(device).__name__}"
        )
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError) as err:
        raise ValueError(
            f"device: expected 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device, got {device!r}"
        ) from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device: expected 'auto' or 'cpu' on this machine (torch sees no CUDA "
                f"GPU; a CUDA build of torch and a driver are needed), got {device!r}"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device: expected a CUDA index below {torch.cuda.device_count()}, got {device!r}"
            )
    elif dev.type not in ("cpu", "mps"):
        raise ValueError(f"device: expected 'auto', 'cpu' or 'cuda[:N]', got {device!r}")
    return dev
