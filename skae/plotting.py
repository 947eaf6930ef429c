"""Figures in one call, as scikit-learn's Display objects.

Each Display computes what it shows in ``from_estimator`` and draws it in
``plot(ax=...)``; the matplotlib objects it draws are kept as attributes
ending in ``_`` (``ax_``, ``figure_``, ``im_``, ``lines_``, ...) so that a
figure can be restyled after the fact. This is the pattern of
:class:`sklearn.metrics.ConfusionMatrixDisplay`.

matplotlib is an optional dependency: ``pip install "skae[plot]"``.

Displays
--------
ReconstructionDisplay
    Rows of images and their reconstructions, by one or several estimators
    (PCA next to an autoencoder, for instance).
LatentSpaceDisplay
    The codes in two dimensions, coloured by label; codes with more than
    two components are projected by PCA first.
TrainingCurveDisplay
    Training (and validation) loss per epoch of a fitted skae estimator.
SampleGridDisplay
    A grid of new samples drawn from a :class:`~skae.VariationalAutoencoder`.
RateDistortionDisplay
    PSNR against bytes per sample for reducers and image codecs
    (:func:`skae.compression.rate_distortion`).
ReconstructionErrorDisplay
    One row, its reconstruction and the features where they differ most
    (why an outlier detector flags it, :mod:`skae.outliers`).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.decomposition import PCA
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples, check_array, check_is_fitted

from ._image_shape import resolve_image_shape
from .metrics import reconstruction_error

__all__ = [
    "LatentSpaceDisplay",
    "RateDistortionDisplay",
    "ReconstructionDisplay",
    "ReconstructionErrorDisplay",
    "SampleGridDisplay",
    "TrainingCurveDisplay",
]


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


class LatentSpaceDisplay:
    """The codes of a data set in two dimensions, coloured by label.

    Codes with two components are drawn as they are; wider codes are
    projected on their first two principal components (the axes say so).
    Create it with :meth:`from_estimator`; the constructor takes codes.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, 2)
        The points to draw.
    y : array-like of shape (n_samples,), default=None
        Labels (a legend for up to 20 classes) or values (a colour bar).
    axis_labels : tuple of str, default=("code 1", "code 2")
        Labels of the two axes.
    estimator_name : str, default=None
        Title of the plot.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    scatter_ : matplotlib PathCollection
        The points.
    legend_ : matplotlib Legend or None
        The class legend, when ``y`` holds at most 20 distinct labels.
    colorbar_ : matplotlib Colorbar or None
        The colour bar, when ``y`` holds more distinct values.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import LatentSpaceDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(2, max_epochs=3, random_state=0).fit(X / 16.0)
    >>> disp = LatentSpaceDisplay.from_estimator(ae, X / 16.0, y)
    >>> len(disp.legend_.get_texts())
    10
    """

    def __init__(self, *, codes, y=None, axis_labels=("code 1", "code 2"), estimator_name=None):
        self.codes = codes
        self.y = y
        self.axis_labels = axis_labels
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, ax=None, random_state=0, **kwargs):
        """Encode ``X`` with ``estimator.transform`` and plot the codes.

        Parameters
        ----------
        estimator : fitted transformer
            Any skae estimator (or other transformer).
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            Labels or values to colour the points by.
        ax : matplotlib Axes, default=None
        random_state : int, default=0
            Seed of the PCA projection (for wide codes).
        **kwargs
            Passed to :meth:`plot` (``s``, ``alpha``, ``cmap``).

        Returns
        -------
        display : LatentSpaceDisplay

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        ValueError
            If ``y`` has a length other than ``X``'s.
        ImportError
            If matplotlib is not installed.
        """
        _pyplot("LatentSpaceDisplay")
        check_is_fitted(estimator)
        Z = np.asarray(estimator.transform(X), dtype=np.float64)
        if y is not None and len(y) != len(Z):
            raise ValueError(f"y has {len(y)} labels but X has {len(Z)} rows.")
        if Z.shape[1] == 1:
            Z = np.column_stack([Z[:, 0], np.zeros(len(Z))])
            labels = ("code 1", "")
        elif Z.shape[1] == 2:
            labels = ("code 1", "code 2")
        else:
            width = Z.shape[1]
            pca = PCA(n_components=2, random_state=random_state).fit(Z)
            Z = pca.transform(Z)
            ratio = pca.explained_variance_ratio_
            labels = (
                f"PC 1 of the {width}-D codes ({ratio[0]:.0%} of variance)",
                f"PC 2 ({ratio[1]:.0%} of variance)",
            )
        disp = cls(
            codes=Z,
            y=None if y is None else np.asarray(y),
            axis_labels=labels,
            estimator_name=_estimator_name(estimator),
        )
        return disp.plot(ax=ax, **kwargs)

    def plot(self, *, ax=None, s=8, alpha=0.7, cmap=None):
        """Draw the codes.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        s : float, default=8
            Marker size.
        alpha : float, default=0.7
            Marker opacity.
        cmap : str, default=None
            Colormap; None gives ``"tab10"``/``"tab20"`` for labels and
            ``"viridis"`` for values.

        Returns
        -------
        display : LatentSpaceDisplay
        """
        ax = _axes(ax, "LatentSpaceDisplay")
        self.legend_ = self.colorbar_ = None
        if self.y is None:
            self.scatter_ = ax.scatter(self.codes[:, 0], self.codes[:, 1], s=s, alpha=alpha)
        else:
            classes, codes = np.unique(self.y, return_inverse=True)
            if len(classes) <= 20:
                cmap = cmap or ("tab10" if len(classes) <= 10 else "tab20")
                self.scatter_ = ax.scatter(
                    self.codes[:, 0],
                    self.codes[:, 1],
                    c=codes,
                    cmap=cmap,
                    vmin=-0.5,
                    vmax=(10 if len(classes) <= 10 else 20) - 0.5,
                    s=s,
                    alpha=alpha,
                )
                handles = self.scatter_.legend_elements(num=list(range(len(classes))))[0]
                self.legend_ = ax.legend(
                    handles, [str(c) for c in classes], title="label", fontsize="small"
                )
            else:
                self.scatter_ = ax.scatter(
                    self.codes[:, 0],
                    self.codes[:, 1],
                    c=self.y,
                    cmap=cmap or "viridis",
                    s=s,
                    alpha=alpha,
                )
                self.colorbar_ = ax.figure.colorbar(self.scatter_, ax=ax)
        ax.set_xlabel(self.axis_labels[0])
        ax.set_ylabel(self.axis_labels[1])
        if self.estimator_name:
            ax.set_title(f"{self.estimator_name}: latent space")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class TrainingCurveDisplay:
    """Training and validation loss per epoch of a fitted skae estimator.

    Several estimators can share one Axes: call ``from_estimator(est,
    ax=ax)`` for each; each curve is labelled with ``name``.

    Parameters
    ----------
    loss_curve : list of float
        Training loss per epoch.
    validation_loss_curve : list of float or None, default=None
        Validation loss per epoch (``early_stopping=True``).
    name : str, default=None
        Legend label.
    loss_name : str, default="loss"
        Label of the y axis.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : dict of str to matplotlib Line2D
        ``"training"`` and, when there is a validation curve,
        ``"validation"``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import TrainingCurveDisplay
    >>> X = load_digits().data / 16.0
    >>> ae = AutoencoderTransformer(8, max_epochs=4, early_stopping=True, random_state=0)
    >>> disp = TrainingCurveDisplay.from_estimator(ae.fit(X))
    >>> sorted(disp.lines_)
    ['training', 'validation']
    """

    def __init__(self, *, loss_curve, validation_loss_curve=None, name=None, loss_name="loss"):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.name = name
        self.loss_name = loss_name

    @classmethod
    def from_estimator(cls, estimator, *, name=None, ax=None, log_scale=False):
        """Plot the loss curves recorded while ``estimator`` was fitted.

        Parameters
        ----------
        estimator : fitted skae estimator
            Reads ``loss_curve_``, ``validation_loss_curve_`` and the name
            of the loss from its training criterion,
            ``net_.criterion_.describe()``.
        name : str, default=None
            Legend label; None uses the class name.
        ax : matplotlib Axes, default=None
        log_scale : bool, default=False
            Logarithmic loss axis.

        Returns
        -------
        display : TrainingCurveDisplay

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        ImportError
            If matplotlib is not installed.
        """
        _pyplot("TrainingCurveDisplay")
        check_is_fitted(estimator, "loss_curve_")
        # The training criterion names itself ("squared error + KL sparsity
        # penalty", "negative ELBO", ...): ask it, not the estimator's class.
        criterion = getattr(getattr(estimator, "net_", None), "criterion_", None)
        describe = getattr(criterion, "describe", None)
        loss_name = describe() if callable(describe) else "loss"
        disp = cls(
            loss_curve=list(estimator.loss_curve_),
            validation_loss_curve=estimator.validation_loss_curve_,
            name=name or _estimator_name(estimator),
            loss_name=loss_name,
        )
        return disp.plot(ax=ax, log_scale=log_scale)

    def plot(self, *, ax=None, log_scale=False):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        log_scale : bool, default=False
            As in :meth:`from_estimator`.

        Returns
        -------
        display : TrainingCurveDisplay
            ``self``, with ``ax_``, ``figure_`` and ``lines_`` set.
        """
        ax = _axes(ax, "TrainingCurveDisplay")
        epochs = np.arange(1, len(self.loss_curve) + 1)
        prefix = f"{self.name}, " if self.name else ""
        (train,) = ax.plot(epochs, self.loss_curve, label=f"{prefix}training")
        self.lines_ = {"training": train}
        if self.validation_loss_curve is not None:
            (valid,) = ax.plot(
                epochs,
                self.validation_loss_curve,
                linestyle="--",
                color=train.get_color(),
                label=f"{prefix}validation",
            )
            self.lines_["validation"] = valid
        if log_scale:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(self.loss_name)
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self


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


class RateDistortionDisplay:
    """PSNR against bytes per sample, one curve per method: the rate–distortion plot.

    Drawn from the table :func:`skae.compression.rate_distortion` returns:
    each reducer's curve runs over its bit depths, each codec's over its
    quality settings; a lossless codec is a dashed vertical line at its size.
    Up and to the left is better (fewer bytes for the same fidelity). For JPEG, a dotted curve
    gives the payload alone (its tables counted as shared).

    Parameters
    ----------
    table : pandas.DataFrame
        With the columns ``method``, ``setting``, ``bytes_per_sample`` and
        ``psnr`` (and ``payload_bytes_per_sample`` for JPEG rows).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : dict of str to matplotlib Line2D
        One per method (and ``"JPEG payload"`` when JPEG is there).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from skae.plotting import RateDistortionDisplay
    >>> X = load_digits().data / 16.0
    >>> disp = RateDistortionDisplay.from_estimator(
    ...     {"PCA": PCA(8).fit(X)}, X[:100], codecs=["PNG", "WebP"]
    ... )
    >>> sorted(disp.lines_)
    ['PCA', 'PNG', 'WebP']
    """

    def __init__(self, *, table):
        self.table = table

    @classmethod
    def from_estimator(cls, estimators, X, *, ax=None, **kwargs):
        """Compute the table with :func:`~skae.compression.rate_distortion` and plot it.

        Parameters
        ----------
        estimators : dict of str to fitted transformer, or list of them
            As :func:`~skae.compression.rate_distortion`.
        X : array-like of shape (n_samples, ...)
            The images to code.
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :func:`~skae.compression.rate_distortion` (``X_fit``,
            ``n_bits``, ``codecs``...).

        Returns
        -------
        display : RateDistortionDisplay

        Raises
        ------
        ValueError
            As :func:`~skae.compression.rate_distortion`.
        ImportError
            If matplotlib is not installed.
        """
        from .compression import rate_distortion

        _pyplot("RateDistortionDisplay")
        return cls(table=rate_distortion(estimators, X, **kwargs)).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.

        Returns
        -------
        display : RateDistortionDisplay
            ``self``, with ``ax_``, ``figure_`` and ``lines_`` set.
        """
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax = _axes(ax, "RateDistortionDisplay", figsize=(7, 4.5))
        self.lines_ = {}
        for method, rows in self.table.groupby("method", sort=False):
            rows = rows.sort_values("bytes_per_sample")
            if (rows["setting"] == "lossless").all():
                # No distortion to plot: a vertical line at the lossless size.
                size = rows["bytes_per_sample"].iloc[0]
                (line,) = ax.plot(
                    [size, size],
                    [0, 1],
                    transform=ax.get_xaxis_transform(),  # full height, any PSNR scale
                    linestyle="--",
                    label=f"{method} (lossless)",
                )
                self.lines_[method] = line
                continue
            (line,) = ax.plot(rows["bytes_per_sample"], rows["psnr"], marker="o", label=method)
            self.lines_[method] = line
            payload = rows.get("payload_bytes_per_sample")
            if payload is not None and payload.notna().all():
                (dotted,) = ax.plot(
                    payload,
                    rows["psnr"],
                    linestyle=":",
                    marker=".",
                    color=line.get_color(),
                    label=f"{method} payload",
                )
                self.lines_[f"{method} payload"] = dotted
        ax.set_xscale("log")
        # Sizes span a decade or two: label 1-2-5 steps, not powers of ten alone.
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("bytes per sample")
        ax.set_ylabel("PSNR (dB)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self


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
