"""Learning-rate schedules (``lr_schedule``) as torch schedulers that skorch's
``LRScheduler`` callback steps, and :func:`learning_rates` for ``partial_fit`` loops."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from skorch.callbacks import LRScheduler
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, OneCycleLR

__all__ = ["LR_SCHEDULES", "WarmupStableDecay", "learning_rates", "lr_schedule_callback"]

LR_SCHEDULES = ("cooldown", "onecycle", "cosine", "constant")

# "cooldown": the share of the steps warming up, and the share at which the
# anneal starts (the rate is held at lr in between).
COOLDOWN_WARMUP = 0.05
COOLDOWN_HOLD = 0.7
# The warm-up starts at lr / 25, as torch's OneCycleLR does.
WARMUP_START_FACTOR = 1 / 25


class WarmupStableDecay(LambdaLR):
    """Warm up, hold the learning rate, then anneal it to 0 (``lr_schedule="cooldown"``).

    A linear warm-up from ``lr / 25`` to ``lr`` over the first
    ``warmup_fraction`` of ``total_steps``, ``lr`` until ``hold_fraction``
    of them, then a cosine anneal to 0 over the rest: the
    warmup-stable-decay ("constant learning rate with cooldown") schedule of
    Hägele et al., "Scaling laws and compute-optimal training beyond fixed
    training durations" (NeurIPS 2024), who find it matches a cosine
    schedule and that its decay may start at any step. The warm-up lets a
    high ``lr`` start without its first steps undoing the initialisation.
    The factors are those of torch's ``LinearLR``, ``ConstantLR`` and
    ``CosineAnnealingLR`` chained, in closed form (:class:`LambdaLR`), so
    that :meth:`start_decay` can begin the anneal early. The signature is
    that of a torch scheduler class, as skorch's ``LRScheduler(policy=...)``
    builds it; every run starts afresh (``last_epoch`` must be -1).

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

    Attributes
    ----------
    warmup_steps : int
        The step at which the rate reaches ``lr``.
    decay_start, decay_steps : int
        The step at which the anneal starts, and its length in steps.

    Raises
    ------
    ValueError
        If ``last_epoch`` is not -1.
    """

    def __init__(
        self,
        optimizer,
        total_steps,
        warmup_fraction=COOLDOWN_WARMUP,
        hold_fraction=COOLDOWN_HOLD,
        last_epoch=-1,
    ):
        if last_epoch != -1:
            raise ValueError(
                f"last_epoch={last_epoch}: a cooldown schedule always starts afresh (-1)."
            )
        self.total_steps = total_steps
        hold = min(max(int(hold_fraction * total_steps), 1), total_steps - 1)
        self.warmup_steps = min(max(int(warmup_fraction * total_steps), 1), hold)
        self.decay_start, self.decay_steps = hold, total_steps - hold
        super().__init__(optimizer, self.factor)

    def factor(self, step):
        """The learning rate at ``step`` as a fraction of ``lr``."""
        if step < self.warmup_steps:
            return WARMUP_START_FACTOR + (1 - WARMUP_START_FACTOR) * step / self.warmup_steps
        if step < self.decay_start:
            return 1.0
        progress = min(step - self.decay_start, self.decay_steps) / self.decay_steps
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    def in_hold_phase(self):
        """Whether the last step taken was past the warm-up and before the anneal."""
        return self.warmup_steps <= self.last_epoch < self.decay_start

    def start_decay(self, n_steps):
        """Start the anneal at the current step, to end ``n_steps`` (>= 1) steps later."""
        self.decay_start, self.decay_steps = self.last_epoch, max(int(n_steps), 1)


def _schedule_policy(schedule, lr, n_steps):
    """The torch scheduler of a (non-constant) ``lr_schedule`` over ``n_steps``
    and its keyword arguments: ``{"policy": cls_or_factory, **kwargs}``, as
    skorch's ``LRScheduler`` takes them."""
    n_steps = max(n_steps, 2)
    if schedule == "cooldown":
        return {"policy": WarmupStableDecay, "total_steps": n_steps}
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
        The estimators' ``lr_schedule`` (see the user guide's
        :ref:`lr-schedule`): :class:`WarmupStableDecay`, torch's
        ``OneCycleLR`` (no momentum cycling) or ``CosineAnnealingLR``, or
        none.
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
        As the estimators' ``lr_schedule`` parameter (see the user guide's
        :ref:`lr-schedule`).
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
