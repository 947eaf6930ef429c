"""skorch callbacks of a skae fit: early stopping that anneals a schedule before
it stops, the last completed epoch's weights (kept for Ctrl-C), and a plain
epoch log."""

from __future__ import annotations

import copy
import math
import re
import sys

import numpy as np
from skorch.callbacks import Callback, EarlyStopping, PrintLog

from ._schedules import COOLDOWN_HOLD, WarmupStableDecay

__all__ = [
    "BestValidationEpoch",
    "EarlyStoppingWithCooldown",
    "LastEpochWeights",
    "PlainPrintLog",
    "within_one_standard_error",
]


class EarlyStoppingWithCooldown(EarlyStopping):
    """skorch's ``EarlyStopping`` that anneals the learning rate before it stops.

    Under ``lr_schedule="cooldown"`` (:class:`~skae._schedules.WarmupStableDecay`), a run
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

        The best epoch alone can be a lucky one on a noisy loss (a small
        table whose last mini-batch holds a few rows): one epoch far below
        its neighbours would make skorch's test see no improvement for
        ``patience`` epochs while the loss still falls
        (``benchmarks/bench_seed_spread.py`` measures the effect).
        """
        n = min(self.epochs_ // 2, self.patience)
        if n < 1:
            return False
        scores = [row[self.monitor] for row in net.history[-2 * n :]]
        before, recent = np.mean(scores[:n]), np.mean(scores[n:])
        threshold = self._calc_new_threshold(before)  # skorch's, for its modes
        return recent < threshold if self.lower_is_better else recent > threshold

    def _start_anneal(self, net):
        """Start a cooldown schedule's anneal here, if it is in its hold phase.

        Reads the scheduler through skorch's public ``LRScheduler.lr_scheduler_``
        and asks it to decay (:meth:`~skae._schedules.WarmupStableDecay.start_decay`).
        """
        callback = dict(net.callbacks_).get(self.scheduler_name)
        schedule = getattr(callback, "lr_scheduler_", None)
        if not isinstance(schedule, WarmupStableDecay) or not schedule.in_hold_phase():
            return  # another schedule, still warming up, or already annealing
        # Started in the hold phase (before 70 % of max_epochs), the anneal
        # ends by max_epochs.
        n_epochs = math.ceil(self.epochs_ * (1 - COOLDOWN_HOLD) / COOLDOWN_HOLD)
        schedule.start_decay(n_epochs * net.history[-1, "train_batch_count"])
        self.anneal_ends_ = self.epochs_ + n_epochs
        self._sink(
            f"{self.monitor} has not improved in the last {self.patience} epochs: annealing "
            f"the learning rate to 0 over {n_epochs} more epochs.",
            verbose=net.verbose,
        )


class LastEpochWeights(Callback):
    """Keeps a copy of the weights after each completed epoch.

    ``checkpoint_`` is ``(n_epochs_completed, state_dict)``, set in one
    assignment, so that an interrupt during an epoch leaves the last
    completed one to return to.
    """

    def on_train_begin(self, net, **kwargs):
        self.checkpoint_ = None

    def on_epoch_end(self, net, **kwargs):
        self.checkpoint_ = (len(net.history), copy.deepcopy(net.module_.state_dict()))


# The colour codes skorch's PrintLog writes around its table's cells.
_ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")


class PlainPrintLog(PrintLog):
    """skorch's ``PrintLog`` (the ``verbose`` log of each epoch), without its
    ANSI colour codes where standard output is not a terminal (a file, a
    pipe, a CI log)."""

    def table(self, row):
        text = super().table(row)
        if getattr(sys.stdout, "isatty", lambda: False)():
            return text
        return _ANSI_CODES.sub("", text)


def within_one_standard_error(start_loss, row_losses):
    """Whether a start's validation loss is within one standard error of the
    best trained epoch's: the one-standard-error rule.

    Among the models whose held-out error is within one standard error of
    the best one's, the rule takes the simplest (Breiman, Friedman, Olshen &
    Stone, *Classification and Regression Trees*, 1984, sec. 3.4.3; Hastie,
    Tibshirani & Friedman, *The Elements of Statistical Learning*, 2nd ed.,
    2009, sec. 7.10): here the start, PCA's solution. The standard error is
    that of the best epoch's mean loss over the held-out rows,
    ``std(row_losses, ddof=1) / sqrt(n)``, as those references take the
    standard error of the best model's estimated error (not a paired test
    of the two models' per-row differences, whose standard error is
    smaller and keeps more trained epochs). The best of many epochs scored
    on the same rows is an optimistic estimate of its error: the rule
    keeps the start unless a trained epoch wins by more than that noise.

    Parameters
    ----------
    start_loss : float
        The start's mean validation loss (epoch 0).
    row_losses : array-like of shape (n_valid_rows,)
        The best trained epoch's per-row validation losses (their mean is
        its ``valid_loss``).

    Returns
    -------
    keep_start : bool
        True where ``start_loss <= mean(row_losses) + standard error`` (with
        one held-out row, whose standard error is unknown: always True).
    """
    losses = np.asarray(row_losses, dtype=np.float64)
    n = len(losses)
    error = losses.std(ddof=1) / np.sqrt(n) if n > 1 else np.inf
    return bool(start_loss <= losses.mean() + error)


class BestValidationEpoch(Callback):
    """Keep the weights of the epoch with the lowest validation loss.

    The one rule by which a skae fit selects its model, with or without
    early stopping. Where the weights the run starts from are a model
    someone would choose (PCA's solution, the PCA start), they count as its
    epoch 0 (:meth:`start_from`), so that the fit ends no worse than PCA on
    the held-out rows; a random initialisation is not a candidate. At the
    end of training the best weights are loaded back and ``kept_`` is
    ``(history row, validation loss)`` of that epoch (the row the run
    started after, for epoch 0); :meth:`prefer_start` then goes back to the
    start where :func:`within_one_standard_error` says so. Does nothing in
    a training without a validation split.
    """

    def __init__(self):
        self.start_ = None

    def start_from(self, n_history, row_losses, net):
        """Count the net's current weights, after ``n_history`` history rows,
        with per-row validation losses ``row_losses``, as the run's epoch 0."""
        state = copy.deepcopy(net.module_.state_dict())
        self.start_ = (n_history, float(np.mean(row_losses)), state, row_losses)

    def on_train_begin(self, net, **kwargs):
        self.best_ = None if self.start_ is None else self.start_[:3]
        self.kept_ = None

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1].get("valid_loss")
        if loss is not None and (self.best_ is None or loss < self.best_[1]):
            self.best_ = (len(net.history), loss, copy.deepcopy(net.module_.state_dict()))

    def on_train_end(self, net, **kwargs):
        if self.best_ is None:
            self.kept_ = None
            return
        n_history, loss, weights = self.best_
        self.kept_ = (n_history, loss)
        if n_history != len(net.history):
            net.module_.load_state_dict(weights)
        self.best_ = None

    def prefer_start(self, net, row_losses):
        """Go back to the start (where it is a candidate) if its validation
        loss is within one standard error of the kept epoch's
        (:func:`within_one_standard_error`; ``row_losses`` are the kept
        epoch's per-row losses).

        Returns
        -------
        fell_back : bool
        """
        if self.start_ is None or self.kept_ is None or self.kept_[0] == self.start_[0]:
            return False
        if not within_one_standard_error(self.start_[1], row_losses):
            return False
        net.module_.load_state_dict(self.start_[2])
        self.kept_ = self.start_[:2]
        return True

    def forget(self):
        """Drop the start's weights and losses: the end of every run, however
        it ends."""
        self.start_ = self.best_ = None
