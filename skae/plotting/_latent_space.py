"""LatentSpaceDisplay: the codes of a data set in two dimensions, coloured by label."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted

from ._helpers import _axes, _estimator_name, _pyplot


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
