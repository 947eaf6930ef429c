"""Codes as bytes, and rate–distortion against the image codecs people use.

An autoencoder's code is a vector of floats; to compare it with JPEG or
WebP it must become bytes. :class:`CodeQuantizer` maps each code unit to
``n_bits`` bits by uniform scalar quantization over the range the unit spans
on the codes it is fitted on, packs the integers into bytes, and optionally
entropy-codes them with the standard library's ``zlib`` or ``lzma``.
:func:`rate_distortion` puts any reducer with ``inverse_transform`` (skae's
estimators, PCA) and Pillow's codecs (PNG, JPEG, WebP, and AVIF / JPEG 2000
where Pillow supports them) in one table of bytes per image against PSNR.

What a decoder needs once -- the decoder network or PCA's components, the
quantizer's ranges, JPEG's quantization and Huffman tables -- is reported
apart from the bytes each image costs (``shared_bytes``), as the cost of a
codec's tables is shared by every image it codes.
"""

from __future__ import annotations

import io
import lzma
import math
import numbers
import zlib

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._image_shape import resolve_image_shape

__all__ = ["CodeQuantizer", "rate_distortion"]

_COMPRESSORS = {
    "zlib": (lambda b: zlib.compress(b, 9), zlib.decompress),
    "lzma": (lambda b: lzma.compress(b, preset=9), lzma.decompress),
}


class CodeQuantizer(TransformerMixin, BaseEstimator):
    """Uniform scalar quantizer of codes: floats to ``n_bits``-bit integers and bytes.

    ``fit`` records each code unit's range on the codes it is given (the
    training codes). ``transform`` maps a value ``z`` of unit ``j`` to the
    nearest of ``2 ** n_bits`` evenly spaced levels from ``data_min_[j]`` to
    ``data_max_[j]`` (values outside are clipped to the range);
    ``inverse_transform`` maps the integers back to those levels. Uniform
    scalar quantization is the simplest quantizer and the one JPEG applies
    to its coefficients; its error per unit is at most half a step,
    ``(data_max_ - data_min_) / (2 * (2 ** n_bits - 1))``. ``to_bytes``
    packs the integers, ``n_bits`` each, into ``ceil(n_components * n_bits
    / 8)`` bytes per sample, then compresses the whole block with
    ``entropy_coder``.

    Parameters
    ----------
    n_bits : int, default=8
        Bits per code unit, 1 to 16.
    entropy_coder : {"zlib", "lzma"} or None, default=None
        Lossless compression of the packed bytes (standard library), or none.

    Attributes
    ----------
    data_min_, data_max_ : ndarray of shape (n_components,), dtype float64
        The range of each code unit on the codes ``fit`` saw.
    n_features_in_ : int
        Number of code units.
    shared_bytes_ : int
        What a decoder needs once, beside the per-sample bytes: the two
        ranges as float32, ``8 * n_features_in_`` bytes.

    Examples
    --------
    >>> import numpy as np
    >>> from skae.compression import CodeQuantizer
    >>> Z = np.random.default_rng(0).normal(size=(100, 4))
    >>> q = CodeQuantizer(n_bits=6).fit(Z)
    >>> data = q.to_bytes(Z)
    >>> len(data) / len(Z)  # 4 units x 6 bits = 3 bytes per sample
    3.0
    >>> np.allclose(q.from_bytes(data), q.inverse_transform(q.transform(Z)))
    True
    """

    _parameter_constraints = {
        "n_bits": [Interval(numbers.Integral, 1, 16, closed="both")],
        "entropy_coder": [StrOptions(set(_COMPRESSORS)), None],
    }

    def __init__(self, n_bits=8, entropy_coder=None):
        self.n_bits = n_bits
        self.entropy_coder = entropy_coder

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record each code unit's range.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. an autoencoder's ``transform`` of its training data.
        y : None
            Ignored.

        Returns
        -------
        self : CodeQuantizer

        Raises
        ------
        ValueError
            If ``X`` holds NaN or infinity, is empty or not 2-D, or if
            ``n_bits`` is not an integer in [1, 16].
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        self.data_min_ = X.min(axis=0).astype(np.float64)
        self.data_max_ = X.max(axis=0).astype(np.float64)
        self.shared_bytes_ = 8 * X.shape[1]
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # floats in, integers out
        return tags

    def _levels(self):
        return 2**self.n_bits - 1

    def _span(self):
        span = self.data_max_ - self.data_min_
        return np.where(span > 0, span, 1.0)

    def transform(self, X):
        """Quantize codes to integers in ``[0, 2 ** n_bits - 1]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)

        Returns
        -------
        Q : ndarray of shape (n_samples, n_components), dtype uint8 or uint16
            uint8 for ``n_bits <= 8``.

        Raises
        ------
        ValueError
            If ``X`` holds NaN or infinity or has another number of units
            than ``fit`` saw.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        unit = (np.clip(X, self.data_min_, self.data_max_) - self.data_min_) / self._span()
        dtype = np.uint8 if self.n_bits <= 8 else np.uint16
        return np.rint(unit * self._levels()).astype(dtype)

    def inverse_transform(self, X):
        """The code values of quantized integers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Integers in ``[0, 2 ** n_bits - 1]``, from :meth:`transform`.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components), dtype float32
            The quantization levels, in the units of the codes.

        Raises
        ------
        ValueError
            If a value is not an integer in range, or the width differs
            from ``fit``'s.
        """
        check_is_fitted(self)
        Q = check_array(X, dtype=None)
        if Q.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {Q.shape[1]} columns, but this CodeQuantizer was fitted on codes of "
                f"{self.n_features_in_} units."
            )
        if not np.issubdtype(Q.dtype, np.integer) and not np.all(Q == np.round(Q)):
            raise ValueError("X must hold the integers transform returns, got non-integers.")
        if Q.min() < 0 or Q.max() > self._levels():
            raise ValueError(
                f"X holds values outside [0, {self._levels()}], the range of "
                f"n_bits={self.n_bits} integers."
            )
        Z = self.data_min_ + Q.astype(np.float64) / self._levels() * self._span()
        return Z.astype(np.float32)

    def to_bytes(self, X):
        """Codes as bytes: quantized, packed ``n_bits`` per unit, optionally compressed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes (floats); quantized with :meth:`transform`.

        Returns
        -------
        data : bytes
            ``ceil(n_components * n_bits / 8)`` bytes per sample before
            ``entropy_coder``; ``len(data) / n_samples`` is the rate in
            bytes per sample (:attr:`shared_bytes_` apart).
        """
        Q = self.transform(X).astype(np.uint16)
        shifts = np.arange(self.n_bits - 1, -1, -1, dtype=np.uint16)
        bits = ((Q[:, :, None] >> shifts) & 1).astype(np.uint8).reshape(len(Q), -1)
        raw = np.packbits(bits, axis=1).tobytes()
        if self.entropy_coder is None:
            return raw
        return _COMPRESSORS[self.entropy_coder][0](raw)

    def from_bytes(self, data):
        """Dequantized codes from :meth:`to_bytes`'s output.

        Parameters
        ----------
        data : bytes

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components), dtype float32
            Equal to ``inverse_transform(transform(X))`` of the coded ``X``.

        Raises
        ------
        ValueError
            If ``data`` is not a whole number of samples, or cannot be
            decompressed.
        """
        check_is_fitted(self)
        if self.entropy_coder is not None:
            try:
                data = _COMPRESSORS[self.entropy_coder][1](data)
            except (zlib.error, lzma.LZMAError) as exc:
                raise ValueError(f"data is not {self.entropy_coder} data ({exc}).") from exc
        row_bytes = math.ceil(self.n_features_in_ * self.n_bits / 8)
        if len(data) % row_bytes:
            raise ValueError(
                f"data holds {len(data)} bytes, not a whole number of {row_bytes}-byte samples: "
                "pass the output of to_bytes of this quantizer."
            )
        packed = np.frombuffer(data, dtype=np.uint8).reshape(-1, row_bytes)
        n_bits_total = self.n_features_in_ * self.n_bits
        bits = np.unpackbits(packed, axis=1)[:, :n_bits_total]
        bits = bits.reshape(len(packed), self.n_features_in_, self.n_bits).astype(np.uint16)
        shifts = np.arange(self.n_bits - 1, -1, -1, dtype=np.uint16)
        Q = np.sum(bits << shifts, axis=2)
        return self.inverse_transform(Q)


# ----------------------------------------------------------------- codecs
def _codecs():
    """``{name: (Pillow format, quality settings or None for lossless)}`` of the
    codecs this Pillow can write."""
    from PIL import features

    codecs = {
        "PNG": ("PNG", None),
        "JPEG": ("JPEG", (5, 10, 20, 30, 50, 75, 90)),
        "WebP": ("WEBP", (0, 5, 10, 20, 40, 60, 80)),
    }
    if features.check("webp") is False:
        del codecs["WebP"]
    if features.check("avif"):
        codecs["AVIF"] = ("AVIF", (0, 10, 20, 40, 60, 80))
    if features.check_codec("jpg_2000"):
        codecs["JPEG 2000"] = ("JPEG2000", None)
    return codecs


def _jpeg_header_bytes(data):
    """Bytes of a JPEG file outside its entropy-coded scan: markers, tables, EOI."""
    pos = 2  # SOI
    while pos + 4 <= len(data):
        marker, length = data[pos + 1], int.from_bytes(data[pos + 2 : pos + 4], "big")
        pos += 2 + length
        if marker == 0xDA:  # start of scan: the payload follows, up to EOI
            return pos + 2
    return len(data)


def _encode_decode(images, fmt, quality):
    """Encode each uint8 image with Pillow and decode it: (decoded, sizes, header sizes)."""
    from PIL import Image

    decoded, sizes, headers = np.empty_like(images), [], []
    for i, image in enumerate(images):
        buffer = io.BytesIO()
        options = {} if quality is None else {"quality": quality}
        if fmt == "JPEG2000":
            options = {"irreversible": False}
        original = Image.fromarray(image)
        original.save(buffer, format=fmt, **options)
        data = buffer.getvalue()
        sizes.append(len(data))
        headers.append(_jpeg_header_bytes(data) if fmt == "JPEG" else 0)
        # Some decoders (AVIF) return RGB for a grayscale image: back to its mode.
        decoded[i] = np.asarray(Image.open(io.BytesIO(data)).convert(original.mode))
    return decoded, np.array(sizes), np.array(headers)


def _psnr(reference, estimate, data_range):
    mse = np.mean((np.asarray(reference, np.float64) - np.asarray(estimate, np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(data_range**2 / mse))


def _decoder_bytes(estimator):
    """float32 bytes of what decodes a code: a skae decoder's weights, PCA's basis."""
    net = getattr(estimator, "net_", None)
    if net is not None:
        return 4 * sum(p.numel() for p in net.module_.decoder.parameters())
    if hasattr(estimator, "components_"):
        return 4 * (estimator.components_.size + np.size(getattr(estimator, "mean_", 0)))
    return None


def rate_distortion(
    estimators,
    X,
    *,
    X_fit=None,
    n_bits=(4, 6, 8),
    entropy_coder=None,
    codecs="all",
    image_shape=None,
    data_range=None,
):
    """Bytes per image against PSNR, for reducers and image codecs, in one table.

    Each reducer's codes of ``X`` are quantized by a :class:`CodeQuantizer`
    (ranges fitted on the codes of ``X_fit``) at each of ``n_bits``, turned
    into bytes, decoded back and reconstructed with ``inverse_transform``.
    Each codec encodes every image of ``X`` (as 8-bit integers) with Pillow
    at a sweep of quality settings and decodes it.

    Parameters
    ----------
    estimators : dict of str to fitted transformer, or list of them
        Reducers with ``transform`` and ``inverse_transform`` fitted on
        flat rows or images of ``X``'s shape: skae estimators, PCA... A list
        is named by class name.
    X : array-like of shape (n_samples, height, width[, channels]) or (n_samples, n_pixels)
        The images to code, with values in ``[0, data_range]``.
    X_fit : array-like of X's shape, default=None
        Images whose codes set the quantizer's ranges (the training
        images); None uses ``X``.
    n_bits : sequence of int, default=(4, 6, 8)
        Bits per code unit, each in [1, 16].
    entropy_coder : {"zlib", "lzma"} or None, default=None
        Lossless coding of the quantized codes.
    codecs : "all", sequence of str or None, default="all"
        Codec names among ``"PNG"``, ``"JPEG"``, ``"WebP"``, ``"AVIF"`` and
        ``"JPEG 2000"`` (those Pillow supports here), or None for none.
    image_shape : tuple of int or None, default=None
        ``(height, width[, channels])`` of flat rows; None takes ``X``'s
        own image shape, or a square one-channel image.
    data_range : float or None, default=None
        The largest pixel value (the smallest is 0): 1.0 when ``X`` lies in
        [0, 1], else 255.0 when None.

    Returns
    -------
    table : pandas.DataFrame
        One row per method and setting, with the columns ``method``,
        ``setting``, ``bytes_per_sample`` (mean bytes per image),
        ``bits_per_pixel``, ``psnr`` (dB, for ``data_range``, over all
        pixels), ``shared_bytes`` (what a decoder needs once: the decoder's
        float32 weights plus the quantizer's ranges, or a JPEG file's
        tables), and for JPEG also ``payload_bytes_per_sample`` (the file
        less its headers and tables).

    Raises
    ------
    ValueError
        If ``X`` holds NaN, lies outside ``[0, data_range]``, does not
        hold ``image_shape`` images, if a bit depth is outside [1, 16], or
        if a codec is unknown or unsupported here.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"X must hold images, (n_samples, ...); got shape {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise ValueError("X holds NaN or infinity: images must be finite.")
    shape = _image_shape(X, image_shape)
    rows = X.reshape(len(X), -1)
    if data_range is None:
        data_range = 1.0 if rows.max() <= 1.0 else 255.0
    if rows.min() < 0 or rows.max() > data_range:
        raise ValueError(
            f"X lies in [{rows.min()}, {rows.max()}], outside [0, data_range={data_range}]: "
            "scale it, or pass data_range."
        )
    if not isinstance(estimators, dict):
        estimators = {type(est).__name__: est for est in estimators}
    fit_rows = rows if X_fit is None else np.asarray(X_fit, np.float64).reshape(-1, rows.shape[1])

    records = []
    for name, estimator in estimators.items():
        Z, Z_fit = estimator.transform(rows), estimator.transform(fit_rows)
        decoder = _decoder_bytes(estimator)
        for bits in n_bits:
            quantizer = CodeQuantizer(n_bits=bits, entropy_coder=entropy_coder).fit(Z_fit)
            data = quantizer.to_bytes(Z)
            restored = np.asarray(estimator.inverse_transform(quantizer.from_bytes(data)))
            restored = np.clip(restored.reshape(len(rows), -1), 0, data_range)
            records.append(
                {
                    "method": name,
                    "setting": f"{Z.shape[1]} codes x {bits} bits",
                    "bytes_per_sample": len(data) / len(rows),
                    "psnr": _psnr(rows, restored, data_range),
                    "shared_bytes": None if decoder is None else decoder + quantizer.shared_bytes_,
                }
            )

    available = _codecs()
    names = [] if codecs is None else list(available) if codecs == "all" else list(codecs)
    unknown = [c for c in names if c not in available]
    if unknown:
        raise ValueError(
            f"codecs {unknown} are unknown or not supported by this Pillow; available: "
            f"{sorted(available)}."
        )
    images = np.rint(rows / data_range * 255).astype(np.uint8).reshape(len(rows), *shape)
    for codec in names:
        fmt, qualities = available[codec]
        for quality in qualities or [None]:
            decoded, sizes, headers = _encode_decode(images, fmt, quality)
            restored = decoded.reshape(len(rows), -1) / 255.0 * data_range
            record = {
                "method": codec,
                "setting": "lossless" if quality is None else f"quality {quality}",
                "bytes_per_sample": float(sizes.mean()),
                "psnr": _psnr(rows, restored, data_range),
                "shared_bytes": int(headers.max()) if fmt == "JPEG" else 0,
            }
            if fmt == "JPEG":
                record["payload_bytes_per_sample"] = float((sizes - headers).mean())
            records.append(record)

    table = pd.DataFrame.from_records(records)
    n_pixels = rows.shape[1] // (shape[2] if len(shape) == 3 else 1)
    table.insert(3, "bits_per_pixel", 8 * table["bytes_per_sample"] / n_pixels)
    return table


def _image_shape(X, image_shape):
    """``(height, width[, channels])`` of one image of ``X``: ``image_shape``, else
    the shape of ``X``'s images, else a square; ``(height, width)`` for one channel."""
    if image_shape is None and X.ndim >= 3:
        image_shape = X.shape[1:]
    shape = resolve_image_shape(
        image_shape,
        math.prod(X.shape[1:]),
        ranks=(2, 3),
        channels=(1, 3),
        hint="the codecs take grey (1 channel) or RGB (3 channels) images; pass "
        "image_shape=(height, width[, channels])",
    )
    return shape[:2] if len(shape) == 3 and shape[2] == 1 else shape
