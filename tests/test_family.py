"""Tests of the autoencoder family: convolutional, denoising, sparse, variational.

Every network is tiny and trained for a few epochs on the 8x8 digits (or a
slice of them), so that the file runs in well under a minute on two cores.
"""

from __future__ import annotations

import math
import pickle
import warnings
from functools import cache

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from torch import nn

from skae import (
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from skae._corruption import GaussianNoise, MaskingNoise, SaltAndPepperNoise
from skae._losses import KLSparsity

# Tiny networks gain nothing from intra-op threads; on a loaded machine they
# only spin-wait (conftest.py does the same; repeated here so that this file
# stands alone).
torch.set_num_threads(1)


@cache
def _digits01():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def digits01(n=None):
    """The digits scaled to [0, 1] (a fresh writable copy), first ``n`` rows."""
    X, y = _digits01()
    return X[:n].copy(), y[:n].copy()


SMALL = dict(max_epochs=2, random_state=0, device="cpu")


def conv(**params):
    return ConvolutionalAutoencoder(**{"n_components": 4, "channels": (4, 8), **SMALL, **params})


def dae(**params):
    return DenoisingAutoencoder(
        **{"n_components": 8, "hidden_layer_sizes": (32,), **SMALL, **params}
    )


def sae(**params):
    return SparseAutoencoder(**{"n_components": 8, "hidden_layer_sizes": (32,), **SMALL, **params})


def vae(**params):
    return VariationalAutoencoder(
        **{"n_components": 4, "hidden_layer_sizes": (32,), **SMALL, **params}
    )


def dense(**params):
    return AutoencoderTransformer(
        **{"n_components": 4, "hidden_layer_sizes": (32,), **SMALL, **params}
    )


def _layers(est, kind):
    return [m for m in est.net_.module_.modules() if isinstance(m, kind)]


# --------------------------------------------------------------------------
# ConvolutionalAutoencoder
# --------------------------------------------------------------------------


def test_conv_shapes_on_digits():
    X, _ = digits01(300)
    # The sigmoid output, chosen explicitly: reconstructions bounded to [0, 1].
    est = conv(n_components=5, output_activation="sigmoid").fit(X)
    assert est.image_shape_ == (8, 8, 1)
    Z = est.transform(X)
    assert Z.shape == (300, 5)
    assert Z.dtype == np.float32
    X_rec = est.inverse_transform(Z)
    assert X_rec.shape == (300, 64)
    assert np.all(np.isfinite(X_rec))
    # Sigmoid output: the reconstruction stays in [0, 1].
    assert X_rec.min() >= 0.0 and X_rec.max() <= 1.0
    assert est.reconstruct(X).shape == (300, 64)
    assert len(_layers(est, nn.Conv2d)) > 0


def test_conv_non_square_features_are_1d():
    X, _ = digits01(200)
    X10 = X[:, 20:30]
    est = conv(n_components=3).fit(X10)
    assert est.image_shape_ == (10, 1)
    assert est.transform(X10).shape == (200, 3)
    assert est.reconstruct(X10).shape == (200, 10)
    assert len(_layers(est, nn.Conv1d)) > 0
    assert len(_layers(est, nn.Conv2d)) == 0


def test_conv_explicit_1d_shape():
    X, _ = digits01(100)
    est = conv(image_shape=(64,)).fit(X)
    assert est.image_shape_ == (64, 1)
    assert est.reconstruct(X).shape == (100, 64)
    assert len(_layers(est, nn.Conv1d)) > 0


def test_conv_image_shape_mismatch_raises():
    X, _ = digits01(100)
    est = conv(image_shape=(4, 4))
    with pytest.raises(ValueError, match="image_shape"):
        est.fit(X)
    # A failed fit leaves no fitted state behind.
    assert not hasattr(est, "image_shape_")
    assert not hasattr(est, "net_")


def test_conv_image_shape_with_channels():
    X, _ = digits01(200)
    est = conv(image_shape=(4, 4, 4)).fit(X)
    assert est.image_shape_ == (4, 4, 4)
    assert est.transform(X).shape == (200, 4)
    assert est.reconstruct(X).shape == (200, 64)
    first_conv = _layers(est, nn.Conv2d)[0]
    assert first_conv.in_channels == 4
    # Rows are images flattened in channels-last order: the network's input
    # layer sees row.reshape(4, 4, 4) with the last axis as the channels.
    to_image = est.net_.module_.encoder[0]
    row = torch.arange(64, dtype=torch.float32).reshape(1, 64)
    expected = row.reshape(1, 4, 4, 4).permute(0, 3, 1, 2)
    assert torch.equal(to_image(row), expected)


def test_conv_height_width_image_shape():
    X, _ = digits01(100)
    est = conv(image_shape=(8, 8)).fit(X)
    assert est.image_shape_ == (8, 8, 1)


@pytest.mark.parametrize("upsampling", ["nearest", "transposed"])
def test_conv_upsampling_shapes(upsampling):
    X, _ = digits01(200)
    est = conv(upsampling=upsampling).fit(X)
    assert est.transform(X).shape == (200, 4)
    assert est.inverse_transform(est.transform(X)).shape == (200, 64)
    n_transposed = len(_layers(est, nn.ConvTranspose2d))
    if upsampling == "transposed":
        assert n_transposed == 2
    else:
        assert n_transposed == 0
        assert len(_layers(est, nn.Upsample)) == 2


@pytest.mark.parametrize("upsampling", ["nearest", "transposed"])
@pytest.mark.parametrize(
    "image_shape, n_features",
    [(None, 49), ((5, 6, 3), 90), ((7, 5), 35), (None, 11), ((1, 9), 9)],
)
def test_conv_odd_image_sizes(image_shape, n_features, upsampling):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(40, n_features))
    est = conv(image_shape=image_shape, upsampling=upsampling, n_components=3, batch_size=16)
    est.fit(X)
    assert math.prod(est.image_shape_) == n_features
    Z = est.transform(X)
    assert Z.shape == (40, 3)
    X_rec = est.inverse_transform(Z)
    assert X_rec.shape == (40, n_features)
    assert np.all(np.isfinite(X_rec))


def test_conv_three_stages_odd_size():
    # 7 -> 4 -> 2 -> 1: three pooling stages down to a single pixel.
    X = np.random.default_rng(0).uniform(size=(30, 49))
    for upsampling in ("nearest", "transposed"):
        est = conv(channels=(2, 3, 4), upsampling=upsampling).fit(X)
        assert est.reconstruct(X).shape == (30, 49)


def test_conv_non_integer_image_shape_raises():
    # (8.5, 8) is not an image geometry; it must not be truncated to (8, 8).
    X, _ = digits01(50)
    with pytest.raises(ValueError, match="image_shape"):
        conv(image_shape=(8.5, 8)).fit(X)


def test_conv_empty_channels_is_a_clear_error():
    # A convolutional autoencoder needs at least one convolution stage.
    X, _ = digits01(50)
    est = conv(channels=())
    with pytest.raises(ValueError, match=r"channels must hold at least 1 positive integers"):
        est.fit(X)
    assert not hasattr(est, "net_")


def test_conv_nonpositive_channels_raise():
    X, _ = digits01(50)
    with pytest.raises(ValueError, match="channels"):
        conv(channels=(4, 0)).fit(X)


@pytest.mark.parametrize("kernel_size", [2, 4])
def test_conv_even_kernel_size_raises(kernel_size):
    X, _ = digits01(50)
    est = conv(kernel_size=kernel_size)
    with pytest.raises(ValueError, match="kernel_size"):
        est.fit(X)
    assert not hasattr(est, "net_")


def test_conv_kernel_size_5_works():
    X, _ = digits01(50)
    assert conv(kernel_size=5).fit(X).reconstruct(X).shape == (50, 64)


def test_conv_same_random_state_identical_codes():
    X, _ = digits01(600)
    fits = [conv(random_state=seed, max_epochs=12, lr=1e-2).fit(X) for seed in (3, 3, 4)]
    Z1, Z2, Z3 = (est.transform(X) for est in fits)
    np.testing.assert_array_equal(Z1, Z2)
    # Each seed keeps a trained epoch (a fit that kept its start would be PCA
    # of X, the same for every seed), and another seed trains another network.
    assert [est.pca_start_ for est in fits] == ["network"] * 3
    assert not np.allclose(Z1, Z3)


def test_conv_pickle_round_trip():
    X, _ = digits01(200)
    est = conv().fit(X)
    clone = pickle.loads(pickle.dumps(est))
    assert clone.image_shape_ == est.image_shape_
    np.testing.assert_array_equal(clone.transform(X), est.transform(X))
    np.testing.assert_array_equal(clone.reconstruct(X), est.reconstruct(X))


# --------------------------------------------------------------------------
# Denoising: the corruption
# --------------------------------------------------------------------------

NOISE_CLASSES = {
    "gaussian": GaussianNoise,
    "masking": MaskingNoise,
    "salt_and_pepper": SaltAndPepperNoise,
}


@pytest.fixture
def spy_noise(monkeypatch):
    """Wrap a corruption class's ``__call__``: record inputs and outputs.

    The wrapper also asserts that the corruption leaves its input unchanged.
    """

    def install(cls):
        record = {"calls": 0, "inputs": [], "outputs": []}
        original = cls.__call__

        def wrapper(self, x):
            before = x.clone()
            out = original(self, x)
            assert torch.equal(x, before), "the corruption modified its input in place"
            record["calls"] += 1
            record["inputs"].append(before)
            record["outputs"].append(out.detach().clone())
            return out

        monkeypatch.setattr(cls, "__call__", wrapper)
        return record

    return install


@pytest.mark.parametrize("noise", sorted(NOISE_CLASSES))
def test_denoising_noise_only_during_training(noise, spy_noise):
    record = spy_noise(NOISE_CLASSES[noise])
    X, _ = digits01(200)
    est = dae(noise=noise, batch_size=64, max_epochs=3).fit(X)
    n_batches = math.ceil(200 / 64)
    assert est.n_iter_ == 3
    assert record["calls"] == n_batches * est.n_iter_
    # Training batches are corrupted: the network input differs from the batch.
    assert any(
        not torch.equal(i, o) for i, o in zip(record["inputs"], record["outputs"], strict=True)
    )

    record["calls"] = 0
    est.transform(X)
    est.reconstruct(X)
    est.inverse_transform(est.transform(X))
    est.score(X)
    est.score_samples(X)
    assert record["calls"] == 0


def test_denoising_validation_batches_not_corrupted(spy_noise):
    record = spy_noise(GaussianNoise)
    X, _ = digits01(200)
    est = dae(batch_size=64, max_epochs=3, early_stopping=True, validation_fraction=0.1)
    est.fit(X)
    assert est.validation_loss_curve_ is not None
    n_train = 200 - math.ceil(0.1 * 200)
    assert record["calls"] == math.ceil(n_train / 64) * est.n_iter_


def test_denoising_inference_is_deterministic():
    X, _ = digits01(200)
    est = dae(noise_level=0.5).fit(X)
    np.testing.assert_array_equal(est.transform(X), est.transform(X))
    np.testing.assert_array_equal(est.reconstruct(X), est.reconstruct(X))


def test_denoising_same_random_state_identical():
    X, _ = digits01(200)
    Z1 = dae(random_state=1).fit(X).transform(X)
    Z2 = dae(random_state=1).fit(X).transform(X)
    np.testing.assert_array_equal(Z1, Z2)


@pytest.mark.parametrize("noise", sorted(NOISE_CLASSES))
def test_corruption_never_modifies_input(noise):
    n = 50
    cls = NOISE_CLASSES[noise]
    level = 0.5
    corrupt = cls(level, np.full(n, -1.0), np.full(n, 2.0), np.full(n, 0.0))
    torch.manual_seed(0)
    x = torch.rand(64, n) + 0.1
    before = x.clone()
    out = corrupt(x)
    assert torch.equal(x, before)
    assert out.shape == x.shape
    assert out.data_ptr() != x.data_ptr()
    assert not torch.equal(out, x)


def test_gaussian_noise_clips_to_unit_interval():
    n = 64
    corrupt = GaussianNoise(0.5, np.zeros(n), np.ones(n), np.zeros(n))
    torch.manual_seed(0)
    x = torch.rand(500, n)
    out = corrupt(x)
    assert out.min().item() >= 0.0 and out.max().item() <= 1.0
    # Clipping happened (std 0.5 pushes many values out of [0, 1]), and the
    # values not clipped carry noise.
    assert (out == 0.0).float().mean().item() > 0.05
    assert (out == 1.0).float().mean().item() > 0.05
    inside = (out > 0) & (out < 1)
    assert inside.float().mean().item() > 0.3
    assert not torch.equal(out[inside], x[inside])


def test_gaussian_noise_std():
    n = 100
    corrupt = GaussianNoise(0.3, np.full(n, -np.inf), np.full(n, np.inf), np.zeros(n))
    torch.manual_seed(0)
    x = torch.zeros(2000, n)
    out = corrupt(x)
    assert abs(out.std().item() - 0.3) < 0.005
    assert abs(out.mean().item()) < 0.005


def test_denoising_gaussian_training_noise_in_unit_interval(spy_noise):
    record = spy_noise(GaussianNoise)
    X, _ = digits01(200)
    est = dae(noise_level=0.8).fit(X)
    assert est.output_activation_ == "sigmoid"
    out = torch.cat(record["outputs"])
    assert out.min().item() >= 0.0 and out.max().item() <= 1.0
    assert (out == 1.0).any() and (out == 0.0).any()


def test_gaussian_noise_in_data_units_for_unit_interval_data(spy_noise):
    # Documented: for data in [0, 1] the Gaussian noise has standard
    # deviation noise_level in the data's units and is clipped to [0, 1],
    # whatever output activation is chosen.
    record = spy_noise(GaussianNoise)
    X, _ = digits01(200)
    est = dae(noise_level=0.3, output_activation="identity").fit(X)
    x = torch.cat(record["inputs"]).double().numpy()
    out = torch.cat(record["outputs"]).double().numpy()
    user = out * est.scale_ + est.mean_
    assert user.min() >= -1e-6 and user.max() <= 1 + 1e-6
    inside = (user > 1e-6) & (user < 1 - 1e-6)
    added = (out - x)[inside] * est.scale_
    assert added.std() > 0.2  # clipping only narrows a 0.3 spread a little


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.7])
def test_masking_noise_fraction(fraction):
    n = 400
    zero = torch.linspace(-3.0, -2.0, n)
    corrupt = MaskingNoise(fraction, np.full(n, -5.0), np.full(n, 5.0), zero.numpy())
    torch.manual_seed(0)
    x = torch.rand(500, n) + 0.5  # never equal to the zero values
    out = corrupt(x)
    masked = out != x
    # Masked entries hold the zero value of their feature, the others are x.
    assert torch.equal(out[masked], zero.expand_as(x)[masked])
    assert torch.equal(out[~masked], x[~masked])
    # 200 000 Bernoulli draws: standard error ~0.001.
    assert abs(masked.float().mean().item() - fraction) < 0.01


def test_masking_noise_level_zero_and_one():
    n = 20
    zero = np.zeros(n)
    x = torch.rand(50, n) + 0.5
    assert torch.equal(MaskingNoise(0.0, zero, zero, zero)(x), x)
    assert torch.equal(MaskingNoise(1.0, zero, zero, zero)(x), torch.zeros_like(x))


def test_masking_zero_is_zero_in_user_units(spy_noise):
    # Raw pixel values 0..16: identity output, data centred and scaled inside;
    # masked inputs must still stand for 0 in the user's units.
    record = spy_noise(MaskingNoise)
    X, _ = digits01(200)
    X = X * 16.0
    est = dae(noise="masking", noise_level=0.4).fit(X)
    assert est.output_activation_ == "identity"
    x = torch.cat(record["inputs"]).double().numpy()
    out = torch.cat(record["outputs"]).double().numpy()
    changed = x != out
    assert changed.mean() > 0.2
    user_units = out * est.scale_ + est.mean_
    np.testing.assert_allclose(user_units[changed], 0.0, atol=1e-4)


def test_salt_and_pepper_sets_low_or_high():
    n = 300
    low = torch.linspace(-2.0, -1.0, n)
    high = torch.linspace(2.0, 3.0, n)
    corrupt = SaltAndPepperNoise(0.4, low.numpy(), high.numpy(), np.zeros(n))
    torch.manual_seed(0)
    x = torch.rand(500, n)
    before = x.clone()
    out = corrupt(x)
    assert torch.equal(x, before)
    is_low = out == low.expand_as(x)
    is_high = out == high.expand_as(x)
    changed = out != x
    assert torch.equal(changed, is_low | is_high)
    assert abs(changed.float().mean().item() - 0.4) < 0.01
    assert abs(is_low.float().mean().item() - 0.2) < 0.01
    assert abs(is_high.float().mean().item() - 0.2) < 0.01


def test_salt_and_pepper_uses_training_range(spy_noise):
    record = spy_noise(SaltAndPepperNoise)
    X, _ = digits01(300)
    est = dae(noise="salt_and_pepper", noise_level=0.5).fit(X)
    x = torch.cat(record["inputs"]).double().numpy()
    out = torch.cat(record["outputs"]).double().numpy()
    changed = x != out
    assert changed.mean() > 0.1
    lo = np.broadcast_to(X.min(axis=0), out.shape)
    hi = np.broadcast_to(X.max(axis=0), out.shape)
    at_bound = np.isclose(out, lo, atol=1e-6) | np.isclose(out, hi, atol=1e-6)
    assert at_bound[changed].all()
    assert est.output_activation_ == "sigmoid"


@pytest.mark.parametrize("noise", ["masking", "salt_and_pepper"])
def test_fraction_noise_level_above_one_raises(noise):
    X, _ = digits01(50)
    est = dae(noise=noise, noise_level=1.5)
    with pytest.raises(ValueError, match="noise_level"):
        est.fit(X)
    assert not hasattr(est, "net_")


def test_gaussian_noise_level_above_one_allowed():
    X, _ = digits01(50)
    assert dae(noise="gaussian", noise_level=1.5).fit(X).transform(X).shape == (50, 8)


def test_denoising_autoencoder_denoises():
    X, _ = digits01()
    est = DenoisingAutoencoder(
        n_components=16,
        noise="gaussian",
        noise_level=0.3,
        hidden_layer_sizes=(64,),
        max_epochs=30,
        batch_size=64,
        random_state=0,
        device="cpu",
    ).fit(X)
    rng = np.random.default_rng(123)
    noisy = np.clip(X + rng.normal(0.0, 0.3, X.shape), 0.0, 1.0)
    denoised = est.reconstruct(noisy)
    mse_noisy = np.mean((noisy - X) ** 2)
    mse_denoised = np.mean((denoised - X) ** 2)
    assert mse_denoised < 0.75 * mse_noisy, (mse_denoised, mse_noisy)


def test_denoising_conv_architecture():
    X, _ = digits01(200)
    est = dae(architecture="conv", channels=(4, 8), n_components=6).fit(X)
    assert est.image_shape_ == (8, 8, 1)
    assert est.transform(X).shape == (200, 6)
    assert est.reconstruct(X).shape == (200, 64)
    assert len(_layers(est, nn.Conv2d)) > 0


def test_dense_family_has_no_image_shape():
    X, _ = digits01(50)
    assert not hasattr(dae().fit(X), "image_shape_")


# --------------------------------------------------------------------------
# Overcomplete codes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("make", [dae, sae], ids=["denoising", "sparse"])
def test_overcomplete_allowed(make):
    X, _ = digits01(100)
    est = make(n_components=80).fit(X)
    assert est.transform(X).shape == (100, 80)
    assert est.reconstruct(X).shape == (100, 64)


@pytest.mark.parametrize("make", [dense, conv], ids=["dense", "conv"])
def test_overcomplete_rejected(make):
    X, _ = digits01(100)
    est = make(n_components=80)
    with pytest.raises(ValueError, match="n_components"):
        est.fit(X)
    assert not hasattr(est, "n_features_in_")
    # n_components == n_features is still allowed.
    assert make(n_components=64).fit(X).transform(X).shape == (100, 64)


# --------------------------------------------------------------------------
# SparseAutoencoder
# --------------------------------------------------------------------------


# A ReLU code unit may die in 3 epochs; the warning has its own test below.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("sparsity", ["kl", "l1"])
def test_sparse_fitted_attributes(sparsity):
    X, _ = digits01(300)
    est = sae(n_components=12, max_epochs=3, sparsity=sparsity).fit(X)
    assert 0.0 <= est.sparsity_ <= 1.0
    assert est.mean_activation_.shape == (12,)
    assert est.mean_activation_.dtype == np.float64
    Z = est.transform(X)
    if sparsity == "l1":
        assert Z.min() >= 0.0  # ReLU code units
    else:
        assert Z.min() > 0.0 and Z.max() < 1.0  # sigmoid code units
    np.testing.assert_allclose(est.mean_activation_, Z.mean(axis=0), rtol=1e-5, atol=1e-6)
    peak = np.abs(Z).max()
    assert est.sparsity_ == pytest.approx(np.mean(np.abs(Z) <= 0.05 * peak))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sparse_defaults_kl_with_auto_weight():
    # The penalty the fitted net trains with (its criterion), for the default
    # and the "auto" weights of each penalty.
    X, _ = digits01(50)
    est = sae(max_epochs=1)
    assert (est.sparsity, est.sparsity_weight) == ("kl", "auto")

    def penalty(**params):
        (term,) = clone(est).set_params(**params).fit(X).net_.criterion_.penalties
        return term

    default = penalty()
    assert isinstance(default, KLSparsity) and default.weight == 1e-2
    assert penalty(sparsity="l1").weight == 1e-4
    assert penalty(sparsity="l1", sparsity_weight=0.5).weight == 0.5
    assert "KL sparsity penalty" in est.fit(X).net_.criterion_.describe()


def test_sparse_l1_dead_units_warn():
    # An L1 weight far above the reconstruction error silences every ReLU
    # code unit: the user is told, with the ways out.
    X, _ = digits01(300)
    with pytest.warns(ConvergenceWarning, match=r"of 8 ReLU code units are zero.*sparsity='kl'"):
        est = sae(sparsity="l1", sparsity_weight=10.0, max_epochs=20).fit(X)
    assert np.sum(est.mean_activation_ == 0.0) >= 1
    # Sigmoid codes never die, so the KL penalty gives no such warning.
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*ReLU code units", category=ConvergenceWarning)
        sae(sparsity="kl", sparsity_weight=10.0, max_epochs=20).fit(X)


def test_sparse_l1_penalty_lowers_activity():
    X, _ = digits01(500)
    common = dict(n_components=16, sparsity="l1", max_epochs=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # dead ReLU units are expected
        free = sae(sparsity_weight=0.0, **common).fit(X)
        penalized = sae(sparsity_weight=1e-1, **common).fit(X)
    assert np.abs(penalized.transform(X)).mean() < 0.5 * np.abs(free.transform(X)).mean()
    assert penalized.sparsity_ > free.sparsity_


def test_sparse_kl_codes_and_target():
    X, _ = digits01(500)
    target = 0.2
    common = dict(
        n_components=16,
        sparsity="kl",
        sparsity_target=target,
        max_epochs=10,
        batch_size=32,
        random_state=0,
    )
    free = sae(sparsity_weight=0.0, **common).fit(X)
    penalized = sae(sparsity_weight=1.0, **common).fit(X)
    for est in (free, penalized):
        Z = est.transform(X)
        assert Z.min() > 0.0 and Z.max() < 1.0  # sigmoid code units
    gap_free = abs(free.mean_activation_.mean() - target)
    gap_penalized = abs(penalized.mean_activation_.mean() - target)
    assert gap_penalized < gap_free
    assert gap_penalized < 0.05
    # Every unit, not only their average, moves to the target.
    assert np.abs(penalized.mean_activation_ - target).max() < 0.1


def test_sparse_conv_architecture():
    X, _ = digits01(200)
    est = sae(architecture="conv", channels=(4, 8), n_components=6).fit(X)
    assert est.image_shape_ == (8, 8, 1)
    assert est.mean_activation_.shape == (6,)
    assert est.transform(X).min() >= 0.0


# --------------------------------------------------------------------------
# VariationalAutoencoder
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_vae():
    X, _ = digits01(600)
    return vae(max_epochs=10).fit(X), X


def test_vae_transform_deterministic(fitted_vae):
    est, X = fitted_vae
    Z1 = est.transform(X)
    Z2 = est.transform(X)
    assert Z1.shape == (600, 4)
    np.testing.assert_array_equal(Z1, Z2)
    np.testing.assert_array_equal(est.reconstruct(X), est.reconstruct(X))
    np.testing.assert_array_equal(est.score_samples(X), est.score_samples(X))


def test_vae_sample_reproducible(fitted_vae):
    est, _ = fitted_vae
    a = est.sample(10, random_state=0)
    b = est.sample(10, random_state=0)
    c = est.sample(10, random_state=1)
    assert a.shape == (10, 64)
    assert a.dtype == np.float64
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.min() >= 0.0 and a.max() <= 1.0
    # The draws differ from one another.
    assert not np.allclose(a[0], a[1])
    # A RandomState instance is accepted too.
    d = est.sample(10, random_state=np.random.RandomState(0))
    np.testing.assert_array_equal(a, d)
    assert est.sample().shape == (1, 64)


@pytest.mark.parametrize("n_samples", [0, -1, 2.5, "3"])
def test_vae_sample_invalid_n_samples(fitted_vae, n_samples):
    est, _ = fitted_vae
    with pytest.raises(ValueError, match="n_samples"):
        est.sample(n_samples)


def test_vae_sample_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        vae().sample(3)


def test_vae_score_samples_elbo(fitted_vae):
    est, X = fitted_vae
    elbo = est.score_samples(X)
    assert elbo.shape == (600,)
    assert elbo.dtype == np.float64
    assert np.all(np.isfinite(elbo))
    # A Bernoulli likelihood and a KL divergence >= 0: the ELBO is <= 0.
    assert np.all(elbo <= 0.0)
    noise = np.random.default_rng(0).uniform(size=(200, 64))
    assert elbo.mean() > est.score_samples(noise).mean()
    assert est.score(X) == pytest.approx(elbo.mean())


def test_vae_score_samples_identity_output():
    X, _ = digits01(300)
    X = X * 16.0
    est = vae(max_epochs=5).fit(X)
    assert est.output_activation_ == "identity"
    elbo = est.score_samples(X)
    assert elbo.shape == (300,) and np.all(np.isfinite(elbo))
    assert est.score(X) == pytest.approx(elbo.mean())
    noise = np.random.default_rng(0).uniform(0, 16, size=(100, 64))
    assert elbo.mean() > est.score_samples(noise).mean()


def test_vae_score_samples_units():
    # The ELBO of a Gaussian output is a density in the units of X: fitting
    # on X * c changes it by -n_features * log(c) (same network otherwise).
    X, _ = digits01(200)
    X = X * 16.0
    a = vae(output_activation="identity").fit(X)
    b = vae(output_activation="identity").fit(X * 10.0)
    np.testing.assert_allclose(a.transform(X), b.transform(X * 10.0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        b.score_samples(X * 10.0), a.score_samples(X) - 64 * np.log(10.0), rtol=1e-4
    )


def test_vae_beta_shrinks_posterior():
    X, _ = digits01(500)
    free = vae(beta=0.0, max_epochs=10).fit(X)
    strong = vae(beta=20.0, max_epochs=10).fit(X)
    spread_free = free.transform(X).std(axis=0).mean()
    spread_strong = strong.transform(X).std(axis=0).mean()
    assert spread_strong < 0.5 * spread_free
    # A strong KL weight pulls the posterior to the prior N(0, I): the
    # posterior variances move towards 1.
    with torch.no_grad():
        Xt = torch.as_tensor(X, dtype=torch.float32)
        _, logvar_free = free.net_.module_.split(Xt)
        _, logvar_strong = strong.net_.module_.split(Xt)
    assert logvar_strong.abs().mean() < logvar_free.abs().mean()


def test_vae_conv_architecture():
    X, _ = digits01(200)
    est = vae(architecture="conv", channels=(4, 8)).fit(X)
    assert est.image_shape_ == (8, 8, 1)
    assert est.transform(X).shape == (200, 4)
    assert est.reconstruct(X).shape == (200, 64)
    s = est.sample(5, random_state=0)
    assert s.shape == (5, 64)
    assert s.min() >= 0.0 and s.max() <= 1.0
    assert np.all(np.isfinite(est.score_samples(X)))


def test_vae_leaves_torch_rng_alone():
    X, _ = digits01(100)
    torch.manual_seed(1234)
    state = torch.get_rng_state()
    est = vae().fit(X)
    assert torch.equal(torch.get_rng_state(), state)
    est.sample(5, random_state=0)
    est.sample(5)
    est.transform(X)
    est.score_samples(X)
    assert torch.equal(torch.get_rng_state(), state)


def test_vae_same_random_state_identical():
    X, _ = digits01(200)
    a = vae(random_state=7).fit(X)
    b = vae(random_state=7).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.sample(3, random_state=0), b.sample(3, random_state=0))


def test_vae_pickle_round_trip(fitted_vae):
    est, X = fitted_vae
    clone = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(clone.transform(X), est.transform(X))
    np.testing.assert_array_equal(clone.sample(4, random_state=0), est.sample(4, random_state=0))


# --------------------------------------------------------------------------
# All five public estimators in scikit-learn tools
# --------------------------------------------------------------------------

FACTORIES = {
    "AutoencoderTransformer": dense,
    "ConvolutionalAutoencoder": conv,
    "DenoisingAutoencoder": dae,
    "SparseAutoencoder": lambda **p: sae(**{"sparsity_weight": 1e-4, **p}),
    "VariationalAutoencoder": vae,
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_in_pipeline_with_classifier(name):
    X, y = digits01(400)
    est = FACTORIES[name](n_components=16, max_epochs=5, batch_size=64)
    pipe = Pipeline([("ae", est), ("clf", LogisticRegression(max_iter=300))])
    pipe.fit(X, y)
    assert type(pipe.named_steps["ae"]).__name__ == name
    assert pipe.named_steps["ae"].n_features_in_ == 64
    pred = pipe.predict(X)
    assert pred.shape == (400,)
    # Ten classes: chance is 0.1; the codes carry the class information.
    assert pipe.score(X, y) > 0.3
    assert pipe[:-1].transform(X).shape == (400, 16)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_grid_search_without_labels_maximises_the_held_out_score(name):
    # GridSearchCV with no labels ranks candidates by ``score`` on the held-out
    # fold: minus the mean squared reconstruction error (the ELBO for the
    # VAE). Recompute each candidate's held-out score by hand and check that
    # the search saw the same numbers and kept the best.
    X, _ = digits01(200)
    est = FACTORIES[name](max_epochs=2)
    cv = KFold(n_splits=2)
    search = GridSearchCV(est, {"n_components": [2, 4]}, cv=cv).fit(X)
    by_hand = []
    for k in (2, 4):
        fold_scores = []
        for train, test in cv.split(X):
            fitted = clone(est).set_params(n_components=k).fit(X[train])
            if name == "VariationalAutoencoder":
                fold_scores.append(np.mean(fitted.score_samples(X[test])))
            else:
                X_rec = fitted.inverse_transform(fitted.transform(X[test]))
                fold_scores.append(-np.mean((X[test] - X_rec) ** 2))
        by_hand.append(np.mean(fold_scores))
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], by_hand, rtol=1e-5)
    best = (2, 4)[int(np.argmax(by_hand))]
    assert search.best_params_ == {"n_components": best}
    assert search.best_estimator_.n_components == best
    assert search.transform(X).shape == (200, best)
    assert type(search.best_estimator_).__name__ == name


def test_grid_search_picks_the_wider_bottleneck_when_it_reconstructs_better():
    # Digits need more than one code value: PCA's held-out MSE is 0.063 with
    # 1 component and 0.012 with 16. A trained autoencoder shows the same
    # ordering, so the label-free search must choose 16.
    X, _ = digits01(400)
    est = dense(max_epochs=40, batch_size=32, lr=3e-3)
    search = GridSearchCV(est, {"n_components": [1, 16]}, cv=2).fit(X)
    assert search.best_params_ == {"n_components": 16}
    narrow, wide = search.cv_results_["mean_test_score"]
    assert wide > narrow + 0.01


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_feature_names_out(name):
    X, _ = digits01(50)
    est = FACTORIES[name](n_components=3).fit(X)
    names = est.get_feature_names_out()
    prefix = name.lower()
    assert list(names) == [f"{prefix}{i}" for i in range(3)]
