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
from torch.optim.lr_scheduler import (
    ConstantLR,
    CosineAnnealingLR,
    LinearLR,
    OneCycleLR,
    SequentialLR,
)

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

LR_SCHEDULES = ("cooldown", "onecycle", "cosine", "constant")

# "cooldown": the share of the steps warming up, and the share at which the
# anneal starts (the rate is held at lr in between).
COOLDOWN_WARMUP = 0.05
COOLDOWN_HOLD = 0.7
# The warm-up starts at lr / 25, as torch's OneCycleLR does.
WARMUP_START_FACTOR = 1 / 25

# lr="auto": AUTO_LR up to AUTO_LR_ROWS training rows, growing in proportion
# to the rows beyond them, up to AUTO_LR_MAX (benchmarks/bench_defaults.py).
AUTO_LR = 1e-3
AUTO_LR_MAX = 3e-3
AUTO_LR_ROWS = 5_000


def resolve_lr(lr, n_train=None):
    """The peak learning rate of a training run: ``lr``, or what ``"auto"`` gives.

    ``lr="auto"`` is ``1e-3`` for up to 5 000 training rows and ``1e-3 *
    n_train / 5 000`` beyond, at most ``3e-3`` (from 15 000 rows). On a few
    thousand rows or fewer a higher rate over-fits (the dense network on
    scikit-learn's bundled tables, the convolutional one on 2 000
    photograph patches); on tens of thousands (MNIST, photograph patches) the
    ``max_epochs="auto"`` budget sees each row only 10 to 90 times and a
    higher rate, warmed up, trains a better code in the same steps -- a
    size-dependent default as scikit-learn's ``TSNE(learning_rate="auto")``
    has (measured in ``benchmarks/bench_defaults.py``).

    Parameters
    ----------
    lr : float or "auto"
        The ``lr`` parameter.
    n_train : int or None, default=None
        Rows the run trains on (after an ``early_stopping`` split). None for
        :meth:`partial_fit`, which has no data set size: ``"auto"`` gives
        ``1e-3`` there.

    Returns
    -------
    lr : float
    """
    if isinstance(lr, str):  # "auto", the only string the parameter takes
        if n_train is None:
            return AUTO_LR
        return AUTO_LR * min(max(n_train / AUTO_LR_ROWS, 1.0), AUTO_LR_MAX / AUTO_LR)
    return float(lr)


def warmup_stable_decay(
    optimizer,
    total_steps,
    warmup_fraction=COOLDOWN_WARMUP,
    hold_fraction=COOLDOWN_HOLD,
    last_epoch=-1,
):
    """Warm up, hold the learning rate, then anneal it to 0 (``lr_schedule="cooldown"``).

    Torch's ``LinearLR`` from ``lr / 25`` up to ``lr`` over the first
    ``warmup_fraction`` of ``total_steps``, ``ConstantLR`` (a factor of 1)
    until ``hold_fraction`` of them, then ``CosineAnnealingLR`` over the
    rest, chained by ``SequentialLR``: the warmup-stable-decay ("constant
    learning rate with cooldown") schedule of Hägele et al., "Scaling laws
    and compute-optimal training beyond fixed training durations" (NeurIPS
    2024), who find it matches a cosine schedule. The warm-up lets a high
    ``lr`` start without its first steps undoing the initialisation. The
    signature is that of a torch scheduler class, as skorch's
    ``LRScheduler(policy=...)`` builds it; every run starts afresh
    (``last_epoch`` must be -1).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    total_steps : int
        Steps of the whole run, at least 2.
    warmup_fraction : float, default=0.05
        Share of the steps warming up (at least one step).
    hold_fraction : float, default=0.7
        Share of the steps before the anneal starts, in (0, 1).
    last_epoch : int, default=-1
        Accepted for skorch; only -1 (a new run) is supported.

    Returns
    -------
    scheduler : torch.optim.lr_scheduler.SequentialLR
    """
    if last_epoch != -1:
        raise ValueError(f"last_epoch={last_epoch}: a cooldown schedule always starts afresh (-1).")
    hold = min(max(int(hold_fraction * total_steps), 1), total_steps - 1)
    warmup = min(max(int(warmup_fraction * total_steps), 1), hold)
    phases = [
        LinearLR(optimizer, start_factor=WARMUP_START_FACTOR, total_iters=warmup),
        ConstantLR(optimizer, factor=1.0, total_iters=hold - warmup),
        CosineAnnealingLR(optimizer, T_max=total_steps - hold),
    ]
    milestones = [warmup, hold]
    if warmup == hold:  # too few steps for a hold phase
        del phases[1], milestones[1]
    return SequentialLR(optimizer, phases, milestones=milestones)


def lr_schedule_callback(schedule, lr, n_steps):
    """skorch's ``LRScheduler`` callback for ``lr_schedule`` over one training run.

    Parameters
    ----------
    schedule : {"cooldown", "onecycle", "cosine", "constant"}
        ``"cooldown"``: a linear warm-up from ``lr / 25`` over the first 5 %
        of the steps, ``lr`` until 70 %, then a cosine anneal to 0
        (:func:`warmup_stable_decay`). ``"onecycle"``: Smith &
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
        policy = {"policy": warmup_stable_decay, "total_steps": n_steps}
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
