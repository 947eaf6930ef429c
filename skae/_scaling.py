"""The input scaling, once: fitted from the data, applied in NumPy and in torch.

The network sees ``(X - mean_) / scale_``: each feature centred as PCA
centres it, all divided by one global scale (the root mean variance), so
that it sees values of order 1 whatever the data's units while its loss
stays proportional to the squared error in the user's units, the quantity
PCA minimises. Per-feature scaling is the user's choice (a
:class:`~sklearn.preprocessing.StandardScaler` in the pipeline), as with
PCA. Data in [0, 1] (``output_activation_ == "sigmoid"``: binary
cross-entropy targets) is not scaled: ``mean_`` is 0 and ``scale_`` 1.

:class:`Scaling` holds the three fitted attributes an estimator keeps
(``output_activation_``, ``mean_``, ``scale_``: model files store them) and
the maps between the user's units and the network's: :meth:`Scaling.fit`
chooses them, :meth:`Scaling.transform` / :meth:`Scaling.inverse_transform`
apply them in NumPy (the estimator's inference), and
:meth:`Scaling.torch_module` gives the same maps as a torch module (the
ONNX export, :mod:`skae.onnx`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ._chunked import array_stats

SIGMOID = "sigmoid"


class Scaling(NamedTuple):
    """The fitted input scaling: ``(X - mean) / scale``, or none for sigmoid outputs.

    A named tuple, in the order an estimator's fitted attributes unpack
    from it: ``est.output_activation_, est.mean_, est.scale_ = scaling``.

    Parameters
    ----------
    output_activation : {"sigmoid", "identity"}
        The network's output activation; ``"sigmoid"`` leaves the data
        unscaled.
    mean : ndarray of shape (n_features,), dtype float64
        Subtracted from each feature (zeros for ``"sigmoid"``).
    scale : float
        What the centred data is divided by (1.0 for ``"sigmoid"``).
    """

    output_activation: str
    mean: np.ndarray
    scale: float

    @classmethod
    def fit(cls, X, output_activation, stats=None):
        """Choose the output activation and the scaling for the data ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), or rows read by chunks
            The validated training data. Read (chunk by chunk, see
            :func:`skae._chunked.array_stats`) only where ``stats`` is None.
        output_activation : {"auto", "sigmoid", "identity"}
            The estimator's parameter: ``"auto"`` chooses ``"sigmoid"`` for
            data in [0, 1].
        stats : skae._chunked.ChunkStats, default=None
            ``X``'s per-feature statistics, where a pass over ``X`` already
            computed them (data read by chunks, sparse data).

        Returns
        -------
        scaling : Scaling

        Raises
        ------
        ValueError
            If ``output_activation="sigmoid"`` and ``X`` lies outside [0, 1].
        """
        if stats is None:
            stats = array_stats(X)
        x_min, x_max = float(stats.min.min()), float(stats.max.max())
        in_unit_interval = x_min >= 0.0 and x_max <= 1.0
        if output_activation == "auto":
            output_activation = SIGMOID if in_unit_interval else "identity"
        if output_activation == SIGMOID:
            if not in_unit_interval:
                raise ValueError(
                    "output_activation='sigmoid' needs X in [0, 1] (binary "
                    "cross-entropy targets): scale X, e.g. with MinMaxScaler, "
                    "or use output_activation='identity'."
                )
            return cls(output_activation, np.zeros(X.shape[1]), 1.0)
        rms = float(np.sqrt(np.mean(stats.var)))
        return cls(output_activation, stats.mean, rms if rms > 0 else 1.0)

    def check_continued(self, x_min, x_max, how, auto):
        """Refuse data outside [0, 1] to continue a fit with sigmoid outputs.

        Parameters
        ----------
        x_min, x_max : float
            The new data's least and greatest values.
        how : str
            The call: ``"partial_fit"`` or ``"fit with warm_start=True"``.
        auto : bool
            Whether ``output_activation="auto"`` chose the activation.

        Raises
        ------
        ValueError
            If the outputs are sigmoid (binary cross-entropy targets) and the
            data lies outside [0, 1].
        """
        if self.output_activation != SIGMOID or (x_min >= 0.0 and x_max <= 1.0):
            return
        chosen = " (chosen by output_activation='auto' because the first X lay in [0, 1])"
        raise ValueError(
            f"{how} got X with values in [{x_min:g}, {x_max:g}], but this estimator was "
            f"fitted with output_activation_='sigmoid'{chosen if auto else ''}: its binary "
            "cross-entropy needs targets in [0, 1]. Scale X to [0, 1] as the first data "
            "was, or start over (fit with warm_start=False) with "
            "output_activation='identity'."
        )

    @classmethod
    def of(cls, estimator):
        """The fitted scaling of ``estimator``, from its fitted attributes."""
        return cls(estimator.output_activation_, estimator.mean_, estimator.scale_)

    def transform(self, X):
        """The network's input: ``(X - mean) / scale``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows in the user's units.

        Returns
        -------
        Xn : ndarray of shape (n_samples, n_features), dtype float32
            A new C-ordered array, computed in float32: no float64
            temporaries of ``X``'s size.
        """
        Xn = np.array(X, dtype=np.float32, order="C")
        if self.output_activation != SIGMOID:
            Xn -= self.mean.astype(np.float32)
            Xn /= np.float32(self.scale)
        return Xn

    def inverse_transform(self, Y):
        """Rows in the user's units from the decoder's raw output.

        Parameters
        ----------
        Y : torch.Tensor of shape (n_samples, n_features)
            The decoder's output, a float32 host tensor, before the output
            activation.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features), dtype float64
            ``sigmoid(Y)`` for ``"sigmoid"`` (in torch, as the network's
            loss sees it), then ``* scale + mean`` in float64.
        """
        if self.output_activation == SIGMOID:
            Y = torch.sigmoid(Y)
        X = Y.numpy().astype(np.float64)
        X *= self.scale
        X += self.mean
        return X

    def torch_module(self):
        """The same maps as a torch module, for graphs (the ONNX export).

        Returns
        -------
        module : TorchScaling
        """
        return TorchScaling(self)


class TorchScaling(torch.nn.Module):
    """:class:`Scaling`'s maps on float32 tensors, ``mean`` and ``scale`` as buffers.

    Computes what :meth:`Scaling.transform` computes, and, in float32 where
    :meth:`Scaling.inverse_transform` adds ``mean`` in float64, its inverse.

    Parameters
    ----------
    scaling : Scaling
    """

    def __init__(self, scaling):
        super().__init__()
        self.sigmoid = scaling.output_activation == SIGMOID
        self.register_buffer("mean", torch.as_tensor(scaling.mean, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(float(scaling.scale), dtype=torch.float32))

    def forward(self, x):
        """The network's input from rows ``x`` in the user's units."""
        return x if self.sigmoid else (x - self.mean) / self.scale

    def inverse(self, y):
        """Rows in the user's units from the decoder's raw output ``y``."""
        return torch.sigmoid(y) if self.sigmoid else y * self.scale + self.mean
