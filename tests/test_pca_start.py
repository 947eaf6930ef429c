"""The PCA start (``pca_start=True``): the untrained network is PCA, and the
held-out choice never keeps a model worse than PCA on the held-out rows."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
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
        lambda cb: DenoisingAutoencoder(3, max_epochs=2, random_state=0, callbacks=cb),
        lambda cb: AutoencoderTransformer(
            3, early_stopping=True, max_epochs=2, random_state=0, callbacks=cb
        ),
    ],
    ids=["dense", "ordered", "conv", "denoising", "early-stopping"],
)
def test_untrained_network_reconstructs_as_pca(make):
    X = correlated(d=16)
    est, initial = initial_reconstruction(make, X)
    np.testing.assert_allclose(initial, pca_reconstruction(X, 3), rtol=1e-4, atol=1e-4)
    assert est.pca_start_ in ("pca", "network")
    np.testing.assert_allclose(
        est.pca_explained_variance_ratio_, PCA(3).fit(X).explained_variance_ratio_, rtol=1e-6
    )


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
    assert est.pca_start_ == "start" and est.held_out_mse_ is None
    n_iter = est.n_iter_
    est.partial_fit(X[100:])
    assert est.n_iter_ == n_iter + 1 and est.pca_start_ == "start"


def test_out_of_core_fit_starts_from_pca(tmp_path):
    X = correlated(n=300).astype(np.float32)
    path = tmp_path / "X.npy"
    np.save(path, X)
    X_disk = np.load(path, mmap_mode="r")
    holder = {}
    probe = AtTrainBegin(lambda: holder["est"].reconstruct(X))
    est = AutoencoderTransformer(3, max_epochs=3, random_state=0, callbacks=[probe])
    holder["est"] = est
    est.fit(X_disk)
    np.testing.assert_allclose(probe.result, pca_reconstruction(X, 3), rtol=1e-4, atol=1e-4)
    assert est.pca_start_ in ("pca", "network")
    assert est.pca_held_out_mse_ is not None


def held_out_rows(est, X):
    """The rows the PCA start held out in ``est.fit(X)`` (no early stopping)."""
    n = len(X)
    n_valid = min(math.ceil(est.validation_fraction * n), _pca_start.MAX_HELD_OUT_ROWS)
    _, valid = _pca_start.held_out_indices(n, n_valid, torch_seed(est.random_state))
    return X[valid]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("unit_interval", [False, True], ids=["identity", "sigmoid"])
def test_held_out_choice_never_worse_than_pca(seed, unit_interval):
    X = correlated(n=150, d=10, noise=1.0, seed=seed)
    if unit_interval:
        X = (X - X.min()) / (X.max() - X.min())
    est = AutoencoderTransformer(4, max_epochs=15, random_state=seed).fit(X)
    V = held_out_rows(est, X)
    model = np.mean((est.reconstruct(V) - V) ** 2)
    pca = np.mean((pca_reconstruction(X, 4, V) - V) ** 2)
    assert model <= pca * (1 + 1e-5)
    np.testing.assert_allclose(est.pca_held_out_mse_, pca, rtol=1e-4)
    assert est.held_out_mse_ <= est.pca_held_out_mse_
    if est.pca_start_ == "pca":  # then it is PCA everywhere, not only there
        np.testing.assert_allclose(
            est.reconstruct(X), pca_reconstruction(X, 4), rtol=1e-4, atol=1e-4
        )
        assert est.output_activation_ == "identity"
    else:  # the network was refit on all rows (15 held out of 150: 10 %)
        assert est.pca_start_ == "network" and est.held_out_mse_ < pca


def test_refit_on_all_rows_only_on_small_data():
    est = AutoencoderTransformer(2)
    est.pca_start_ = "network"
    start = {"n_history": 0}
    # 5 % of the rows or more held out: train again for the epochs kept.
    assert _pca_start.refit_epochs(est, start, 12, 50, 1_000) == 12
    assert _pca_start.refit_epochs(est, start, 12, 2_000, 60_000) == 0
    assert _pca_start.refit_epochs(est, start, 12, 1_500, 15_000) == 0
    # Not where PCA won, nor without a held-out choice.
    assert _pca_start.refit_epochs(est, None, 12, 50, 1_000) == 0
    est.pca_start_ = "pca"
    assert _pca_start.refit_epochs(est, start, 12, 50, 1_000) == 0


def test_refit_network_trains_on_every_row():
    # 150 rows, 15 held out: where the network wins, the estimator ends on a
    # network trained on all 150 rows for the epochs the choice kept.
    X = correlated(n=150, d=10, noise=0.3, seed=0) ** 3  # nonlinear: the network wins
    est = AutoencoderTransformer(4, max_epochs=30, random_state=0).fit(X)
    assert est.pca_start_ == "network"
    assert est.n_iter_ == len(est.loss_curve_) <= 30
    assert est.validation_loss_curve_ is None
    # The refit's epochs held out nothing: skorch logged no validation loss.
    assert all("valid_loss" not in row for row in est.net_.history)
    V = held_out_rows(est, X)
    assert np.mean((est.reconstruct(V) - V) ** 2) <= est.pca_held_out_mse_


def test_pca_kept_where_the_network_cannot_beat_it():
    # Isotropic noise: nothing for the network to learn beyond PCA; one epoch.
    X = np.random.default_rng(0).normal(size=(200, 6))
    est = AutoencoderTransformer(2, max_epochs=1, random_state=0).fit(X)
    assert est.pca_start_ == "pca"
    np.testing.assert_allclose(est.reconstruct(X), pca_reconstruction(X, 2), atol=1e-5)
    # With early stopping, best_epoch_ says the start was kept.
    est = AutoencoderTransformer(2, max_epochs=1, early_stopping=True, random_state=0).fit(X)
    assert est.pca_start_ == "pca" and est.best_epoch_ == 0
    # Data in [0, 1]: the sigmoid network gives way to PCA.
    U = (X - X.min()) / (X.max() - X.min())
    est = AutoencoderTransformer(2, max_epochs=1, random_state=0).fit(U)
    assert est.pca_start_ == "pca" and est.output_activation_ == "identity"
    np.testing.assert_allclose(est.reconstruct(U), pca_reconstruction(U, 2), atol=1e-5)
    est.partial_fit(U)  # continues as a squared-error network
    assert est.reconstruction_loss_ == "squared_error" and est.n_iter_ == 2


def test_pca_start_off_and_where_it_does_not_apply():
    X = correlated()
    for est in (
        AutoencoderTransformer(3, pca_start=False, max_epochs=2, random_state=0),
        SparseAutoencoder(3, max_epochs=2, random_state=0),
        VariationalAutoencoder(3, max_epochs=2, random_state=0),
        AutoencoderTransformer(3, encoder=torch.nn.Linear(12, 3), max_epochs=2, random_state=0),
    ):
        est.fit(X)
        assert getattr(est, "pca_start_", None) is None
        assert not any(k.startswith("pca_path") for k in est.net_.module_.state_dict())
        assert est.n_iter_ == 2


def test_model_file_round_trip(tmp_path):
    X = correlated()
    for est in (
        AutoencoderTransformer(3, max_epochs=3, random_state=0).fit(X),
        AutoencoderTransformer(3, max_epochs=1, random_state=0).fit(
            np.random.default_rng(0).uniform(size=(100, 6))
        ),
    ):
        path = tmp_path / "model.safetensors"
        est.save(path)
        loaded = skae.load(path)
        assert loaded.pca_start_ == est.pca_start_ and loaded.pca_start
        Xe = X[:, : est.n_features_in_]
        np.testing.assert_array_equal(loaded.reconstruct(Xe), est.reconstruct(Xe))
        np.testing.assert_array_equal(loaded.transform(Xe), est.transform(Xe))


def test_fit_pca_incremental_branch(monkeypatch):
    X = correlated(n=500, d=20, rank=8, noise=0.1)
    monkeypatch.setattr(_pca_start, "MAX_COVARIANCE_FEATURES", 10)
    chunks = (X[i : i + 37] for i in range(0, len(X), 37))
    mean, components, ratio, total = _pca_start.fit_pca(chunks, len(X), 20, 5)
    pca = PCA(5).fit(X)
    np.testing.assert_allclose(mean, pca.mean_)
    # IncrementalPCA is PCA up to its approximation: as good a subspace.
    np.testing.assert_allclose(components @ components.T, np.eye(5), atol=1e-8)
    Xc = X - mean
    ipca_error = np.mean((Xc @ components.T @ components - Xc) ** 2)
    pca_error = np.mean((pca_reconstruction(X, 5) - X) ** 2)
    assert pca_error <= ipca_error <= 1.01 * pca_error
    np.testing.assert_allclose(ratio, pca.explained_variance_ratio_, rtol=1e-2)
    np.testing.assert_allclose(total, X.var(axis=0).sum(), rtol=1e-10)


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


def test_refit_warns_only_where_the_first_run_did_not_converge():
    # The refit trains for the epochs the choice kept (72 of 100 here), so it
    # always ends at its own epoch budget, its loss often still falling: whether
    # training converged is the first run's to say (it ran 100 epochs and had
    # levelled off). Before, this fit warned "reached max_epochs=72".
    X = correlated(n=200, d=10, noise=0.5, seed=1) ** 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est = AutoencoderTransformer(4, max_epochs=100, tol=1e-4, random_state=0).fit(X)
    assert est.pca_start_ == "network" and est.n_iter_ < 100
    converge = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert all("reached max_epochs=100 " in message for message in converge), converge
