"""Ordered codes: nested dropout, explained_variance_ratio_, and CodePrefix in a
grid search that fits the autoencoder once per fold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from torch import nn

import skae
from skae import (
    AutoencoderTransformer,
    CodePrefix,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from skae._losses import AutoencoderLoss
from skae._nn import AutoencoderModule, NestedDropout
from skae._ordered import nested_width_probs
from skae.metrics import neg_mean_squared_reconstruction_error

torch.set_num_threads(1)

FAST = {"hidden_layer_sizes": (32,), "random_state": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def digits_X():
    """The 1797 digits in [0, 1]."""
    from sklearn.datasets import load_digits

    return load_digits().data / 16.0


@pytest.fixture(scope="module")
def ordered_ae(digits_X):
    """An ordered 8-unit code of the digits (shared by the read-only tests)."""
    return AutoencoderTransformer(8, ordered=True, max_epochs=40, lr=1e-2, **FAST).fit(digits_X)


def _padded(Z, width):
    """``Z`` with its units after the first ``width`` set to zero."""
    Z = Z.copy()
    Z[:, width:] = 0.0
    return Z


def _prefix_errors(ae, X):
    """Training MSE through the first 1, 2, ... n_components units."""
    Z = ae.transform(X)
    return np.array(
        [np.mean((X - ae.inverse_transform(_padded(Z, k))) ** 2) for k in range(1, Z.shape[1] + 1)]
    )


# ------------------------------------------------------------ training
def test_nested_dropout_zeroes_the_units_after_a_drawn_width():
    torch.manual_seed(0)
    z = torch.randn(500, 6)
    dropout = NestedDropout([0.0, 0.5, 0.0, 0.0, 0.0, 0.5])  # widths 2 and 6
    out = dropout.train()(z)
    kept = (out != 0).sum(dim=1)
    assert set(kept.tolist()) == {2, 6}
    assert 150 < int((kept == 2).sum()) < 350
    # A prefix is kept as it was, the rest is zero.
    assert torch.equal(out[:, :2], z[:, :2])
    assert torch.equal(out[kept == 2][:, 2:], torch.zeros(int((kept == 2).sum()), 4))
    # Evaluation mode (transform, inverse_transform) leaves the code alone.
    assert torch.equal(dropout.eval()(z), z)


def test_prefix_widths_are_the_powers_of_two_below_the_code_width():
    np.testing.assert_allclose(nested_width_probs(32)[[0, 1, 3, 7, 15]], 0.2)
    assert nested_width_probs(32).sum() == pytest.approx(1.0)
    assert nested_width_probs(32)[31] == 0.0  # the whole code is always decoded too
    np.testing.assert_allclose(nested_width_probs(6), [1 / 3, 1 / 3, 0, 1 / 3, 0, 0])
    np.testing.assert_allclose(nested_width_probs(1), [1.0])


def test_training_loss_is_the_mean_of_the_whole_and_the_prefix_reconstruction():
    torch.manual_seed(0)
    module = AutoencoderModule(
        torch.nn.Linear(5, 4), torch.nn.Linear(4, 5), code_dropout=NestedDropout([1, 0, 0, 0])
    )
    x = torch.randn(8, 5)
    output = module.train()(x)
    code = module.encode(x)
    torch.testing.assert_close(output["reconstruction"], module.decode(code))
    prefix = code.clone()
    prefix[:, 1:] = 0.0
    torch.testing.assert_close(output["prefix_reconstruction"], module.decode(prefix))
    loss = AutoencoderLoss("squared_error").per_sample(output, x)
    whole = ((output["reconstruction"] - x) ** 2).mean(dim=1)
    truncated = ((output["prefix_reconstruction"] - x) ** 2).mean(dim=1)
    torch.testing.assert_close(loss, 0.5 * (whole + truncated))
    # In evaluation (transform, score) only the whole code is decoded.
    assert "prefix_reconstruction" not in module.eval()(x)


def test_prefixes_reconstruct_better_with_more_units(ordered_ae, digits_X):
    errors = _prefix_errors(ordered_ae, digits_X)
    # Monotone up to a little noise, and the whole code far better than one unit.
    assert np.all(errors[1:] <= errors[:-1] * 1.02), errors
    assert errors[-1] < 0.6 * errors[0]
    # Without ordering, the first two units of the code are a poor 2-unit code.
    plain = AutoencoderTransformer(8, max_epochs=40, lr=1e-2, **FAST).fit(digits_X)
    assert errors[1] < 0.9 * _prefix_errors(plain, digits_X)[1]


def test_transform_is_unchanged_by_ordering(ordered_ae, digits_X):
    # Nested dropout acts in training only: transform, reconstruct and score agree.
    Z = ordered_ae.transform(digits_X)
    np.testing.assert_array_equal(ordered_ae.inverse_transform(Z), ordered_ae.reconstruct(digits_X))
    assert Z.shape == (len(digits_X), 8)


# ------------------------------------------------- explained variance
def test_explained_variance_ratio_is_the_reconstruction_curve(ordered_ae, digits_X):
    ratio = ordered_ae.explained_variance_ratio_
    assert ratio.shape == (8,) and ratio.dtype == np.float64
    curve = np.cumsum(ratio)
    assert np.all(curve <= 1.0) and curve[-1] > 0.5
    assert ratio[0] > 0 and np.all(ratio > -0.01)
    # Direct computation: 1 - SSE_j / SST through zero-padded codes.
    X = digits_X
    sst = np.sum((X - X.mean(axis=0)) ** 2)
    Z = ordered_ae.transform(X)
    direct = [
        1.0 - np.sum((X - ordered_ae.inverse_transform(_padded(Z, j))) ** 2) / sst
        for j in range(1, 9)
    ]
    np.testing.assert_allclose(curve, direct, rtol=1e-9, atol=1e-12)


def test_explained_variance_ratio_on_a_seeded_subsample(digits_X, monkeypatch):
    import skae._ordered

    monkeypatch.setattr(skae._ordered, "MAX_ROWS", 300)
    monkeypatch.setattr(skae._ordered, "MIN_ROWS", 300)
    est = AutoencoderTransformer(4, ordered=True, max_epochs=5, **FAST).fit(digits_X)
    again = clone(est).fit(digits_X)
    np.testing.assert_array_equal(est.explained_variance_ratio_, again.explained_variance_ratio_)
    # Estimated on 300 rows: near the value on all of them, not equal to it.
    monkeypatch.setattr(skae._ordered, "MAX_ROWS", 10**6)
    full = est._prefix_variance_ratio(digits_X)
    assert not np.array_equal(full, est.explained_variance_ratio_)
    np.testing.assert_allclose(np.cumsum(full), np.cumsum(est.explained_variance_ratio_), atol=0.05)


def test_no_explained_variance_ratio_without_ordering(make_ae, X):
    est = make_ae(ordered=True).fit(X)
    assert hasattr(est, "explained_variance_ratio_")
    est.set_params(ordered=False).fit(X)
    assert not hasattr(est, "explained_variance_ratio_")
    with pytest.raises(AttributeError):
        est.explained_variance_ratio_  # noqa: B018


def test_model_file_keeps_explained_variance_ratio(make_ae, X, tmp_path):
    est = make_ae(ordered=True).fit(X)
    loaded = skae.load(est.save(tmp_path / "ordered.safetensors"))
    assert loaded.ordered is True
    np.testing.assert_array_equal(loaded.explained_variance_ratio_, est.explained_variance_ratio_)
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


@pytest.mark.parametrize(
    "est",
    [
        ConvolutionalAutoencoder(3, ordered=True, channels=(4,), max_epochs=3, random_state=0),
        DenoisingAutoencoder(3, ordered=True, hidden_layer_sizes=(16,), max_epochs=3),
    ],
    ids=lambda e: type(e).__name__,
)
def test_convolutional_and_denoising_codes_can_be_ordered(est, X):
    est.fit(X)
    assert est.explained_variance_ratio_.shape == (3,)
    assert isinstance(est.net_.module_.code_dropout, NestedDropout)


def test_ordered_with_your_own_decoder(X):
    # The dropout acts on the code between the halves: any modules work.
    def decoder(n_components, n_features):
        return nn.Sequential(nn.Linear(n_components, 16), nn.ReLU(), nn.Linear(16, n_features))

    est = AutoencoderTransformer(4, ordered=True, decoder=decoder, max_epochs=3, **FAST).fit(X)
    assert est.explained_variance_ratio_.shape == (4,)


@pytest.mark.parametrize("cls", [SparseAutoencoder, VariationalAutoencoder])
def test_sparse_and_variational_take_no_ordered(cls):
    # Their penalty (sparsity, KL divergence) decides which units carry the
    # code; they do not offer nested dropout.
    with pytest.raises(TypeError, match="ordered"):
        cls(ordered=True)


# ------------------------------------------------------------- CodePrefix
def test_code_prefix_keeps_and_pads_columns():
    Z = np.arange(12, dtype=np.float32).reshape(3, 4)
    prefix = CodePrefix(2).fit(Z)
    kept = prefix.transform(Z)
    assert kept.dtype == np.float32 and kept.shape == (3, 2)
    back = prefix.inverse_transform(kept)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, _padded(Z, 2))
    assert CodePrefix().fit(Z).n_components_ == 4
    frame = pd.DataFrame(Z, columns=["a", "b", "c", "d"])
    assert list(CodePrefix(3).fit(frame).get_feature_names_out()) == ["a", "b", "c"]


def test_code_prefix_errors():
    Z = np.zeros((3, 4))
    with pytest.raises(ValueError, match="n_components=5 exceeds the 4 columns"):
        CodePrefix(5).fit(Z)
    with pytest.raises(ValueError, match="expects codes with n_components_=2 columns"):
        CodePrefix(2).fit(Z).inverse_transform(np.zeros((3, 3)))


def test_pipeline_inverse_transform_decodes_the_prefix(ordered_ae, digits_X):
    pipe = Pipeline([("ae", ordered_ae), ("prefix", CodePrefix(3).fit(np.zeros((1, 8))))])
    Z = ordered_ae.transform(digits_X)
    np.testing.assert_array_equal(pipe.transform(digits_X), Z[:, :3])
    expected = ordered_ae.inverse_transform(_padded(Z, 3))
    np.testing.assert_array_equal(pipe.inverse_transform(pipe.transform(digits_X)), expected)
    score = neg_mean_squared_reconstruction_error(pipe, digits_X)
    assert score == pytest.approx(-np.mean((digits_X - expected) ** 2))
    names = pipe.get_feature_names_out()
    assert list(names) == [f"autoencodertransformer{i}" for i in range(3)]


class CountingAutoencoder(AutoencoderTransformer):
    """Counts its fits in a class attribute (so that the parameters hash as usual)."""

    n_fits = 0

    def fit(self, X, y=None):
        type(self).n_fits += 1
        return super().fit(X, y)


@pytest.mark.parametrize("cached", [True, False])
def test_grid_search_over_the_prefix_fits_the_autoencoder_once_per_fold(cached, X, tmp_path):
    pipe = Pipeline(
        [
            ("ae", CountingAutoencoder(4, ordered=True, max_epochs=20, lr=1e-2, **FAST)),
            ("prefix", CodePrefix()),
        ],
        memory=str(tmp_path) if cached else None,
    )
    CountingAutoencoder.n_fits = 0
    search = GridSearchCV(
        pipe,
        {"prefix__n_components": [1, 2, 4]},
        scoring=neg_mean_squared_reconstruction_error,
        cv=KFold(3),
    ).fit(X)
    # Cached: one fit per fold, and the refit on all of X; else one per candidate too.
    assert CountingAutoencoder.n_fits == (3 + 1 if cached else 3 * 3 + 1)
    # More units reconstruct the held-out folds better.
    scores = search.cv_results_["mean_test_score"]
    assert np.all(scores < 0) and scores[0] < scores[1] < scores[2]
    assert search.best_estimator_.named_steps["prefix"].n_components_ in (1, 2, 4)
