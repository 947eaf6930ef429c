"""``lr_schedule``: the learning rate over a fit, stepped after every mini-batch.

A callback records the optimizer's learning rate at each training batch, so
the tests read the schedule a fit actually ran. Small networks on the
digits, a few epochs.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from skorch.callbacks import Callback

import skae
from skae import AutoencoderTransformer, ConvolutionalAutoencoder, SparseAutoencoder

# A new fit of the 400 rows trains on 300: the PCA start (the default) holds
# out a quarter of them for the validation loss that chooses the epoch kept.
N_ROWS, N_TRAIN, BATCH, EPOCHS = 400, 300, 64, 4
STEPS = EPOCHS * -(-N_TRAIN // BATCH)  # 4 epochs x 5 batches


class RecordLR(Callback):
    """Each training batch's learning rate, as the optimizer uses it."""

    def initialize(self):
        self.lrs_ = []
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            self.lrs_.append(net.optimizer_.param_groups[0]["lr"])


def fit_recording(X, estimator=AutoencoderTransformer, **params):
    recorder = RecordLR()
    defaults = dict(
        n_components=4,
        hidden_layer_sizes=(16,),
        batch_size=BATCH,
        max_epochs=EPOCHS,
        n_iter_no_change=100,
        random_state=0,
    )
    model = estimator(callbacks=[recorder], **{**defaults, **params}).fit(X)
    return model, np.array(recorder.lrs_)


@pytest.fixture
def X(digits01):
    return digits01[0][:N_ROWS]


def test_default_is_cooldown(X):
    assert AutoencoderTransformer().lr_schedule == "cooldown"
    model, lrs = fit_recording(X, lr=0.01)
    assert len(lrs) == STEPS
    warmup, hold = max(int(0.05 * STEPS), 1), int(0.7 * STEPS)
    # A linear warm-up from lr / 25, lr until 70 % of the steps, then
    # annealed towards 0.
    assert lrs[0] == pytest.approx(0.01 / 25)
    assert np.all(np.diff(lrs[: warmup + 1]) > 0)
    np.testing.assert_allclose(lrs[warmup : hold + 1], 0.01)
    tail = lrs[hold:]
    assert np.all(np.diff(tail) < 0)
    assert tail[-1] < 0.01 * 0.1
    assert model.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)
    assert model.lr_ == 0.01


def test_cooldown_warms_up_over_five_percent_of_a_long_run(X):
    # 40 epochs x 5 batches = 200 steps: 10 warm-up steps, held to step 140.
    _, lrs = fit_recording(X, lr=0.01, max_epochs=40)
    assert len(lrs) == 200
    np.testing.assert_allclose(lrs[:11], 0.01 * (1 / 25 + (1 - 1 / 25) * np.arange(11) / 10))
    np.testing.assert_allclose(lrs[10:141], 0.01)
    assert lrs[141] < 0.01


@pytest.mark.parametrize(
    "n_samples, n_train, expected",
    [
        # The rows trained on: all but those the PCA start holds out (10 %,
        # but at least 250 or a quarter of them and at most 2 000).
        (400, 300, 1e-3),
        (5_556, 5_000, 1e-3),
        (8_334, 7_500, 1.5e-3),
        (62_000, 60_000, 3e-3),
    ],
)
def test_auto_lr_grows_with_training_rows(n_samples, n_train, expected):
    # Few rows over-fit at a higher rate; many rows, seen a few dozen times
    # each in the auto budget, train better codes with one.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, 3)).astype(np.float32)
    recorder = RecordLR()
    model = AutoencoderTransformer(
        n_components=1,
        hidden_layer_sizes=(4,),
        batch_size=1_000,
        max_epochs=2,
        callbacks=[recorder],
        random_state=0,
    )
    assert model.lr == "auto"
    model.fit(X)
    assert len(recorder.lrs_) == 2 * -(-n_train // 1_000)  # 2 epochs of n_train rows
    assert model.lr_ == pytest.approx(expected)
    assert max(recorder.lrs_) == pytest.approx(expected)


def test_auto_lr_counts_the_rows_trained_on_and_partial_fit_uses_1e_3():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10_000, 3)).astype(np.float32)
    params = dict(n_components=1, hidden_layer_sizes=(4,), batch_size=1_000, random_state=0)
    # early_stopping holds out 10 %: 9 000 training rows.
    model = AutoencoderTransformer(max_epochs=1, early_stopping=True, **params).fit(X)
    assert model.lr_ == pytest.approx(1.8e-3)
    model.partial_fit(X)
    assert model.lr_ == pytest.approx(1e-3)
    assert model.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-3)
    model = AutoencoderTransformer(lr=5e-4, **params).partial_fit(X)
    assert model.lr_ == 5e-4


def test_onecycle_rises_to_lr_then_anneals(X):
    _, lrs = fit_recording(X, lr=0.01, lr_schedule="onecycle")
    assert len(lrs) == STEPS
    peak = int(np.argmax(lrs))
    assert lrs[peak] == pytest.approx(0.01)
    assert lrs[0] == pytest.approx(0.01 / 25)
    assert 0 < peak < STEPS - 1
    assert np.all(np.diff(lrs[: peak + 1]) > 0) and np.all(np.diff(lrs[peak:]) < 0)


def test_cosine_and_constant(X):
    _, lrs = fit_recording(X, lr=0.01, lr_schedule="cosine")
    assert lrs[0] == pytest.approx(0.01) and np.all(np.diff(lrs) < 0)
    _, lrs = fit_recording(X, lr=0.01, lr_schedule="constant")
    np.testing.assert_allclose(lrs, 0.01)


def test_early_stop_ends_part_way(X):
    # tol stops the fit before max_epochs: no error from a schedule cut short.
    model, lrs = fit_recording(X, max_epochs=200, n_iter_no_change=2, tol=10.0)
    assert model.n_iter_ < 200
    assert len(lrs) == model.n_iter_ * -(-N_TRAIN // BATCH)


def test_partial_fit_trains_at_constant_lr_and_warm_start_restarts(X):
    model, _ = fit_recording(X, lr=0.01)
    recorder = model.callbacks[0]
    model.partial_fit(X)
    np.testing.assert_allclose(recorder.lrs_, 0.01)
    model.set_params(warm_start=True).fit(X)
    lrs = np.array(recorder.lrs_)
    # A continued fit holds no rows out: 4 epochs x 7 batches of the 400 rows.
    n_steps = EPOCHS * -(-N_ROWS // BATCH)
    assert len(lrs) == n_steps
    assert lrs[0] == pytest.approx(0.01 / 25)  # a new run warms up again
    np.testing.assert_allclose(lrs[1 : int(0.7 * n_steps)], 0.01)
    assert lrs[-1] < 0.001


@pytest.mark.parametrize("schedule", ["cooldown", "onecycle", "cosine", "constant"])
def test_learning_rates_are_the_schedule_fit_runs(X, schedule):
    _, lrs = fit_recording(X, lr=0.01, lr_schedule=schedule)
    rates = skae.learning_rates(schedule, 0.01, STEPS)
    assert rates.shape == (STEPS,) and rates.dtype == np.float64
    np.testing.assert_allclose(rates, lrs, rtol=1e-12, atol=1e-15)


def test_partial_fit_follows_a_rate_set_between_calls(X):
    # A partial_fit loop given fit's schedule, one rate per call: each call
    # trains at its rate, the optimizer's state carries on, and the
    # callbacks are the same objects throughout (one training, one log).
    recorder = RecordLR()
    model = AutoencoderTransformer(
        n_components=4,
        hidden_layer_sizes=(16,),
        batch_size=BATCH,
        random_state=0,
        callbacks=[recorder],
    )
    chunks = np.array_split(X[:300], 3)  # 100 rows: 2 batches a call
    rates = skae.learning_rates("cooldown", 0.01, 6)
    callbacks = None
    for rate, chunk in zip(rates, chunks + chunks, strict=True):
        model.set_params(lr=rate).partial_fit(chunk)
        assert model.lr_ == rate
        if callbacks is None:
            callbacks = [cb for _, cb in model.net_.callbacks_]
        assert [cb for _, cb in model.net_.callbacks_] == callbacks
    np.testing.assert_allclose(recorder.lrs_, np.repeat(rates, 2))
    state = next(iter(model.net_.optimizer_.state.values()))
    assert int(state["step"]) == 12
    assert model.n_iter_ == 6


@pytest.mark.parametrize(
    "args, match",
    [
        (("linear", 0.01, 10), "lr_schedule='linear' is not a schedule"),
        (("cooldown", "auto", 10), "lr='auto' must be a positive finite number"),
        (("cooldown", 0.0, 10), "lr=0.0 must be"),
        (("cooldown", float("nan"), 10), "lr=nan must be"),
        (("cooldown", 0.01, 0), "n_steps=0 must be a positive integer"),
        (("cooldown", 0.01, 2.5), "n_steps=2.5 must be a positive integer"),
    ],
)
def test_learning_rates_rejects_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        skae.learning_rates(*args)


def test_learning_rates_of_one_step_is_the_first_rate():
    np.testing.assert_allclose(skae.learning_rates("cooldown", 0.01, 1), [0.01 / 25])
    np.testing.assert_allclose(skae.learning_rates("constant", 0.01, 1), [0.01])


def test_scheduled_model_pickles_and_saves(X, tmp_path):
    model = AutoencoderTransformer(
        n_components=4, hidden_layer_sizes=(16,), max_epochs=3, random_state=0
    ).fit(X)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.transform(X), model.transform(X))
    model.save(tmp_path / "model.skae")
    loaded = skae.load(tmp_path / "model.skae")
    assert loaded.lr_schedule == "cooldown"
    np.testing.assert_allclose(loaded.transform(X), model.transform(X), atol=1e-6)


def test_convolutional_and_out_of_core(X, tmp_path):
    # The planned step count must match the batches a memmap epoch makes,
    # or OneCycleLR refuses to step past its end.
    path = tmp_path / "X.npy"
    np.save(path, X.astype(np.float32))
    X_mm = np.load(path, mmap_mode="r")
    for params in ({"lr_schedule": "onecycle"}, {"lr_schedule": "cooldown"}):
        model = ConvolutionalAutoencoder(
            n_components=4, channels=(4,), max_epochs=2, batch_size=BATCH, random_state=0, **params
        ).fit(X_mm)
        assert model.n_iter_ == 2


def test_bad_schedule_is_a_clear_error(X):
    with pytest.raises(ValueError, match="lr_schedule"):
        AutoencoderTransformer(lr_schedule="linear").fit(X)
    with pytest.raises(ValueError, match="'lr' parameter"):
        AutoencoderTransformer(lr="fast").fit(X)


# tol=10 never counts an epoch as an improvement after the first: with
# n_iter_no_change=2 the loss has "plateaued" at the end of epoch 3.
PLATEAU = dict(lr=0.01, max_epochs=40, n_iter_no_change=2, tol=10.0)


def test_plateau_in_the_hold_phase_starts_the_anneal_then_stops(X, capsys):
    # 40 epochs x 5 batches: warm-up to step 10, hold to step 140. The
    # plateau at epoch 3 (step 15) anneals over ceil(3 * 3 / 7) = 2 epochs.
    model, lrs = fit_recording(X, verbose=1, **PLATEAU)
    assert model.n_iter_ == 5 and len(model.loss_curve_) == 5
    assert len(lrs) == 25
    np.testing.assert_allclose(lrs[10:16], 0.01)
    assert np.all(np.diff(lrs[15:]) < 0)
    assert lrs[-1] < 0.01 * 0.03
    assert model.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)
    out = capsys.readouterr().out
    assert "annealing the learning rate to 0 over 2 more epochs" in out
    assert "annealed to 0: stopping" in out and "Stopping since" not in out


def test_plateau_stops_at_once_without_a_cooldown_to_run(X):
    # The constant rate has no anneal; a plateau while warming up (the first
    # 5 % of 200 epochs here: 10 epochs) has no hold phase to cut short.
    model, lrs = fit_recording(X, lr_schedule="constant", **PLATEAU)
    assert model.n_iter_ == 3
    model, lrs = fit_recording(X, **{**PLATEAU, "max_epochs": 200})
    assert model.n_iter_ == 3 and lrs[-1] < 0.01


def test_plateau_anneal_on_the_validation_loss_keeps_the_best_epoch(X):
    # Early stopping holds out validation_fraction=0.25 of the rows: 300
    # training rows, 5 batches an epoch, as above.
    # A network without the PCA start, whose epoch 0 (random weights) is not
    # a candidate: the rule among trained epochs is what this test is about.
    model, lrs = fit_recording(
        X, SparseAutoencoder, early_stopping=True, validation_fraction=0.25, **PLATEAU
    )
    # The anneal runs, and the fit keeps the epoch of lowest validation loss
    # (not the last to improve by tol, the first here).
    assert model.n_iter_ == 5 and len(lrs) == 25
    assert np.all(np.diff(lrs[15:]) < 0)
    assert model.best_epoch_ == 1 + int(np.argmin(model.validation_loss_curve_[1:])) > 1
    assert model.best_validation_loss_ == min(model.validation_loss_curve_[1:])
