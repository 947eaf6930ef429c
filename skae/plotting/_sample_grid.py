"""SampleGridDisplay: a grid of images drawn from a variational autoencoder."""

from __future__ import annotations

import math

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._helpers import _axes, _estimator_name, _image_shape, _mosaic, _pyplot, _show_mosaic


class SampleGridDisplay:
    """A grid of images drawn from a variational autoencoder's prior.

    Parameters
    ----------
    samples : ndarray of shape (n_samples, n_features)
        New samples, one flattened image per row.
    image_shape : tuple of int
        ``(height, width)`` or ``(height, width, channels)``.
    n_cols : int
        Images per row of the grid.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    im_ : matplotlib AxesImage
        The grid.
    mosaic_ : ndarray
        The array shown.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import VariationalAutoencoder
    >>> from skae.plotting import SampleGridDisplay
    >>> X = load_digits().data / 16.0
    >>> vae = VariationalAutoencoder(2, max_epochs=3, random_state=0).fit(X)
    >>> disp = SampleGridDisplay.from_estimator(vae, n_samples=12, random_state=0)
    >>> disp.mosaic_.shape  # 3 rows of 4 images of 8 x 8 pixels, 1-pixel gaps
    (26, 35)
    """

    def __init__(self, *, samples, image_shape, n_cols):
        self.samples = samples
        self.image_shape = image_shape
        self.n_cols = n_cols

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        n_samples=32,
        n_cols=None,
        random_state=None,
        image_shape=None,
        ax=None,
        cmap="gray_r",
    ):
        """Draw ``n_samples`` new samples with ``estimator.sample`` and plot them.

        Parameters
        ----------
        estimator : fitted VariationalAutoencoder
            Any fitted estimator with a ``sample(n_samples, random_state)``
            method.
        n_samples : int, default=32
            Number of images.
        n_cols : int, default=None
            Images per row; None gives a near-square grid.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws.
        image_shape : tuple of int, default=None
            None takes the estimator's ``image_shape_`` where it has one,
            else a square single-channel image.
        ax : matplotlib Axes, default=None
        cmap : str, default="gray_r"

        Returns
        -------
        display : SampleGridDisplay

        Raises
        ------
        TypeError
            If the estimator cannot ``sample``.
        ValueError
            If the samples are not images of ``image_shape``.
        ImportError
            If matplotlib is not installed.
        """
        _pyplot("SampleGridDisplay")
        if not callable(getattr(estimator, "sample", None)):
            raise TypeError(
                f"{_estimator_name(estimator)} cannot draw samples: SampleGridDisplay "
                "needs a generative model such as skae.VariationalAutoencoder."
            )
        check_is_fitted(estimator)
        samples = np.asarray(estimator.sample(n_samples, random_state=random_state))
        shape = _image_shape(image_shape, estimator, samples.shape[1])
        n_cols = n_cols or math.ceil(math.sqrt(n_samples))
        disp = cls(samples=samples, image_shape=shape, n_cols=n_cols)
        return disp.plot(ax=ax, cmap=cmap)

    def plot(self, *, ax=None, cmap="gray_r"):
        """Draw the grid.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        cmap : str, default="gray_r"

        Returns
        -------
        display : SampleGridDisplay
        """
        n = len(self.samples)
        n_rows = math.ceil(n / self.n_cols)
        grid = np.full((n_rows * self.n_cols, self.samples.shape[1]), np.nan)
        grid[:n] = self.samples
        ax = _axes(ax, "SampleGridDisplay", figsize=(0.8 * self.n_cols, 0.8 * n_rows))
        self.mosaic_ = _mosaic(grid.reshape(n_rows, self.n_cols, -1), self.image_shape)
        finite = self.samples[np.isfinite(self.samples)]
        vmin, vmax = float(finite.min()), float(finite.max())
        self.im_ = _show_mosaic(ax, self.mosaic_, vmin, vmax, cmap)
        ax.set_yticks([])
        self.ax_, self.figure_ = ax, ax.figure
        return self
