"""Scores that say what they are: the VAE's ELBO, one yardstick across reducers,
``tol`` in one unit, and the epoch early stopping returns."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from torch.nn import functional as F

import skae
from skae import AutoencoderTransformer, VariationalAutoencoder
from skae._device import torch_seed
from skae._losses import gaussian_kl
from skae._losses import reconstruction_error as rec
from skae._training import n_held_out, training_data
from skae.metrics import neg_mean_squared_reconstruction_error, reconstruction_error


def _reference_elbo(vae, X, n_draws, seed):
    """Many-draw ELBO per sample, computed here from the module's parts.

    Returns the estimate and the standard deviation of one draw's
    log-likelihood, per sample.
    """
    module = vae.net_.module_
    x = torch.from_numpy(vae._normalize(X))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        mean, logvar = module.split(x)
        std = torch.exp(0.5 * logvar)
        loglik = []
        for _ in range(n_draws):
            z = mean + std * torch.randn(mean.shape, generator=gen)
            logits = module.decode(z)
            if vae.reconstruction_loss_ == "binary_crossentropy":
                ll = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
            else:
                ll = -0.5 * ((logits - x) ** 2).sum(1) - 0.5 * x.shape[1] * math.log(2 * math.pi)
            loglik.append(ll.double())
        loglik = torch.stack(loglik)
        kl = 0.5 * torch.sum(mean**2 + logvar.exp() - 1 - logvar, dim=1).double()
    offset = X.shape[1] * math.log(vae.scale_)
    return (loglik.mean(0) - kl).numpy() - offset, loglik.std(0).numpy()


@pytest.mark.parametrize("scale", [1.0, 7.0])  # Bernoulli, then Gaussian likelihood
def test_vae_score_samples_is_a_monte_carlo_elbo(X, scale):
    vae = VariationalAutoencoder(n_components=4, max_epochs=20, random_state=0)
    vae.fit(X * scale)
    scores = vae.score_samples(X * scale)
    reference, spread = _reference_elbo(vae, X * scale, n_draws=2000, seed=1)
    # Standard error of the 32-draw estimate, plus that of the reference.
    stderr = spread * np.sqrt(1 / skae._variational.ELBO_DRAWS + 1 / 2000)
    z = (scores - reference) / stderr
    assert np.mean(np.abs(z) < 4) >= 0.99
    # The posterior-mean plug-in (the old score) is off by far more.
    module = vae.net_.module_
    with torch.no_grad():
        x = torch.from_numpy(vae._normalize(X * scale))
        out = module.eval()(x)
        plug_in = -(rec(out, x, vae.reconstruction_loss_, "sum") + gaussian_kl(out)).double()
    plug_in = plug_in.numpy() - X.shape[1] * math.log(vae.scale_)
    assert np.mean(np.abs(plug_in - reference)) > 5 * np.mean(np.abs(scores - reference))


def test_vae_score_samples_is_seeded_by_random_state_and_row_independent(X):
    vae = VariationalAutoencoder(n_components=3, max_epochs=2, random_state=0).fit(X)
    full = vae.score_samples(X)
    np.testing.assert_array_equal(full, vae.score_samples(X))
    np.testing.assert_allclose(vae.score_samples(X[::-1][:50]), full[::-1][:50], rtol=1e-6)
    assert vae.score(X) == pytest.approx(full.mean())


def test_reconstruction_error_is_in_the_squared_units_of_X(X):
    # The same data in units ten times smaller trains the same network (the
    # estimator scales its inputs) and scores an error 10**2 times larger.
    params = dict(n_components=4, output_activation="identity", max_epochs=3, random_state=0)
    a = AutoencoderTransformer(**params).fit(X * 16.0)
    b = AutoencoderTransformer(**params).fit(X * 160.0)
    np.testing.assert_allclose(
        b.score_samples(X * 160.0), 100.0 * a.score_samples(X * 16.0), rtol=1e-4
    )
    assert b.score(X * 160.0) == pytest.approx(100.0 * a.score(X * 16.0), rel=1e-4)


def test_reconstruction_scorer_matches_each_estimators_own_error(X):
    ae = AutoencoderTransformer(n_components=4, max_epochs=3, random_state=0).fit(X)
    assert neg_mean_squared_reconstruction_error(ae, X) == pytest.approx(ae.score(X), rel=1e-9)
    pca = PCA(4).fit(X)
    expected = np.mean((X - pca.inverse_transform(pca.transform(X))) ** 2, axis=1)
    np.testing.assert_allclose(reconstruction_error(pca, X), expected, rtol=1e-12)
    vae = VariationalAutoencoder(n_components=4, max_epochs=3, random_state=0).fit(X)
    error = reconstruction_error(vae, X)
    np.testing.assert_allclose(error, np.mean((X - vae.reconstruct(X)) ** 2, axis=1), rtol=1e-9)


def test_reconstruction_scorer_ranks_pca_and_an_autoencoder_in_one_grid_search(X):
    grid = [
        {"reduce": [PCA(n_components=1)]},
        {"reduce": [PCA(n_components=8)]},
        {"reduce": [AutoencoderTransformer(n_components=8, max_epochs=30, random_state=0)]},
    ]
    search = GridSearchCV(
        Pipeline([("reduce", PCA())]),
        grid,
        scoring=neg_mean_squared_reconstruction_error,
        cv=2,
    ).fit(X)
    scores = search.cv_results_["mean_test_score"]
    # One scale: every score is minus a mean squared error of pixels in [0, 1].
    assert np.all((scores < 0) & (scores > -1))
    assert scores[1] > scores[0]  # 8 components reconstruct better than 1
    assert search.best_score_ == scores.max()


def test_reconstruction_scorer_refuses_a_transformer_without_inverse():
    from sklearn.preprocessing import Normalizer

    with pytest.raises(TypeError, match="inverse_transform"):
        reconstruction_error(Normalizer().fit(np.ones((3, 2))), np.ones((3, 2)))


def test_tol_is_per_feature_for_every_estimator(X):
    ae = AutoencoderTransformer(max_epochs=1, tol=1e-3, random_state=0).fit(X)
    vae = VariationalAutoencoder(max_epochs=1, tol=1e-3, random_state=0).fit(X)
    threshold = {
        type(est).__name__: dict(est.net_.callbacks_)["early_stopping"].threshold
        for est in (ae, vae)
    }
    assert threshold["AutoencoderTransformer"] == pytest.approx(1e-3)
    # The VAE's loss is summed over the 64 features.
    assert threshold["VariationalAutoencoder"] == pytest.approx(1e-3 * X.shape[1])


def _held_out_rows(est, X):
    """The rows ``est.fit(X)`` held out for its validation loss, as it split them."""
    n_valid = n_held_out(
        len(X),
        early=est.early_stopping,
        select=True,
        validation_fraction=est.validation_fraction,
    )
    _, valid = training_data(
        X, X, lambda rows: rows, n_valid=n_valid, split_seed=torch_seed(est.random_state)
    )
    return X[valid.indices.numpy()]


@pytest.mark.parametrize("early_stopping", [True, False])
def test_early_stopping_reports_the_epoch_it_returns(X, early_stopping):
    ae = AutoencoderTransformer(
        n_components=4, max_epochs=15, early_stopping=early_stopping, tol=0.0, random_state=0
    ).fit(X)
    # Without held-out rows (an estimator without the PCA start), None.
    plain = VariationalAutoencoder(max_epochs=2, random_state=0).fit(X)
    assert plain.best_epoch_ is None and plain.best_validation_loss_ is None
    curve = ae.validation_loss_curve_
    assert len(curve) == ae.n_iter_ + 1  # epoch 0 (the start) to n_iter_
    assert 0 <= ae.best_epoch_ <= ae.n_iter_
    assert ae.best_validation_loss_ == curve[ae.best_epoch_]
    if ae.best_epoch_ == 0:  # the start kept, then refit on all rows
        return
    # A trained epoch: the lowest of the curve, and the model returned, so
    # its loss on the held-out rows is recomputed from its reconstructions:
    # for data in [0, 1] (a sigmoid output) the binary cross-entropy, else
    # the squared error in the network's units (over scale_**2).
    assert ae.best_epoch_ == 1 + int(np.argmin(curve[1:]))
    X_valid = _held_out_rows(ae, X)
    R = ae.reconstruct(X_valid)
    if ae.reconstruction_loss_ == "binary_crossentropy":
        loss = -np.mean(X_valid * np.log(R) + (1 - X_valid) * np.log1p(-R))
    else:
        loss = np.mean((R - X_valid) ** 2) / ae.scale_**2
    assert ae.best_validation_loss_ == pytest.approx(loss, rel=1e-5)
