"""``partial_fit`` and ``warm_start``: scikit-learn's incremental training semantics.

``partial_fit(X)`` is one epoch over ``X`` (MLPRegressor); its first call sets
the scaling from its batch (IncrementalPCA). ``fit`` with ``warm_start=True``
continues the fitted network for ``max_epochs`` more epochs. Small networks on
the digits, so that the file runs in seconds.
"""

from __future__ import annotations

import os
import pickle
import signal

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from skorch.callbacks import Callback

import skae
from skae import (
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from skae._net import FitInterrupted

ESTIMATOR_CLASSES = [
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
]


def _weights(est):
    return {k: v.detach().clone() for k, v in est.net_.module_.state_dict().items()}


def _same_weights(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _state(est):
    """What a failed call must leave unchanged."""
    return (
        _weights(est),
        est.n_iter_,
        list(est.loss_curve_),
        est.mean_.copy(),
        est.scale_,
        len(est.net_.history),
    )


def _assert_state_is(est, state):
    weights, n_iter, loss_curve, mean, scale, n_history = state
    assert _same_weights(_weights(est), weights)
    assert est.n_iter_ == n_iter
    assert est.loss_curve_ == loss_curve
    np.testing.assert_array_equal(est.mean_, mean)
    assert est.scale_ == scale
    assert len(est.net_.history) == n_history


@pytest.fixture
def chunks(digits01):
    """The digits in [0, 1], in three chunks of 200 rows."""
    X, _ = digits01
    return [X[:200], X[200:400], X[400:600]]


# ------------------------------------------------------------ partial_fit
def test_first_call_builds_the_model_and_each_call_is_one_epoch(make_ae, chunks):
    ae = make_ae()
    assert not hasattr(ae, "net_")
    ae.partial_fit(chunks[0])
    assert ae.n_iter_ == 1 and len(ae.loss_curve_) == 1
    assert ae.n_features_in_ == 64
    # The output activation fit chooses on this batch, and a start from PCA of
    # the batch (no rows held out).
    assert ae.output_activation_ == make_ae().fit(chunks[0]).output_activation_
    assert ae.pca_start_ == "start"
    assert ae.validation_loss_curve_ is None
    assert ae.best_epoch_ is None and ae.best_validation_loss_ is None
    for i, chunk in enumerate(chunks[1:], start=2):
        ae.partial_fit(chunk)
        assert ae.n_iter_ == i and len(ae.loss_curve_) == i
    assert ae.transform(chunks[0]).shape == (200, 4)


@pytest.mark.parametrize("cls", [SparseAutoencoder, VariationalAutoencoder])
def test_first_call_is_one_epoch_of_fit(cls, chunks):
    # Same seed, same initial weights and batch order: bit for bit, against a
    # fit at the constant rate partial_fit trains at (fit warms up). Shown
    # for estimators whose fit trains on all the rows: a fit with the PCA
    # start (AutoencoderTransformer's default) holds some out, which
    # partial_fit does not (test_pca_start.py tests its first call).
    def make(**params):
        return cls(n_components=4, hidden_layer_sizes=(32,), random_state=0, **params)

    one = make().partial_fit(chunks[0])
    fitted = make(max_epochs=1, lr_schedule="constant").fit(chunks[0])
    assert _same_weights(_weights(one), _weights(fitted))
    assert one.loss_curve_ == fitted.loss_curve_


def test_later_batches_use_the_first_batch_scaling(make_ae, digits):
    X, _ = digits  # pixel values 0..16: centred and scaled
    ae = make_ae().partial_fit(X[:100])
    mean, scale = ae.mean_.copy(), ae.scale_
    assert ae.output_activation_ == "identity"
    ae.partial_fit(X[100:300] * 2.0)  # other statistics: not used
    np.testing.assert_array_equal(ae.mean_, mean)
    assert ae.scale_ == scale
    np.testing.assert_allclose(mean, X[:100].mean(axis=0))


def test_a_sequence_of_calls_is_reproducible(make_ae, chunks):
    def run(random_state):
        ae = make_ae(random_state=random_state)
        for chunk in [*chunks, *chunks]:
            ae.partial_fit(chunk)
        return ae

    a, b = run(0), run(0)
    assert _same_weights(_weights(a), _weights(b))
    assert a.loss_curve_ == b.loss_curve_
    assert not _same_weights(_weights(a), _weights(run(1)))


def test_calls_draw_new_batch_orders(make_ae, chunks, monkeypatch):
    # Calls on the same batch must not repeat the first call's shuffling.
    orders, randperm = [], torch.randperm

    def spy(*args, **kwargs):
        orders.append(randperm(*args, **kwargs))
        return orders[-1]

    monkeypatch.setattr(torch, "randperm", spy)
    ae = make_ae(batch_size=50)
    ae.partial_fit(chunks[0])
    ae.partial_fit(chunks[0])
    assert len(orders) == 2 and not torch.equal(orders[0], orders[1])


def test_a_pickled_estimator_continues_like_the_original(make_ae, chunks):
    ae = make_ae().partial_fit(chunks[0]).partial_fit(chunks[1])
    copy = pickle.loads(pickle.dumps(ae))  # optimizer state included
    ae.partial_fit(chunks[2])
    copy.partial_fit(chunks[2])
    assert _same_weights(_weights(ae), _weights(copy))


def test_later_sigmoid_batch_outside_unit_interval_raises(make_ae, chunks):
    ae = make_ae(output_activation="sigmoid").partial_fit(chunks[0])
    state = _state(ae)
    with pytest.raises(ValueError, match=r"output_activation_='sigmoid'.*\[0, 1\]"):
        ae.partial_fit(chunks[1] * 16.0)
    _assert_state_is(ae, state)


@pytest.mark.parametrize(
    "bad",
    [
        lambda X: X[:, :-1],
        lambda X: np.where(np.arange(X.shape[1]) == 3, np.nan, X),
        lambda X: X.reshape(len(X), 4, 16),
    ],
    ids=["fewer-features", "nan", "other-image-shape"],
)
def test_invalid_later_batch_raises_and_leaves_the_state(make_ae, chunks, bad):
    ae = make_ae().partial_fit(chunks[0])
    state = _state(ae)
    with pytest.raises(ValueError):
        ae.partial_fit(bad(chunks[1]))
    _assert_state_is(ae, state)


def test_an_error_during_a_later_call_leaves_the_state(make_ae, chunks):
    class FailAtSecondBatch(Callback):
        def on_batch_end(self, net, training=False, **kwargs):
            if training and len(net.history[-1, "batches"]) == 2:
                raise RuntimeError("boom")

    ae = make_ae(batch_size=50).partial_fit(chunks[0])
    state = _state(ae)
    ae.set_params(callbacks=[FailAtSecondBatch()])
    with pytest.raises(RuntimeError, match="boom"):
        ae.partial_fit(chunks[1])
    _assert_state_is(ae, state)
    with pytest.raises(RuntimeError, match="boom"):
        ae.set_params(warm_start=True).fit(chunks[1])
    _assert_state_is(ae, state)


def test_wrong_n_features_message_names_both_and_the_fix(make_ae, chunks):
    ae = make_ae().partial_fit(chunks[0])
    with pytest.raises(ValueError, match="X has 63 features.*expecting 64.*call fit"):
        ae.partial_fit(chunks[1][:, :-1])


def test_changed_network_parameter_raises(make_ae, chunks):
    ae = make_ae().partial_fit(chunks[0])
    state = _state(ae)
    ae.set_params(hidden_layer_sizes=(16,))
    with pytest.raises(ValueError, match=r"hidden_layer_sizes=\(16,\) \(fitted with \(32,\)\)"):
        ae.partial_fit(chunks[1])
    _assert_state_is(ae, state)
    ae.set_params(hidden_layer_sizes=[32], lr=1e-4, batch_size=32)  # the same network
    ae.partial_fit(chunks[1])
    assert ae.n_iter_ == 2
    assert ae.net_.optimizer_.param_groups[0]["lr"] == 1e-4


def test_partial_fit_ignores_early_stopping(make_ae, chunks):
    ae = make_ae(early_stopping=True)
    ae.partial_fit(chunks[0][:1])  # one sample: no validation split is needed
    ae.partial_fit(chunks[1])
    assert ae.n_iter_ == 2 and ae.validation_loss_curve_ is None and ae.best_epoch_ is None


def test_partial_fit_over_chunks_approaches_fit(make_ae, digits01):
    X, _ = digits01
    X = X[np.random.default_rng(0).permutation(len(X))]
    X_train, X_test = X[:1500], X[1500:]
    n_epochs = 10
    fitted = make_ae(n_components=8, max_epochs=n_epochs, tol=0.0).fit(X_train)
    assert fitted.n_iter_ == n_epochs
    ae = make_ae(n_components=8)
    chunks = np.array_split(np.arange(len(X_train)), 5)
    for _ in range(n_epochs):
        for rows in chunks:
            ae.partial_fit(X_train[rows])
        if ae.n_iter_ == len(chunks):
            after_one_pass = -ae.score(X_test)
    assert ae.n_iter_ == n_epochs * len(chunks)
    error, fit_error = -ae.score(X_test), -fitted.score(X_test)
    # partial_fit starts from PCA of its first chunk, about PCA's error after
    # one pass: the later passes improve on it, beyond PCA fitted on every
    # training row, and come close to fit.
    pca = PCA(8).fit(X_train)
    pca_error = np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)
    assert error < 0.95 * after_one_pass
    assert error < 0.95 * pca_error
    assert error < 1.3 * fit_error


def test_fit_after_partial_fit_starts_over(make_ae, chunks):
    ae = make_ae().partial_fit(chunks[0]).partial_fit(chunks[1])
    ae.fit(chunks[2])
    fresh = make_ae().fit(chunks[2])
    assert ae.n_iter_ == fresh.n_iter_
    assert _same_weights(_weights(ae), _weights(fresh))


def test_denoising_clipping_range_comes_from_the_first_batch(chunks):
    dae = DenoisingAutoencoder(
        n_components=8, hidden_layer_sizes=(32,), noise="salt_and_pepper", random_state=0
    )
    first = chunks[0][:, :8] * 0.5  # in [0, 0.5]: sigmoid, clipped there
    dae.partial_fit(first)
    np.testing.assert_allclose(dae.net_.corruption.high.numpy(), first.max(axis=0))
    dae.partial_fit(chunks[1][:, :8])
    np.testing.assert_allclose(dae.net_.corruption.high.numpy(), first.max(axis=0))


def test_save_after_partial_fit_and_continue_after_load(make_ae, chunks, tmp_path):
    ae = make_ae().partial_fit(chunks[0]).partial_fit(chunks[1])
    path = ae.save(tmp_path / "model.safetensors")
    loaded = skae.load(path)
    assert loaded.n_iter_ == 2 and loaded.warm_start is False
    np.testing.assert_array_equal(loaded.transform(chunks[2]), ae.transform(chunks[2]))
    loaded.partial_fit(chunks[2])
    assert loaded.n_iter_ == 3 and len(loaded.loss_curve_) == 3
    loaded.set_params(n_components=2)
    with pytest.raises(ValueError, match="n_components=2"):
        loaded.partial_fit(chunks[2])


@pytest.mark.parametrize("cls", ESTIMATOR_CLASSES, ids=lambda c: c.__name__)
def test_every_estimator_has_partial_fit_and_warm_start(cls, chunks):
    est = cls(n_components=4, max_epochs=2, random_state=0, device="cpu")
    assert est.get_params()["warm_start"] is False
    est.partial_fit(chunks[0]).partial_fit(chunks[1])
    assert est.n_iter_ == 2 and len(est.loss_curve_) == 2
    assert est.transform(chunks[2]).shape == (200, 4)
    est.set_params(warm_start=True).fit(chunks[2])
    assert est.n_iter_ == 4 and len(est.loss_curve_) == 4


# ------------------------------------------------------------- warm_start
def test_warm_start_continues_training(make_ae, chunks):
    X = np.vstack(chunks)
    ae = make_ae(max_epochs=4, tol=0.0, warm_start=True).fit(X)
    first_curve = list(ae.loss_curve_)
    ae.fit(X)
    assert ae.n_iter_ == 8 and ae.loss_curve_[:4] == first_curve
    # It went on from where it was: its losses continue to decrease...
    assert ae.loss_curve_[4] < first_curve[0]
    assert ae.loss_curve_[-1] < first_curve[-1]
    # ... and it is not a cold fit of the same parameters.
    cold = make_ae(max_epochs=4, tol=0.0).fit(X)
    assert not _same_weights(_weights(ae), _weights(cold))


def test_warm_start_on_an_unfitted_estimator_is_an_ordinary_fit(make_ae, chunks):
    warm = make_ae(warm_start=True).fit(chunks[0])
    cold = make_ae().fit(chunks[0])
    assert _same_weights(_weights(warm), _weights(cold))
    assert warm.n_iter_ == cold.n_iter_


def test_warm_start_keeps_the_first_scaling(make_ae, digits):
    X, _ = digits
    ae = make_ae(max_epochs=2, warm_start=True).fit(X[:300])
    mean, scale = ae.mean_.copy(), ae.scale_
    ae.fit(X[300:900])
    np.testing.assert_array_equal(ae.mean_, mean)
    assert ae.scale_ == scale


def test_warm_start_with_changed_n_components_raises(make_ae, chunks):
    ae = make_ae(max_epochs=2, warm_start=True).fit(chunks[0])
    state = _state(ae)
    ae.set_params(n_components=2)
    with pytest.raises(ValueError, match=r"n_components=2 \(fitted with 4\).*warm_start=False"):
        ae.fit(chunks[1])
    _assert_state_is(ae, state)
    ae.set_params(warm_start=False).fit(chunks[1])  # the fix the message names
    assert ae.transform(chunks[1]).shape == (200, 2)


def test_warm_start_with_other_features_raises(make_ae, chunks):
    ae = make_ae(max_epochs=2, warm_start=True).fit(chunks[0])
    state = _state(ae)
    with pytest.raises(ValueError, match="expecting 64 features.*set warm_start=False"):
        ae.fit(chunks[1][:, :32])
    _assert_state_is(ae, state)


def test_warm_start_with_early_stopping_numbers_epochs_across_fits(make_ae, chunks):
    X = np.vstack(chunks)
    ae = make_ae(max_epochs=3, tol=0.0, warm_start=True).fit(X)
    # The first fit's validation losses: on the rows its PCA start held out.
    first = list(ae.validation_loss_curve_)
    assert len(first) == 4 and np.isfinite(first).all()  # epochs 0 to 3
    ae.set_params(early_stopping=True).fit(X)
    assert ae.n_iter_ == 6 and len(ae.validation_loss_curve_) == 7
    assert ae.validation_loss_curve_[:4] == first
    # One of this fit's epochs: the weights it continued from are not a
    # candidate (they are its initialisation).
    assert 4 <= ae.best_epoch_ <= 6
    assert ae.best_validation_loss_ == ae.validation_loss_curve_[ae.best_epoch_]
    assert ae.best_validation_loss_ == min(ae.validation_loss_curve_[4:])

    # A first fit without held-out rows (an estimator without the PCA start):
    # NaN for its epochs.
    sae = SparseAutoencoder(4, hidden_layer_sizes=(32,), max_epochs=3, tol=0.0, random_state=0)
    sae.set_params(warm_start=True).fit(X)
    assert sae.validation_loss_curve_ is None
    sae.set_params(early_stopping=True).fit(X)
    assert sae.n_iter_ == 6 and len(sae.validation_loss_curve_) == 7
    assert np.isnan(sae.validation_loss_curve_[:4]).all()
    assert 4 <= sae.best_epoch_ <= 6
    assert sae.best_validation_loss_ == np.nanmin(sae.validation_loss_curve_)


def test_the_fitted_net_does_not_hold_the_training_data(make_ae, chunks):
    # The validation split would keep X alive (and in every pickle).
    ae = make_ae(max_epochs=2, early_stopping=True, warm_start=True).fit(chunks[0])
    assert ae.net_.train_split is None
    ae.fit(chunks[1])
    assert ae.net_.train_split is None


def test_grid_search_and_pipeline_are_unaffected(make_ae, digits01):
    X, y = digits01
    X, y = X[:300], y[:300]
    pipe = make_pipeline(make_ae(max_epochs=2, warm_start=True), LogisticRegression(max_iter=200))
    search = GridSearchCV(pipe, {"autoencodertransformer__n_components": [2, 4]}, cv=2)
    search.fit(X, y)  # each candidate is a clone: an ordinary fit
    assert search.best_estimator_[0].n_iter_ == 2
    assert clone(make_ae(warm_start=True)).get_params()["warm_start"] is True


# ----------------------------------------------------------------- Ctrl-C
class SigintInEpoch(Callback):
    """Sends this process a SIGINT at the second batch of the ``n``-th epoch
    (counted in ``net.history``)."""

    def __init__(self, n):
        self.n = n

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training and len(net.history) == self.n and len(net.history[-1, "batches"]) == 1:
            os.kill(os.getpid(), signal.SIGINT)


needs_sigint = pytest.mark.skipif(
    not hasattr(signal, "SIGINT") or os.name == "nt", reason="needs POSIX signals"
)


@needs_sigint
def test_ctrl_c_in_a_later_partial_fit_leaves_the_previous_state(make_ae, chunks):
    ae = make_ae(batch_size=50).partial_fit(chunks[0])
    state = _state(ae)
    optimizer_steps = ae.net_.optimizer_.state_dict()["state"][0]["step"].clone()
    ae.set_params(callbacks=[SigintInEpoch(2)])
    with pytest.raises(FitInterrupted, match="as it was before"):
        ae.partial_fit(chunks[1])
    _assert_state_is(ae, state)
    assert ae.net_.optimizer_.state_dict()["state"][0]["step"] == optimizer_steps
    ae.set_params(callbacks=None).partial_fit(chunks[1])
    assert ae.n_iter_ == 2
    with pytest.raises(ValueError, match="n_components"):  # still guarded
        ae.set_params(n_components=2).partial_fit(chunks[1])


@needs_sigint
def test_ctrl_c_in_a_first_partial_fit_leaves_no_fitted_state(make_ae, chunks):
    ae = make_ae(batch_size=50, callbacks=[SigintInEpoch(1)])
    with pytest.raises(KeyboardInterrupt):
        ae.partial_fit(chunks[0])
    assert not hasattr(ae, "net_") and not hasattr(ae, "n_iter_")


@needs_sigint
def test_ctrl_c_in_a_warm_start_fit_keeps_its_completed_epochs(make_ae, chunks):
    ae = make_ae(max_epochs=3, tol=0.0, batch_size=50, warm_start=True).fit(chunks[0])
    ae.set_params(callbacks=[SigintInEpoch(5)])  # the second epoch of the second fit
    with pytest.raises(FitInterrupted), pytest.warns(match="interrupted"):
        ae.fit(chunks[0])
    assert ae.n_iter_ == 4 and len(ae.loss_curve_) == 4
