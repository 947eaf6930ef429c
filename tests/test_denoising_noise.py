"""``noise_level`` means one thing whatever the data's range: the Gaussian
noise's standard deviation in the units of ``X``, clipped to the training
data's range, so training is continuous as the range crosses [0, 1].

The corruption is what the fitted estimator trains on: ``_corruption(Xn)``
built from the network's input ``Xn = (X - mean_) / scale_``, applied to
``Xn`` and mapped back to the units of ``X``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skae import DenoisingAutoencoder

FAST = {"n_components": 8, "max_epochs": 3, "random_state": 0, "output_activation": "identity"}


def _noisy_in_data_units(dae, X, X_batch=None, seed=0):
    """``X_batch`` (default ``X``) corrupted as the estimator fitted on ``X``
    corrupts its training batches, in the units of ``X``."""
    corrupt = dae._corruption(dae._normalize(X))
    Xn = dae._normalize(X if X_batch is None else X_batch)
    torch.manual_seed(seed)
    noisy = corrupt(torch.from_numpy(Xn)).numpy().astype(np.float64)
    return noisy * dae.scale_ + dae.mean_


def _noise_in_data_units(dae, X, seed=0):
    """One corrupted copy of ``X`` as the fitted estimator trains on it, minus
    ``X``, in the units of ``X``."""
    Xn = dae._normalize(X)
    return _noisy_in_data_units(dae, X, seed=seed) - (Xn * dae.scale_ + dae.mean_)


def test_gaussian_noise_level_is_a_standard_deviation_in_the_units_of_X():
    rng = np.random.default_rng(0)
    X = 50.0 * rng.standard_normal((2000, 10))  # wide range: clipping rarely bites
    dae = DenoisingAutoencoder(noise_level=2.0, **FAST).fit(X)
    noise = _noise_in_data_units(dae, X)
    assert noise.std() == pytest.approx(2.0, rel=0.02)
    assert noise.mean() == pytest.approx(0.0, abs=0.05)


@pytest.mark.parametrize("output_activation", ["auto", "identity"])
def test_sigma_on_pixels_in_the_unit_interval_is_noise_level(output_activation, X):
    # "sigma = 0.05 on pixels in [0, 1]", whichever loss: on pixels far
    # (6 sigma) from the clip bounds 0 and 1 the noise is unclipped.
    dae = DenoisingAutoencoder(
        noise_level=0.05, **{**FAST, "output_activation": output_activation}
    ).fit(X)
    noise = _noise_in_data_units(dae, X)
    mid = (X >= 0.3) & (X <= 0.7)
    assert mid.sum() > 1000
    assert noise[mid].std() == pytest.approx(0.05, rel=0.08)


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


def test_noise_does_not_depend_on_the_output_activation(X):
    # With output_activation="auto", X in [0, 1] is fed to the network as it
    # is (sigmoid output) and X * 1.001 centred and scaled (identity output):
    # the noisy inputs, in the units of X, are still the same.
    inside = DenoisingAutoencoder(noise_level=0.3, **{**FAST, "output_activation": "auto"}).fit(X)
    outside = DenoisingAutoencoder(noise_level=0.3, **{**FAST, "output_activation": "auto"}).fit(
        X * 1.001
    )
    assert inside.output_activation_ == "sigmoid" and outside.output_activation_ == "identity"
    np.testing.assert_allclose(
        _noisy_in_data_units(outside, X * 1.001),
        _noisy_in_data_units(inside, X) * 1.001,
        rtol=0,
        atol=1.5e-3,
    )


def test_training_is_continuous_as_the_data_range_crosses_the_unit_interval(X):
    # Same loss (identity output, squared error) for both: the fits on X and
    # on X * 1.001 differ only by the 0.1 %, here about 0.2 % after ten
    # epochs (noise in units of scale_ above [0, 1], as it was, gave 10 %).
    params = {**FAST, "max_epochs": 10}
    inside = DenoisingAutoencoder(noise_level=0.3, **params).fit(X)
    outside = DenoisingAutoencoder(noise_level=0.3, **params).fit(X * 1.001)
    expected = inside.reconstruct(X) * 1.001
    got = outside.reconstruct(X * 1.001)
    assert np.linalg.norm(got - expected) / np.linalg.norm(expected) < 1e-2


def test_noise_level_on_pixels_in_0_255_is_in_those_units(X):
    # sigma = 0.5 on [0, 1] is noise_level=127.5 on [0, 255]: the same
    # noisy images, times 255.
    unit = DenoisingAutoencoder(noise_level=0.5, **FAST).fit(X)
    bytes_ = DenoisingAutoencoder(noise_level=127.5, **FAST).fit(X * 255)
    np.testing.assert_allclose(
        _noisy_in_data_units(bytes_, X * 255) / 255,
        _noisy_in_data_units(unit, X),
        rtol=0,
        atol=1e-5,
    )


@pytest.mark.parametrize("scale, offset", [(1.0, 0.0), (1.001, 0.0), (255.0, -100.0)])
def test_noisy_inputs_stay_in_the_training_range(scale, offset, X):
    # Clipped always, not only for data in [0, 1].
    X = X * scale + offset
    dae = DenoisingAutoencoder(noise_level=0.5 * scale, **FAST).fit(X)
    noisy = X + _noise_in_data_units(dae, X)
    tol = 1e-5 * scale
    assert noisy.min() >= X.min() - tol and noisy.max() <= X.max() + tol
    # The bounds are reached: the noise is clipped, not shrunk.
    assert np.mean(noisy <= X.min() + tol) > 0.2 and np.mean(noisy >= X.max() - tol) > 0.02
    assert np.mean(noisy != X) > 0.5  # but the inputs are corrupted
    # Pixels at their lowest value in every training image still get noise.
    always_low = np.all(X == X.min(), axis=0)
    assert always_low.any() and np.all(noisy[:, always_low].max(axis=0) > X.min() + tol)


def test_clip_bounds_are_the_range_seen_at_fit_not_the_batch(X):
    # A batch of dark images is clipped to the training range [0, 1], not to
    # its own range [0, 0.5]: the bounds do not change with the batch.
    dae = DenoisingAutoencoder(noise_level=0.5, **FAST).fit(X)
    noisy = _noisy_in_data_units(dae, X, X_batch=X / 2)
    assert noisy.max() > 0.9 and noisy.max() <= 1 + 1e-5 and noisy.min() >= -1e-5


def test_zero_noise_level_leaves_the_inputs_clean(X):
    dae = DenoisingAutoencoder(noise_level=0.0, **FAST).fit(X * 3 - 1)
    np.testing.assert_allclose(_noise_in_data_units(dae, X * 3 - 1), 0.0, atol=1e-6)


@pytest.mark.parametrize("noise", ["masking", "salt_and_pepper"])
def test_fraction_noises_corrupt_that_fraction_whatever_the_scale(noise, X):
    for scale in (1.0, 255.0):
        dae = DenoisingAutoencoder(noise=noise, noise_level=0.25, **FAST).fit(X * scale)
        changed = np.abs(_noise_in_data_units(dae, X * scale)) > 1e-6 * scale
        # Inputs already at the value they would be set to do not change.
        assert 0.1 < changed.mean() <= 0.25 + 0.02


@pytest.mark.parametrize("noise", ["masking", "salt_and_pepper"])
def test_fraction_noises_refuse_a_fraction_above_one(noise, X):
    with pytest.raises(ValueError, match=r"fraction of inputs.*\[0, 1\]"):
        DenoisingAutoencoder(noise=noise, noise_level=1.5, **FAST).fit(X)
