"""Where and how reproducibly torch runs: device, seed and optimizer resolution.

Shared by the estimators (:mod:`skae._base`), model files (:mod:`skae._io`)
and the benchmarks, which must seed a plain PyTorch loop exactly as a fit is
seeded.
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.utils import check_random_state

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}


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


def resolve_optimizer(optimizer, optimizer_params):
    """The optimizer class and its keyword arguments, checked against its signature.

    Parameters
    ----------
    optimizer : str or type
        A name in ``OPTIMIZERS`` or a ``torch.optim.Optimizer`` subclass.
    optimizer_params : dict or None
        Keyword arguments of the optimizer (``weight_decay``, ``momentum``,
        ``betas``, ...), except ``lr`` (an estimator parameter of its own).

    Returns
    -------
    optimizer_class : type
    kwargs : dict
        ``optimizer_params`` as skorch takes them: ``{"optimizer__<name>": value}``.

    Raises
    ------
    ValueError
        If ``optimizer_params`` names ``lr`` or an argument the optimizer
        does not take.
    """
    cls = OPTIMIZERS[optimizer] if isinstance(optimizer, str) else optimizer
    params = dict(optimizer_params or {})
    if "lr" in params:
        raise ValueError(
            f"optimizer_params sets lr={params['lr']!r}; the learning rate is a parameter "
            f"of its own: pass lr={params['lr']!r} and drop it from optimizer_params."
        )
    try:
        accepted = set(inspect.signature(cls).parameters) - {"params", "self"}
    except (TypeError, ValueError):  # no signature to read: let the optimizer decide
        accepted = set(params)
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(
            f"optimizer_params names {unknown}, which {cls.__name__} does not take; "
            f"it takes {sorted(accepted - {'lr'})}."
        )
    return cls, {f"optimizer__{k}": v for k, v in params.items()}
