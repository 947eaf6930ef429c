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
from skae._losses import AutoencoderLoss, TargetTerm, balanced_mean
from skae._nn import AutoencoderModule, NestedDecoders, nested_prefix, prefix_codes
from skae._ordered import nested_widths
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


def _padded_tensor(z, width):
    """A tensor ``z`` with its units after the first ``width`` set to zero."""
    z = z.clone()
    z[:, width:] = 0.0
    return z


def _prefix_errors(ae, X):
    """Training MSE through the first 1, 2, ... n_components units."""
    Z = ae.transform(X)
    return np.array(
        [np.mean((X - ae.inverse_transform(_padded(Z, k))) ** 2) for k in range(1, Z.shape[1] + 1)]
    )


# ------------------------------------------------------------ training
def test_prefix_codes_zero_the_units_after_each_width():
    z = torch.randn(5, 6)
    prefixes = prefix_codes(z, (1, 2, 4))
    assert prefixes.shape == (3, 5, 6)
    for prefix, width in zip(prefixes, (1, 2, 4), strict=True):
        assert torch.equal(prefix[:, :width], z[:, :width])
        assert torch.equal(prefix[:, width:], torch.zeros(5, 6 - width))


def test_prefix_widths_are_the_powers_of_two_below_the_code_width():
    # Then the whole code less one unit; the whole code is always decoded too.
    assert nested_widths(32) == (1, 2, 4, 8, 16, 31)
    assert nested_widths(6) == (1, 2, 4, 5)
    assert nested_widths(5) == (1, 2, 4)
    assert nested_widths(2) == (1,)
    assert nested_widths(1) == ()


def _nested_module():
    torch.manual_seed(0)
    decoders = [torch.nn.Linear(4, 5) for _ in range(3)]
    return AutoencoderModule(
        torch.nn.Linear(5, 4), NestedDecoders((1, 2, 4), decoders), prefix_widths=(1, 2)
    )


def test_loss_is_the_mean_over_the_whole_code_and_every_prefix():
    module = _nested_module().eval()
    x = torch.randn(8, 5)
    output = module(x)
    code = module.encode(x)
    decoders = module.decoder.decoders
    # Each width by its own decoder, the whole code by the last.
    torch.testing.assert_close(output["reconstruction"], decoders[2](code))
    for prefix, width, decoder in zip(
        output["prefix_reconstructions"], (1, 2), decoders[:2], strict=True
    ):
        torch.testing.assert_close(prefix, decoder(_padded_tensor(code, width)))
    loss = AutoencoderLoss("squared_error").per_sample(output, x)
    decoded = [output["reconstruction"], *output["prefix_reconstructions"]]
    errors = [((r - x) ** 2).mean(dim=1) for r in decoded]
    torch.testing.assert_close(loss, balanced_mean(torch.stack(errors)))


def test_balanced_mean_counts_each_term_by_its_relative_change():
    errors = torch.tensor([[1.0, 3.0], [10.0, 30.0]], requires_grad=True)  # means 2 and 20
    loss = balanced_mean(errors)
    # Its batch mean is the geometric mean of the terms' means ...
    torch.testing.assert_close(loss.mean(), torch.tensor(40.0).sqrt())
    torch.testing.assert_close(loss, torch.tensor([1.0 + 1.0, 3.0 + 3.0]) * 40**0.5 / 4)
    # ... and each term's gradient is scaled by 1 / its mean: alike in relative terms.
    loss.mean().backward()
    grad = errors.grad
    torch.testing.assert_close(grad[0] * 2.0, grad[1] * 20.0)


def test_in_training_each_decoder_also_sees_the_widths_it_serves():
    torch.manual_seed(0)
    z = torch.randn(4000, 8)
    prefix = nested_prefix(z, 4, 8)
    widths = (prefix != 0).sum(dim=1)
    assert set(widths.tolist()) == {5, 6, 7, 8}
    assert 0.55 < float((widths == 8).float().mean()) < 0.70  # half, plus a quarter of the rest
    assert torch.equal(prefix[widths == 8], z[widths == 8])


def test_nested_decoders_read_the_width_from_the_last_nonzero_unit():
    module = _nested_module().eval()
    decoders = module.decoder.decoders
    z = torch.randn(4, 4)
    rows = torch.stack([_padded_tensor(z, w)[i] for i, w in enumerate((1, 2, 3, 4))])
    out = module.decode(rows)
    torch.testing.assert_close(out[0], decoders[0](rows[:1])[0])  # width 1
    torch.testing.assert_close(out[1], decoders[1](rows[1:2])[0])  # width 2
    torch.testing.assert_close(out[2], decoders[2](rows[2:3])[0])  # width 3: the 4-unit decoder
    torch.testing.assert_close(out[3], decoders[2](rows[3:])[0])
    torch.testing.assert_close(module.decode(torch.zeros(1, 4)), decoders[0](torch.zeros(1, 4)))


def test_supervised_ordered_codes_train_the_head_on_every_prefix():
    torch.manual_seed(0)
    module = _nested_module()
    module.target_head = torch.nn.Linear(4, 3)
    x, labels = torch.randn(8, 5), torch.tensor([0, 1, 2, 0, 1, 2, 0, -1])
    output = module.train()(x)
    assert len(output["prefix_targets"]) == 2
    term = TargetTerm("classes", 1.0)
    loss = AutoencoderLoss("squared_error", target=term).per_sample(output, (x, labels))
    plain = AutoencoderLoss("squared_error").per_sample(output, x)
    predictions = [output["target"], *output["prefix_targets"]]
    heads = torch.stack([term({"target": p}, labels) for p in predictions]).mean(dim=0)
    torch.testing.assert_close(loss, plain + heads)


def test_prefixes_reconstruct_better_with_more_units(ordered_ae, digits_X):
    errors = _prefix_errors(ordered_ae, digits_X)
    # Monotone up to a little noise, and the whole code far better than one unit.
    assert np.all(errors[1:] <= errors[:-1] * 1.02), errors
    assert errors[-1] < 0.6 * errors[0]
    # Without ordering, the first two units of the code are a poor 2-unit code.
    plain = AutoencoderTransformer(8, max_epochs=40, lr=1e-2, **FAST).fit(digits_X)
    assert errors[1] < 0.9 * _prefix_errors(plain, digits_X)[1]


def test_transform_is_unchanged_by_ordering(ordered_ae, digits_X):
    # The prefixes are decoded in the loss only: transform, reconstruct and score agree.
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
    decoder = est.net_.module_.decoder
    assert isinstance(decoder, NestedDecoders) and decoder.widths == (1, 2, 3)


def test_ordered_with_your_own_decoder(X):
    # A decoder of the user's for each prefix width, built from the same class.
    def decoder(n_components, n_features):
        return nn.Sequential(nn.Linear(n_components, 16), nn.ReLU(), nn.Linear(16, n_features))

    est = AutoencoderTransformer(4, ordered=True, decoder=decoder, max_epochs=3, **FAST).fit(X)
    assert est.explained_variance_ratio_.shape == (4,)
    decoders = est.net_.module_.decoder.decoders
    assert len(decoders) == 4 and all(d[0].in_features == 4 for d in decoders)  # 1, 2, 3, 4


@pytest.mark.parametrize("cls", [SparseAutoencoder, VariationalAutoencoder])
def test_sparse_and_variational_take_no_ordered(cls):
    # Their penalty (sparsity, KL divergence) decides which units carry the
    # code; they do not offer ordered codes.
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


# ------------------------------------------------- everywhere ordered codes are offered
def test_partial_fit_trains_every_prefix(digits_X):
    est = AutoencoderTransformer(4, ordered=True, **FAST)
    before = None
    for start in range(0, 600, 200):
        est.partial_fit(digits_X[start : start + 200])
        errors = _prefix_errors(est, digits_X[:200])
        if before is not None:  # each prefix's decoder learns from every batch
            assert np.all(errors < before), (errors, before)
        before = errors
    assert isinstance(est.net_.module_.decoder, NestedDecoders)
    assert est.explained_variance_ratio_.shape == (4,)


def test_supervised_ordered_codes_classify_from_their_prefixes(digits_X):
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    y = load_digits().target
    params = {"max_epochs": 30, "lr": 1e-2, **FAST}
    supervised = AutoencoderTransformer(8, ordered=True, target_weight=1.0, **params)
    plain = AutoencoderTransformer(8, ordered=True, **params)
    accuracy = {}
    for name, est in (("supervised", supervised), ("plain", plain)):
        Z = est.fit(digits_X[:1200], y[:1200]).transform(digits_X)[:, :2]
        clf = LogisticRegression(max_iter=1000).fit(Z[:1200], y[:1200])
        accuracy[name] = clf.score(Z[1200:], y[1200:])
    # The head is trained on the prefixes too: two units separate the classes better.
    assert accuracy["supervised"] > accuracy["plain"] + 0.05, accuracy
