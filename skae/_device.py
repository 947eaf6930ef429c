"""Where and how reproducibly torch runs: the device and the seed of a fit.

Shared by the estimators, model files (:mod:`skae._io`) and the benchmarks,
which must seed a plain PyTorch loop exactly as a fit is seeded.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = ["resolve_device", "seeded", "torch_seed"]


def resolve_device(device):
    """The torch device a fit (or a loaded model) runs on.

    ``"auto"`` -> ``"cuda"`` when PyTorch sees a GPU, else ``"cpu"``; any
    other value is checked and returned as given.

    Raises
    ------
    ValueError
        If ``device`` is not a device name torch knows (``"cpu"``,
        ``"cuda"``, ``"cuda:1"``, ``"mps"``...), or names a CUDA or MPS
        device this machine's PyTorch does not see.
    """
    if str(device) == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a device torch knows ({exc}): use 'auto', 'cpu', "
            "'cuda', 'cuda:N', 'mps' or a torch.device."
        ) from None
    if kind not in ("cpu", "cuda", "mps", "xpu"):
        raise ValueError(
            f"device={device!r} is a {kind!r} device, which cannot train a network: use "
            "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'."
        )
    if kind == "xpu" and not (hasattr(torch, "xpu") and torch.xpu.is_available()):
        raise ValueError(
            f"device={device!r} but PyTorch sees no Intel XPU: use device='auto' or 'cpu'."
        )
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but PyTorch sees no CUDA GPU (torch.cuda.is_available() "
            "is False; a CPU-only torch build, or no driver): use device='auto' to fall "
            "back to the CPU, or device='cpu'."
        )
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"device={device!r} but PyTorch sees no Apple MPS device "
            "(torch.backends.mps.is_available() is False): use device='auto' or 'cpu'."
        )
    return device


def torch_seed(random_state):
    """The torch seed a fit draws from ``random_state`` (an int in [0, 2**31 - 1))."""
    rng = check_random_state(random_state)
    return int(rng.randint(np.iinfo(np.int32).max))


@contextmanager
def seeded(seed, device):
    """Seed torch for the duration of a fit without touching the caller's RNG."""
    devices = []
    if str(device).startswith("cuda") and torch.cuda.is_available():
        devices = [torch.device(device).index or 0]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
