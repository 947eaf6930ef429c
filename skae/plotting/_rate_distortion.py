"""RateDistortionDisplay: PSNR against bytes per sample, one curve per method."""

from __future__ import annotations

from ._helpers import _axes, _pyplot


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
        from ..compression import rate_distortion

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
