"""Where and how reproducibly torch runs: device, seed, optimizer and
learning-rate schedule resolution, and the early stopping that anneals a
schedule before it stops.

Shared by the estimators (:mod:`skae._base`), model files (:mod:`skae._io`)
and the benchmarks, which must seed a plain PyTorch loop exactly as a fit is
seeded.
"""

from __future__ import annotations

import inspect
import math
import numbers
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.utils import check_random_state
from skorch.callbacks import EarlyStopping, LRScheduler
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

# Optimizers whose fused kernel (one pass over all parameters a step, instead
# of a loop of small tensor ops) skae turns on where torch has it: the same
# update up to float rounding; the dense default's MNIST fit took 100 s
# instead of 113 s on 2 CPU cores (skae compare, docs/results.md).
FUSED_OPTIMIZERS = (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD)
FUSED_DEVICE_TYPES = ("cpu", "cuda")

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
    warmup, hold = _cooldown_milestones(total_steps, warmup_fraction, hold_fraction)
    phases = [
        LinearLR(optimizer, start_factor=WARMUP_START_FACTOR, total_iters=warmup),
        ConstantLR(optimizer, factor=1.0, total_iters=hold - warmup),
        CosineAnnealingLR(optimizer, T_max=total_steps - hold),
    ]
    milestones = [warmup, hold]
    if warmup == hold:  # too few steps for a hold phase
        del phases[1], milestones[1]
    return SequentialLR(optimizer, phases, milestones=milestones)


def _cooldown_milestones(total_steps, warmup_fraction=COOLDOWN_WARMUP, hold_fraction=COOLDOWN_HOLD):
    """The steps at which a cooldown schedule's warm-up and hold phases end."""
    hold = min(max(int(hold_fraction * total_steps), 1), total_steps - 1)
    warmup = min(max(int(warmup_fraction * total_steps), 1), hold)
    return warmup, hold


class EarlyStoppingWithCooldown(EarlyStopping):
    """skorch's ``EarlyStopping`` that anneals the learning rate before it stops.

    Under ``lr_schedule="cooldown"`` (:func:`warmup_stable_decay`), a run
    whose monitored loss stops improving by ``threshold`` for ``patience``
    epochs during the hold phase would end at the peak learning rate,
    without the anneal that gives the schedule its low-noise finish. This
    callback starts the anneal there instead: a cosine from the current
    rate to 0 over ``(1 - hold) / hold`` (3/7) times the epochs trained so
    far (rounded up) -- the share the planned schedule gives its anneal,
    so it ends by ``max_epochs`` -- and training stops when it ends. This
    is the warmup-stable-decay schedule with its decay started on a
    plateau, as Hägele et al. ("Scaling laws and compute-optimal training
    beyond fixed training durations", NeurIPS 2024) start it at any step.
    During the anneal the patience does not end training; the best epoch
    is still tracked (``load_best``). A plateau is also one on average:
    while the mean loss of the last ``patience`` epochs is below that of the
    ``patience`` before them by more than ``threshold``, a best epoch that
    one lucky epoch set does not count as a plateau. Under any other schedule, while
    warming up, or once the anneal has begun, it stops as
    ``EarlyStopping`` does.

    Parameters
    ----------
    monitor, patience, threshold, threshold_mode, lower_is_better, sink, load_best
        As skorch's :class:`~skorch.callbacks.EarlyStopping`.
    scheduler_name : str, default="lr_schedule"
        Name of the net's :class:`~skorch.callbacks.LRScheduler` callback
        (:func:`lr_schedule_callback`); without one, nothing is annealed.

    Raises
    ------
    KeyboardInterrupt
        From ``on_epoch_end``, to end training, as ``EarlyStopping`` does.
    """

    def __init__(
        self,
        monitor="valid_loss",
        patience=5,
        threshold=1e-4,
        threshold_mode="rel",
        lower_is_better=True,
        sink=print,
        load_best=False,
        scheduler_name="lr_schedule",
    ):
        super().__init__(
            monitor=monitor,
            patience=patience,
            threshold=threshold,
            threshold_mode=threshold_mode,
            lower_is_better=lower_is_better,
            sink=sink,
            load_best=load_best,
        )
        self.scheduler_name = scheduler_name

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.epochs_ = 0
        # The epoch count at which the anneal ends; None before it starts.
        self.anneal_ends_ = None

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ += 1
        if self.anneal_ends_ is None:
            plateau = self.misses_ + 1 >= self.patience and not self._is_score_improved(
                net.history[-1, self.monitor]
            )
            if plateau and self._still_falling(net):
                # One lucky epoch set the best: not a plateau yet. The
                # patience stays one epoch from running out, so the test
                # runs again after the next epoch.
                self.misses_ = self.patience - 2
            elif plateau:
                self._start_anneal(net)
        if self.anneal_ends_ is not None:
            # While annealing, the patience never runs out (EarlyStopping
            # stops when its misses reach it); the best epoch is still tracked.
            self.misses_ = -1
        super().on_epoch_end(net, **kwargs)  # stops here without an anneal to run
        if self.anneal_ends_ is not None and self.epochs_ >= self.anneal_ends_:
            self._sink("The learning rate has annealed to 0: stopping.", verbose=net.verbose)
            raise KeyboardInterrupt

    def _still_falling(self, net):
        """Whether the monitored loss still falls on average: the mean of this
        run's last ``patience`` epochs below the mean of the ``patience``
        before them by more than ``threshold`` (fewer epochs: halves of them).

        The best epoch alone can be a lucky one on a noisy loss: on the raw
        wine table (133 training rows at ``batch_size=128``, a 5-row batch
        every epoch), one epoch at a tenth of its neighbours' loss made
        skorch's test see no improvement for ``patience`` epochs while the
        loss was still falling tenfold, and the fit ended at epoch 36
        (``benchmarks/bench_seed_spread.py``).
        """
        n = min(self.epochs_ // 2, self.patience)
        if n < 1:
            return False
        scores = [row[self.monitor] for row in net.history[-2 * n :]]
        before, recent = np.mean(scores[:n]), np.mean(scores[n:])
        threshold = self._calc_new_threshold(before)  # skorch's, for its modes
        return recent < threshold if self.lower_is_better else recent > threshold

    def _start_anneal(self, net):
        """Replace a cooldown schedule in its hold phase by its anneal from here."""
        scheduler = dict(net.callbacks_).get(self.scheduler_name)
        if scheduler is None or scheduler.policy_ is not warmup_stable_decay:
            return
        warmup, hold = _cooldown_milestones(scheduler.total_steps)
        if not warmup <= scheduler.lr_scheduler_.last_epoch < hold:
            return  # still warming up, or already annealing
        # Started in the hold phase (before 70 % of max_epochs), the anneal
        # ends by max_epochs.
        n_epochs = math.ceil(self.epochs_ * (1 - COOLDOWN_HOLD) / COOLDOWN_HOLD)
        n_steps = n_epochs * net.history[-1, "train_batch_count"]
        scheduler.lr_scheduler_ = CosineAnnealingLR(net.optimizer_, T_max=n_steps)
        self.anneal_ends_ = self.epochs_ + n_epochs
        self._sink(
            f"{self.monitor} has not improved in the last {self.patience} epochs: annealing "
            f"the learning rate to 0 over {n_epochs} more epochs.",
            verbose=net.verbose,
        )


def _schedule_policy(schedule, lr, n_steps):
    """The torch scheduler of a (non-constant) ``lr_schedule`` over ``n_steps``
    and its keyword arguments: ``{"policy": cls_or_factory, **kwargs}``, as
    skorch's ``LRScheduler`` takes them."""
    n_steps = max(n_steps, 2)
    if schedule == "cooldown":
        return {"policy": warmup_stable_decay, "total_steps": n_steps}
    if schedule == "onecycle":
        return {
            "policy": OneCycleLR,
            "max_lr": lr,
            "total_steps": n_steps,
            "cycle_momentum": False,
        }
    return {"policy": CosineAnnealingLR, "T_max": n_steps}


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
    return LRScheduler(
        step_every="batch",
        event_name=None,
        last_epoch=-1,
        **_schedule_policy(schedule, lr, n_steps),
    )


def learning_rates(lr_schedule, lr, n_steps):
    """The learning rate at each step of an ``lr_schedule``: for ``partial_fit`` loops.

    ``fit`` plans its schedule over the steps it will make; ``partial_fit``
    sees one batch at a time and trains at the constant ``lr``. Where you
    know how many ``partial_fit`` calls a training will make, give each call
    its rate from the schedule ``fit`` would run over them, through
    ``set_params(lr=...)`` (a training parameter: it may change between
    calls, the optimizer's state is kept)::

        rates = learning_rates("cooldown", 3e-3, n_passes * len(chunks))
        for rate, chunk in zip(rates, stream_of_chunks):
            ae.set_params(lr=rate).partial_fit(chunk)

    The rates come from the torch scheduler ``fit`` uses (stepped once per
    step on a throwaway optimizer), so they are exactly ``fit``'s schedule
    over ``n_steps`` steps -- as planned: a ``fit`` whose loss plateaus
    before the anneal anneals from there instead
    (see the estimators' ``n_iter_no_change``), which a loop of calls does not.

    Parameters
    ----------
    lr_schedule : {"cooldown", "onecycle", "cosine", "constant"}
        As the estimators' ``lr_schedule`` parameter: ``"cooldown"``, a
        linear warm-up from ``lr / 25`` over 5 % of the steps, ``lr`` until
        70 %, a cosine anneal to 0 (the warmup-stable-decay schedule of
        Hägele et al., "Scaling laws and compute-optimal training beyond
        fixed training durations", NeurIPS 2024); ``"onecycle"``, Smith &
        Topin's one-cycle policy ("Super-convergence", 2019); ``"cosine"``,
        cosine annealing from ``lr`` to 0 (Loshchilov & Hutter, "SGDR",
        2017); ``"constant"``, ``lr`` throughout.
    lr : float
        The peak learning rate, > 0 (a fitted estimator's ``lr_`` gives the
        rate ``lr="auto"`` chose).
    n_steps : int
        Number of steps (for example ``partial_fit`` calls), >= 1.

    Returns
    -------
    rates : ndarray of shape (n_steps,), dtype float64
        The learning rate to train step ``i`` at.

    Raises
    ------
    ValueError
        If ``lr_schedule`` is not one of the four names, ``lr`` is not a
        positive finite number or ``n_steps`` not a positive integer.

    Examples
    --------
    >>> from skae import learning_rates
    >>> rates = learning_rates("cooldown", 0.01, 100)
    >>> print(rates[0], rates[5], rates[69], rates[99] < 1e-4)
    0.0004 0.01 0.01 True
    """
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(
            f"lr_schedule={lr_schedule!r} is not a schedule: use one of {list(LR_SCHEDULES)}."
        )
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 < lr < np.inf:
        raise ValueError(
            f"lr={lr!r} must be a positive finite number, e.g. 1e-3 or a fitted "
            "estimator's lr_ (the rate lr='auto' chose)."
        )
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral) or n_steps < 1:
        raise ValueError(f"n_steps={n_steps!r} must be a positive integer.")
    lr, n_steps = float(lr), int(n_steps)
    if lr_schedule == "constant":
        return np.full(n_steps, lr)
    kwargs = _schedule_policy(lr_schedule, lr, n_steps)
    policy = kwargs.pop("policy")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = policy(optimizer, **kwargs)
    rates = np.empty(n_steps)
    for step in range(n_steps):
        rates[step] = optimizer.param_groups[0]["lr"]
        optimizer.step()  # no gradient: a no-op, in the order torch expects
        scheduler.step()
    return rates


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


def resolve_optimizer(optimizer, optimizer_params, device="cpu"):
    """The optimizer class and its keyword arguments, checked against its signature.

    Adam, AdamW and SGD get ``fused=True`` on a CPU or CUDA device unless
    ``optimizer_params`` sets ``fused`` or ``foreach``: torch's fused kernel
    computes the same update (up to float rounding) in fewer passes over the
    parameters.

    Parameters
    ----------
    optimizer : str or type
        A name in ``OPTIMIZERS`` or a ``torch.optim.Optimizer`` subclass.
    optimizer_params : dict or None
        Keyword arguments of the optimizer (``weight_decay``, ``momentum``,
        ``betas``, ...), except ``lr`` (an estimator parameter of its own).
    device : str or torch.device, default="cpu"
        Where the parameters live (a resolved device, not ``"auto"``).

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
    if (
        cls in FUSED_OPTIMIZERS
        and torch.device(device).type in FUSED_DEVICE_TYPES
        and not {"fused", "foreach"} & set(params)
    ):
        params["fused"] = True
    return cls, {f"optimizer__{k}": v for k, v in params.items()}
