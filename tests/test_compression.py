"""Codes as bytes, and the rate–distortion table against Pillow's codecs."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer
from skae.compression import CodeQuantizer, rate_distortion


@pytest.fixture
def codes():
    return np.random.default_rng(0).normal(size=(50, 5)) * [1, 2, 3, 0.1, 10]


@pytest.mark.parametrize("n_bits", [1, 3, 8, 12, 16])
@pytest.mark.parametrize("entropy_coder", [None, "zlib", "lzma"])
def test_bytes_round_trip_to_the_dequantized_codes(codes, n_bits, entropy_coder):
    q = CodeQuantizer(n_bits=n_bits, entropy_coder=entropy_coder).fit(codes)
    data = q.to_bytes(codes)
    assert isinstance(data, bytes)
    if entropy_coder is None:
        assert len(data) == len(codes) * -(-5 * n_bits // 8)
    np.testing.assert_array_equal(q.from_bytes(data), q.inverse_transform(q.transform(codes)))


def test_quantization_error_is_at_most_half_a_step(codes):
    q = CodeQuantizer(n_bits=6).fit(codes)
    step = (codes.max(0) - codes.min(0)) / (2**6 - 1)
    error = np.abs(q.inverse_transform(q.transform(codes)) - codes)
    assert np.all(error <= step / 2 + 1e-6 * np.abs(codes).max())
    assert q.transform(codes).dtype == np.uint8
    assert CodeQuantizer(n_bits=9).fit(codes).transform(codes).dtype == np.uint16
    assert q.shared_bytes_ == 8 * codes.shape[1]


def test_values_outside_the_fitted_range_are_clipped(codes):
    q = CodeQuantizer(n_bits=4).fit(codes)
    far = codes.max(axis=0, keepdims=True) * 100 + 1
    np.testing.assert_allclose(q.inverse_transform(q.transform(far))[0], codes.max(0), rtol=1e-6)


@pytest.mark.parametrize("n_bits", [0, 17, 2.5])
def test_bits_outside_1_to_16_are_refused(codes, n_bits):
    with pytest.raises(ValueError, match="n_bits"):
        CodeQuantizer(n_bits=n_bits).fit(codes)


def test_bad_codes_are_refused(codes):
    bad = codes.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        CodeQuantizer().fit(bad)
    q = CodeQuantizer().fit(codes)
    with pytest.raises(ValueError, match="features"):
        q.transform(codes[:, :3])
    with pytest.raises(ValueError, match="fitted on codes of 5 units"):
        q.inverse_transform(np.zeros((2, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"outside \[0, 255\]"):
        q.inverse_transform(np.full((2, 5), 256))
    with pytest.raises(ValueError, match="whole number"):
        q.from_bytes(q.to_bytes(codes)[:-1])
    with pytest.raises(ValueError, match="zlib"):
        CodeQuantizer(entropy_coder="zlib").fit(codes).from_bytes(b"not zlib")


@pytest.fixture
def digits_split(X):
    return X[:150], X[150:]


def test_rate_distortion_table_for_reducers(digits_split):
    train, test = digits_split
    pca = PCA(n_components=6).fit(train)
    ae = AutoencoderTransformer(n_components=6, max_epochs=3, random_state=0).fit(train)
    table = rate_distortion({"PCA": pca, "AE": ae}, test, X_fit=train, n_bits=(4, 8), codecs=None)
    assert list(table.columns[:5]) == [
        "method",
        "setting",
        "bytes_per_sample",
        "bits_per_pixel",
        "psnr",
    ]
    assert list(table["method"]) == ["PCA", "PCA", "AE", "AE"]
    assert list(table["bytes_per_sample"]) == [3.0, 6.0, 3.0, 6.0]
    np.testing.assert_allclose(table["bits_per_pixel"], table["bytes_per_sample"] * 8 / 64)
    # The PCA row at 8 bits, recomputed by hand.
    q = CodeQuantizer(n_bits=8).fit(pca.transform(train))
    restored = np.clip(pca.inverse_transform(q.from_bytes(q.to_bytes(pca.transform(test)))), 0, 1)
    psnr = 10 * np.log10(1 / np.mean((test - restored) ** 2))
    assert table["psnr"][1] == pytest.approx(psnr)
    # Shared: PCA's float32 basis and mean, plus the ranges.
    assert table["shared_bytes"][1] == 4 * (6 * 64 + 64) + 8 * 6


def test_codec_rows_match_a_direct_pillow_encode(digits_split):
    _, test = digits_split
    table = rate_distortion({}, test, codecs=["JPEG", "PNG"])
    images = np.rint(test * 255).astype(np.uint8).reshape(-1, 8, 8)
    decoded, sizes = [], []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=50)
        sizes.append(len(buffer.getvalue()))
        decoded.append(np.asarray(Image.open(io.BytesIO(buffer.getvalue()))))
    mse = np.mean((test - np.array(decoded).reshape(len(test), -1) / 255.0) ** 2)
    row = table[(table["method"] == "JPEG") & (table["setting"] == "quality 50")].iloc[0]
    assert row["psnr"] == pytest.approx(10 * np.log10(1 / mse))
    assert row["bytes_per_sample"] == pytest.approx(np.mean(sizes))
    # The payload is the file less its headers and tables.
    assert 0 < row["payload_bytes_per_sample"] < row["bytes_per_sample"] - 100
    png = table[table["method"] == "PNG"].iloc[0]
    assert png["setting"] == "lossless"
    # Lossless on the 8-bit images: only the rounding to 8 bits remains.
    rounding = np.mean((test - images.reshape(len(test), -1) / 255.0) ** 2)
    assert png["psnr"] == pytest.approx(10 * np.log10(1 / rounding))


def test_rate_distortion_refuses_bad_input(digits_split):
    _, test = digits_split
    bad = test.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        rate_distortion({}, bad)
    with pytest.raises(ValueError, match="data_range"):
        rate_distortion({}, test * 2, data_range=1.0)
    with pytest.raises(ValueError, match="image_shape"):
        rate_distortion({}, test, image_shape=(7, 7))
    with pytest.raises(ValueError, match="unknown or not supported"):
        rate_distortion({}, test, codecs=["GIFV"])
    pca = PCA(n_components=4).fit(test)
    with pytest.raises(ValueError, match="n_bits"):
        rate_distortion([pca], test, n_bits=(17,), codecs=None)


def test_rate_distortion_display_draws_one_curve_per_method(digits_split):
    import matplotlib.pyplot as plt

    from skae.plotting import RateDistortionDisplay

    train, test = digits_split
    pca = PCA(n_components=6).fit(train)
    disp = RateDistortionDisplay.from_estimator(
        {"PCA": pca}, test, X_fit=train, n_bits=(2, 4, 8), codecs=["JPEG", "PNG"]
    )
    assert set(disp.lines_) == {"PCA", "JPEG", "JPEG payload", "PNG"}
    x, y = disp.lines_["PCA"].get_data()
    np.testing.assert_array_equal(x, [2.0, 3.0, 6.0])  # 6 codes x 2, 4, 8 bits, whole bytes
    assert y[0] < y[-1]  # more bits, less distortion
    # Lossless: a vertical line at PNG's mean size, no PSNR to plot.
    png_bytes = disp.table.loc[disp.table["method"] == "PNG", "bytes_per_sample"].iloc[0]
    np.testing.assert_array_equal(disp.lines_["PNG"].get_xdata(), [png_bytes, png_bytes])
    assert disp.ax_.get_xscale() == "log"
    plt.close(disp.figure_)
