"""The Display objects draw what they say, with the Agg backend."""

import sys

import matplotlib
import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError

from skae import AutoencoderTransformer, ConvolutionalAutoencoder, VariationalAutoencoder
from skae.plotting import (
    LatentSpaceDisplay,
    ReconstructionDisplay,
    SampleGridDisplay,
    TrainingCurveDisplay,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FAST = {"max_epochs": 3, "random_state": 0, "device": "cpu"}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


@pytest.fixture(scope="module")
def fitted(data):
    X, _ = data
    return {
        "ae": AutoencoderTransformer(8, early_stopping=True, **FAST).fit(X),
        "ae2": AutoencoderTransformer(2, **FAST).fit(X),
        "vae": VariationalAutoencoder(2, **FAST).fit(X),
        "pca": PCA(8).fit(X),
    }


def _tile(mosaic, row, col, h=8, w=8):
    top, left = row * (h + 1), col * (w + 1)
    return mosaic[top : top + h, left : left + w].reshape(-1)


def test_reconstruction_display_draws_originals_and_each_estimator(data, fitted):
    X, _ = data
    ests = {"PCA": fitted["pca"], "autoencoder": fitted["ae"]}
    disp = ReconstructionDisplay.from_estimator(ests, X, n_images=5)
    assert disp.mosaic_.shape == (3 * 9 - 1, 5 * 9 - 1)
    np.testing.assert_allclose(disp.im_.get_array(), disp.mosaic_)
    for col in range(5):
        np.testing.assert_allclose(_tile(disp.mosaic_, 0, col), X[col])
        pca_rec = fitted["pca"].inverse_transform(fitted["pca"].transform(X[col : col + 1]))[0]
        np.testing.assert_allclose(_tile(disp.mosaic_, 1, col), pca_rec)
        np.testing.assert_allclose(_tile(disp.mosaic_, 2, col), fitted["ae"].reconstruct(X)[col])
    assert np.isnan(disp.mosaic_[8]).all()  # the gap between rows
    labels = [t.get_text() for t in disp.ax_.get_yticklabels()]
    assert labels == ["original", "PCA", "autoencoder"]
    assert disp.figure_ is disp.ax_.figure


def test_reconstruction_display_on_a_given_axes_and_rgb(data, fitted):
    X, _ = data
    fig, (left, right) = plt.subplots(1, 2)
    disp = ReconstructionDisplay.from_estimator(fitted["ae"], X, n_images=3, ax=right)
    assert disp.ax_ is right and disp.figure_ is fig
    assert [t.get_text() for t in right.get_yticklabels()] == [
        "original",
        "AutoencoderTransformer",
    ]
    rgb = np.random.RandomState(0).rand(4, 4 * 4 * 3)
    pca = PCA(4).fit(rgb)
    disp = ReconstructionDisplay.from_estimator([pca], rgb, image_shape=(4, 4, 3), ax=left)
    assert disp.mosaic_.shape == (2 * 5 - 1, 4 * 5 - 1, 3)
    assert disp.im_.get_array().shape == disp.mosaic_.shape


def test_reconstruction_display_reads_image_shape_of_conv_estimator():
    X = np.random.RandomState(0).rand(40, 6 * 4)
    conv = ConvolutionalAutoencoder(2, image_shape=(6, 4), channels=(4,), **FAST).fit(X)
    disp = ReconstructionDisplay.from_estimator(conv, X, n_images=2)
    assert disp.mosaic_.shape == (2 * 7 - 1, 2 * 5 - 1)


def test_reconstruction_display_errors(data, fitted):
    X, _ = data
    with pytest.raises(ValueError, match="not square images: pass image_shape"):
        ReconstructionDisplay.from_estimator(PCA(2).fit(X[:, :10]), X[:, :10])
    with pytest.raises(ValueError, match="image_shape=\\(4, 4\\)"):
        ReconstructionDisplay.from_estimator(fitted["ae"], X, image_shape=(4, 4))
    with pytest.raises(NotFittedError):
        ReconstructionDisplay.from_estimator(AutoencoderTransformer(), X)
    with pytest.raises(ValueError, match="n_images must be positive"):
        ReconstructionDisplay.from_estimator(fitted["ae"], X, n_images=0)


def test_latent_space_display_two_components(data, fitted):
    X, y = data
    disp = LatentSpaceDisplay.from_estimator(fitted["ae2"], X, y)
    np.testing.assert_allclose(disp.scatter_.get_offsets(), fitted["ae2"].transform(X), rtol=1e-6)
    assert [t.get_text() for t in disp.legend_.get_texts()] == [str(i) for i in range(10)]
    assert disp.colorbar_ is None
    assert disp.ax_.get_xlabel() == "code 1"
    assert "AutoencoderTransformer" in disp.ax_.get_title()


def test_latent_space_display_projects_wide_codes(data, fitted):
    X, _ = data
    values = np.linspace(0, 1, len(X))  # continuous values: a colour bar
    disp = LatentSpaceDisplay.from_estimator(fitted["ae"], X, values)
    Z = fitted["ae"].transform(X).astype(np.float64)
    expected = PCA(2, random_state=0).fit_transform(Z)
    np.testing.assert_allclose(disp.scatter_.get_offsets(), expected, rtol=1e-5, atol=1e-8)
    assert disp.ax_.get_xlabel().startswith("PC 1 of the 8-D codes")
    assert disp.colorbar_ is not None and disp.legend_ is None
    with pytest.raises(ValueError, match="labels but X has"):
        LatentSpaceDisplay.from_estimator(fitted["ae"], X, values[:-1])


def test_training_curve_display(data, fitted):
    ae = fitted["ae"]
    disp = TrainingCurveDisplay.from_estimator(ae)
    np.testing.assert_allclose(disp.lines_["training"].get_ydata(), ae.loss_curve_)
    np.testing.assert_allclose(disp.lines_["validation"].get_ydata(), ae.validation_loss_curve_)
    np.testing.assert_array_equal(disp.lines_["training"].get_xdata(), [1, 2, 3])
    assert disp.ax_.get_xlabel() == "epoch"
    # The loss the network trains on.
    names = {"squared_error": "squared error", "binary_crossentropy": "binary cross-entropy"}
    assert disp.ax_.get_ylabel() == names[ae.reconstruction_loss_]
    # A sigmoid output, on the binary cross-entropy.
    X, _ = data
    sigmoid = AutoencoderTransformer(8, output_activation="sigmoid", **FAST).fit(X)
    _, ax = plt.subplots()
    curve = TrainingCurveDisplay.from_estimator(sigmoid, ax=ax)
    assert curve.ax_.get_ylabel() == "binary cross-entropy"
    np.testing.assert_allclose(curve.lines_["training"].get_ydata(), sigmoid.loss_curve_)
    # Several estimators share one Axes.
    other = TrainingCurveDisplay.from_estimator(fitted["vae"], name="VAE", ax=disp.ax_)
    assert set(other.lines_) == {"training"}
    assert other.ax_.get_ylabel() == "negative ELBO"
    assert len(disp.ax_.get_lines()) == 3
    texts = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert "VAE, training" in texts


def test_sample_grid_display(fitted):
    vae = fitted["vae"]
    disp = SampleGridDisplay.from_estimator(vae, n_samples=6, n_cols=3, random_state=4)
    expected = vae.sample(6, random_state=4)
    assert disp.mosaic_.shape == (2 * 9 - 1, 3 * 9 - 1)
    for i in range(6):
        np.testing.assert_allclose(_tile(disp.mosaic_, i // 3, i % 3), expected[i])
    # An incomplete last row is left blank.
    disp = SampleGridDisplay.from_estimator(vae, n_samples=5, n_cols=3, random_state=4)
    assert np.isnan(_tile(disp.mosaic_, 1, 2)).all()
    with pytest.raises(TypeError, match="cannot draw samples"):
        SampleGridDisplay.from_estimator(fitted["ae"])


def test_sample_grid_display_draws_any_model_that_samples():
    # Not only skae's VAE: a user's own generative model with ``sample``.
    class Sampler(BaseEstimator):
        def fit(self, X):
            self.n_features_in_ = X.shape[1]
            return self

        def sample(self, n_samples, random_state=None):
            return np.random.RandomState(random_state).rand(n_samples, 16)

    disp = SampleGridDisplay.from_estimator(
        Sampler().fit(np.zeros((1, 16))), n_samples=4, random_state=0
    )
    expected = np.random.RandomState(0).rand(4, 16)
    assert disp.mosaic_.shape == (2 * 5 - 1, 2 * 5 - 1)
    for i in range(4):
        np.testing.assert_allclose(_tile(disp.mosaic_, i // 2, i % 2, 4, 4), expected[i])


def test_missing_matplotlib_names_the_extra(monkeypatch, data, fitted):
    X, _ = data
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "skae\[plot\]"'):
        ReconstructionDisplay.from_estimator(fitted["ae"], X)
    with pytest.raises(ImportError, match="LatentSpaceDisplay needs matplotlib"):
        LatentSpaceDisplay.from_estimator(fitted["ae"], X)
    with pytest.raises(ImportError, match="skae\\[plot\\]"):
        TrainingCurveDisplay.from_estimator(fitted["ae"])
    with pytest.raises(ImportError, match="skae\\[plot\\]"):
        SampleGridDisplay.from_estimator(fitted["vae"])
