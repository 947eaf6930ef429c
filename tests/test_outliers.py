"""AutoencoderOutlierDetector and ReconstructionErrorDisplay (skae.outliers).

scikit-learn's own outlier-detector checks run in test_estimator_checks.py;
this file tests what a user of the detector relies on beyond them.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skae
from skae import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    VariationalAutoencoder,
)
from skae.metrics import reconstruction_error
from skae.outliers import default_n_components
from skae.plotting import ReconstructionErrorDisplay

matplotlib.use("Agg")

FAST = {"max_epochs": 5, "hidden_layer_sizes": (16,), "random_state": 0}


def near_subspace(n=300, d=12, rank=3, seed=0):
    """Rows near a ``rank``-dimensional subspace, and odd rows off it."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(rank, d))
    X = rng.normal(size=(n, rank)) @ basis + 0.05 * rng.normal(size=(n, d))
    odd = rng.normal(size=(20, rank)) @ basis + 2.0 * rng.normal(size=(20, d))
    return X, odd


@pytest.mark.parametrize("contamination", [0.02, 0.1, 0.25])
def test_predict_flags_the_contamination_share_of_training_rows(contamination):
    X, _ = near_subspace()
    det = AutoencoderOutlierDetector(AutoencoderTransformer(3, **FAST), contamination=contamination)
    labels = det.fit(X).predict(X)
    assert set(np.unique(labels)) <= {-1, 1}
    assert abs(np.mean(labels == -1) - contamination) <= 0.02


def test_decision_function_is_score_samples_minus_offset_and_fit_predict_agrees():
    X, odd = near_subspace()
    both = np.vstack([X, odd])
    det = AutoencoderOutlierDetector(AutoencoderTransformer(3, **FAST), contamination=0.1)
    labels = det.fit_predict(both)
    np.testing.assert_array_equal(labels, det.predict(both))
    again = AutoencoderOutlierDetector(AutoencoderTransformer(3, **FAST), contamination=0.1).fit(
        both
    )
    np.testing.assert_array_equal(labels, again.predict(both))
    np.testing.assert_allclose(
        det.decision_function(both), det.score_samples(both) - det.offset_, rtol=0, atol=0
    )
    # Higher is more normal: minus the estimator's own reconstruction error.
    np.testing.assert_allclose(det.score_samples(both), det.estimator_.score_samples(both))


def test_pca_works_as_the_estimator_and_finds_rows_off_its_subspace():
    X, odd = near_subspace()
    det = AutoencoderOutlierDetector(PCA(3), contamination=0.05).fit(X)
    assert isinstance(det.estimator_, PCA) and det.estimator is not det.estimator_
    np.testing.assert_array_equal(det.predict(odd), -1)
    pca = det.estimator_
    expected = np.mean((X - pca.inverse_transform(pca.transform(X))) ** 2, axis=1)
    np.testing.assert_allclose(-det.score_samples(X), expected)
    # A Pipeline ending in PCA works the same way.
    det = AutoencoderOutlierDetector(make_pipeline(StandardScaler(), PCA(3))).fit(X)
    assert np.mean(det.predict(odd) == -1) > 0.9


def test_auto_contamination_flags_few_clean_rows_and_the_odd_ones():
    X, odd = near_subspace(n=1000)
    det = AutoencoderOutlierDetector(PCA(3)).fit(X)
    # Hampel's identifier at 2 robust deviations: ~2 % of clean rows.
    assert 0.005 <= np.mean(det.predict(X) == -1) <= 0.06
    assert np.mean(det.predict(odd) == -1) > 0.9


def test_default_estimator_width_follows_the_features():
    assert [default_n_components(d) for d in (2, 8, 30, 64, 784)] == [1, 2, 7, 16, 16]
    X, odd = near_subspace(d=30)
    det = AutoencoderOutlierDetector(random_state=0).fit(X)
    assert isinstance(det.estimator_, AutoencoderTransformer)
    assert det.estimator_.n_components == 7
    assert det.estimator_.random_state == 0
    assert det.estimator is None  # the parameter is left as given
    auc = roc_auc_score(
        np.r_[np.zeros(len(X)), np.ones(len(odd))], -det.score_samples(np.vstack([X, odd]))
    )
    assert auc > 0.95


def test_vae_elbo_as_the_score():
    X, odd = near_subspace()
    vae = VariationalAutoencoder(3, **FAST)
    det = AutoencoderOutlierDetector(vae, anomaly_score="estimator", contamination=0.1).fit(X)
    np.testing.assert_allclose(det.score_samples(X), det.estimator_.score_samples(X))
    assert abs(np.mean(det.predict(X) == -1) - 0.1) <= 0.02
    # The default score is the reconstruction error, for a VAE too.
    det = AutoencoderOutlierDetector(vae, contamination=0.1).fit(X)
    np.testing.assert_allclose(-det.score_samples(X), reconstruction_error(det.estimator_, X))


def test_per_feature_errors_say_which_feature_is_odd():
    X, _ = near_subspace()
    det = AutoencoderOutlierDetector(PCA(3)).fit(X)
    row = X[:1].copy()
    row[0, 7] += 10.0
    per_feature = det.reconstruction_error(row, per_feature=True)
    assert per_feature.shape == (1, X.shape[1])
    assert np.argmax(per_feature[0]) == 7
    np.testing.assert_allclose(per_feature.mean(axis=1), det.reconstruction_error(row))
    np.testing.assert_allclose(det.reconstruction_error(row), -det.score_samples(row))


def test_images_data_on_disk_and_sparse_rows(tmp_path):
    images = (load_digits().images[:300] / 16.0).astype(np.float32)
    conv = ConvolutionalAutoencoder(4, max_epochs=2, random_state=0)
    det = AutoencoderOutlierDetector(conv, contamination=0.1).fit(images)
    assert det.n_features_in_ == 64
    assert det.reconstruction_error(images[:5], per_feature=True).shape == (5, 64)
    # Data larger than memory: a memmap is read a chunk at a time, and scores
    # as the same rows in memory.
    flat = images.reshape(300, 64)
    path = tmp_path / "rows.npy"
    np.save(path, flat)
    on_disk = np.load(path, mmap_mode="r")
    det = AutoencoderOutlierDetector(AutoencoderTransformer(4, **FAST), contamination=0.1)
    det.fit(on_disk)
    np.testing.assert_allclose(det.score_samples(on_disk), det.score_samples(flat), rtol=1e-6)
    # Sparse rows.
    X = sp.random(200, 40, density=0.1, format="csr", random_state=0, dtype=np.float64)
    det = AutoencoderOutlierDetector(AutoencoderTransformer(4, **FAST), contamination=0.1).fit(X)
    np.testing.assert_allclose(det.score_samples(X), det.score_samples(X.toarray()), rtol=1e-6)


def test_partial_fit_trains_batch_by_batch():
    X, odd = near_subspace(n=400)
    det = AutoencoderOutlierDetector(AutoencoderTransformer(3, **FAST), contamination=0.05)
    for batch in np.array_split(X, 4):
        det.partial_fit(batch)
    assert det.estimator_.n_iter_ == 4
    assert abs(np.mean(det.predict(np.array_split(X, 4)[-1]) == -1) - 0.05) <= 0.02
    assert not hasattr(AutoencoderOutlierDetector(PCA(2)), "partial_fit")


def test_save_and_load_round_trip(tmp_path):
    X, odd = near_subspace()
    both = np.vstack([X, odd])
    for estimator in (AutoencoderTransformer(3, **FAST), PCA(3)):
        det = AutoencoderOutlierDetector(estimator, contamination=0.1).fit(X)
        loaded = skae.load(skae.save(det, tmp_path / "det.skae"))
        assert isinstance(loaded, AutoencoderOutlierDetector)
        assert loaded.offset_ == det.offset_
        np.testing.assert_allclose(loaded.decision_function(both), det.decision_function(both))
        np.testing.assert_array_equal(loaded.predict(both), det.predict(both))


def test_feature_names_and_bad_input():
    X, _ = near_subspace()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    det = AutoencoderOutlierDetector(PCA(3)).fit(frame)
    np.testing.assert_array_equal(det.feature_names_in_, frame.columns)
    with pytest.raises(ValueError, match="X has 5 features, but AutoencoderOutlierDetector"):
        det.predict(X[:, :5])
    with pytest.raises(ValueError, match="contamination"):
        AutoencoderOutlierDetector(contamination=0.7).fit(X)
    with pytest.raises(ValueError, match="anomaly_score"):
        AutoencoderOutlierDetector(anomaly_score="elbo").fit(X)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        AutoencoderOutlierDetector(AutoencoderTransformer(3, **FAST)).fit(bad)


def test_display_shows_where_the_oddest_row_differs():
    X, _ = near_subspace()
    X = X.copy()
    X[42, 5] += 8.0
    det = AutoencoderOutlierDetector(PCA(3)).fit(X)
    disp = ReconstructionErrorDisplay.from_estimator(det, X, max_features=4)
    assert len(disp.bars_) == 4
    assert disp.order_[0] == 5  # the feature that was pushed off
    np.testing.assert_allclose(disp.original, X[42])
    np.testing.assert_allclose(disp.errors_, det.reconstruction_error(X[[42]], per_feature=True)[0])
    assert "x5" in disp.ax_.get_yticklabels()[0].get_text()
    # An image: the row, its reconstruction and the error map side by side.
    images = load_digits().images[:200] / 16.0
    det = AutoencoderOutlierDetector(PCA(8)).fit(images.reshape(200, 64))
    disp = ReconstructionErrorDisplay.from_estimator(
        det, images.reshape(200, 64), row=3, image_shape=(8, 8)
    )
    assert disp.im_ is not None and disp.bars_ is None
    assert disp.im_.get_array().shape == (8, 8 * 3 + 2)
    with pytest.raises(ValueError, match="row=500 is out of range"):
        ReconstructionErrorDisplay.from_estimator(det, images.reshape(200, 64), row=500)
