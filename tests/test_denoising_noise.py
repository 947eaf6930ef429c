"""``noise_level`` means one thing whatever the data's range: the Gaussian
noise's standard deviation in the units of ``X``, clipped to the training
data's range, so training is continuous as the range crosses [0, 1]."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skae import DenoisingAutoencoder

FAST = {"n_components": 8, "max_epochs": 3, "random_state": 0, "output_activation": "identity"}


def _noise_in_data_units(dae, X, seed=0):
    """One corrupted copy of ``X`` as the fitted estimator trains on it, minus
    ``X``, in the units of ``X``."""
    Xn = dae._normalize(X)
    corrupt = dae._corruption(Xn)
    torch.manual_seed(seed)
    noisy = corrupt(torch.from_numpy(Xn)).numpy().astype(np.float64)
    return (noisy - Xn) * dae.scale_


def test_gaussian_noise_level_is_a_standard_deviation_in_the_units_of_X():
    rng = np.random.default_rng(0)
    X = 50.0 * rng.standard_normal((2000, 10))  # wide range: clipping rarely bites
    dae = DenoisingAutoencoder(noise_level=2.0, **FAST).fit(X)
    noise = _noise_in_data_units(dae, X)
    assert noise.std() == pytest.approx(2.0, rel=0.02)


def test_noise_is_continuous_as_the_data_range_crosses_the_unit_interval(X):
    inside = DenoisingAutoencoder(noise_level=0.3, **FAST).fit(X)
    outside = DenoisingAutoencoder(noise_level=0.3, **FAST).fit(X * 1.001)
    noise_in = _noise_in_data_units(inside, X)
    noise_out = _noise_in_data_units(outside, X * 1.001)
    # Same draws, same standard deviation in data units: the noise differs
    # only where the clip bounds moved by 0.1 %, not by a factor of 3.7
    # (noise in units of scale_ above 1, in data units below) as it did.
    np.testing.assert_allclose(noise_out, noise_in, atol=1.5e-3)
    assert noise_out.std() == pytest.approx(noise_in.std(), rel=1e-3)
    # And the trained denoisers agree to the same degree.
    np.testing.assert_allclose(
        outside.reconstruct(X * 1.001), inside.reconstruct(X) * 1.001, rtol=0, atol=2e-3
    )


def test_noisy_inputs_stay_in_the_training_range(X):
    dae = DenoisingAutoencoder(noise_level=0.5, **FAST).fit(X)
    noisy = X + _noise_in_data_units(dae, X)
    assert noisy.min() >= X.min() - 1e-5 and noisy.max() <= X.max() + 1e-5
    assert np.mean(noisy != X) > 0.5  # but the inputs are corrupted
    # Pixels that are 0 in every training image still get noise.
    always_zero = np.all(X == 0, axis=0)
    assert always_zero.any() and np.all(noisy[:, always_zero].max(axis=0) > 0)


def test_zero_noise_level_leaves_the_inputs_clean(X):
    dae = DenoisingAutoencoder(noise_level=0.0, **FAST).fit(X)
    np.testing.assert_allclose(_noise_in_data_units(dae, X), 0.0, atol=1e-6)


@pytest.mark.parametrize("noise", ["masking", "salt_and_pepper"])
def test_fraction_noises_corrupt_that_fraction_whatever_the_scale(noise, X):
    for scale in (1.0, 255.0):
        dae = DenoisingAutoencoder(noise=noise, noise_level=0.25, **FAST).fit(X * scale)
        changed = np.abs(_noise_in_data_units(dae, X * scale)) > 1e-6 * scale
        # Inputs already at the value they would be set to do not change.
        assert 0.1 < changed.mean() <= 0.25 + 0.02
