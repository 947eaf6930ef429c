"""Where and how reproducibly torch runs: device, seed, optimizer and
learning-rate schedule resolution.

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
from skorch.callbacks import LRScheduler
from torch.optim.lr_scheduler import ConstantLR, CosineAnnealingLR, OneCycleLR, SequentialLR

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

LR_SCHEDULES = ("cooldown", "onecycle", "cosine", "constant")

# The share of a "cooldown" run held at the constant rate before it anneals.
COOLDOWN_HOLD = 0.7


def constant_then_cosine(optimizer, total_steps, hold_fraction=COOLDOWN_HOLD, last_epoch=-1):
    """A constant learning rate, then a cosine anneal to 0 (``lr_schedule="cooldown"``).

    Torch's ``ConstantLR`` (a factor of 1) for the first ``hold_fraction`` of
    ``total_steps``, then ``CosineAnnealingLR`` over the rest, chained by
    ``SequentialLR``: the "constant learning rate with cooldown" of Hägele
    et al., "Scaling laws and compute-optimal training beyond fixed training
    durations" (NeurIPS 2024), who find it matches a cosine schedule. The
    signature is that of a torch scheduler class, as skorch's
    ``LRScheduler(policy=...)`` builds it; every run starts afresh
    (``last_epoch`` must be -1).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    total_steps : int
        Steps of the whole run, at least 2.
    hold_fraction : float, default=0.7
        Share of the steps at the constant rate, in (0, 1).
    last_epoch : int, default=-1
        Accepted for skorch; only -1 (a new run) is supported.

    Returns
    -------
    scheduler : torch.optim.lr_scheduler.SequentialLR
    """
    if last_epoch != -1:
        raise ValueError(f"last_epoch={last_epoch}: a cooldown schedule always starts afresh (-1).")
    hold = min(max(int(hold_fraction * total_steps), 1), total_steps - 1)
    return SequentialLR(
        optimizer,
        [
            ConstantLR(optimizer, factor=1.0, total_iters=hold),
            CosineAnnealingLR(optimizer, T_max=total_steps - hold),
        ],
        milestones=[hold],
    )


def lr_schedule_callback(schedule, lr, n_steps):
    """skorch's ``LRScheduler`` callback for ``lr_schedule`` over one training run.

    Parameters
    ----------
    schedule : {"cooldown", "onecycle", "cosine", "constant"}
        ``"cooldown"``: ``lr`` for the first 70 % of the steps, then a cosine
        anneal to 0 (:func:`constant_then_cosine`). ``"onecycle"``: Smith &
        Topin's one-cycle policy ("Super-convergence", 2019;
        :class:`torch.optim.lr_scheduler.OneCycleLR`): the learning rate
        rises from ``lr / 25`` to ``lr`` over the first 30 % of the steps,
        then anneals (cosine) to ``lr / 250 000``. ``"cosine"``: cosine
        annealing from ``lr`` to 0 (Loshchilov & Hutter, "SGDR", 2017;
        :class:`torch.optim.lr_scheduler.CosineAnnealingLR`) without
        restarts. ``"constant"``: no schedule.
    lr : float
        The peak learning rate.
    n_steps : int
        Optimizer steps (mini-batches) the run will make: ``max_epochs *
        ceil(n_train / batch_size)``. The schedule is stepped after every
        mini-batch; a run that stops early (``tol``) ends part-way.

    Returns
    -------
    callback : skorch.callbacks.LRScheduler or None
        None for ``"constant"``. The optimizer's momentum (``betas``) is not
        cycled: ``optimizer_params`` keep their meaning.
    """
    if schedule == "constant":
        return None
    # last_epoch=-1: each run starts its own schedule (skorch would resume
    # from the history's epoch count, which is not a step count).
    n_steps = max(n_steps, 2)
    if schedule == "cooldown":
        policy = {"policy": constant_then_cosine, "total_steps": n_steps}
    elif schedule == "onecycle":
        policy = {
            "policy": OneCycleLR,
            "max_lr": lr,
            "total_steps": n_steps,
            "cycle_momentum": False,
        }
    else:
        policy = {"policy": CosineAnnealingLR, "T_max": n_steps}
    return LRScheduler(step_every="batch", event_name=None, last_epoch=-1, **policy)


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
