"""The one-job helpers: chunked rows, chunk statistics, the input scaling, the
image-shape resolver and the estimator registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from skae import AutoencoderTransformer, _chunked
from skae._chunked import (
    ChunkedRows,
    array_stats,
    chunk_rows,
    column_stats,
    map_chunks,
    row_chunks,
)
from skae._image_shape import resolve_image_shape, square_side
from skae._io import register_estimator_class, registered_estimator_classes
from skae._net import INFERENCE_BATCH_SIZE
from skae._scaling import Scaling, TorchScaling
from skae.metrics import reconstruction_error

FAST = {"hidden_layer_sizes": (8,), "max_epochs": 2, "random_state": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def digits():
    return load_digits().data.astype(np.float32)


# ------------------------------------------------------------ chunked rows
@pytest.mark.parametrize("n_values", [1, 7, 64, 3000, 2**21])
@pytest.mark.parametrize("multiple", [1, 3, 256])
def test_chunk_rows_is_a_whole_number_of_multiples_near_the_budget(n_values, multiple):
    rows = chunk_rows(n_values, multiple)
    assert rows >= multiple and rows % multiple == 0
    # As many rows as the budget holds, unless one multiple is already over it.
    assert rows * n_values <= _chunked.CHUNK_VALUES or rows == multiple
    assert (rows + multiple) * n_values > _chunked.CHUNK_VALUES


@pytest.mark.parametrize("n_rows", [1, 255, 256, 257, 1000])
@pytest.mark.parametrize("multiple", [1, 256])
def test_row_chunks_cover_all_rows_in_whole_multiples(monkeypatch, n_rows, multiple):
    monkeypatch.setattr(_chunked, "CHUNK_VALUES", 300 * 10)  # 300 rows of 10 values
    slices = list(row_chunks(n_rows, 10, multiple=multiple))
    assert slices[0].start == 0 and slices[-1].stop == n_rows
    for before, after in zip(slices, slices[1:], strict=False):
        assert before.stop == after.start
    for piece in slices[:-1]:
        assert piece.start % multiple == 0 and (piece.stop - piece.start) % multiple == 0
        assert piece.stop - piece.start == chunk_rows(10, multiple)
    assert list(row_chunks(0, 10)) == []


def test_map_chunks_gives_the_whole_result_chunk_by_chunk(monkeypatch):
    monkeypatch.setattr(_chunked, "CHUNK_VALUES", 50 * 4)
    X = np.arange(4 * 230, dtype=np.float64).reshape(230, 4)
    sizes = []

    def fn(rows):
        sizes.append(len(rows))
        return rows.sum(axis=1)

    out = map_chunks(fn, X, np.empty(230), multiple=16, desc="test", progress=True)
    np.testing.assert_array_equal(out, X.sum(axis=1))
    assert sum(sizes) == 230 and len(sizes) > 1
    assert all(size % 16 == 0 for size in sizes[:-1])
    # The wider of input and output rows sets the chunk: 40 output values a row.
    sizes.clear()

    def widen(rows):
        sizes.append(len(rows))
        return np.repeat(rows, 10, axis=1)

    out = map_chunks(widen, X, np.empty((230, 40)))
    np.testing.assert_array_equal(out, np.repeat(X, 10, axis=1))
    assert max(sizes) == chunk_rows(40) == 5


def test_reconstruction_error_by_chunks_is_score_samples(monkeypatch, digits):
    ae = AutoencoderTransformer(2, **FAST).fit(digits[:600])
    X = digits[:600]
    # Chunks of one inference batch (the budget rounded down): 3 chunks.
    monkeypatch.setattr(_chunked, "CHUNK_VALUES", 64 * (INFERENCE_BATCH_SIZE + 50))
    assert len(list(row_chunks(600, 64, multiple=INFERENCE_BATCH_SIZE))) == 3
    np.testing.assert_array_equal(reconstruction_error(ae, X), -ae.score_samples(X))


# -------------------------------------------------------- chunk statistics
@pytest.mark.parametrize("n_chunks", [1, 3, 10])
def test_column_stats_match_numpy(n_chunks):
    rng = np.random.RandomState(0)
    X = (rng.randn(500, 6) * [1, 10, 0.1, 5, 2, 3] + [1e4, -3, 0, 7, 1, 2]).astype(np.float32)
    stats = column_stats(np.array_split(X, n_chunks))
    assert stats.n_samples == 500
    np.testing.assert_array_equal(stats.min, X.min(axis=0))
    np.testing.assert_array_equal(stats.max, X.max(axis=0))
    X64 = X.astype(np.float64)
    np.testing.assert_allclose(stats.mean, X64.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.var, X64.var(axis=0), rtol=1e-9)
    assert stats.min.dtype == stats.mean.dtype == np.float64
    if n_chunks == 1:  # one chunk: numpy's own two-pass result
        np.testing.assert_array_equal(stats.mean, X.mean(axis=0, dtype=np.float64))
    extremes = column_stats(np.array_split(X, n_chunks), moments=False)
    assert extremes.mean is None and extremes.var is None


def test_in_memory_and_out_of_core_statistics_agree_bit_for_bit(monkeypatch, tmp_path, digits):
    monkeypatch.setattr(_chunked, "CHUNK_VALUES", 200 * 64)  # 1797 rows: 9 chunks
    np.save(tmp_path / "X.npy", digits)
    on_disk = ChunkedRows(np.load(tmp_path / "X.npy", mmap_mode="r"), None)
    in_memory, scanned = array_stats(digits), on_disk.scan()
    for name in ("min", "max", "mean", "var"):
        np.testing.assert_array_equal(getattr(in_memory, name), getattr(scanned, name))
    assert on_disk.validated


# -------------------------------------------------------------- scaling
def test_scaling_fit_chooses_the_activation_and_the_global_scale(digits):
    unit = Scaling.fit(digits / 16.0, "auto")
    assert unit.output_activation == "sigmoid" and unit.scale == 1.0
    np.testing.assert_array_equal(unit.mean, np.zeros(64))
    scaled = Scaling.fit(digits, "auto")
    assert scaled.output_activation == "identity"
    np.testing.assert_allclose(scaled.mean, digits.mean(axis=0, dtype=np.float64))
    expected = np.sqrt(np.mean(digits.astype(np.float64).var(axis=0)))
    assert scaled.scale == pytest.approx(expected, rel=1e-12)
    assert isinstance(scaled.scale, float)
    assert Scaling.fit(digits / 16.0, "identity").output_activation == "identity"
    assert Scaling.fit(np.ones((5, 3)), "identity").scale == 1.0  # no spread: no scaling
    # From statistics a pass already gave: the same scaling.
    from_stats = Scaling.fit(digits, "auto", stats=array_stats(digits))
    np.testing.assert_array_equal(from_stats.mean, scaled.mean)
    assert from_stats.scale == scaled.scale
    with pytest.raises(ValueError, match="output_activation='sigmoid' needs X in"):
        Scaling.fit(digits, "sigmoid")


def test_scaling_maps_in_numpy_and_torch_agree(digits):
    for X in (digits, digits / 16.0):
        scaling = Scaling.fit(X, "auto")
        copy = X.copy()
        Xn = scaling.transform(X)
        np.testing.assert_array_equal(X, copy)  # never modified
        assert Xn.dtype == np.float32 and Xn.flags.c_contiguous and Xn is not X
        if scaling.output_activation == "identity":
            np.testing.assert_allclose(Xn.std(), 1.0, rtol=0.05)
        module = scaling.torch_module()
        assert isinstance(module, TorchScaling)
        torch_Xn = module(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
        np.testing.assert_allclose(torch_Xn.numpy(), Xn, rtol=1e-6, atol=1e-6)
        # The inverse maps raw decoder outputs back to the user's units.
        raw = torch.from_numpy(Xn)
        expected = torch.sigmoid(raw).numpy() if scaling.output_activation == "sigmoid" else X
        back = scaling.inverse_transform(raw)
        assert back.dtype == np.float64
        np.testing.assert_allclose(back, expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(module.inverse(raw).numpy(), back, rtol=1e-5, atol=1e-5)


def test_the_estimator_keeps_the_scaling_as_its_fitted_attributes(digits):
    ae = AutoencoderTransformer(2, **FAST).fit(digits[:300])
    scaling = Scaling.of(ae)
    assert tuple(scaling) == (ae.output_activation_, ae.mean_, ae.scale_)
    np.testing.assert_array_equal(ae._normalize(digits[:5]), scaling.transform(digits[:5]))


# ---------------------------------------------------------- image shapes
def test_resolve_image_shape_cases():
    assert square_side(64) == 8 and square_side(63) is None
    assert resolve_image_shape(None, 64) == (8, 8)
    assert resolve_image_shape(None, 63, not_square=(63,)) == (63,)
    assert resolve_image_shape((3, 7, 3), 63) == (3, 7, 3)
    assert resolve_image_shape(np.array([4, 16]), 64) == (4, 16)
    assert resolve_image_shape(None, 64, sample_shape=(4, 16)) == (4, 16)
    assert resolve_image_shape((4, 16), 64, sample_shape=(4, 16)) == (4, 16)
    assert resolve_image_shape(None, 64, sample_shape=(64,)) == (8, 8)  # flat rows
    assert resolve_image_shape((4, 4, 3), 48, channels=(1, 3)) == (4, 4, 3)


def test_resolve_image_shape_errors():
    with pytest.raises(ValueError, match=r"Rows of 63 values are not square images"):
        resolve_image_shape(None, 63, ranks=(2, 3))
    with pytest.raises(ValueError, match=r"X's samples have shape \(4, 16\)"):
        resolve_image_shape((8, 8), 64, sample_shape=(4, 16))
    with pytest.raises(ValueError, match=r"\(height, width\) or \(height, width, channels\)"):
        resolve_image_shape((64,), 64, ranks=(2, 3))
    with pytest.raises(ValueError, match="positive ints"):
        resolve_image_shape((8.0, 8.0), 64)
    with pytest.raises(ValueError, match="positive ints"):
        resolve_image_shape((0, 8), 0)
    with pytest.raises(ValueError, match=r"holds 49 values but a row of X has 64: do this"):
        resolve_image_shape((7, 7), 64, hint="do this")
    with pytest.raises(ValueError, match="need 1 or 3 channels, got 2"):
        resolve_image_shape((4, 4, 2), 32, channels=(1, 3))


# ---------------------------------------------------------------- registry
def test_one_registry_serves_model_files_and_onnx():
    classes = registered_estimator_classes()
    assert AutoencoderTransformer in classes

    class Mine(AutoencoderTransformer):  # registered by the base class
        pass

    assert Mine in registered_estimator_classes()
    assert register_estimator_class(Mine) is Mine
    assert registered_estimator_classes().count(Mine) == 1
