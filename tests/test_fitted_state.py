"""The fitted-state contract: what fit learned, not the current parameters,
drives every fitted method; one default width; fits that end on purpose."""

import re
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skae
from skae import (
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)

ESTIMATORS = [
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
]
FAST = {"max_epochs": 2, "random_state": 0}
MODELS_DIR = Path(__file__).parent / "data" / "models-0.1.0"


@pytest.fixture(scope="module")
def X():
    return StandardScaler().fit_transform(load_digits().data[:150])


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_set_params_after_fit_changes_nothing_until_the_next_fit(cls, X):
    est = cls(3, **FAST).fit(X)
    codes, reconstruction = est.transform(X), est.reconstruct(X)
    names = est.get_feature_names_out()
    est.set_params(n_components=5)
    assert est.n_components_ == 3
    np.testing.assert_array_equal(est.transform(X), codes)
    np.testing.assert_array_equal(est.reconstruct(X), reconstruction)
    assert est.inverse_transform(codes).shape == X.shape
    np.testing.assert_array_equal(est.get_feature_names_out(), names)
    if cls is VariationalAutoencoder:
        assert est.sample(4, random_state=0).shape == (4, X.shape[1])
        assert est.score_samples(X).shape == (len(X),)
    est.fit(X)
    assert est.n_components_ == 5 and est.transform(X).shape == (len(X), 5)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_estimator_defaults_to_two_components(cls, X):
    assert cls().n_components == 2
    assert cls(**FAST).fit(X).transform(X).shape == (len(X), 2)


def test_a_code_wider_than_the_input_is_refused_warned_of_or_allowed():
    X = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(ValueError, match="n_components=4 must be at most"):
        AutoencoderTransformer(4, **FAST).fit(X)
    with pytest.warns(UserWarning, match="n_components=4 is more than n_features=3"):
        VariationalAutoencoder(4, **FAST).fit(X)
    with _no_warning(UserWarning, match="n_components"):
        DenoisingAutoencoder(4, **FAST).fit(X)
        SparseAutoencoder(4, **FAST).fit(X)


def test_a_fit_cut_short_by_max_epochs_warns_and_a_finished_one_does_not(X):
    with pytest.warns(ConvergenceWarning, match="reached max_epochs=5 while its training loss"):
        short = AutoencoderTransformer(2, max_epochs=5, lr_schedule="constant", random_state=0)
        short.fit(X)
    assert not short.stopped_early_
    with _no_warning(ConvergenceWarning):
        done = AutoencoderTransformer(2, max_epochs=200, tol=0.05, n_iter_no_change=2)
        done.set_params(lr_schedule="constant", random_state=0).fit(X)
    assert done.stopped_early_ and done.n_iter_ < 200


def test_partial_fit_does_not_claim_an_early_stop(X):
    est = AutoencoderTransformer(2, random_state=0).partial_fit(X)
    assert est.stopped_early_ is False


def test_raw_wine_fits_do_not_end_by_accident():
    # 133 training rows at batch_size=128 make a batch of 5 rows each epoch;
    # seed 0's loss fell to a tenth of its neighbours' in one epoch, the
    # plateau test saw no new best for 10 epochs while the loss still fell
    # tenfold, and the fit ended at epoch 36 with 6 x the other seeds' test
    # MSE (90.5 against 15.2).
    X, y = load_wine(return_X_y=True)
    X_train, X_test = train_test_split(X, test_size=0.25, stratify=y, random_state=0)
    errors = [
        np.mean(
            (AutoencoderTransformer(8, random_state=seed).fit(X_train).reconstruct(X_test) - X_test)
            ** 2
        )
        for seed in (0, 1, 2)
    ]
    assert max(errors) <= 1.5 * np.median(errors)


def test_old_model_files_get_n_components_from_their_parameters():
    loaded = skae.load(MODELS_DIR / "dense.safetensors")
    assert loaded.n_components_ == loaded.n_components


@contextmanager
def _no_warning(category, match=""):
    """Fail on a warning of ``category`` whose message matches ``match``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    unwanted = [
        str(w.message)
        for w in caught
        if issubclass(w.category, category) and re.search(match, str(w.message))
    ]
    assert not unwanted, unwanted


def test_a_verbose_log_sent_to_a_file_has_no_colour_codes(X, capsys):
    AutoencoderTransformer(2, max_epochs=2, verbose=1, random_state=0).fit(X)
    out = capsys.readouterr().out
    assert "train_loss" in out and "\x1b[" not in out
