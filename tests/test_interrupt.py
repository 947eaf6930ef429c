"""Ctrl-C during fit: it stops the fit *and* propagates, and nothing completed is lost.

skorch swallows ``KeyboardInterrupt`` in ``partial_fit`` (its callbacks raise
it to end training early). A real interrupt -- SIGINT, as the terminal sends
it -- must end the fit, keep the completed epochs and reach the caller, so
that a grid search stops with it.
"""

from __future__ import annotations

import os
import signal
import threading
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from skae import AutoencoderTransformer

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGINT") or os.name == "nt", reason="needs POSIX signals"
)


class SigintDuringEpoch(Callback):
    """Sends this process a SIGINT at the second batch of epoch ``epoch``."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training and len(net.history) == self.epoch and len(net.history[-1, "batches"]) == 1:
            os.kill(os.getpid(), signal.SIGINT)


# Fits started, counted across the clones a search makes (clone deep-copies
# callbacks, so the counter cannot be one of their attributes).
STARTED = []


class CountFits(Callback):
    def on_train_begin(self, net, **kwargs):
        STARTED.append(1)


def test_sigint_during_a_fit_stops_the_whole_grid_search(X):
    STARTED.clear()
    search = GridSearchCV(
        AutoencoderTransformer(
            max_epochs=3,
            batch_size=50,
            random_state=0,
            callbacks=[SigintDuringEpoch(2), CountFits()],
        ),
        {"n_components": [2, 4, 8]},
        cv=2,
    )
    with pytest.raises(KeyboardInterrupt), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X)
    assert len(STARTED) == 1  # skorch alone would run all six fits


def test_interrupted_fit_warns_keeps_the_completed_epochs_and_propagates(X):
    # A constant learning rate, so that two epochs of a 5-epoch plan are two
    # epochs of a 2-epoch one (a schedule spreads over the planned epochs).
    ae = AutoencoderTransformer(
        n_components=4,
        max_epochs=5,
        batch_size=50,
        lr_schedule="constant",
        random_state=0,
        callbacks=[SigintDuringEpoch(3)],
    )
    with pytest.raises(KeyboardInterrupt), pytest.warns(ConvergenceWarning, match="interrupted"):
        ae.fit(X)
    # Two epochs completed: the estimator is the one two epochs of training give.
    assert ae.n_iter_ == 2
    assert len(ae.loss_curve_) == 2
    two_epochs = AutoencoderTransformer(
        n_components=4,
        max_epochs=2,
        batch_size=50,
        lr_schedule="constant",
        random_state=0,
    ).fit(X)
    np.testing.assert_array_equal(ae.transform(X), two_epochs.transform(X))
    np.testing.assert_array_equal(ae.loss_curve_, two_epochs.loss_curve_)
    # Both held out the same rows and kept the same epoch of the two.
    np.testing.assert_array_equal(ae.validation_loss_curve_, two_epochs.validation_loss_curve_)
    assert ae.best_epoch_ == two_epochs.best_epoch_
    assert ae.pca_start_ == two_epochs.pca_start_
    assert ae.best_validation_loss_ == two_epochs.best_validation_loss_


def test_interrupt_in_the_first_epoch_leaves_no_fitted_state(X):
    ae = AutoencoderTransformer(max_epochs=3, batch_size=50, callbacks=[SigintDuringEpoch(1)])
    with pytest.raises(KeyboardInterrupt):
        ae.fit(X)
    assert not hasattr(ae, "net_") and not hasattr(ae, "n_iter_")


def test_interrupted_fit_with_early_stopping_keeps_the_best_completed_epoch(X):
    ae = AutoencoderTransformer(
        n_components=4,
        max_epochs=6,
        batch_size=50,
        early_stopping=True,
        tol=0.0,
        random_state=0,
        callbacks=[SigintDuringEpoch(4)],
    )
    with pytest.raises(KeyboardInterrupt), pytest.warns(ConvergenceWarning):
        ae.fit(X)
    assert ae.n_iter_ == 3
    # The best of the completed epochs, or the start (epoch 0) where none beat
    # it by a standard error: the rule of an uninterrupted fit.
    best = 1 + int(np.argmin(ae.validation_loss_curve_))
    assert ae.best_epoch_ in (0, best)
    assert ae.pca_start_ == ("pca" if ae.best_epoch_ == 0 else "network")


def test_a_callback_raising_keyboardinterrupt_is_an_early_stop_not_an_interrupt(X):
    class StopAfterTwo(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt  # skorch's idiom for ending training

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ae = AutoencoderTransformer(max_epochs=5, random_state=0, callbacks=[StopAfterTwo()])
        ae.fit(X)
    assert ae.n_iter_ == 2


def test_sigint_handler_is_restored_after_fit(X):
    before = signal.getsignal(signal.SIGINT)
    AutoencoderTransformer(max_epochs=1, random_state=0).fit(X)
    assert signal.getsignal(signal.SIGINT) is before


def test_fit_in_a_worker_thread_works(X):
    # Signals are delivered to the main thread only: no handler is installed
    # from another thread, and fitting there works.
    result = {}

    def work():
        result["ae"] = AutoencoderTransformer(max_epochs=1, random_state=0).fit(X)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert result["ae"].n_iter_ == 1
