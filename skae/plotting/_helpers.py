"""What the Displays share, one helper a job.

matplotlib imported on demand (``_pyplot``), the Axes to draw on (``_axes``),
the shape of the images a row holds (``_image_shape``), images tiled into one
array (``_mosaic``) and drawn (``_show_mosaic``), an estimator's name for a
label (``_estimator_name``).
"""

from __future__ import annotations

import numpy as np

from .._image_shape import resolve_image_shape


def _pyplot(what):
    """Import ``matplotlib.pyplot``, or raise an ImportError naming the extra."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{what} needs matplotlib, an optional dependency of skae: "
            'pip install "skae[plot]" (or pip install matplotlib).'
        ) from exc
    return plt


def _axes(ax, what, figsize=None):
    if ax is None:
        _, ax = _pyplot(what).subplots(figsize=figsize)
    else:
        _pyplot(what)
    return ax


def _image_shape(image_shape, estimator, n_features):
    """``(height, width, channels)`` for rows of ``n_features`` values: ``image_shape``,
    else the estimator's ``image_shape_``, else a square grey image."""
    if image_shape is None:
        image_shape = getattr(estimator, "image_shape_", None)
    shape = resolve_image_shape(
        image_shape,
        n_features,
        ranks=(2, 3),
        channels=(1, 3),
        hint="pass the image_shape of grey (1 channel) or RGB (3 channels) images that a row holds",
    )
    return shape if len(shape) == 3 else (*shape, 1)


def _mosaic(images, image_shape, pad=1):
    """Tile ``images`` of shape (n_rows, n_cols, n_features) into one array.

    The gaps between tiles are NaN, which ``imshow`` leaves blank.
    """
    n_rows, n_cols = images.shape[:2]
    h, w, c = image_shape
    out = np.full((n_rows * (h + pad) - pad, n_cols * (w + pad) - pad, c), np.nan)
    for r in range(n_rows):
        for k in range(n_cols):
            top, left = r * (h + pad), k * (w + pad)
            out[top : top + h, left : left + w] = images[r, k].reshape(h, w, c)
    return out[..., 0] if c == 1 else out


def _show_mosaic(ax, mosaic, vmin, vmax, cmap):
    if mosaic.ndim == 3:  # RGB: imshow needs values in [0, 1] and no NaN
        scaled = (mosaic - vmin) / (vmax - vmin) if vmax > vmin else mosaic
        im = ax.imshow(np.nan_to_num(np.clip(scaled, 0, 1), nan=1.0))
    else:
        im = ax.imshow(mosaic, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return im


def _estimator_name(estimator):
    return type(estimator).__name__
