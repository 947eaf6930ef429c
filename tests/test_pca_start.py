"""The PCA start (``pca_start=True``): the untrained network is PCA, the fit
keeps the epoch of lowest held-out loss with that start counted, and every
diagnostic describes the model returned."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from skorch.callbacks import Callback

import skae
from skae import (
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
    _pca_start,
)
from skae._device import torch_seed
from skae._training import n_held_out, training_data

torch.set_num_threads(1)


def correlated(n=240, d=12, rank=4, noise=0.3, seed=0):
    """Rows near a ``rank``-dimensional subspace, with a mean and unequal scales."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, d))
    X += noise * rng.normal(size=(n, d)) + rng.normal(size=d) * 5
    return X


def pca_reconstruction(X_fit, k, X=None):
    pca = PCA(n_components=k).fit(X_fit)
    X = X_fit if X is None else X
    return pca.inverse_transform(pca.transform(X))


def split_rows(est, X):
    """The training and held-out rows of ``est.fit(X)`` (a PCA start without
    early stopping), as the fit splits them."""
    n_valid = n_held_out(
        len(X), early=False, select=True, validation_fraction=est.validation_fraction
    )
    train, valid = training_data(
        X, X, lambda rows: rows, n_valid=n_valid, split_seed=torch_seed(est.random_state)
    )
    return X[train.indices.numpy()], X[valid.indices.numpy()]


class AtTrainBegin(Callback):
    """Calls ``fn()`` once, when training begins (before any optimizer step)."""

    def __init__(self, fn):
        self.fn = fn
        self.result = None

    def on_train_begin(self, net, **kwargs):
        if self.result is None:
            self.result = self.fn()


def initial_reconstruction(make, X, fit=None):
    """``est.reconstruct(X)`` of the estimator ``make(callbacks)`` builds, taken
    before its first training step."""
    holder = {}
    probe = AtTrainBegin(lambda: holder["est"].reconstruct(X))
    est = make([probe])
    holder["est"] = est
    (fit or est.fit)(X)
    return est, probe.result


@pytest.mark.parametrize(
    "make",
    [
        lambda cb: AutoencoderTransformer(3, max_epochs=2, random_state=0, callbacks=cb),
        lambda cb: AutoencoderTransformer(
            3, ordered=True, max_epochs=2, random_state=0, callbacks=cb
        ),
        lambda cb: ConvolutionalAutoencoder(
            3, image_shape=(4, 4), channels=(4,), max_epochs=2, random_state=0, callbacks=cb
        ),
        lambda cb: AutoencoderTransformer(
            3, early_stopping=True, max_epochs=2, random_state=0, callbacks=cb
        ),
    ],
    ids=["dense", "ordered", "conv", "early-stopping"],
)
def test_untrained_network_reconstructs_as_pca_of_the_training_rows(make):
    X = correlated(d=16)
    est, initial = initial_reconstruction(make, X)
    X_train, _ = split_rows(est, X) if not est.early_stopping else (None, None)
    if est.early_stopping:
        n_valid = n_held_out(len(X), early=True, select=True, validation_fraction=0.1)
        train, _ = training_data(
            X, X, lambda r: r, n_valid=n_valid, split_seed=torch_seed(est.random_state)
        )
        X_train = X[train.indices.numpy()]
    # PCA of the training rows, in the scaling of all rows.
    np.testing.assert_allclose(initial, pca_reconstruction(X_train, 3, X), rtol=1e-4, atol=1e-4)
    assert est.pca_start_ in ("pca", "network")


def test_best_epoch_zero_is_pca_of_all_rows():
    # Two epochs at a tiny rate cannot beat PCA on the held-out rows: the fit
    # keeps its start, refit on every row, so the model is PCA(3).fit(X).
    X = correlated()
    est = AutoencoderTransformer(3, max_epochs=2, lr=1e-7, random_state=0).fit(X)
    assert est.pca_start_ == "pca" and est.best_epoch_ == 0
    np.testing.assert_allclose(est.reconstruct(X), pca_reconstruction(X, 3), atol=1e-4)
    np.testing.assert_allclose(
        est.pca_explained_variance_ratio_, PCA(3).fit(X).explained_variance_ratio_, rtol=1e-6
    )


@pytest.mark.parametrize("max_epochs", [2, 60])
def test_diagnostics_equal_their_recomputation(max_epochs):
    """best_validation_loss_ is the loss the selection saw,
    validation_loss_curve_[best_epoch_] (entry 0: the start); best_epoch_
    names the epoch kept, and pca_start_ agrees with it. A trained epoch
    kept is the model returned, so its held-out loss is recomputed from it."""
    X = correlated(n=400, seed=1)
    est = AutoencoderTransformer(3, max_epochs=max_epochs, random_state=0).fit(X)
    _, X_valid = split_rows(est, X)
    recomputed = np.mean((est.reconstruct(X_valid) - X_valid) ** 2) / est.scale_**2
    assert len(est.validation_loss_curve_) == len(est.loss_curve_) + 1 == est.n_iter_ + 1
    assert est.best_validation_loss_ == est.validation_loss_curve_[est.best_epoch_]
    if est.best_epoch_ == 0:  # no trained epoch beat the start by a standard error
        assert est.pca_start_ == "pca"
        # The start scored on the held-out rows was PCA of the training rows;
        # the model returned is PCA of all rows (the refit).
        X_train, _ = split_rows(est, X)
        start = np.mean((pca_reconstruction(X_train, 3, X_valid) - X_valid) ** 2) / est.scale_**2
        assert est.best_validation_loss_ == pytest.approx(start, rel=1e-4)
    else:
        assert est.pca_start_ == "network"
        assert est.best_validation_loss_ == min(est.validation_loss_curve_[1:])
        assert est.best_validation_loss_ == pytest.approx(recomputed, rel=1e-4)


def test_never_worse_than_pca_on_the_held_out_rows():
    X = correlated(n=400, noise=0.6, seed=2) ** 3
    est = AutoencoderTransformer(3, max_epochs=30, random_state=0).fit(X)
    X_train, X_valid = split_rows(est, X)
    pca = np.mean((pca_reconstruction(X_train, 3, X_valid) - X_valid) ** 2)
    assert np.mean((est.reconstruct(X_valid) - X_valid) ** 2) <= pca * (1 + 1e-4)


def test_sigmoid_output_starts_as_pca_clipped_to_the_unit_interval():
    """Data in [0, 1] keeps the sigmoid output and its cross-entropy (an
    explicit output_activation is never replaced); the start's path decodes
    to the logit of PCA's reconstruction, so epoch 0 is PCA clipped to [0, 1]."""
    U = np.random.default_rng(0).beta(0.5, 0.5, size=(300, 16))
    for output_activation in ("auto", "sigmoid"):
        est, initial = initial_reconstruction(
            lambda cb, o=output_activation: AutoencoderTransformer(
                2, output_activation=o, max_epochs=3, random_state=0, callbacks=cb
            ),
            U,
        )
        assert est.output_activation_ == "sigmoid"
        assert est.reconstruction_loss_ == "binary_crossentropy"
        X_train, _ = split_rows(est, U)
        eps = skae._nn.PCAPath.EPS
        expected = np.clip(pca_reconstruction(X_train, 2, U), eps, 1 - eps)
        np.testing.assert_allclose(initial, expected, rtol=1e-4, atol=1e-5)
        R = est.reconstruct(U)
        assert R.min() >= 0.0 and R.max() <= 1.0
        assert est.pca_start_ in ("pca", "network")


def test_identity_output_on_unit_interval_data_is_kept():
    U = np.random.default_rng(0).uniform(size=(200, 16))
    est = AutoencoderTransformer(2, output_activation="identity", max_epochs=3, random_state=0)
    est.fit(U)
    assert est.output_activation_ == "identity" and est.reconstruction_loss_ == "squared_error"


def test_wide_denoiser_outside_unit_interval_denoises():
    """A denoiser as wide as its input, on standardised data: reconstruct(noisy)
    is closer to the clean rows than the noisy rows are (it once returned its
    input, PCA of full rank being the identity)."""
    rng = np.random.default_rng(0)
    clean = correlated(n=600, d=8, rank=2, noise=0.05)
    clean = (clean - clean.mean(0)) / clean.std(0)
    noisy = clean + 0.5 * rng.normal(size=clean.shape)
    est = DenoisingAutoencoder(8, noise_level=0.5, random_state=0).fit(clean)
    denoised = est.reconstruct(noisy)
    assert np.max(np.abs(denoised - noisy)) > 0.1

    def psnr(X):
        return 10 * np.log10(np.ptp(clean) ** 2 / np.mean((X - clean) ** 2))

    assert psnr(denoised) > psnr(noisy) + 3


class InterruptAt(Callback):
    """Sends SIGINT (Ctrl-C) at the end of the ``at``-th epoch the fit trains,
    counted over every training run of the fit."""

    def __init__(self, at):
        self.at = at
        self.seen = 0

    def on_epoch_end(self, net, **kwargs):
        self.seen += 1
        if self.seen == self.at:
            os.kill(os.getpid(), signal.SIGINT)


class Count(Callback):
    def __init__(self):
        self.seen = 0

    def on_epoch_end(self, net, **kwargs):
        self.seen += 1


@pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="needs SIGINT")
def test_ctrl_c_in_each_phase_of_a_fit(monkeypatch):
    """Ctrl-C in the PCA start leaves nothing fitted; in any epoch of any
    training run it raises KeyboardInterrupt (a search stops) and the
    estimator holds the best completed epoch, its diagnostics describing it."""
    X = correlated(n=200)
    params = dict(n_components=3, max_epochs=4, random_state=0)
    count = Count()
    AutoencoderTransformer(**params, callbacks=[count]).fit(X)
    assert count.seen >= 4
    for at in range(2, count.seen + 1):
        est = AutoencoderTransformer(**params, callbacks=[InterruptAt(at)])
        with pytest.raises(KeyboardInterrupt), pytest.warns(Warning):
            est.fit(X)
        _, X_valid = split_rows(est, X)
        assert est.best_validation_loss_ == est.validation_loss_curve_[est.best_epoch_]
        if est.best_epoch_ == 0:  # the start kept, and refit on all rows before the raise
            assert est.pca_start_ == "pca"
            np.testing.assert_allclose(est.reconstruct(X), pca_reconstruction(X, 3), atol=1e-4)
        else:
            loss = np.mean((est.reconstruct(X_valid) - X_valid) ** 2) / est.scale_**2
            assert est.best_validation_loss_ == pytest.approx(loss, rel=1e-4)
        assert est.n_iter_ == len(est.loss_curve_) <= at

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_pca_start, "fit_pca", interrupted)
    est = AutoencoderTransformer(**params)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X)
    assert not hasattr(est, "net_") and not hasattr(est, "n_iter_")


def test_partial_fit_starts_from_the_first_batch():
    X = correlated()
    first = X[:100]
    holder = {}
    probe = AtTrainBegin(lambda: holder["est"].reconstruct(X))
    est = AutoencoderTransformer(3, random_state=0, callbacks=[probe])
    holder["est"] = est
    est.partial_fit(first)
    # PCA of the first batch, in the scaling of the first batch.
    np.testing.assert_allclose(probe.result, pca_reconstruction(first, 3, X), atol=1e-4)
    assert est.pca_start_ == "start" and est.best_epoch_ is None
    n_iter = est.n_iter_
    est.partial_fit(X[100:])
    assert est.n_iter_ == n_iter + 1 and est.pca_start_ == "start"


def test_out_of_core_fit_starts_from_pca(tmp_path):
    X = correlated(n=300).astype(np.float32)
    path = tmp_path / "X.npy"
    np.save(path, X)
    est = AutoencoderTransformer(3, max_epochs=3, random_state=0)
    est.fit(np.load(path, mmap_mode="r"))
    assert est.pca_start_ in ("pca", "network") and est.best_epoch_ is not None
    assert len(est.validation_loss_curve_) == est.n_iter_ + 1 == 4


def test_pca_start_off_and_where_it_does_not_apply():
    X = correlated()
    for est in (
        AutoencoderTransformer(3, pca_start=False, max_epochs=2, random_state=0),
        SparseAutoencoder(3, max_epochs=2, random_state=0),
        VariationalAutoencoder(3, max_epochs=2, random_state=0),
        DenoisingAutoencoder(3, max_epochs=2, random_state=0),
        AutoencoderTransformer(3, encoder=torch.nn.Linear(12, 3), max_epochs=2, random_state=0),
    ):
        est.fit(X)
        assert getattr(est, "pca_start_", None) is None
        assert not any(k.startswith("pca_path") for k in est.net_.module_.state_dict())
        assert est.n_iter_ == 2 and est.best_epoch_ is None  # all rows trained on


def test_model_file_round_trip(tmp_path):
    X = correlated()
    for est in (
        AutoencoderTransformer(3, max_epochs=3, random_state=0).fit(X),
        AutoencoderTransformer(3, max_epochs=2, lr=1e-7, random_state=0).fit(X),
    ):
        path = tmp_path / "model.safetensors"
        est.save(path)
        loaded = skae.load(path)
        assert loaded.pca_start_ == est.pca_start_ and loaded.pca_start
        np.testing.assert_array_equal(loaded.reconstruct(X), est.reconstruct(X))
        np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_model_file_of_0_2_clones_without_the_start():
    """A file written by skae 0.2 (no pca_start) loads, clones and refits as 0.2
    trained it: pca_start=False."""
    folder = os.path.join(os.path.dirname(__file__), "data", "models-0.2")
    path = os.path.join(folder, "dense.safetensors")
    loaded = skae.load(path)
    assert loaded.pca_start is False
    assert clone(loaded).get_params()["pca_start"] is False


def test_fit_pca_incremental_branch(monkeypatch):
    X = correlated(n=500, d=20, rank=8, noise=0.1)
    monkeypatch.setattr(_pca_start, "MAX_COVARIANCE_FEATURES", 10)
    chunks = (X[i : i + 37] for i in range(0, len(X), 37))
    mean, components, ratio = _pca_start.fit_pca(chunks, len(X), 20, 5)
    pca = PCA(5).fit(X)
    np.testing.assert_allclose(mean, pca.mean_)
    # IncrementalPCA is PCA up to its approximation: as good a subspace.
    np.testing.assert_allclose(components @ components.T, np.eye(5), atol=1e-8)
    Xc = X - mean
    ipca_error = np.mean((Xc @ components.T @ components - Xc) ** 2)
    pca_error = np.mean((pca_reconstruction(X, 5) - X) ** 2)
    assert pca_error <= ipca_error <= 1.01 * pca_error
    np.testing.assert_allclose(ratio, pca.explained_variance_ratio_, rtol=1e-2)


def test_sparse_data_starts_as_dense_data():
    import scipy.sparse as sp

    X = correlated(n=200, d=10)
    X[np.abs(X) < np.median(np.abs(X))] = 0.0
    fits = [
        AutoencoderTransformer(3, max_epochs=3, random_state=0).fit(data)
        for data in (sp.csr_matrix(X), X)
    ]
    assert fits[0].pca_start_ == fits[1].pca_start_
    np.testing.assert_allclose(
        fits[0].pca_explained_variance_ratio_, fits[1].pca_explained_variance_ratio_, rtol=1e-6
    )
    np.testing.assert_allclose(fits[0].reconstruct(X), fits[1].reconstruct(X), atol=1e-4)


@pytest.mark.parametrize(
    "make",
    [
        lambda: AutoencoderTransformer(2),
        lambda: ConvolutionalAutoencoder(2),
        lambda: DenoisingAutoencoder(2),
        lambda: SparseAutoencoder(2),
        lambda: VariationalAutoencoder(2),
        lambda: skae.outliers.AutoencoderOutlierDetector(),
        lambda: skae.outliers.AutoencoderOutlierDetector(PCA(1)),
    ],
)
def test_fit_on_one_row_raises(make):
    """One row is no model (it once trained to loss_curve_ 0, 0, 0): fit
    raises, naming n_samples, and leaves nothing fitted."""
    est = make()
    with pytest.raises(ValueError, match="n_samples=1"):
        est.fit(np.ones((1, 6)))
    assert not [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
