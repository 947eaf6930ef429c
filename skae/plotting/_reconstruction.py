"""ReconstructionDisplay: images and their reconstructions, by one or several estimators."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

from ._helpers import _axes, _estimator_name, _image_shape, _mosaic, _pyplot, _show_mosaic


class ReconstructionDisplay:
    """Images and their reconstructions, by one or several estimators.

    The first row shows the original images, each further row one
    estimator's reconstructions ``inverse_transform(transform(X))`` of the
    same images, drawn as one mosaic on a single Axes. Create it with
    :meth:`from_estimator`; the constructor takes precomputed arrays.

    Parameters
    ----------
    originals : ndarray of shape (n_images, n_features)
        The images, one flattened image per row.
    reconstructions : dict of str to ndarray of shape (n_images, n_features)
        Each estimator's reconstructions, by row label.
    image_shape : tuple of int
        ``(height, width)`` or ``(height, width, channels)`` (channels-last,
        1 or 3 channels) of one image.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The Axes drawn on.
    figure_ : matplotlib Figure
        The Figure holding ``ax_``.
    im_ : matplotlib AxesImage
        The mosaic of all rows.
    mosaic_ : ndarray
        The array shown: rows of tiles separated by NaN gaps.

    See Also
    --------
    skae.plotting.SampleGridDisplay : Images drawn from a VAE.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import ReconstructionDisplay
    >>> X = load_digits().data / 16.0
    >>> ae = AutoencoderTransformer(8, max_epochs=3, random_state=0).fit(X)
    >>> pca = PCA(8).fit(X)
    >>> disp = ReconstructionDisplay.from_estimator({"PCA": pca, "AE": ae}, X, n_images=6)
    >>> disp.mosaic_.shape  # 3 rows (originals, PCA, AE) of 6 images, 8 x 8 pixels
    (26, 53)
    """

    def __init__(self, *, originals, reconstructions, image_shape):
        self.originals = originals
        self.reconstructions = reconstructions
        self.image_shape = image_shape

    @classmethod
    def from_estimator(cls, estimator, X, *, n_images=8, image_shape=None, ax=None, cmap="gray_r"):
        """Reconstruct the first ``n_images`` rows of ``X`` and plot them.

        Parameters
        ----------
        estimator : fitted transformer, or list or dict of them
            Anything with ``transform`` and ``inverse_transform`` (any skae
            estimator, :class:`~sklearn.decomposition.PCA`). A list labels
            rows by class name; a dict by its keys.
        X : array-like of shape (n_samples, n_features)
            Images, one flattened image per row.
        n_images : int, default=8
            How many images (columns) to show.
        image_shape : tuple of int, default=None
            ``(height, width)`` or ``(height, width, channels)``. None takes
            the first estimator's ``image_shape_`` where it has one, else a
            square single-channel image.
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        cmap : str, default="gray_r"
            Colormap for single-channel images.

        Returns
        -------
        display : ReconstructionDisplay

        Raises
        ------
        ValueError
            If the rows are not images of ``image_shape``, or ``n_images``
            is not positive.
        sklearn.exceptions.NotFittedError
            If an estimator is not fitted.
        ImportError
            If matplotlib is not installed.
        """
        _pyplot("ReconstructionDisplay")
        if isinstance(estimator, dict):
            named = dict(estimator)
        elif isinstance(estimator, (list, tuple)):
            named = {_estimator_name(e): e for e in estimator}
        else:
            named = {_estimator_name(estimator): estimator}
        if not named:
            raise ValueError("Pass at least one fitted estimator.")
        if n_images < 1:
            raise ValueError(f"n_images must be positive, got {n_images}.")
        for est in named.values():
            check_is_fitted(est)
        first = next(iter(named.values()))
        X_show = X.iloc[:n_images] if hasattr(X, "iloc") else X[:n_images]
        originals = check_array(X_show, dtype=np.float64)
        shape = _image_shape(image_shape, first, originals.shape[1])
        reconstructions = {
            name: np.asarray(est.inverse_transform(est.transform(X_show)), dtype=np.float64)
            for name, est in named.items()
        }
        disp = cls(originals=originals, reconstructions=reconstructions, image_shape=shape)
        return disp.plot(ax=ax, cmap=cmap)

    def plot(self, *, ax=None, cmap="gray_r"):
        """Draw the mosaic.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            As in :meth:`from_estimator`.
        cmap : str, default="gray_r"
            As in :meth:`from_estimator`.

        Returns
        -------
        display : ReconstructionDisplay
            ``self``, with ``ax_``, ``figure_``, ``im_`` and ``mosaic_`` set.
        """
        n_images = len(self.originals)
        rows = [self.originals, *self.reconstructions.values()]
        labels = ["original", *self.reconstructions]
        height = self.image_shape[0]
        ax = _axes(ax, "ReconstructionDisplay", figsize=(0.9 * n_images, 0.9 * len(rows)))
        self.mosaic_ = _mosaic(np.stack(rows), self.image_shape)
        vmin, vmax = float(np.min(self.originals)), float(np.max(self.originals))
        self.im_ = _show_mosaic(ax, self.mosaic_, vmin, vmax, cmap)
        ax.set_yticks([r * (height + 1) + (height - 1) / 2 for r in range(len(rows))])
        ax.set_yticklabels(labels)
        ax.tick_params(length=0)
        self.ax_, self.figure_ = ax, ax.figure
        return self
