"""The PCA start: PCA's solution as the untrained network.

With ``pca_start=True`` (:data:`skae._common_params.PCA_START`), an
estimator that declares the start (``_takes_pca_start``: the plain and
convolutional autoencoders) builds its network as PCA plus a residual:
:func:`start_from_pca`

1. computes PCA's solution on the training rows (not the rows held out for
   the validation loss, so that epoch 0 is scored on them without bias), in
   the network's units
   (``(X - mean_) / scale_``): the covariance matrix accumulated batch by
   batch and its eigenvectors, or :class:`~sklearn.decomposition.IncrementalPCA`
   over the batches above ``MAX_COVARIANCE_FEATURES`` features -- the same
   for in-memory, sparse and out-of-core data, which are all read through
   :func:`skae._batches.batches`;
2. puts it in the network as a fixed path beside the encoder and the
   decoder (:class:`skae._nn.PCAPath`) and zeroes the last layer of both, so
   that the untrained network (epoch 0) encodes and reconstructs exactly as
   PCA does, and training learns what PCA misses. For sigmoid outputs (data
   in [0, 1], trained with binary cross-entropy) the path decodes to the
   logit of PCA's reconstruction clipped to the unit interval: epoch 0 is
   PCA kept in [0, 1].

Nothing here chooses between models: the fit's one selection rule, the
epoch of lowest validation loss with epoch 0 counted
(:class:`skae._callbacks.BestValidationEpoch`), keeps PCA's solution where
no trained epoch does better on the held-out rows; the fit then refits that
start on all its rows (:meth:`skae._base.BaseAutoencoder._refit_start`), so
that the model is PCA of ``X``.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import IncrementalPCA

from ._batches import batches
from ._nn import PCAPath
from ._parameters import Attr

__all__ = ["PCA_START_ATTRIBUTES", "attach", "fit_pca", "start_from_pca", "start_outcome"]

# Up to this many features PCA comes from the covariance matrix (float64,
# 32 MiB at 2 048 features); beyond, from IncrementalPCA over the batches.
MAX_COVARIANCE_FEATURES = 2_048
# PCA's axes are oriented by the codes of the first this many training rows.
ORIENT_ROWS = 256
# Values read at a time (rows of about 2**20 values).
_CHUNK_VALUES = 2**20

PCA_START_ATTRIBUTES = (
    Attr(
        "pca_start_",
        '{"pca", "network", "start"} or None',
        """What the PCA start (``pca_start``) gave: ``"pca"``, no trained
        epoch had a lower validation loss than the untrained network
        (``best_epoch_ == 0``), which reconstructs as
        :class:`~sklearn.decomposition.PCA` fitted on ``X`` does (clipped to
        [0, 1] for ``output_activation_ == "sigmoid"``);
        ``"network"``, a trained epoch did (``best_epoch_ >= 1``);
        ``"start"``, the network started from PCA and no rows were held out
        (:meth:`partial_fit`). None without a start: ``pca_start=False``,
        your own ``encoder`` / ``decoder``, a model file from before 0.3.""",
    ),
    Attr(
        "pca_explained_variance_ratio_",
        "ndarray of shape (n_components,) or None",
        """PCA's ``explained_variance_ratio_`` on ``X``, in the
        network's units (0 beyond their rank), from the PCA start; None
        without one.""",
    ),
)


def _network_rows(data, n_features):
    """The rows of ``data`` in the network's units, float64, a chunk at a time."""
    step = max(1, _CHUNK_VALUES // max(1, n_features))
    for rows, _ in batches(data, step):
        yield rows.numpy().astype(np.float64)


def fit_pca(chunks, n_samples, n_features, n_components):
    """PCA of the rows in ``chunks``: their mean, principal axes and variances.

    Parameters
    ----------
    chunks : iterable of ndarray of shape (n_rows, n_features)
        ``n_samples`` rows in all.
    n_samples, n_features, n_components : int

    Returns
    -------
    mean : ndarray of shape (n_features,)
    components : ndarray of shape (n_components, n_features)
        Orthonormal rows, by decreasing variance; rows beyond
        ``n_features`` (or the rank) are 0. PCA's signs are arbitrary: each
        axis is oriented so that the codes of the first ``ORIENT_ROWS`` rows
        have a positive third moment (its largest entry positive where that
        is 0), so that neither the order of the features nor the chunking of
        the rows changes them.
    explained_variance_ratio : ndarray of shape (n_components,)
    """
    k = min(n_components, n_features)
    components = np.zeros((n_components, n_features))
    first = []  # the first ORIENT_ROWS rows, however chunked, to orient the axes

    def remember_first(chunks):
        n_kept = 0
        for rows in chunks:
            if n_kept < ORIENT_ROWS:
                first.append(rows[: ORIENT_ROWS - n_kept])
                n_kept += len(first[-1])
            yield rows

    chunks = remember_first(chunks)
    ratio = np.zeros(n_components)
    if n_features <= MAX_COVARIANCE_FEATURES:
        n, total, gram = 0, np.zeros(n_features), np.zeros((n_features, n_features))
        for rows in chunks:
            n += len(rows)
            total += rows.sum(axis=0)
            gram += rows.T @ rows
        mean = total / n
        covariance = gram / n - np.outer(mean, mean)
        variances, axes = np.linalg.eigh((covariance + covariance.T) / 2)
        variances, axes = np.clip(variances[::-1], 0.0, None), axes[:, ::-1]
        components[:k] = axes[:, :k].T
        total_variance = float(variances.sum())
    else:
        k = min(k, n_samples)
        ipca = IncrementalPCA(n_components=k)
        held = None  # each partial_fit needs at least k rows: a short chunk waits
        for rows in chunks:
            if held is not None and len(rows) >= k:
                ipca.partial_fit(held)
                held = rows
            else:
                held = rows if held is None else np.concatenate([held, rows])
        ipca.partial_fit(held)
        mean = ipca.mean_
        components[:k] = ipca.components_
        total_variance = float(ipca.var_.sum())
        variances = ipca.explained_variance_ratio_ * total_variance
    first = np.concatenate(first)
    codes = (first - mean) @ components.T
    skew = np.sum(codes**3, axis=0)
    largest = components[np.arange(n_components), np.abs(components).argmax(axis=1)]
    tied = np.abs(skew) <= 1e-9 * np.sum(np.abs(codes) ** 3, axis=0)
    components *= np.where(np.where(tied, largest, skew) < 0, -1.0, 1.0)[:, None]
    if total_variance > 0:
        ratio[:k] = variances[:k] / total_variance
    return mean, components, ratio


def _last_layer(part):
    """The last submodule of ``part`` holding a weight (its output layer)."""
    last = None
    for layer in part.modules():
        if isinstance(getattr(layer, "weight", None), torch.nn.Parameter):
            last = layer
    return last


def start_from_pca(module, rows, n_features, n_components, *, logits=False):
    """Make ``module`` start as PCA of ``rows``.

    Adds a :class:`~skae._nn.PCAPath` holding PCA's axes and zeroes the last
    layer of the module's encoder and decoder: until training changes them,
    ``module.encode`` gives PCA's scores and ``module.decode`` PCA's
    reconstruction (for ``logits``, the logit of it clipped to the unit
    interval: a sigmoid output then reconstructs as PCA does, kept in [0,
    1]). Draws no random numbers: the network's other weights are those it
    would have without the start.

    Parameters
    ----------
    module : skae._nn.AutoencoderModule
        A built-in network (its encoder and decoder end in a layer with a
        weight).
    rows : TensorData or BlockData
        The rows in the network's units.
    n_features, n_components : int
    logits : bool, default=False
        The module's output goes through a sigmoid (``output_activation_ ==
        "sigmoid"``): the path decodes to logits.

    Returns
    -------
    explained_variance_ratio : ndarray of shape (n_components,)
    """
    mean, components, ratio = fit_pca(
        _network_rows(rows, n_features), len(rows), n_features, n_components
    )
    module.pca_path = PCAPath(n_features, n_components, logits=logits)
    with torch.no_grad():
        module.pca_path.components.copy_(torch.from_numpy(components))
        module.pca_path.mean.copy_(torch.from_numpy(mean))
        for part in (module.encoder, module.decoder):
            layer = _last_layer(part)
            layer.weight.zero_()
            if layer.bias is not None:
                layer.bias.zero_()
    return ratio


def attach(estimator, module, n_features):
    """Give a rebuilt module the PCA path its fitted estimator had (a model file).

    Files from before the PCA start lack ``pca_start_``: their network is
    rebuilt without the path, as it was.
    """
    if getattr(estimator, "pca_start_", None) is not None:
        logits = estimator.output_activation_ == "sigmoid"
        module.pca_path = PCAPath(n_features, estimator.n_components_, logits=logits)


def start_outcome(module, best_epoch):
    """``pca_start_`` of a fitted network: what its PCA start gave.

    Parameters
    ----------
    module : skae._nn.AutoencoderModule
        The fitted network (its ``pca_path`` is None without a start).
    best_epoch : int or None
        The estimator's ``best_epoch_`` (None: no rows were held out).

    Returns
    -------
    outcome : {"pca", "network", "start"} or None
        See :data:`PCA_START_ATTRIBUTES`.
    """
    if getattr(module, "pca_path", None) is None:
        return None
    if best_epoch is None:
        return "start"
    return "pca" if best_epoch == 0 else "network"
