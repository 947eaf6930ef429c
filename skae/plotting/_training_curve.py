"""TrainingCurveDisplay: training and validation loss per epoch of a fitted skae estimator."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._helpers import _axes, _estimator_name, _pyplot


class TrainingCurveDisplay:
    """Training and validation loss per epoch of a fitted skae estimator.

    Several estimators can share one Axes: call ``from_estimator(est,
    ax=ax)`` for each; each curve is labelled with ``name``.

    Parameters
    ----------
    loss_curve : list of float
        Training loss per epoch.
    validation_loss_curve : list of float or None, default=None
        Validation loss per epoch, from epoch 0 (the network before
        training) where it has one more entry than ``loss_curve``, as a skae
        estimator's ``validation_loss_curve_`` has; else from epoch 1.
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
            first = 0 if len(self.validation_loss_curve) == len(self.loss_curve) + 1 else 1
            (valid,) = ax.plot(
                np.arange(first, first + len(self.validation_loss_curve)),
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
