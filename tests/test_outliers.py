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
from sklearn.exceptions import ConvergenceWarning, NotFittedError
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
from skae.outliers import CodeDensity, default_max_epochs, default_n_components
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
def test_fit_predict_flags_the_contamination_share_of_training_rows(contamination):
    X, _ = near_subspace()
    det = AutoencoderOutlierDetector(
        AutoencoderTransformer(3, **FAST), contamination=contamination, random_state=0
    )
    labels = det.fit_predict(X)
    assert labels.dtype.kind == "i" and set(np.unique(labels)) <= {-1, 1}
    assert abs(np.mean(labels == -1) - contamination) <= 0.01


def test_decision_function_is_score_samples_minus_offset_and_fit_predict_uses_held_out_scores():
    X, odd = near_subspace()
    both = np.vstack([X, odd])
    make = lambda: AutoencoderOutlierDetector(  # noqa: E731
        AutoencoderTransformer(3, **FAST), contamination=0.1, random_state=0
    )
    det = make()
    labels = det.fit_predict(both)
    # fit_predict labels every training row by its held-out score.
    assert not np.isnan(det.held_out_scores_).any()
    np.testing.assert_array_equal(labels, np.where(det.held_out_scores_ < det.offset_, -1, 1))
    assert np.sum(labels == -1) == round(0.1 * len(both))
    # The same seed, the same folds and models: fit gives the same offset_.
    again = make().fit(both)
    assert again.offset_ == det.offset_
    np.testing.assert_array_equal(again.held_out_scores_, det.held_out_scores_)
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
    det = AutoencoderOutlierDetector(vae, anomaly_score="estimator", contamination=0.1)
    assert abs(np.mean(det.fit_predict(X) == -1) - 0.1) <= 0.01
    np.testing.assert_allclose(det.score_samples(X), det.estimator_.score_samples(X))
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
    # The latest 300 rows' held-out scores (the first batch has none).
    assert det.held_out_scores_.shape == (300,)
    assert np.mean(det.predict(odd) == -1) > 0.9
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


# ------------------------------------------------ issue 38: a threshold for new rows
def digits_split(n_train=600):
    """The digits, shuffled: ``n_train`` training rows and the other, new rows."""
    X = load_digits().data / 16.0
    order = np.random.default_rng(0).permutation(len(X))
    return X[order[:n_train]], X[order[n_train:]]


class CountingPCA(PCA):
    """PCA that records the rows of each fit (a class attribute, reset by the test)."""

    fits: list = []

    def fit(self, X, y=None):
        CountingPCA.fits.append(_num_rows(X))
        return super().fit(X, y)


def _num_rows(X):
    return X.shape[0]


@pytest.mark.parametrize("contamination", [0.05, 0.1])
def test_contamination_holds_on_new_rows(contamination):
    """Fails before issue 38: a percentile of in-sample scores flagged 0.116
    and 0.185 of new digits (PCA(30), 600 rows), here 0.067 and 0.105."""
    train, new = digits_split()
    det = AutoencoderOutlierDetector(PCA(30), contamination=contamination, random_state=0)
    det.fit(train)
    assert abs(np.mean(det.predict(new) == -1) - contamination) <= 0.03


def test_held_out_scores_are_each_row_under_the_fold_model_fitted_without_it():
    from sklearn.model_selection import KFold

    train, _ = digits_split(300)
    det = AutoencoderOutlierDetector(PCA(8), contamination=0.05, random_state=3).fit(train)
    assert det.held_out_scores_.shape == (300,)
    expected = np.empty(300)
    for fit_rows, held in KFold(5, shuffle=True, random_state=3).split(train):
        expected[held] = -reconstruction_error(PCA(8).fit(train[fit_rows]), train[held])
    np.testing.assert_allclose(det.held_out_scores_, expected, rtol=1e-10)
    assert det.offset_ == np.percentile(expected, 5.0)
    # The final model is fitted on all the rows.
    np.testing.assert_allclose(det.estimator_.components_, PCA(8).fit(train).components_)


@pytest.mark.parametrize(
    ("n_samples", "fit_rows", "held_out"),
    [
        (300, [300] + [240] * 5, 300),  # a small table: 5 folds, then the final fit
        (6000, [4800], 1200),  # 1 fold holds out 1 200 >= 1 000 rows: its model is the model
        (2000, [2000, 1600, 1600, 1600], 1200),  # 3 folds of 400
        (6, [6, 4, 4, 4], 6),  # 3 folds of 2 rows
        (3, [3, 2, 2, 2], 3),  # one row a fold
        (2, [2], 0),  # nothing to hold out: the in-sample scores
    ],
)
def test_fold_fits_stop_at_1000_held_out_rows(n_samples, fit_rows, held_out):
    X = np.random.default_rng(0).normal(size=(n_samples, 4))
    CountingPCA.fits = []
    det = AutoencoderOutlierDetector(CountingPCA(1), contamination=0.1, random_state=0).fit(X)
    assert sorted(CountingPCA.fits) == sorted(fit_rows)
    assert np.sum(~np.isnan(det.held_out_scores_)) == held_out
    finite = det.held_out_scores_[~np.isnan(det.held_out_scores_)]
    if held_out:
        assert det.offset_ == np.percentile(finite, 10.0)
    if n_samples >= 5000:
        # Split conformal: the held-out rows are scored by estimator_ itself,
        # which never saw them, as it scores new rows.
        held = ~np.isnan(det.held_out_scores_)
        np.testing.assert_allclose(det.held_out_scores_[held], det.score_samples(X[held]))
    # fit_predict holds every row out, and flags 10 % of them.
    CountingPCA.fits = []
    labels = det.fit_predict(X)
    if n_samples >= 10:
        assert len(CountingPCA.fits) == 6
        assert np.sum(labels == -1) == round(0.1 * n_samples)
    assert not np.isnan(det.held_out_scores_).any() or n_samples == 2


def test_held_out_rows_of_data_on_disk_are_read_by_chunks(tmp_path, monkeypatch):
    """Fold models of data larger than memory get it as data read by chunks,
    and score as the same rows in memory."""
    import skae._chunked
    from skae._chunked import is_out_of_core

    train, _ = digits_split(300)
    path = tmp_path / "rows.npy"
    np.save(path, train)
    on_disk = np.load(path, mmap_mode="r")
    seen = []

    class Recording(PCA):
        def fit(self, X, y=None):
            seen.append(is_out_of_core(X))
            return super().fit(np.asarray(X), y)

    det = AutoencoderOutlierDetector(Recording(8), contamination=0.05, random_state=0)
    det.fit(on_disk)
    assert seen == [True] * 6
    in_memory = AutoencoderOutlierDetector(PCA(8), contamination=0.05, random_state=0).fit(train)
    np.testing.assert_allclose(det.held_out_scores_, in_memory.held_out_scores_, rtol=1e-6)
    assert det.offset_ == pytest.approx(in_memory.offset_, rel=1e-6)
    # A skae network reads the fold's rows a few at a time (tiny chunks here),
    # images on disk in their own shape.
    monkeypatch.setattr(skae._chunked, "CHUNK_VALUES", 64 * 16)
    images = np.load(path, mmap_mode="r")
    det = AutoencoderOutlierDetector(AutoencoderTransformer(4, **FAST), contamination=0.1)
    det.fit(images)
    assert det.n_features_in_ == 64 and not np.isnan(det.held_out_scores_).any()
    np.save(tmp_path / "images.npy", train.reshape(300, 8, 8).astype(np.float32))
    images = np.load(tmp_path / "images.npy", mmap_mode="r")
    conv = ConvolutionalAutoencoder(4, max_epochs=1, random_state=0)
    det = AutoencoderOutlierDetector(conv, contamination=0.1).fit(images)
    assert det.held_out_scores_.shape == (300,) and not np.isnan(det.held_out_scores_).any()


def test_sparse_and_dataframe_rows_are_cross_fitted():
    X = sp.random(200, 40, density=0.1, format="coo", random_state=0, dtype=np.float64)
    det = AutoencoderOutlierDetector(PCA(4), contamination=0.1, random_state=0)
    dense = AutoencoderOutlierDetector(PCA(4), contamination=0.1, random_state=0)
    np.testing.assert_array_equal(det.fit_predict(X), dense.fit_predict(X.toarray()))
    np.testing.assert_allclose(det.held_out_scores_, dense.held_out_scores_, rtol=1e-8)
    assert sp.isspmatrix_coo(X)  # the user's matrix is left as it was
    frame = pd.DataFrame(X.toarray(), columns=[f"f{i}" for i in range(40)])
    det = AutoencoderOutlierDetector(PCA(4), contamination=0.1, random_state=0).fit(frame)
    np.testing.assert_allclose(det.held_out_scores_, dense.held_out_scores_, rtol=1e-8)
    np.testing.assert_array_equal(det.feature_names_in_, frame.columns)


def test_random_state_reaches_only_the_estimators_unset_seeds():
    X, _ = near_subspace()
    estimator = make_pipeline(
        StandardScaler(),
        PCA(3, svd_solver="randomized", random_state=None),
        AutoencoderTransformer(3, max_epochs=2, hidden_layer_sizes=(8,), random_state=11),
    )
    det = AutoencoderOutlierDetector(estimator, random_state=7).fit(X)
    params = det.estimator_.get_params()
    assert params["pca__random_state"] == 7  # None: seeded by the detector
    assert params["autoencodertransformer__random_state"] == 11  # the user's seed stays
    assert estimator.get_params()["pca__random_state"] is None  # the parameter as given
    # An estimator without random_state parameters is left alone.
    det = AutoencoderOutlierDetector(PCA(3), random_state=7).fit(X)
    assert det.estimator_.random_state is None or det.estimator_.svd_solver != "randomized"
    # A RandomState instance gives one int for the folds and the clones.
    det = AutoencoderOutlierDetector(
        PCA(3, svd_solver="randomized"), random_state=np.random.RandomState(0)
    ).fit(X)
    assert isinstance(det.estimator_.random_state, int)


def test_anomaly_score_estimator_is_checked_before_any_training():
    from sklearn.decomposition import TruncatedSVD

    fits = []

    class CountingSVD(TruncatedSVD):
        def fit(self, X, y=None):
            fits.append(len(X))
            return super().fit(X, y)

        def fit_transform(self, X, y=None):
            fits.append(len(X))
            return super().fit_transform(X, y)

    X, _ = near_subspace()
    det = AutoencoderOutlierDetector(CountingSVD(3), anomaly_score="estimator")
    with pytest.raises(ValueError, match="CountingSVD does not have.*reconstruction_error"):
        det.fit(X)
    assert fits == [] and not hasattr(det, "estimator_")
    with pytest.raises(ValueError, match="score_samples"):
        det.partial_fit(X) if hasattr(det, "partial_fit") else det.fit_predict(X)


def test_tags_neither_clone_the_estimator_nor_need_a_fit():
    from sklearn.utils import get_tags

    clones = []

    class CloneCounting(PCA):
        def __sklearn_clone__(self):
            clones.append(1)
            return super().__sklearn_clone__()

    det = AutoencoderOutlierDetector(CloneCounting(2))
    for _ in range(3):
        tags = get_tags(det)
    assert clones == []
    assert tags.input_tags.sparse == get_tags(PCA(2)).input_tags.sparse
    assert get_tags(AutoencoderOutlierDetector()).input_tags.sparse == (
        get_tags(AutoencoderTransformer()).input_tags.sparse
    )


def test_partial_fit_threshold_from_scores_before_each_update():
    """Each batch is scored by the model before it trains on it; offset_
    is a percentile of the latest 1 000 such scores."""
    import copy

    X, _ = near_subspace(n=600)
    batches = np.array_split(X, 3)
    det = AutoencoderOutlierDetector(AutoencoderTransformer(3, **FAST), contamination=0.1)
    det.partial_fit(batches[0])
    # The first batch: no model before it, its in-sample scores.
    assert det.offset_ == np.percentile(det.score_samples(batches[0]), 10.0)
    before = copy.deepcopy(det)
    det.partial_fit(batches[1])
    expected = before.score_samples(batches[1])
    assert det.offset_ == pytest.approx(np.percentile(expected, 10.0), rel=1e-6)
    np.testing.assert_allclose(det.held_out_scores_, expected, rtol=1e-6)
    before = copy.deepcopy(det)
    det.partial_fit(batches[2])
    expected = np.r_[expected, before.score_samples(batches[2])]
    np.testing.assert_allclose(det.held_out_scores_, expected, rtol=1e-6)
    # At most the latest 1 000 scores are kept.
    det.partial_fit(np.tile(X, (2, 1)))
    assert det.held_out_scores_.shape == (1000,)
    # After fit, its held-out scores come first.
    det = AutoencoderOutlierDetector(AutoencoderTransformer(3, **FAST), contamination=0.1)
    det.fit(batches[0])
    before = copy.deepcopy(det)
    det.partial_fit(batches[1])
    expected = np.r_[before.held_out_scores_, before.score_samples(batches[1])]
    np.testing.assert_allclose(det.held_out_scores_, expected, rtol=1e-6)
    assert det.offset_ == pytest.approx(np.percentile(expected, 10.0), rel=1e-6)


def test_predict_validates_before_counting_rows():
    with pytest.raises(NotFittedError):
        AutoencoderOutlierDetector(PCA(2)).predict(3.0)
    X, _ = near_subspace()
    det = AutoencoderOutlierDetector(PCA(2)).fit(X)
    with pytest.raises(ValueError, match="features"):
        det.predict(3.0)


def test_a_fit_that_fails_leaves_the_fitted_detector_as_it_was():
    X, _ = near_subspace(d=10)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(10)])
    det = AutoencoderOutlierDetector(PCA(8), contamination=0.1).fit(frame)
    state = {k: v for k, v in vars(det).items() if k.endswith("_")}
    labels = det.predict(frame)
    with pytest.raises(ValueError):  # PCA(8) on 6 features
        det.fit(X[:, :6])
    bad = frame.rename(columns=lambda c: c.upper())
    bad.iloc[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        det.fit(bad)
    assert {k: v for k, v in vars(det).items() if k.endswith("_")}.keys() == state.keys()
    for name, value in state.items():
        assert getattr(det, name) is value, name
    np.testing.assert_array_equal(det.predict(frame), labels)


def test_load_builds_a_detector_subclass(tmp_path):
    """skae.load trusts the detector's class, and a subclass defined in the
    running program, as registered classes, not a name written in skae._io."""
    X, _ = near_subspace()
    det = MyDetector(PCA(3), contamination=0.1).fit(X)
    loaded = skae.load(skae.save(det, tmp_path / "det.skae"))
    assert type(loaded) is MyDetector
    np.testing.assert_array_equal(loaded.predict(X), det.predict(X))
    np.testing.assert_array_equal(loaded.held_out_scores_, det.held_out_scores_)


class MyDetector(AutoencoderOutlierDetector):
    """A user's detector (for test_load_builds_a_detector_subclass)."""


def test_docstring_cites_the_calibration_and_the_other_detectors():
    from numpydoc.docscrape import ClassDoc

    doc = ClassDoc(AutoencoderOutlierDetector)
    references = " ".join(" ".join(doc["References"]).split())
    assert "Cross-conformal predictors" in references and "Vovk" in references
    assert "Testing for outliers with conformal p-values" in references
    see_also = {name for names, _ in doc["See Also"] for name, _ in names}
    assert {"sklearn.neighbors.LocalOutlierFactor", "sklearn.svm.OneClassSVM"} <= see_also
    attributes = {p.name for p in doc["Attributes"]}
    assert "held_out_scores_" in attributes
    assert "held out" in AutoencoderOutlierDetector.fit_predict.__doc__


# ------------------------------------------- anomaly_score="reconstruction_and_code"
def _on_a_plane(rng, n, spread=1.0):
    """Rows on a 2-D plane of 8-D space, their coordinates drawn from N(0, spread)."""
    basis = np.linalg.qr(rng.normal(size=(8, 2)))[0].T
    return spread * rng.normal(size=(n, 2)) @ basis, basis


def test_code_score_flags_rows_on_the_surface_but_far_from_every_training_code():
    # Rows on the training rows' plane are reconstructed exactly, however far
    # out they lie: the error alone cannot flag them; their codes can.
    rng = np.random.default_rng(0)
    X, basis = _on_a_plane(rng, 400)
    X = X + 0.01 * rng.normal(size=X.shape)
    far = np.array([[8.0, 8.0], [-9.0, 7.0], [10.0, -6.0]]) @ basis
    by_error = AutoencoderOutlierDetector(PCA(2), contamination=0.05, random_state=0).fit(X)
    by_code = AutoencoderOutlierDetector(
        PCA(2), contamination=0.05, anomaly_score="reconstruction_and_code", random_state=0
    ).fit(X)
    assert (by_error.predict(far) == 1).all()
    assert (by_code.predict(far) == -1).all()


def test_code_score_held_out_scores_come_from_fold_models_and_offset_from_them():
    rng = np.random.default_rng(1)
    X, _ = _on_a_plane(rng, 300)
    X = X + 0.05 * rng.normal(size=X.shape)
    det = AutoencoderOutlierDetector(
        PCA(2), contamination=0.1, anomaly_score="reconstruction_and_code", random_state=0
    ).fit(X)
    assert isinstance(det.code_density_, CodeDensity)
    assert det.offset_ == pytest.approx(np.percentile(det.held_out_scores_, 10))
    # A held-out score is the fold model's, not the final model's in-sample one.
    assert not np.allclose(det.held_out_scores_, det.score_samples(X))
    # The final model's density is fitted on all rows: recomputed, it agrees.
    again = CodeDensity(det.estimator_, X)
    np.testing.assert_allclose(again.scores(det.estimator_, X), det.score_samples(X))


def test_code_score_refuses_partial_fit_and_other_scores_have_no_density():
    X = np.random.default_rng(2).normal(size=(50, 6))
    det = AutoencoderOutlierDetector(anomaly_score="reconstruction_and_code")
    with pytest.raises(ValueError, match="partial_fit does not keep"):
        det.partial_fit(X)
    assert AutoencoderOutlierDetector(PCA(2)).fit(X).code_density_ is None


def test_code_score_detector_saves_and_loads(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 6))
    det = AutoencoderOutlierDetector(
        PCA(3), anomaly_score="reconstruction_and_code", random_state=0
    ).fit(X)
    path = tmp_path / "detector.skae"
    skae.save(det, path)
    loaded = skae.load(path)
    np.testing.assert_array_equal(loaded.score_samples(X), det.score_samples(X))


def test_default_estimator_trains_for_a_budget_of_updates_not_of_epochs():
    # A detector fits its estimator several times (folds, then all rows):
    # its default trains about DEFAULT_STEPS mini-batch updates, 10 to 200 epochs.
    assert default_max_epochs(6000) == 43
    assert default_max_epochs(300) == 200
    assert default_max_epochs(10**6) == 10
    X = np.random.default_rng(4).normal(size=(40, 8)).astype(np.float32)
    det = AutoencoderOutlierDetector(random_state=0).fit(X)
    assert det.estimator_.max_epochs == default_max_epochs(40)
    # An estimator you pass keeps its own max_epochs.
    mine = AutoencoderOutlierDetector(AutoencoderTransformer(2, max_epochs=3), random_state=0)
    assert mine.fit(X).estimator_.max_epochs == 3


def test_default_estimator_stops_at_its_budget_without_a_warning(monkeypatch):
    # The budget is the detector's choice: no "raise max_epochs" advice for it.
    # Two epochs (a budget far short of convergence) so that the warning is due.
    import warnings

    import skae.outliers

    monkeypatch.setattr(skae.outliers, "DEFAULT_EPOCHS", (2, 2))
    X = np.random.default_rng(5).normal(size=(60, 8)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        AutoencoderOutlierDetector(random_state=0).fit(X)
    # An estimator you pass still says it stopped short.
    with pytest.warns(ConvergenceWarning, match="reached max_epochs"):
        AutoencoderOutlierDetector(AutoencoderTransformer(2, max_epochs=2), random_state=0).fit(X)
