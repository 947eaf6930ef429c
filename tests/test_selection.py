"""The fit's selection and what the fitted model says about itself.

A fit trains, selects an epoch (the PCA start counted only where it is
PCA's solution), refits what it selected, then sets every diagnostic from
the model returned: these tests hold each step to its word (issue 43).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from skorch.callbacks import Callback

from skae import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits300():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300] % 3


def quiet_fit(est, X, y=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


@pytest.mark.parametrize("seed", range(4))
def test_a_supervised_fit_never_returns_an_untrained_head(digits300, seed):
    # Three epochs cannot beat the PCA start here, so the start is kept: the
    # head must then be fitted on the start's codes, not left as initialised
    # (which gave accuracies of 0.14 to 0.35 against a majority class of 0.4).
    X, y = digits300
    est = quiet_fit(
        AutoencoderTransformer(
            2, hidden_layer_sizes=(16,), max_epochs=3, target_weight=1.0, random_state=seed
        ),
        X,
        y,
    )
    majority = np.bincount(y).max() / len(y)
    accuracy = np.mean(est.predict(X) == y)
    assert accuracy >= majority
    if est.best_epoch_ == 0:
        # PCA plus the linear head refitted on PCA's codes of every row: linear
        # discriminant analysis on the codes predicts as the head does.
        codes = est.transform(X)
        reference = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(codes, y)
        assert np.mean(reference.predict(codes) == est.predict(X)) >= 0.99


def test_under_the_pca_start_the_head_starts_as_a_linear_model_of_the_codes(digits300):
    """Before the first step, epoch 0 is PCA with a linear model of y on its
    codes (a model someone would choose), not an untrained head."""
    X, y = digits300
    holder, seen = {}, {}

    class AtTrainBegin(Callback):
        def on_train_begin(self, net, **kwargs):
            seen["predict"] = holder["est"].predict(X)
            seen["codes"] = holder["est"].transform(X)

    est = AutoencoderTransformer(
        2, max_epochs=1, target_weight=1.0, random_state=0, callbacks=[AtTrainBegin()]
    )
    holder["est"] = est
    quiet_fit(est, X, y)
    reference = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    reference.fit(seen["codes"], y)  # on every row; the start's head saw the training rows
    assert np.mean(seen["predict"] == y) >= reference.score(seen["codes"], y) - 0.05
    assert np.mean(seen["predict"] == y) > np.bincount(y).max() / len(y)


def test_best_validation_loss_is_the_loss_the_selection_saw(digits300):
    X, y = digits300
    for target_weight in (0.0, 1.0):
        est = quiet_fit(
            AutoencoderTransformer(
                2, hidden_layer_sizes=(16,), max_epochs=3, target_weight=target_weight,
                random_state=0,
            ),
            X,
            y,
        )  # fmt: skip
        assert len(est.validation_loss_curve_) == est.n_iter_ + 1
        assert est.best_validation_loss_ == est.validation_loss_curve_[est.best_epoch_]


def test_ordered_explained_variance_ratio_describes_the_model_returned(digits300):
    """Computed after the start is refit on all rows: equal to its
    recomputation from the returned model's prefixes (first k units, the
    trailing ones zero)."""
    X, _ = digits300
    est = quiet_fit(AutoencoderTransformer(4, ordered=True, max_epochs=2, random_state=0), X)
    assert est.best_epoch_ == 0  # the refit case, where the two used to differ
    codes = est.transform(X)
    total = np.sum((X - X.mean(axis=0)) ** 2)
    explained = []
    for k in range(1, 5):
        prefix = codes.copy()
        prefix[:, k:] = 0.0
        explained.append(1.0 - np.sum((X - est.inverse_transform(prefix)) ** 2) / total)
    ratio = np.diff(explained, prepend=0.0)
    np.testing.assert_allclose(est.explained_variance_ratio_, ratio, atol=0.005)


def noise(seed, n=200, d=10):
    return np.random.default_rng(seed).normal(size=(n, d))


@pytest.mark.parametrize(
    "make",
    [
        lambda s: AutoencoderTransformer(3, pca_start=False, random_state=s),
        lambda s: DenoisingAutoencoder(3, random_state=s),
        lambda s: SparseAutoencoder(3, random_state=s),
        lambda s: VariationalAutoencoder(3, random_state=s),
    ],
    ids=["no-start", "denoising", "sparse", "vae"],
)
def test_a_random_initialisation_is_never_the_model_kept(make):
    for seed in range(3):
        est = make(seed).set_params(early_stopping=True, max_epochs=2)
        quiet_fit(est, noise(seed))
        assert est.best_epoch_ >= 1
        assert est.best_validation_loss_ == min(est.validation_loss_curve_[1:])


def test_one_standard_error_rule_on_known_losses():
    from skae._callbacks import within_one_standard_error

    # The kept epoch's per-row losses: mean 2.5, standard error
    # std(ddof=1) / sqrt(4) = 1.2910 / 2 = 0.6455.
    losses = np.array([1.0, 2.0, 3.0, 4.0])
    assert within_one_standard_error(3.14, losses)
    assert not within_one_standard_error(3.15, losses)
    assert within_one_standard_error(2.0, losses)  # a start below the epoch
    assert within_one_standard_error(100.0, losses[:1])  # one row: no error estimate
    # The rule's standard error is the kept epoch's, not that of the per-row
    # difference: a start worse on every row by 0.1 (a paired test would
    # reject it) is still within one standard error here.
    assert within_one_standard_error(float(np.mean(losses + 0.1)), losses)


def test_the_callback_keeps_the_start_by_the_rule():
    from skae._callbacks import BestValidationEpoch

    class Net:
        module_ = torch.nn.Linear(1, 1, bias=False)
        history = [{}] * 3

    net = Net()
    with torch.no_grad():
        net.module_.weight.fill_(1.0)  # the start's weights
    for start_loss, kept_start in ((3.1, True), (3.2, False)):
        rule = BestValidationEpoch()
        rule.start_from(0, np.full(4, start_loss), net)
        rule.kept_ = (3, 2.5)  # the best trained epoch, after history row 3
        with torch.no_grad():
            net.module_.weight.fill_(2.0)  # that epoch's weights
        assert rule.prefer_start(net, np.array([1.0, 2.0, 3.0, 4.0])) is kept_start
        assert rule.kept_ == ((0, 3.1) if kept_start else (3, 2.5))
        assert net.module_.weight.item() == (1.0 if kept_start else 2.0)


def test_partial_fit_takes_the_classes_of_all_calls(digits300):
    X, y = digits300
    first = y != 2
    est = AutoencoderTransformer(2, target_weight=1.0, random_state=0)
    est.partial_fit(X[first], y[first], classes=[0, 1, 2])
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    est.partial_fit(X, y)  # a later batch with the third class
    assert set(est.predict(X)) <= {0, 1, 2}
    with pytest.raises(ValueError, match="classes"):
        est.partial_fit(X, y, classes=[0, 1])
    # Without classes=, the first batch's classes are all there are.
    first_only = AutoencoderTransformer(2, target_weight=1.0, random_state=0)
    first_only.partial_fit(X[first], y[first])
    with pytest.raises(ValueError, match="not in classes_"):
        first_only.partial_fit(X, y)
    with pytest.raises(ValueError, match="not in classes"):
        AutoencoderTransformer(2, target_weight=1.0).partial_fit(X, y, classes=[0, 1])


@pytest.mark.parametrize("kind", ["classes", "numbers"])
def test_a_head_with_almost_no_labelled_rows_starts_at_the_trivial_model(kind):
    # Two labelled rows of 300: too few for a linear model of the codes (they
    # may even all be held out); the head starts from the class frequencies
    # or the target's mean, and the fit completes.
    X = noise(0, n=300, d=8)
    y = np.full(300, -1) if kind == "classes" else np.full(300, np.nan)
    y[:2] = [0, 1] if kind == "classes" else [1.0, 2.0]
    est = quiet_fit(AutoencoderTransformer(2, max_epochs=2, target_weight=1.0), X, y)
    assert est.predict(X).shape == (300,)
