"""ReconstructionErrorDisplay: one row, its reconstruction, and where they differ."""

from __future__ import annotations

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples, check_is_fitted

from ..metrics import reconstruction_error
from ._helpers import _axes, _image_shape, _mosaic, _pyplot, _show_mosaic


class ReconstructionErrorDisplay:
    """One row, its reconstruction, and where they differ.

    For a row of a table: a horizontal bar per feature, the features of
    largest squared error first, each labelled ``name: value ->
    reconstruction``. For an image: the image, its reconstruction and the
    map of squared errors side by side. Create it with
    :meth:`from_estimator`; the constructor takes precomputed arrays.

    Parameters
    ----------
    original : ndarray of shape (n_features,)
        The row, flattened.
    reconstruction : ndarray of shape (n_features,)
        Its reconstruction.
    feature_names : ndarray of str of shape (n_features,)
        Feature names (``x0``, ``x1``, ... where the data had none).
    image_shape : tuple of int or None
        ``(height, width, channels)`` to draw the row as an image; None
        draws bars.
    max_features : int
        Bars drawn at most (tables).

    Attributes
    ----------
    errors_ : ndarray of shape (n_features,)
        Squared error of each value, ``(original - reconstruction) ** 2``.
    order_ : ndarray of shape (n_features,)
        Feature indices by decreasing squared error.
    ax_ : matplotlib Axes
        The Axes drawn on.
    figure_ : matplotlib Figure
        The Figure holding ``ax_``.
    bars_ : matplotlib BarContainer or None
        The bars (tables).
    im_ : matplotlib AxesImage or None
        The mosaic of image, reconstruction and error map (images); the
        error map is scaled to the image's range, its maximum at the
        image's maximum.

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.decomposition import PCA
    >>> from skae.outliers import AutoencoderOutlierDetector
    >>> from skae.plotting import ReconstructionErrorDisplay
    >>> X = StandardScaler().fit_transform(load_wine().data)
    >>> det = AutoencoderOutlierDetector(PCA(4)).fit(X)
    >>> disp = ReconstructionErrorDisplay.from_estimator(det, X, max_features=5)
    >>> len(disp.bars_)  # the 5 features that make the oddest row odd
    5
    """

    def __init__(
        self, *, original, reconstruction, feature_names, image_shape=None, max_features=15
    ):
        self.original = original
        self.reconstruction = reconstruction
        self.feature_names = feature_names
        self.image_shape = image_shape
        self.max_features = max_features

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        row=None,
        image_shape=None,
        as_image=None,
        max_features=15,
        ax=None,
        cmap="gray_r",
    ):
        """Reconstruct one row of ``X`` and plot where it differs.

        Parameters
        ----------
        estimator : fitted AutoencoderOutlierDetector or transformer
            A detector (its ``estimator_`` reconstructs), or anything with
            ``transform`` and ``inverse_transform``.
        X : {array-like, DataFrame} of shape (n_samples, n_features) or (n_samples, ...)
            Rows to choose from.
        row : int, default=None
            Position of the row in ``X``. None takes the row of largest
            mean squared reconstruction error (the oddest).
        image_shape : tuple of int, default=None
            ``(height, width)`` or ``(height, width, channels)`` of one
            image, to draw the row as an image.
        as_image : bool, default=None
            Draw an image (True) or bars (False). None draws an image
            where ``image_shape`` is given, the estimator has an
            ``image_shape_`` or ``X`` holds images (3-D or more), else bars.
        max_features : int, default=15
            Bars drawn at most: the features of largest squared error.
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        cmap : str, default="gray_r"
            Colormap for single-channel images.

        Returns
        -------
        display : ReconstructionErrorDisplay

        Raises
        ------
        ValueError
            If ``row`` is out of range, ``max_features`` is not positive,
            or the rows are not images of ``image_shape``.
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        ImportError
            If matplotlib is not installed.
        """
        _pyplot("ReconstructionErrorDisplay")
        if max_features < 1:
            raise ValueError(f"max_features must be positive, got {max_features}.")
        check_is_fitted(estimator)
        reconstructor = getattr(estimator, "estimator_", estimator)
        n_samples = _num_samples(X)
        if row is None:
            row = int(np.argmax(reconstruction_error(reconstructor, X)))
        elif not -n_samples <= row < n_samples:
            raise ValueError(f"row={row} is out of range for X of {n_samples} rows.")
        one = _safe_indexing(X, [row])
        original = np.asarray(one, dtype=np.float64).reshape(-1)
        restored = reconstructor.inverse_transform(reconstructor.transform(one))
        reconstruction = np.asarray(restored, dtype=np.float64).reshape(-1)
        names = getattr(reconstructor, "feature_names_in_", None)
        if names is None:
            names = np.array([f"x{i}" for i in range(len(original))], dtype=object)
        if as_image is None:
            as_image = (
                image_shape is not None
                or getattr(reconstructor, "image_shape_", None) is not None
                or getattr(X, "ndim", 2) > 2
            )
        shape = None
        if as_image:
            if image_shape is None and getattr(X, "ndim", 2) > 2:
                image_shape = X.shape[1:]
            shape = _image_shape(image_shape, reconstructor, len(original))
        disp = cls(
            original=original,
            reconstruction=reconstruction,
            feature_names=np.asarray(names, dtype=object),
            image_shape=shape,
            max_features=max_features,
        )
        return disp.plot(ax=ax, cmap=cmap)

    def plot(self, *, ax=None, cmap="gray_r"):
        """Draw the bars or the images.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            As in :meth:`from_estimator`.
        cmap : str, default="gray_r"
            As in :meth:`from_estimator`.

        Returns
        -------
        display : ReconstructionErrorDisplay
            ``self``, with ``errors_``, ``order_``, ``ax_`` and ``figure_``
            set, and ``bars_`` or ``im_``.
        """
        self.errors_ = (self.original - self.reconstruction) ** 2
        self.order_ = np.argsort(-self.errors_, kind="stable")
        self.bars_ = self.im_ = None
        if self.image_shape is not None:
            ax = _axes(ax, "ReconstructionErrorDisplay", figsize=(6, 2.4))
            low, high = float(np.min(self.original)), float(np.max(self.original))
            peak = float(self.errors_.max())
            error_map = low + (high - low) * self.errors_ / peak if peak > 0 else self.errors_
            tiles = np.stack([self.original, self.reconstruction, error_map])[None]
            self.im_ = _show_mosaic(ax, _mosaic(tiles, self.image_shape), low, high, cmap)
            width = self.image_shape[1]
            ax.set_xticks([k * (width + 1) + (width - 1) / 2 for k in range(3)])
            ax.set_xticklabels(["row", "reconstruction", "squared error"])
            ax.set_yticks([])
            ax.tick_params(length=0)
        else:
            shown = self.order_[: self.max_features]
            ax = _axes(ax, "ReconstructionErrorDisplay", figsize=(6, 0.3 * len(shown) + 1))
            names, values, restored = self.feature_names, self.original, self.reconstruction
            labels = [f"{names[i]}: {values[i]:.3g} \u2192 {restored[i]:.3g}" for i in shown]
            self.bars_ = ax.barh(range(len(shown)), self.errors_[shown])
            ax.set_yticks(range(len(shown)))
            ax.set_yticklabels(labels)
            ax.invert_yaxis()
            ax.set_xlabel("squared reconstruction error")
        self.ax_, self.figure_ = ax, ax.figure
        return self
