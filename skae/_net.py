"""Training layer: the skorch ``NeuralNet`` that trains a skae network.

skorch owns the training loop, the callbacks, the history, the devices and
the inference iteration. :class:`AutoencoderNet` changes them only through
skorch's hooks:

* ``get_dataset`` / ``get_iterator`` -- mini-batches cut by index from one
  float32 tensor, a sparse matrix or blocks read from disk
  (:mod:`skae._batches`);
* ``train_step_single`` -- an optional corruption of the training batch
  (denoising), then skorch's own training step;
* ``get_loss`` -- skorch's loss, refused when it is not finite;
* ``infer`` -- inference through skorch's ``forward_iter`` may apply any
  function of the module (``encode``, ``decode``, a per-sample loss), not
  only its ``forward``.

and owns a training call from start to end: :meth:`AutoencoderNet.train_run`
takes a :class:`TrainingRun` (epochs, rate, schedule, stopping rule), sets
up its callbacks (:mod:`skae._callbacks`, :mod:`skae._schedules`), trains on
from the current weights with skorch's ``partial_fit``, turns a Ctrl-C into
the weights of the last completed (or best) epoch, keeps the epoch of
lowest validation loss (the weights it started from counted only where
they are PCA's solution, and then kept unless a trained epoch beats them by
more than one standard error), and returns
what it ran (:class:`RunResult`); :meth:`~AutoencoderNet.snapshot` / :meth:`~AutoencoderNet.restore`
undo a failed continued training. The loss terms live in
:mod:`skae._losses`, the networks in :mod:`skae._nn`.
"""

from __future__ import annotations

import copy
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from skorch import NeuralNet
from skorch.callbacks import ProgressBar
from skorch.dataset import unpack_data
from skorch.helper import predefined_split
from skorch.utils import noop, to_tensor

from ._batches import (
    INFERENCE_BATCH_SIZE,
    BlockData,
    IndexBatches,
    PaddedTensorData,
    TensorData,
    batches,
)
from ._callbacks import (
    BestValidationEpoch,
    EarlyStoppingWithCooldown,
    LastEpochWeights,
    PlainPrintLog,
)
from ._schedules import lr_schedule_callback
from ._threads import torch_threads

# The function ``infer`` applies while ``apply_batched`` runs, per thread and
# per net: two threads may transform with one fitted estimator at once.
_inference_fns = threading.local()


class TrainingInterrupted(BaseException):
    """Raised by :func:`interrupt_on_sigint`'s handler: a real Ctrl-C during a fit.

    Not a ``KeyboardInterrupt``, which skorch takes as a callback's request
    to end training early (and swallows): it ends the fit through skorch,
    and the estimator re-raises a ``KeyboardInterrupt`` once its state is
    set.
    """


class FitInterrupted(KeyboardInterrupt):
    """The ``KeyboardInterrupt`` ``fit`` raises after a Ctrl-C, once the estimator
    holds the weights of its completed epochs (a grid search stops with it)."""


@contextmanager
def interrupt_on_sigint():
    """While the block runs, SIGINT (Ctrl-C) raises :class:`TrainingInterrupted`.

    Only in the main thread, where Python delivers signals; elsewhere the
    block runs unchanged. The previous handler is restored on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise TrainingInterrupted()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass(frozen=True)
class TrainingRun:
    """One training call: how long, at what rate, and when to stop.

    Parameters
    ----------
    max_epochs : int
        Epochs at most (1 for ``partial_fit``).
    batch_size : int
        Rows per mini-batch.
    lr : float
        The peak learning rate.
    schedule : {"cooldown", "onecycle", "cosine", "constant"}
        The learning-rate schedule over ``n_steps`` (:mod:`skae._schedules`).
    n_steps : int
        Optimizer steps the run makes if it runs all of ``max_epochs``.
    early_stopping : bool
        Monitor the validation loss (and keep its best epoch's weights)
        rather than the training loss.
    threshold : float
        The least fall of the monitored loss that counts as an improvement,
        in its units (``tol``).
    patience : int
        Epochs without improvement before stopping (``n_iter_no_change``).
    verbose : int
    callbacks : tuple, default=()
        The user's skorch callbacks, run after skae's.
    start_is_candidate : bool, default=False
        Whether the weights the run starts from may be kept (its epoch 0):
        only where they are a model someone would choose, PCA's solution
        (the PCA start). A random initialisation, or the fitted network a
        continued training starts from, is not.
    """

    max_epochs: int
    batch_size: int
    lr: float
    schedule: str
    n_steps: int
    early_stopping: bool
    threshold: float
    patience: int
    verbose: int
    callbacks: tuple = ()
    start_is_candidate: bool = False

    def callback_settings(self):
        """What the callbacks depend on: a run with the same settings carries on
        with the net's callbacks (each resets itself at ``on_train_begin``),
        so that a run of ``partial_fit`` calls logs as one training."""
        planned = () if self.schedule == "constant" else (self.lr, self.n_steps)
        return (
            self.early_stopping,
            self.threshold,
            self.patience,
            bool(self.verbose),
            self.schedule,
            *planned,
            *(id(cb) for cb in self.callbacks),
        )

    def make_callbacks(self):
        """skae's callbacks for this run, then the user's: a list of ``(name, callback)``."""
        stopper = EarlyStoppingWithCooldown(
            monitor="valid_loss" if self.early_stopping else "train_loss",
            patience=self.patience,
            threshold=self.threshold,
            threshold_mode="abs",
            sink=print if self.verbose else noop,
        )
        scheduler = lr_schedule_callback(self.schedule, self.lr, self.n_steps)
        return [
            # First: it must see every completed epoch, also the one
            # EarlyStopping ends training after.
            ("last_epoch_weights", LastEpochWeights()),
            # The one selection rule: the epoch of lowest validation loss. Before
            # the stopper, which ends training by raising after an epoch.
            ("best_epoch", BestValidationEpoch()),
            ("early_stopping", stopper),
            *([] if scheduler is None else [("lr_schedule", scheduler)]),
            *([("progress_bar", ProgressBar())] if self.verbose else []),
            *self.callbacks,
        ]


@dataclass(frozen=True)
class RunResult:
    """What a training call did (:meth:`AutoencoderNet.train_run`).

    Attributes
    ----------
    rows : list of dict
        The history rows of the run's completed epochs.
    start_loss : float or None
        With a validation split, the validation loss of the weights the run
        started from (its epoch 0); None without one.
    best : int or None
        With a validation split, the epoch whose weights the net holds,
        counted from the run's start: 0 for the weights it started from
        (only where ``TrainingRun.start_is_candidate``), ``k`` for the
        ``k``-th epoch of ``rows``. None without one.
    interrupted : bool
        Whether a Ctrl-C ended the run.
    """

    rows: list
    start_loss: float | None
    best: int | None
    interrupted: bool


class AutoencoderNet(NeuralNet):
    """skorch ``NeuralNet`` for autoencoders: index batching and input = target
    (with a supervised bottleneck's labels beside it: ``(x, (x, labels))``,
    :func:`skae._batches.pair`; the corruption applies to the input only).

    Parameters
    ----------
    *args, **kwargs
        As :class:`skorch.NeuralNet`.
    corruption : callable or None, default=None
        Maps a clean training batch to a corrupted one (denoising
        autoencoders). Applied to training batches only, never to validation
        or inference.
    """

    def __init__(self, *args, corruption=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.corruption = corruption
        # The TrainingRun.callback_settings() the callbacks were made for.
        self.callback_settings_ = None

    def train_run(self, train_data, valid_data, run):
        """Train on from the current weights, optimizer state and history.

        With a validation split, the net ends on the weights of the epoch of
        lowest validation loss; where the weights it started from are a
        candidate (``run.start_is_candidate``: the PCA start), they are kept
        unless that epoch's mean loss is lower by more than one standard
        error of its per-row losses: the one rule by which a fit selects
        its model, with or without early stopping
        (:class:`~skae._callbacks.BestValidationEpoch`,
        :func:`~skae._callbacks.within_one_standard_error`).

        Parameters
        ----------
        train_data : TensorData or BlockData
        valid_data : TensorData, BlockData or None
            The validation split; required with ``run.early_stopping``.
        run : TrainingRun

        Returns
        -------
        result : RunResult
            The epochs run, the one kept and whether a Ctrl-C ended the run.
            After a Ctrl-C the net holds the weights an uninterrupted run
            would end on, over the completed epochs: the best one with a
            validation split, else the last.

        Raises
        ------
        KeyboardInterrupt
            On a Ctrl-C before an epoch of this run completed (nothing of it
            to keep); the caller restores its :meth:`snapshot`.
        """
        self.set_params(
            max_epochs=run.max_epochs,
            batch_size=run.batch_size,
            lr=run.lr,
            train_split=None if valid_data is None else predefined_split(valid_data),
            verbose=run.verbose,
        )
        if run.callback_settings() != self.callback_settings_:
            self.callbacks = run.make_callbacks()
            self.initialize_callbacks()
            self.callback_settings_ = run.callback_settings()
        callbacks = dict(self.callbacks_)
        n_before = len(self.history)
        best = callbacks["best_epoch"]
        start_loss = None
        if valid_data is not None:
            start_losses = self.validation_losses(valid_data)
            start_loss = float(start_losses.mean())
            if run.start_is_candidate:
                best.start_from(n_before, start_losses, self)
        try:
            interrupted = False
            with interrupt_on_sigint():
                try:
                    with torch_threads(
                        self.module_, train_data, run.batch_size, training=True, device=self.device
                    ):
                        self.partial_fit(train_data)
                except TrainingInterrupted:
                    interrupted = True
                finally:
                    # The fitted net must not keep the training data alive.
                    self.train_split = None
            if interrupted:
                checkpoint = callbacks["last_epoch_weights"].checkpoint_
                if checkpoint is None:
                    raise KeyboardInterrupt("fit interrupted in its first epoch: nothing was kept.")
                n_history, weights = checkpoint
                del self.history[n_history:]  # the interrupted epoch's partial row
                if valid_data is None:
                    self.module_.load_state_dict(weights)
                else:
                    best.on_train_end(self)  # loads the best epoch so far
            rows = list(self.history[n_before:])
            if valid_data is None:
                return RunResult(rows, None, None, interrupted)
            best.prefer_start(self, self.validation_losses(valid_data))
            return RunResult(rows, start_loss, best.kept_[0] - n_before, interrupted)
        finally:
            best.forget()  # the start's weights never outlive the run, whatever ends it

    def validation_losses(self, valid_data):
        """The per-row loss of the current weights on ``valid_data``: an
        ndarray of float64 whose mean is an epoch's ``valid_loss``."""
        losses = []
        self.module_.eval()
        with torch.no_grad():
            for Xi, yi in self.get_iterator(valid_data, training=False):
                output = self.module_(to_tensor(Xi, device=self.device))
                target = to_tensor(yi, device=self.device)
                losses.append(self.criterion_.per_sample(output, target).double().cpu())
        return torch.cat(losses).numpy()

    def snapshot(self):
        """What a training call changes: weights, optimizer state, history length."""
        return {
            "module": copy.deepcopy(self.module_.state_dict()),
            "optimizer": copy.deepcopy(self.optimizer_.state_dict()),
            "n_history": len(self.history),
        }

    def restore(self, snapshot):
        """Go back to a :meth:`snapshot`: undo a failed or interrupted training call."""
        self.train_split = None
        self.module_.load_state_dict(snapshot["module"])
        self.optimizer_.load_state_dict(snapshot["optimizer"])
        del self.history[snapshot["n_history"] :]

    def get_default_callbacks(self):
        """skorch's, with :class:`PlainPrintLog` as the epoch log."""
        return [
            (name, PlainPrintLog() if name == "print_log" else callback)
            for name, callback in super().get_default_callbacks()
        ]

    def get_dataset(self, X, y=None):
        if isinstance(X, (TensorData, BlockData)):
            return X
        return TensorData(X)

    def get_iterator(self, dataset, training=False):
        if isinstance(dataset, PaddedTensorData):
            return IndexBatches(dataset, INFERENCE_BATCH_SIZE, pad=True)
        batch_size = self.batch_size if self.batch_size != -1 else len(dataset)
        return batches(dataset, batch_size, shuffle=training)

    def train_step_single(self, batch, **fit_params):
        if self.corruption is not None:
            Xi, yi = unpack_data(batch)
            batch = (self.corruption(to_tensor(Xi, device=self.device)), yi)
        return super().train_step_single(batch, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if not torch.isfinite(loss):
            raise ValueError(
                f"The {'training' if training else 'validation'} loss became "
                f"{loss.item()} in epoch {len(self.history)}: the optimisation diverged. "
                "Scale the inputs (for example with sklearn.preprocessing.StandardScaler) "
                "or lower `lr`."
            )
        return loss

    def infer(self, x, **fit_params):
        fn = getattr(_inference_fns, "by_net", {}).get(id(self))
        if fn is None:
            return super().infer(x, **fit_params)
        return fn(to_tensor(x, device=self.device))

    @contextmanager
    def _inferring(self, fn):
        """Make ``infer`` apply ``fn`` in this thread while the block runs."""
        if not hasattr(_inference_fns, "by_net"):
            _inference_fns.by_net = {}
        _inference_fns.by_net[id(self)] = fn
        try:
            yield
        finally:
            del _inference_fns.by_net[id(self)]

    def apply_batched(self, fn, X):
        """``fn`` (e.g. ``module_.encode``) applied to the rows of ``X``, by skorch's
        ``forward_iter``.

        Parameters
        ----------
        fn : callable
            Maps a batch tensor on ``self.device`` to a tensor with one row
            per input row.
        X : torch.Tensor of shape (n_samples, ...)
            Host tensor; each batch of ``INFERENCE_BATCH_SIZE`` rows moves to
            the device and its result back to the host, so large inputs never
            sit on the accelerator at once.

        Returns
        -------
        out : torch.Tensor
            ``fn``'s outputs for every row, on the host, in evaluation mode
            and without gradients.
        """
        with self._inferring(fn), torch_threads(fn, X, INFERENCE_BATCH_SIZE, device=self.device):
            outputs = list(self.forward_iter(PaddedTensorData(X), training=False))
        if not outputs:
            return X.new_empty((0,))
        return torch.cat(outputs)[: len(X)]
