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
from skae import AutoencoderTransformer, ConvolutionalAutoencoder

N_ROWS, BATCH, EPOCHS = 300, 64, 4
STEPS = EPOCHS * -(-N_ROWS // BATCH)  # 4 epochs x 5 batches


class RecordLR(Callback):
    """Each training batch's learning rate, as the optimizer uses it."""

    def initialize(self):
        self.lrs_ = []
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            self.lrs_.append(net.optimizer_.param_groups[0]["lr"])


def fit_recording(X, **params):
    recorder = RecordLR()
    defaults = dict(
        n_components=4,
        hidden_layer_sizes=(16,),
        batch_size=BATCH,
        max_epochs=EPOCHS,
        n_iter_no_change=100,
        random_state=0,
    )
    model = AutoencoderTransformer(callbacks=[recorder], **{**defaults, **params}).fit(X)
    return model, np.array(recorder.lrs_)


@pytest.fixture
def X(digits01):
    return digits01[0][:N_ROWS]


def test_default_is_cooldown(X):
    assert AutoencoderTransformer().lr_schedule == "cooldown"
    model, lrs = fit_recording(X, lr=0.01)
    assert len(lrs) == STEPS
    hold = int(0.7 * STEPS)
    # Constant at lr for the first 70 % of the steps, then annealed towards 0.
    np.testing.assert_allclose(lrs[: hold + 1], 0.01)
    tail = lrs[hold:]
    assert np.all(np.diff(tail) < 0)
    assert tail[-1] < 0.01 * 0.1
    assert model.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


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
    assert len(lrs) == model.n_iter_ * -(-N_ROWS // BATCH)


def test_partial_fit_trains_at_constant_lr_and_warm_start_restarts(X):
    model, _ = fit_recording(X, lr=0.01)
    recorder = model.callbacks[0]
    model.partial_fit(X)
    np.testing.assert_allclose(recorder.lrs_, 0.01)
    model.set_params(warm_start=True).fit(X)
    lrs = np.array(recorder.lrs_)
    assert len(lrs) == STEPS
    np.testing.assert_allclose(lrs[: int(0.7 * STEPS)], 0.01)
    assert lrs[-1] < 0.001


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
