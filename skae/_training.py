"""What a fit asks of the training layer, from the estimator's parameters.

The estimator (:mod:`skae._base`) validates the data and builds the network;
the net (:class:`skae._net.AutoencoderNet`) runs a training call. In between,
this module turns the estimator's parameters and data into what the net
takes, and the net's history into fitted attributes:

* :func:`check_fit_rows` -- at least two rows to fit;
* :func:`n_held_out` / :func:`training_data` -- the rows to train on and the
  validation split (of rows, or of blocks of rows for data read from disk):
  the one place a fit holds rows out;
* :func:`plan_run` -- a :class:`~skae._net.TrainingRun`: ``max_epochs="auto"``,
  ``lr="auto"``, the schedule and the stopping rule resolved;
* :func:`history_attributes` -- ``n_iter_``, the loss curves and the best
  epoch after a run, from what the run returned;
* :func:`still_improving` / :func:`warn_if_unconverged` -- whether a run
  ended at ``max_epochs`` with its loss still falling (a
  ``ConvergenceWarning``);
* :func:`raise_if_interrupted` -- a Ctrl-C re-raised once the fitted
  attributes describe the model kept;
* :func:`network_params` / :func:`check_unchanged_params` -- the parameters a
  continued training must leave as they were.
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from . import _chunked
from ._batches import BlockData, TensorData
from ._common_params import RUN_PARAMS
from ._net import FitInterrupted, TrainingRun
from ._optim import resolve_lr

__all__ = [
    "MAX_SELECTION_ROWS",
    "MIN_SELECTION_ROWS",
    "check_fit_rows",
    "check_unchanged_params",
    "history_attributes",
    "n_held_out",
    "network_params",
    "plan_run",
    "raise_if_interrupted",
    "still_improving",
    "training_data",
    "warn_if_unconverged",
]


# Rows the PCA start holds out when early stopping does not: at least
# MIN_SELECTION_ROWS or a quarter of the rows, whichever is fewer, so that a
# small table's held-out error can tell a trained epoch from the start (10 %
# of a table of 150 rows is too few to); at most MAX_SELECTION_ROWS, so that
# a large data set trains on nearly all of its rows.
MIN_SELECTION_ROWS = 250
MAX_SELECTION_ROWS = 2_000


def check_fit_rows(n_samples, partial):
    """Refuse too few rows to fit a model (as PCA does): 2 for ``fit``, 1 for
    a ``partial_fit`` batch.

    Raises
    ------
    ValueError
        Naming ``n_samples`` and the fix.
    """
    least = 1 if partial else 2
    if n_samples < least:
        raise ValueError(
            f"n_samples={n_samples}: fit needs at least {least} rows (as PCA does); "
            "pass more samples."
        )


def n_held_out(n_samples, *, early, select, validation_fraction):
    """How many rows a new fit holds out for its validation loss.

    ``early`` (``early_stopping=True``): ``validation_fraction`` of the rows,
    rounded up, as :func:`~sklearn.model_selection.train_test_split` takes
    them. ``select`` (the PCA start, whose floor is the best validation
    epoch): as many, but at least ``MIN_SELECTION_ROWS`` or a quarter of the
    rows (whichever is fewer), and at most ``MAX_SELECTION_ROWS``. Else 0.
    At least one row is always left to train on.
    """
    if not (early or select):
        return 0
    n_valid = math.ceil(validation_fraction * n_samples)
    if not early:
        least = min(MIN_SELECTION_ROWS, math.ceil(n_samples / 4))
        n_valid = min(max(n_valid, least), MAX_SELECTION_ROWS)
    return max(0, min(n_valid, n_samples - 1))


def training_data(X, Xn, normalize, *, n_valid, split_seed, y=None):
    """The training data and the validation split (None where ``n_valid`` is 0):
    the one place a fit holds rows out.

    Parameters
    ----------
    X : ndarray, SparseRows or ChunkedRows
        The validated rows.
    Xn : ndarray, SparseRowBatches or None
        The network's input (``X`` normalised); None for data read from disk
        by chunks (a :class:`~skae._chunked.ChunkedRows`), which is read block
        by block, each block normalised by ``normalize``.
    normalize : callable
        Maps rows read from ``X`` to the network's input.
    n_valid : int
        Rows to hold out (:func:`n_held_out`).
    split_seed : int
        Seeds the split, as :func:`~sklearn.model_selection.train_test_split`.
    y : torch.Tensor or None, default=None
        The encoded labels of a supervised bottleneck (:mod:`skae._target`),
        one per row of ``X``, held in memory: each split carries the labels
        of its rows. The split is the same with or without them.

    Returns
    -------
    train_data : TensorData or BlockData
    valid_data : TensorData, BlockData or None

    Notes
    -----
    In memory, the two splits index into the one float32 array ``Xn``. Data
    read by chunks is cut into blocks of consecutive rows
    (:func:`skae._chunked.blocks`: at most a chunk each, and at least
    ``MIN_BLOCKS`` of them), and the split holds out whole *blocks*, chosen
    as ``train_test_split`` chooses rows, as many as hold about ``n_valid``
    rows (at least one), so that validation reads are sequential too.
    """
    if Xn is None:
        blocks = _chunked.blocks(*X.shape)
        sizes = {
            "read_rows": X.chunk_rows,
            "buffer_rows": _chunked.buffer_rows(X.shape[1]),
            "y": y,
        }

        def read(start, stop):
            return normalize(X.read(start, stop))

        if n_valid == 0 or len(blocks) < 2:
            return BlockData(read, blocks, **sizes), None
        block_rows = int(blocks[0, 1] - blocks[0, 0])
        n_blocks = min(max(1, round(n_valid / block_rows)), len(blocks) - 1)
        train_idx, valid_idx = train_test_split(
            np.arange(len(blocks)), test_size=n_blocks, random_state=split_seed
        )
        return (
            BlockData(read, blocks[np.sort(train_idx)], **sizes),
            BlockData(read, blocks[np.sort(valid_idx)], **sizes),
        )
    if n_valid == 0:
        return TensorData(Xn, y=y), None
    train_idx, valid_idx = train_test_split(
        np.arange(len(X)), test_size=n_valid, random_state=split_seed
    )
    return TensorData(Xn, np.sort(train_idx), y), TensorData(Xn, np.sort(valid_idx), y)


def loss_threshold(estimator, n_features):
    """``tol`` in the units of the estimator's loss: per feature, so that a loss
    summed over features (the VAE's) compares with ``tol * n_features``."""
    return estimator.tol * (n_features if estimator._feature_reduction == "sum" else 1)


def resolve_max_epochs(estimator, n_train):
    """Resolve ``max_epochs="auto"``: a budget of optimizer steps, not epochs.

    About ``auto_steps`` mini-batch updates of the architecture, as 10 to
    ``auto_max_epochs`` epochs (200 dense, 400 conv): a large data set
    (MNIST: 469 batches an epoch) gets ~20 epochs (~11 for conv), a small
    one (a few hundred rows) the most epochs, fewer updates than the budget.
    """
    if estimator.max_epochs != "auto":
        return estimator.max_epochs
    n_batches = math.ceil(n_train / estimator.batch_size)
    architecture = estimator._architecture()
    epochs = math.ceil(architecture.auto_steps / n_batches)
    return int(np.clip(epochs, 10, architecture.auto_max_epochs))


def plan_run(estimator, n_train, n_features, *, early, partial, start_is_candidate=False):
    """The :class:`~skae._net.TrainingRun` of one ``fit`` or ``partial_fit`` call.

    ``start_is_candidate``: the network starts as PCA's solution, which the
    selection may keep (a new fit with the PCA start).

    ``partial_fit`` runs one epoch at the constant ``lr`` (``"auto"``:
    1e-3): it knows no horizon to plan a schedule over
    (:func:`skae.learning_rates` gives a loop of calls its rates).
    """
    max_epochs = 1 if partial else resolve_max_epochs(estimator, n_train)
    return TrainingRun(
        max_epochs=max_epochs,
        batch_size=estimator.batch_size,
        lr=resolve_lr(estimator.lr, None if partial else n_train),
        schedule="constant" if partial else estimator.lr_schedule,
        n_steps=max_epochs * math.ceil(n_train / estimator.batch_size),
        early_stopping=early,
        threshold=loss_threshold(estimator, n_features),
        patience=estimator.n_iter_no_change,
        verbose=estimator.verbose,
        callbacks=tuple(estimator.callbacks or ()),
        start_is_candidate=start_is_candidate,
    )


def history_attributes(previous, result):
    """The fitted attributes after a run: the previous ones extended by its epochs.

    Parameters
    ----------
    previous : dict
        The estimator's ``n_iter_``, ``loss_curve_`` and
        ``validation_loss_curve_`` before the run (absent: a new fit).
    result : skae._net.RunResult
        What :meth:`~skae._net.AutoencoderNet.train_run` returned.

    Returns
    -------
    attributes : dict
        ``n_iter_``, ``loss_curve_``, ``validation_loss_curve_`` (entry ``e``
        the held-out loss of epoch ``e``, entry 0 the untrained network's;
        NaN for earlier epochs trained without a validation split; None for
        a run without one), ``best_epoch_`` (the epoch kept, counted over
        all of ``n_iter_``) and ``best_validation_loss_``
        (``validation_loss_curve_[best_epoch_]``: the loss the selection
        saw).
    """
    rows = result.rows
    n_previous = previous.get("n_iter_", 0)
    attributes = {
        "n_iter_": n_previous + len(rows),
        "loss_curve_": [*previous.get("loss_curve_", []), *(r["train_loss"] for r in rows)],
    }
    if result.best is None:
        return {
            **attributes,
            "validation_loss_curve_": None,
            "best_epoch_": None,
            "best_validation_loss_": None,
        }
    if n_previous == 0:
        earlier = [result.start_loss]  # epoch 0: the network before training
    else:  # a continued training: its start is the previous run's last epoch
        earlier = previous.get("validation_loss_curve_") or [math.nan] * (n_previous + 1)
        if len(earlier) == n_previous:  # a model from before 0.3: no entry for epoch 0
            earlier = [math.nan, *earlier]
    curve = [*earlier, *(float(r["valid_loss"]) for r in rows)]
    best_epoch = n_previous + result.best
    return {
        **attributes,
        "validation_loss_curve_": curve,
        "best_epoch_": best_epoch,
        "best_validation_loss_": curve[best_epoch],
    }


def still_improving(curve, window, threshold):
    """How much a loss still fell an epoch at the end of ``curve``, if more than
    ``threshold``; else None.

    The fall is the best loss of the last ``window`` epochs against the best
    before them, per epoch: a slope, so that one noisy epoch neither raises
    nor hides it, and a schedule that has annealed its rate to 0 (where each
    epoch gains little) does not count as still improving.
    """
    window = min(window, len(curve) - 1)
    if window < 1:
        return None
    fall = (min(curve[:-window]) - min(curve[-window:])) / window
    return fall if fall > threshold else None


def warn_if_unconverged(name, run, rows):
    """A ConvergenceWarning where a run reached ``max_epochs`` with its
    monitored loss still falling by more than ``tol`` an epoch
    (:func:`still_improving`), as MLPRegressor warns.

    Parameters
    ----------
    name : str
        The estimator's class name, for the message.
    run : skae._net.TrainingRun
    rows : list of dict
        The run's history rows.
    """
    monitor = "valid_loss" if run.early_stopping else "train_loss"
    fall = still_improving([r[monitor] for r in rows], run.patience, run.threshold)
    if fall is not None:
        warnings.warn(
            f"{name} reached max_epochs={run.max_epochs} while its "
            f"{'validation' if run.early_stopping else 'training'} loss still fell by "
            f"{fall:.2g} an epoch over the last {min(run.patience, len(rows) - 1)} "
            f"epochs, more than tol ({run.threshold:.2g} for this loss): raise "
            "max_epochs to train it fully.",
            ConvergenceWarning,
            stacklevel=6,
        )


def raise_if_interrupted(estimator, result):
    """After a Ctrl-C ended the run (``result.interrupted``), once the
    estimator's fitted attributes describe the model kept: a
    ConvergenceWarning, then :class:`~skae._net.FitInterrupted`.

    Raises
    ------
    FitInterrupted
        If the run was interrupted: the completed epochs are recorded and
        kept.
    """
    if not result.interrupted:
        return
    kept = estimator.n_iter_ if estimator.best_epoch_ is None else estimator.best_epoch_
    warnings.warn(
        f"Training was interrupted (KeyboardInterrupt) after {len(result.rows)} "
        f"completed epoch(s): {type(estimator).__name__} keeps the weights of epoch "
        f"{kept} (n_iter_={estimator.n_iter_}). Call fit again to train it fully.",
        ConvergenceWarning,
        stacklevel=5,
    )
    raise FitInterrupted(
        f"fit interrupted after {len(result.rows)} completed epoch(s); the estimator "
        "keeps the weights of its best (or last) one."
    )


def network_params(estimator):
    """The parameters the fitted network depends on (all but ``RUN_PARAMS``),
    as they are now: the values a continued training must still have."""
    return {
        name: copy.copy(value) if isinstance(value, (dict, list)) else value
        for name, value in estimator.get_params(deep=False).items()
        if name not in RUN_PARAMS
    }


def _same_param(a, b):
    """Whether two values of a parameter are the same (sequences by their items)."""
    if a is b:
        return True
    if isinstance(a, (list, tuple, np.ndarray)) and isinstance(b, (list, tuple, np.ndarray)):
        return len(a) == len(b) and all(_same_param(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(a == b)
    except Exception:  # an object without a boolean ==
        return False


def check_unchanged_params(estimator, how):
    """Refuse to continue training after a change of a parameter the network
    depends on (``n_components``, the architecture's, ``noise``...).

    Parameters
    ----------
    estimator : fitted BaseAutoencoder
    how : str
        The call that continues: ``"partial_fit"`` or ``"fit with warm_start=True"``.

    Raises
    ------
    ValueError
        Naming each changed parameter, its fitted and its current value.
    """
    built = getattr(estimator, "_net_params", None)
    if built is None:  # a pickle from before partial_fit existed
        return
    now = network_params(estimator)
    changed = [
        f"{name}={now[name]!r} (fitted with {built[name]!r})"
        for name in built
        if name in now and not _same_param(built[name], now[name])
    ]
    if changed:
        fix = "call fit" if how == "partial_fit" else "set warm_start=False"
        raise ValueError(
            f"{how} continues the fitted network, but parameters changed since it was "
            f"built: {', '.join(changed)}. Only {', '.join(sorted(RUN_PARAMS))} may "
            f"change between trainings of one network: set the others back, or {fix} to "
            "train a new one."
        )
