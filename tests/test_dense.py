"""Behaviour of :class:`skae.AutoencoderTransformer` that users rely on.

Everything runs on the 8x8 digits (or a slice of them) with narrow networks
and a few epochs; ``make_ae`` (``conftest.py``) builds such a seeded
estimator on the CPU.
"""

from __future__ import annotations

import math
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback

from skae import AutoencoderTransformer, ConvolutionalAutoencoder, SparseAutoencoder


class EpochCounter(Callback):
    """A user callback: counts the epochs it is told about.

    With ``stop_after=k`` it ends training after epoch ``k`` (raising
    ``KeyboardInterrupt``, as skorch's own ``EarlyStopping`` does).
    """

    def __init__(self, stop_after=None):
        self.stop_after = stop_after

    def initialize(self):
        self.n_epoch_begin = 0
        self.n_epoch_end = 0
        self.max_epochs_seen = None
        return self

    def on_train_begin(self, net, **kwargs):
        # ``net.max_epochs`` is the resolved number (``"auto"`` worked out).
        self.max_epochs_seen = net.max_epochs

    def on_epoch_begin(self, net, **kwargs):
        self.n_epoch_begin += 1

    def on_epoch_end(self, net, **kwargs):
        self.n_epoch_end += 1
        if self.stop_after is not None and self.n_epoch_end >= self.stop_after:
            raise KeyboardInterrupt


def assert_not_fitted(est):
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    fitted_attrs = [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
    assert fitted_attrs == []


# --------------------------------------------------------------------------
# Use in scikit-learn workflows
# --------------------------------------------------------------------------
def test_pipeline_with_classifier_beats_chance(digits, make_ae):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("ae", make_ae(n_components=16, hidden_layer_sizes=(64,), max_epochs=10)),
            ("clf", LogisticRegression(max_iter=2000)),
        ]
    )
    pipe.fit(X_train, y_train)
    assert pipe.named_steps["ae"].n_features_in_ == 64
    assert pipe.named_steps["ae"].transform(X_test).shape == (len(X_test), 16)
    # Ten balanced classes: chance is about 0.1.
    assert pipe.score(X_test, y_test) > 0.8


def test_grid_search_n_components_with_labels(digits01, make_ae):
    X, y = digits01
    X, y = X[:450], y[:450]
    pipe = make_pipeline(
        make_ae(hidden_layer_sizes=(64,), max_epochs=15, batch_size=32),
        StandardScaler(),  # scaled codes: a fast LogisticRegression fit
        LogisticRegression(max_iter=2000),
    )
    search = GridSearchCV(pipe, {"autoencodertransformer__n_components": [1, 16]}, cv=3)
    search.fit(X, y)
    assert search.best_params_ == {"autoencodertransformer__n_components": 16}
    assert search.best_score_ > 0.6
    assert search.best_estimator_.named_steps["autoencodertransformer"].n_components == 16


def test_grid_search_n_components_without_labels(digits01, make_ae):
    # No y: GridSearchCV ranks by the estimator's own ``score``, minus the
    # reconstruction error, so a wider bottleneck must win.
    X, _ = digits01
    X = X[:600]
    search = GridSearchCV(make_ae(max_epochs=10), {"n_components": [1, 16]}, cv=3)
    search.fit(X)
    assert search.best_params_ == {"n_components": 16}
    scores = search.cv_results_["mean_test_score"]
    assert np.all(scores < 0)  # negative mean squared errors
    assert scores[1] > scores[0]
    assert search.best_estimator_.transform(X).shape == (600, 16)


# --------------------------------------------------------------------------
# Copies and persistence
# --------------------------------------------------------------------------
def test_clone_pickle_joblib_round_trips(digits01, make_ae, tmp_path):
    X, _ = digits01
    ae = make_ae(n_components=3).fit(X)
    Z = ae.transform(X)
    X_rec = ae.inverse_transform(Z)

    restored = {
        "pickle": pickle.loads(pickle.dumps(ae)),
    }
    path = tmp_path / "ae.joblib"
    joblib.dump(ae, path)
    restored["joblib"] = joblib.load(path)
    for how, other in restored.items():
        assert other is not ae, how
        np.testing.assert_array_equal(other.transform(X), Z, err_msg=how)
        np.testing.assert_array_equal(other.inverse_transform(Z), X_rec, err_msg=how)
        assert other.score(X) == ae.score(X), how

    fresh = clone(ae)
    assert_not_fitted(fresh)
    assert fresh.get_params() == ae.get_params()
    # Same parameters, including random_state: refitting the clone gives the
    # same codes, bit for bit.
    np.testing.assert_array_equal(fresh.fit(X).transform(X), Z)


def test_pandas_feature_names_and_set_output(digits01, make_ae):
    X, _ = digits01
    X = X[:300]
    columns = [f"px{i}" for i in range(X.shape[1])]
    index = pd.Index(np.arange(1000, 1000 + len(X)), name="sample")
    df = pd.DataFrame(X, columns=columns, index=index)

    ae = make_ae(n_components=3).fit(df)
    np.testing.assert_array_equal(ae.feature_names_in_, columns)
    expected_out = ["autoencodertransformer0", "autoencodertransformer1", "autoencodertransformer2"]
    assert list(ae.get_feature_names_out()) == expected_out
    Z = ae.transform(df)
    assert isinstance(Z, np.ndarray)
    with pytest.warns(UserWarning, match="feature names"):
        np.testing.assert_array_equal(Z, ae.transform(X))

    ae.set_output(transform="pandas")
    Z_df = ae.transform(df)
    assert isinstance(Z_df, pd.DataFrame)
    assert list(Z_df.columns) == expected_out
    pd.testing.assert_index_equal(Z_df.index, index)
    np.testing.assert_array_equal(Z_df.to_numpy(), Z)
    # The pandas codes decode like the array ones.
    np.testing.assert_array_equal(ae.inverse_transform(Z_df), ae.inverse_transform(Z))

    # fit_transform is wrapped too.
    Z_fit = clone(ae).set_output(transform="pandas").fit_transform(df)
    assert isinstance(Z_fit, pd.DataFrame)
    assert list(Z_fit.columns) == expected_out
    pd.testing.assert_index_equal(Z_fit.index, index)

    # Columns renamed after fit are caught.
    with pytest.raises(ValueError, match="feature names"):
        ae.transform(df.rename(columns={"px0": "other"}))


# --------------------------------------------------------------------------
# Randomness
# --------------------------------------------------------------------------
def test_random_state_reproducible_and_independent_of_torch_seed(digits01, make_ae):
    X, _ = digits01
    X = X[:500]
    # 20 epochs at lr=1e-2: enough for a trained epoch to beat the start.
    params = dict(max_epochs=20, lr=1e-2)
    torch.manual_seed(1)
    ae1 = make_ae(random_state=42, **params)
    Z1 = ae1.fit_transform(X)
    torch.manual_seed(2)
    Z2 = make_ae(random_state=42, **params).fit_transform(X)
    np.testing.assert_array_equal(Z1, Z2)

    # Another seed, another network. Both fits keep a trained epoch (a fit
    # that kept its start would be PCA of X, the same for every seed).
    ae3 = make_ae(random_state=43, **params)
    Z3 = ae3.fit_transform(X)
    assert ae1.pca_start_ == ae3.pca_start_ == "network"
    assert not np.allclose(Z1, Z3)


def test_random_state_with_early_stopping_reproducible(digits01, make_ae):
    # The validation split is seeded too.
    X, _ = digits01
    X = X[:500]
    a = make_ae(early_stopping=True, random_state=7).fit(X)
    b = make_ae(early_stopping=True, random_state=7).fit(X)
    assert a.validation_loss_curve_ == b.validation_loss_curve_
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


@pytest.mark.parametrize("random_state", [0, None, np.random.RandomState(0)])
def test_fit_leaves_torch_global_rng_alone(digits01, make_ae, random_state):
    X, _ = digits01
    torch.manual_seed(123)
    before = torch.get_rng_state()
    make_ae(random_state=random_state, early_stopping=True).fit(X[:300])
    after = torch.get_rng_state()
    assert torch.equal(before, after)


# --------------------------------------------------------------------------
# transform, inverse_transform, reconstruct, score
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted01():
    """An autoencoder fitted on the digits in [0, 1] with the sigmoid output
    (chosen explicitly).

    Shared by the tests of this section, which only read from it.
    """
    X = load_digits().data / 16.0
    ae = AutoencoderTransformer(
        n_components=8,
        hidden_layer_sizes=(64,),
        max_epochs=30,
        random_state=0,
        device="cpu",
        output_activation="sigmoid",
    )
    return ae.fit(X), X


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_output_shapes_and_dtypes(fitted01, dtype):
    ae, X = fitted01
    X = X[:50].astype(dtype)
    Z = ae.transform(X)
    assert Z.shape == (50, 8)
    assert Z.dtype == np.float32
    X_rec = ae.inverse_transform(Z)
    assert X_rec.shape == (50, 64)
    assert X_rec.dtype == np.float64
    assert ae.reconstruct(X).shape == (50, 64)
    assert ae.score_samples(X).shape == (50,)
    assert isinstance(ae.score(X), float)


def test_reconstruct_and_scores_are_consistent(fitted01):
    ae, X = fitted01
    X_rec = ae.reconstruct(X)
    np.testing.assert_allclose(X_rec, ae.inverse_transform(ae.transform(X)), rtol=1e-6)

    expected = -np.mean((X - X_rec) ** 2, axis=1)
    scores = ae.score_samples(X)
    np.testing.assert_allclose(scores, expected, rtol=1e-10)
    assert ae.score(X) == pytest.approx(scores.mean(), rel=1e-12)
    # Fitted for 30 epochs, the reconstruction is much better than the mean
    # image.
    assert -ae.score(X) < 0.5 * np.mean((X - X.mean(axis=0)) ** 2)


def test_score_samples_flags_noise_as_anomalous(fitted01):
    ae, X = fitted01
    rng = np.random.RandomState(0)
    noise = rng.uniform(0.0, 1.0, size=(100, X.shape[1]))
    digit_scores = ae.score_samples(X[:500])
    noise_scores = ae.score_samples(noise)
    assert noise_scores.max() < np.median(digit_scores)
    assert noise_scores.mean() < digit_scores.mean()


# --------------------------------------------------------------------------
# Output activation and the internal scaling
# --------------------------------------------------------------------------
def test_sigmoid_output_on_unit_interval(fitted01):
    ae, X = fitted01
    assert ae.output_activation_ == "sigmoid"
    assert ae.reconstruction_loss_ == "binary_crossentropy"
    np.testing.assert_array_equal(ae.mean_, np.zeros(X.shape[1]))
    assert ae.scale_ == 1.0
    X_rec = ae.reconstruct(X)
    assert X_rec.min() >= 0.0
    assert X_rec.max() <= 1.0
    # Even codes far outside the training range decode into [0, 1].
    far = 1000.0 * ae.transform(X[:20])
    X_far = ae.inverse_transform(far)
    assert X_far.min() >= 0.0
    assert X_far.max() <= 1.0


@pytest.mark.parametrize(
    "transform",
    [lambda X: X, lambda X: X / 16.0 * 100.0 - 50.0],
    ids=["raw_0_to_16", "minus50_to_50"],
)
def test_auto_output_activation_identity_outside_unit_interval(digits, make_ae, transform):
    # (The choice for data in [0, 1]: tests/test_pca_start.py.)
    X, _ = digits
    X = transform(X[:300])
    ae = make_ae(max_epochs=2).fit(X)
    assert ae.output_activation_ == "identity"
    assert ae.reconstruction_loss_ == "squared_error"


def test_explicit_identity_on_unit_interval_data(digits01, make_ae):
    X, _ = digits01
    ae = make_ae(output_activation="identity", max_epochs=2).fit(X[:300])
    assert ae.output_activation_ == "identity"
    assert ae.reconstruction_loss_ == "squared_error"
    np.testing.assert_allclose(ae.mean_, X[:300].mean(axis=0))


def test_sigmoid_output_rejects_data_outside_unit_interval(digits, make_ae):
    X, _ = digits
    ae = make_ae(output_activation="sigmoid")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ae.fit(X)
    assert_not_fitted(ae)


def test_unscaled_data_trains_as_well_as_scaled(digits, make_ae):
    X, _ = digits
    X_big = X * 1000.0 + 5000.0
    params = dict(n_components=8, hidden_layer_sizes=(64,), max_epochs=15)
    small = make_ae(**params).fit(X)
    big = make_ae(**params).fit(X_big)

    # Centred per feature, divided by one global scale: the root mean variance.
    np.testing.assert_allclose(big.mean_, X_big.mean(axis=0))
    assert big.scale_ == pytest.approx(np.sqrt(np.mean(X_big.var(axis=0))), rel=1e-10)
    assert big.scale_ == pytest.approx(1000.0 * small.scale_, rel=1e-8)
    np.testing.assert_allclose(big.mean_, 1000.0 * small.mean_ + 5000.0)

    def relative_error(ae, data):
        return -ae.score(data) / np.mean(data.var(axis=0))

    rel_small = relative_error(small, X)
    rel_big = relative_error(big, X_big)
    # Learned something (predicting the mean gives 1.0) ...
    assert rel_small < 0.5
    # ... and the same whatever the units.
    assert rel_big == pytest.approx(rel_small, rel=0.05)
    # The codes do not depend on the units either: they agree to 2 % of
    # their spread (the PCA start's axes, computed from float32 rows in each
    # unit, differ by rounding, which 15 epochs of training carry on).
    Z_small = small.transform(X)
    np.testing.assert_allclose(big.transform(X_big), Z_small, atol=0.02 * Z_small.std())


def test_mean_is_float64_for_float32_input(digits, make_ae):
    # Documented: ``mean_ : ndarray of shape (n_features_in_,), dtype float64``.
    X, _ = digits
    ae = make_ae(max_epochs=1).fit(X[:200].astype(np.float32))
    assert ae.output_activation_ == "identity"
    assert ae.mean_.dtype == np.float64
    assert isinstance(ae.scale_, float)


# --------------------------------------------------------------------------
# Training loop: stopping, max_epochs="auto", verbosity, callbacks
# --------------------------------------------------------------------------
def test_early_stopping_stops_early_with_validation_curve(digits01, make_ae):
    X, _ = digits01
    ae = make_ae(
        n_components=8,
        max_epochs=300,
        early_stopping=True,
        n_iter_no_change=3,
        tol=1e-3,
    ).fit(X[:500])
    assert ae.n_iter_ < 300
    assert ae.n_iter_ >= 3 + 1
    assert len(ae.loss_curve_) == ae.n_iter_
    assert len(ae.validation_loss_curve_) == ae.n_iter_ + 1  # epochs 0 to n_iter_
    assert all(math.isfinite(v) for v in ae.validation_loss_curve_)
    assert ae.validation_loss_curve_[-1] < ae.validation_loss_curve_[0]
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]


def test_no_early_stopping_trains_every_epoch(digits01, make_ae):
    X, _ = digits01
    ae = make_ae(max_epochs=8, early_stopping=False).fit(X[:500])
    # No stopping on the validation loss: every epoch runs. The PCA start
    # still holds rows out to keep its best epoch (epoch 0, PCA, counted).
    assert ae.n_iter_ == 8
    assert not ae.stopped_early_
    assert len(ae.loss_curve_) == ae.n_iter_
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    assert len(ae.validation_loss_curve_) == ae.n_iter_ + 1
    assert 0 <= ae.best_epoch_ <= ae.n_iter_
    assert ae.best_validation_loss_ == ae.validation_loss_curve_[ae.best_epoch_]

    # An estimator without the start holds no rows out.
    ae = SparseAutoencoder(4, hidden_layer_sizes=(32,), max_epochs=8, random_state=0)
    ae.fit(X[:500])
    assert ae.n_iter_ == 8
    assert ae.validation_loss_curve_ is None
    assert ae.best_epoch_ is None and ae.best_validation_loss_ is None


@pytest.mark.parametrize("schedule, n_iter", [("constant", 3), ("cooldown", 5)])
def test_training_loss_stopping_rule(digits01, make_ae, schedule, n_iter):
    # early_stopping=False stops on the *training* loss: the first epoch
    # improves on nothing, then no epoch can improve by tol=1e9, so the loss
    # has plateaued after 1 + n_iter_no_change epochs. At a constant rate
    # training stops there; the cooldown schedule (past its warm-up, 5 % of
    # 50 epochs) first anneals over ceil(3 * 3 / 7) = 2 epochs.
    X, _ = digits01
    ae = make_ae(max_epochs=50, tol=1e9, n_iter_no_change=2, lr_schedule=schedule)
    assert ae.fit(X[:200]).n_iter_ == n_iter


def _auto_epochs(n_train, batch_size):
    """The documented rule for max_epochs="auto"."""
    return int(np.clip(math.ceil(10_000 / math.ceil(n_train / batch_size)), 10, 200))


def test_max_epochs_auto_runs_200_epochs_on_one_batch(digits01, make_ae):
    # 100 samples, batch_size=128: one mini-batch an epoch, so the budget of
    # 10 000 updates is clipped to 200 epochs; tol=0 and a large
    # n_iter_no_change keep the stopping rule out of the way.
    X, _ = digits01
    assert _auto_epochs(100, 128) == 200
    ae = make_ae(
        hidden_layer_sizes=(8,), max_epochs="auto", batch_size=128, tol=0.0, n_iter_no_change=1000
    ).fit(X[:100])
    assert ae.n_iter_ == 200


@pytest.mark.parametrize(
    "n_samples, batch_size, early_stopping, n_train, expected",
    [
        # The budget counts the training rows only. The PCA start (the
        # default) holds out validation_fraction=0.2 of the rows, but at
        # least 250 or a quarter of them.
        (100, 128, False, 75, 200),  # 1 batch an epoch: 10 000, clipped to 200
        (1000, 10, False, 750, 134),  # 75 batches: ceil(133.3)
        (1797, 10, False, 1437, 70),  # 144 batches: ceil(69.4)
        (1150, 1, False, 900, 12),  # 900 batches: ceil(11.1)
        # Early stopping holds out validation_fraction=0.2 of the rows:
        # 800 of 1000 rows trained on, in batches of 8.
        (1000, 8, True, 800, 100),
    ],
)
def test_max_epochs_auto_formula(
    digits01, make_ae, n_samples, batch_size, early_stopping, n_train, expected
):
    X, _ = digits01
    assert _auto_epochs(n_train, batch_size) == expected
    # The callback records the resolved max_epochs, then stops training
    # after one epoch to keep the test fast.
    counter = EpochCounter(stop_after=1)
    ae = make_ae(
        hidden_layer_sizes=(4,),
        max_epochs="auto",
        batch_size=batch_size,
        early_stopping=early_stopping,
        validation_fraction=0.2,
        callbacks=[counter],
    ).fit(X[:n_samples])
    assert counter.max_epochs_seen == expected
    assert ae.n_iter_ == 1


@pytest.mark.parametrize(
    "n_samples, batch_size, expected",
    [
        # Rows trained on: all but those the PCA start holds out
        # (validation_fraction=0.1 of them, but at least 250 or a quarter).
        (100, 128, 400),  # 75 rows, 1 batch an epoch: 5 000 updates, clipped to 400
        (1000, 10, 67),  # 750 rows, 75 batches: ceil(66.7)
        (1797, 128, 385),  # 1547 rows, 13 batches: ceil(384.6), over the dense cap of 200
        (1000, 1, 10),  # 750 batches: 7, clipped up to 10
    ],
)
def test_max_epochs_auto_convolutional_budget(digits01, n_samples, batch_size, expected):
    # The convolutional network aims at 5 000 updates, as up to 400 epochs
    # (a dense one: 10 000, up to 200).
    X, _ = digits01
    counter = EpochCounter(stop_after=1)
    ae = ConvolutionalAutoencoder(
        n_components=2,
        channels=(2,),
        max_epochs="auto",
        batch_size=batch_size,
        callbacks=[counter],
        random_state=0,
        device="cpu",
    ).fit(X[:n_samples])
    assert counter.max_epochs_seen == expected
    assert ae.n_iter_ == 1


def test_verbose_0_prints_nothing(digits01, make_ae, capsys):
    X, _ = digits01
    make_ae(max_epochs=3, early_stopping=True, n_iter_no_change=1, tol=1e9).fit(X[:200])
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_verbose_1_prints_a_line_per_epoch(digits01, make_ae, capsys):
    X, _ = digits01
    ae = make_ae(max_epochs=4, verbose=1).fit(X[:200])
    out = capsys.readouterr().out
    assert "train_loss" in out
    # One table row per epoch, numbered 1..n_iter_.
    rows = [line.split() for line in out.splitlines()]
    epochs = [int(r[0]) for r in rows if r and r[0].isdigit()]
    assert epochs == list(range(1, ae.n_iter_ + 1))


def test_verbose_1_shows_a_progress_bar_over_batches(digits01, make_ae, capsys):
    X, _ = digits01
    make_ae(max_epochs=2, batch_size=50, verbose=1).fit(X[:200])
    err = capsys.readouterr().err
    # skorch's ProgressBar: a tqdm bar for each of the 2 epochs, over 4 batches:
    # 3 of the 150 training rows and 1 of the 50 the PCA start holds out
    # (tqdm may skip redrawing the end of a bar this quick; its start is shown).
    assert err.count("0/4 [") == 2
    # Without held-out rows (an estimator without the start), 4 training batches.
    SparseAutoencoder(4, max_epochs=2, batch_size=50, verbose=1, random_state=0).fit(X[:200])
    assert capsys.readouterr().err.count("0/4 [") == 2


def test_transform_of_large_input_shows_progress_only_when_verbose(digits01, make_ae, capsys):
    from skae._inference import PROGRESS_MIN_ROWS

    X, _ = digits01
    ae = make_ae(max_epochs=1).fit(X[:200])
    big = np.resize(X, (PROGRESS_MIN_ROWS, X.shape[1]))
    capsys.readouterr()
    quiet = ae.transform(big)
    assert capsys.readouterr() == ("", "")
    ae.set_params(verbose=1)
    loud = ae.transform(big)
    err = capsys.readouterr().err
    n_chunks = -(-PROGRESS_MIN_ROWS // 256)
    assert "AutoencoderTransformer encode" in err
    assert f"0/{n_chunks} [" in err
    np.testing.assert_array_equal(quiet, loud)
    ae.transform(X)  # below the threshold: no bar
    assert capsys.readouterr().err == ""


def test_verbose_1_reports_why_training_stopped(digits01, make_ae, capsys):
    X, _ = digits01
    make_ae(max_epochs=50, verbose=1, tol=1e9, n_iter_no_change=2).fit(X[:200])
    out = capsys.readouterr().out
    assert "train_loss has not improved in the last 2 epochs: annealing" in out
    assert "annealed to 0: stopping" in out
    make_ae(max_epochs=50, verbose=1, tol=1e9, n_iter_no_change=2, lr_schedule="constant").fit(
        X[:200]
    )
    assert "Stopping since train_loss has not improved" in capsys.readouterr().out


def test_user_callbacks_are_called(digits01, make_ae):
    X, _ = digits01
    counter = EpochCounter()
    named = EpochCounter()
    ae = make_ae(max_epochs=4, callbacks=[counter, ("named", named)]).fit(X[:200])
    assert ae.n_iter_ == 4
    for cb in (counter, named):
        assert cb.n_epoch_begin == 4
        assert cb.n_epoch_end == 4
        assert cb.max_epochs_seen == 4


# --------------------------------------------------------------------------
# Bad input: clear errors and no fitted state left behind
# --------------------------------------------------------------------------
def _with_nan(X):
    X = X.copy()
    X[3, -1] = np.nan
    return X


def _with_inf(X):
    X = X.copy()
    X[3, -1] = np.inf
    return X


# (id, function of the data returning (X, estimator params), error, match)
BAD_FITS = [
    ("nan", lambda X: (_with_nan(X), {}), ValueError, "NaN"),
    ("inf", lambda X: (_with_inf(X), {}), ValueError, "infinity"),
    ("nan_image", lambda X: (_with_nan(X).reshape(len(X), 8, 8), {}), ValueError, "NaN"),
    ("1d", lambda X: (X[:, 0], {}), ValueError, "2D array"),
    ("strings", lambda X: (np.array([["a", "b"], ["c", "d"]] * 5), {}), ValueError, "string"),
    ("empty", lambda X: (X[:0], {}), ValueError, "0 sample"),
    ("n_components", lambda X: (X, {"n_components": 65}), ValueError, "n_components"),
    ("max_epochs_0", lambda X: (X, {"max_epochs": 0}), InvalidParameterError, "max_epochs"),
    ("max_epochs_neg", lambda X: (X, {"max_epochs": -1}), InvalidParameterError, "max_epochs"),
    ("sparse_nan", lambda X: (sp.csr_matrix(_with_nan(X)), {}), ValueError, "NaN"),
    (
        "hidden_layer_sizes",
        lambda X: (X, {"hidden_layer_sizes": (0,)}),
        ValueError,
        "hidden_layer_sizes",
    ),
    (
        "diverged",
        lambda X: (X * 100.0 - 50.0, {"lr": 1e6, "optimizer": "sgd"}),
        ValueError,
        "diverged",
    ),
]


@pytest.mark.parametrize("refit", [False, True], ids=["fresh", "refit"])
@pytest.mark.parametrize(
    "make_bad, error, match", [b[1:] for b in BAD_FITS], ids=[b[0] for b in BAD_FITS]
)
def test_bad_fit_raises_and_leaves_no_fitted_state(
    digits01, make_ae, make_bad, error, match, refit
):
    X, _ = digits01
    X = X[:200]
    ae = make_ae(max_epochs=3)
    if refit:
        ae.fit(X)
        check_is_fitted(ae)
    X_bad, params = make_bad(X)
    ae.set_params(**params)
    with pytest.raises(error, match=match):
        ae.fit(X_bad)
    assert_not_fitted(ae)


def test_transform_and_inverse_transform_errors(digits01, make_ae):
    X, _ = digits01
    ae = make_ae(n_components=3)
    with pytest.raises(NotFittedError):
        ae.transform(X)
    with pytest.raises(NotFittedError):
        ae.inverse_transform(np.zeros((2, 3)))
    ae.fit(X[:200])

    with pytest.raises(ValueError, match="features"):
        ae.transform(X[:, :10])
    with pytest.raises(ValueError, match="features"):
        ae.score_samples(X[:, :10])
    with pytest.raises(ValueError, match="NaN"):
        ae.transform(_with_nan(X))
    with pytest.raises(ValueError, match="2D array"):
        ae.transform(X[0])
    with pytest.raises(ValueError, match="features"):
        ae.transform(sp.csr_matrix(X[:, :10]))

    Z = ae.transform(X)
    with pytest.raises(ValueError, match="n_components"):
        ae.inverse_transform(Z[:, :2])
    with pytest.raises(ValueError, match="n_components"):
        ae.inverse_transform(X)  # data instead of codes
    with pytest.raises(ValueError, match="NaN"):
        ae.inverse_transform(_with_nan(Z))
    with pytest.raises(TypeError, match="[Ss]parse"):
        ae.inverse_transform(sp.csr_matrix(Z))  # codes are dense
    # The errors did not break the fitted estimator.
    np.testing.assert_array_equal(ae.transform(X), Z)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", ["unit", "raw"])
def test_user_arrays_never_modified(digits, make_ae, dtype, scale):
    X, _ = digits
    X = (X[:300] / 16.0 if scale == "unit" else X[:300] * 3.0 - 7.0).astype(dtype)
    X_before = X.copy()
    ae = make_ae(n_components=3, max_epochs=2, early_stopping=True)
    ae.fit(X)
    np.testing.assert_array_equal(X, X_before)
    Z = ae.transform(X)
    Z_before = Z.copy()
    ae.fit_transform(X)
    ae.reconstruct(X)
    ae.score_samples(X)
    ae.score(X)
    ae.inverse_transform(Z)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(Z, Z_before)
    assert X.dtype == dtype


def test_concurrent_inference_from_threads_gives_the_sequential_results(digits01, make_ae):
    # A fitted model served from several threads (a web app, joblib's
    # threading backend): encode and reconstruct at once, never mixed up.
    from concurrent.futures import ThreadPoolExecutor

    X, _ = digits01
    ae = make_ae().fit(X[:300])
    Z, X_rec = ae.transform(X), ae.reconstruct(X)
    methods = [ae.transform, ae.reconstruct] * 10
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda method: method(X), methods))
    for method, result in zip(methods, results, strict=True):
        expected = Z if method == ae.transform else X_rec
        np.testing.assert_array_equal(result, expected)
