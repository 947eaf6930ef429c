"""Images in their own shape: ``(n, height, width[, channels])`` in and out,
channels-first on request, and no shape read two ways in silence."""

from __future__ import annotations

import numpy as np
import pytest

from skae import (
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    VariationalAutoencoder,
)

FAST = {"max_epochs": 2, "random_state": 0, "channels": (4,)}


@pytest.fixture
def images(X):
    """The 200 digits of the ``X`` fixture as ``(200, 8, 8)`` images."""
    return X.reshape(len(X), 8, 8)


def test_conv_fits_images_in_their_own_shape_and_gives_them_back(images, X):
    conv = ConvolutionalAutoencoder(n_components=4, **FAST).fit(images)
    assert conv.image_shape_ == (8, 8, 1)
    assert conv.input_shape_ == (8, 8)
    assert conv.n_features_in_ == 64
    assert conv.reconstruct(images).shape == images.shape
    assert conv.inverse_transform(conv.transform(images)).shape == images.shape
    # Flat rows still work, and give flat rows; the same numbers either way.
    flat = ConvolutionalAutoencoder(n_components=4, **FAST).fit(X)
    np.testing.assert_array_equal(flat.transform(X), conv.transform(images))
    assert conv.reconstruct(X).shape == X.shape
    np.testing.assert_array_equal(conv.reconstruct(X), conv.reconstruct(images).reshape(X.shape))


@pytest.mark.parametrize("cls", [DenoisingAutoencoder, VariationalAutoencoder])
def test_variants_with_conv_architecture_take_images(cls, images):
    est = cls(n_components=4, architecture="conv", **FAST).fit(images)
    assert est.reconstruct(images).shape == images.shape
    assert est.score_samples(images).shape == (len(images),)


def test_dense_autoencoder_takes_images_too_and_returns_them(images):
    ae = AutoencoderTransformer(n_components=4, max_epochs=2, random_state=0).fit(images)
    assert ae.input_shape_ == (8, 8)
    assert ae.reconstruct(images).shape == images.shape
    assert ae.inverse_transform(ae.transform(images)).shape == images.shape


def test_channels_last_colour_images(X):
    rgb = np.stack([X, X[::-1], 1 - X], axis=-1).reshape(len(X), 8, 8, 3)
    conv = ConvolutionalAutoencoder(n_components=4, **FAST).fit(rgb)
    assert conv.image_shape_ == (8, 8, 3)
    assert conv.image_layout_ == "HWC"
    assert conv.reconstruct(rgb).shape == rgb.shape


def test_channels_first_images_are_refused_until_the_layout_is_named(X):
    rgb = np.stack([X, X[::-1], 1 - X], axis=-1).reshape(len(X), 8, 8, 3)
    chw = np.ascontiguousarray(rgb.transpose(0, 3, 1, 2))  # (n, 3, 8, 8)
    with pytest.raises(ValueError, match="image_layout='HWC' or image_layout='CHW'"):
        ConvolutionalAutoencoder(n_components=4, **FAST).fit(chw)
    conv_chw = ConvolutionalAutoencoder(n_components=4, image_layout="CHW", **FAST).fit(chw)
    assert conv_chw.image_shape_ == (8, 8, 3)
    assert conv_chw.reconstruct(chw).shape == chw.shape
    # The same images in either layout train the same network.
    conv_hwc = ConvolutionalAutoencoder(n_components=4, **FAST).fit(rgb)
    # (atol: PCA's axes, from either order of the features, agree to rounding.)
    np.testing.assert_allclose(
        conv_chw.transform(chw), conv_hwc.transform(rgb), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        conv_chw.reconstruct(chw),
        conv_hwc.reconstruct(rgb).transpose(0, 3, 1, 2),
        rtol=1e-5,
        atol=1e-6,
    )


def test_flat_rows_with_an_ambiguous_image_shape_are_refused(X):
    rgb_rows = np.stack([X, X[::-1], 1 - X], axis=-1).reshape(len(X), -1)  # 192 features
    with pytest.raises(ValueError, match="could be"):
        ConvolutionalAutoencoder(image_shape=(3, 8, 8), **FAST).fit(rgb_rows)
    conv = ConvolutionalAutoencoder(image_shape=(8, 8, 3), **FAST).fit(rgb_rows)
    assert conv.image_shape_ == (8, 8, 3)


def test_multichannel_signals(X):
    signals = X.reshape(len(X), 16, 4)  # 16 steps, 4 channels
    conv = ConvolutionalAutoencoder(n_components=4, image_layout="LC", **FAST).fit(signals)
    assert conv.image_shape_ == (16, 4)
    assert conv.reconstruct(signals).shape == signals.shape
    # Read as a 16 x 4 one-channel image by default.
    assert ConvolutionalAutoencoder(n_components=4, **FAST).fit(signals).image_shape_ == (
        16,
        4,
        1,
    )


def test_image_shape_must_agree_with_the_images_given(images):
    with pytest.raises(ValueError, match="image_shape=.* but X's samples have shape"):
        ConvolutionalAutoencoder(image_shape=(4, 16), **FAST).fit(images)


def test_a_layout_of_the_wrong_rank_is_refused(images):
    with pytest.raises(ValueError, match="names 3 axes"):
        ConvolutionalAutoencoder(image_layout="HWC", **FAST).fit(images)


def test_inference_refuses_images_of_another_shape(images):
    conv = ConvolutionalAutoencoder(n_components=4, **FAST).fit(images)
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(8, 8\)"):
        conv.transform(images.reshape(len(images), 4, 16))


def test_images_survive_a_model_file(images, tmp_path):
    import skae

    conv = ConvolutionalAutoencoder(n_components=4, image_layout="HW", **FAST).fit(images)
    loaded = skae.load(conv.save(tmp_path / "conv.safetensors"))
    assert loaded.input_shape_ == (8, 8)
    np.testing.assert_array_equal(loaded.reconstruct(images), conv.reconstruct(images))
    assert loaded.inverse_transform(loaded.transform(images)).shape == images.shape
