"""PCA's solution as the network's start, and the held-out choice against it.

With ``pca_start=True`` (:data:`skae._common_params.PCA_START`), a new fit
of a built-in network (dense or convolutional; the plain, convolutional
and denoising autoencoders)

1. computes PCA's solution on the training rows, in the network's units
   (``(X - mean_) / scale_``): the covariance matrix accumulated chunk by
   chunk and its eigenvectors, or :class:`~sklearn.decomposition.IncrementalPCA`
   over the chunks above ``MAX_COVARIANCE_FEATURES`` features -- the same
   for in-memory, sparse and out-of-core data;
2. for ``output_activation_="identity"``, puts it in the network as a fixed
   linear path beside the encoder and the decoder
   (:class:`skae._nn.PCAPath`) and zeroes the last layer of both, so that
   the untrained network reconstructs exactly as PCA does and training
   learns what PCA misses;
3. holds out rows (early stopping's validation split, else
   ``validation_fraction`` of the rows, at most ``MAX_HELD_OUT_ROWS``),
   keeps the epoch with the lowest loss on them (:class:`~skae._callbacks.BestValidationEpoch`,
   early stopping keeps its own), and at the end returns PCA's solution
   instead where PCA's squared error on those rows is not higher
   (:func:`after_train`). PCA's solution comes from all the training rows,
   the held-out ones included, which favours PCA in the choice: the
   network must beat it clearly.

For ``output_activation_="sigmoid"`` (data in [0, 1]) a linear path before
the sigmoid is not PCA, so the network trains as without the start (a path
of zeros beside it) and the held-out choice compares it with PCA in the
squared error; where PCA wins, the estimator becomes PCA: the path holds
PCA's axes, ``output_activation_`` turns ``"identity"`` and ``mean_`` /
``scale_`` take the data's mean and scale. The denoising autoencoder keeps
its sigmoid network (its corruption is set in the units of the fit).

The first :meth:`partial_fit` starts from PCA's solution of its own batch
(identity outputs only): there is no held-out choice (``pca_start_ ==
"start"``). The estimator's own hooks (``skae._base``) call :func:`start`,
:func:`held_out`, :func:`after_train` and
:func:`attach`; nothing else here knows how the training runs.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.decomposition import IncrementalPCA
from sklearn.model_selection import train_test_split

from ._batches import TensorData
from ._nn import PCAPath
from ._parameters import Attr
from ._training import training_data

# Held-out rows of the choice when early stopping holds out none: enough to
# tell PCA from the network (2 000 rows: a standard error of ~2 % of the
# squared error), few enough that a large data set trains on nearly all of
# its rows (MNIST: 58 000 of 60 000).
MAX_HELD_OUT_ROWS = 2_000
# Where the held-out rows are at least this share of at most this many rows, a
# network that wins the choice is trained again on all rows (:func:`refit_epochs`):
# on small data the rows held out cost most, and a second fit costs least.
REFIT_MIN_HELD_OUT_SHARE = 0.05
REFIT_MAX_ROWS = 10_000
# Up to this many features PCA comes from the covariance matrix (float64,
# 32 MiB at 2 048 features); beyond, from IncrementalPCA over the chunks.
MAX_COVARIANCE_FEATURES = 2_048
# PCA's axes are oriented by the codes of the first this many rows.
ORIENT_ROWS = 256
# Rows of values read at a time (about 2**20 values).
_CHUNK_VALUES = 2**20

PCA_START_ATTRIBUTES = (
    Attr(
        "pca_start_",
        '{"pca", "network", "start"} or None',
        """What the PCA start (``pca_start``) did: ``"pca"``, the held-out
        rows chose PCA's solution, which the estimator holds (it reconstructs
        as :class:`~sklearn.decomposition.PCA` does, ``transform`` gives PCA's
        codes); ``"network"``, a trained epoch beat PCA on them; ``"start"``,
        the network started from PCA's solution and no rows were held out
        (:meth:`partial_fit`, or a fit on one row). None when there was no
        PCA start: ``pca_start=False``, your own ``encoder`` / ``decoder``,
        the first :meth:`partial_fit` of data in [0, 1], a model file from
        before.""",
    ),
    Attr(
        "pca_explained_variance_ratio_",
        "ndarray of shape (n_components,) or None",
        """PCA's ``explained_variance_ratio_`` on the training rows (0 beyond
        their rank), from the PCA start; None without one.""",
    ),
    Attr(
        "held_out_mse_",
        "float or None",
        """The mean squared error, in the units of ``X``, of the model kept,
        on the rows the PCA start held out; None where it held none out.""",
    ),
    Attr(
        "pca_held_out_mse_",
        "float or None",
        """PCA's mean squared error on the same held-out rows: never below
        ``held_out_mse_``.""",
    ),
)


def applies(estimator):
    """Whether ``estimator`` starts from PCA: ``pca_start=True`` and the built-in
    networks (your own ``encoder`` / ``decoder`` have no known last layer)."""
    return bool(
        getattr(estimator, "pca_start", False)
        and estimator.encoder is None
        and estimator.decoder is None
    )


def _may_become_pca(estimator):
    """Whether a sigmoid network may be replaced by PCA (not a denoiser's)."""
    return "noise" not in estimator.get_params(deep=False)


def network_rows(estimator, X, Xn):
    """The training rows in the network's units, float64, chunk by chunk.

    ``Xn`` as :meth:`skae._base.BaseAutoencoder._network_input` returns it:
    a float32 array, rows densified on demand (sparse ``X``), or None for
    data read by chunks (read from ``X`` and normalised here).
    """
    n_samples, n_features = X.shape
    if Xn is None:  # data on disk: a chunk at a time, as every other read of it
        step = X.chunk_rows
    elif isinstance(Xn, np.ndarray):
        step = max(1, _CHUNK_VALUES // max(1, n_features))
    else:  # sparse rows: densified a mini-batch at a time, as training does
        step = estimator.batch_size
    for start in range(0, n_samples, step):
        stop = min(start + step, n_samples)
        if Xn is None:
            rows = estimator._normalize(X.read(start, stop))
        else:
            rows = Xn[start:stop]
            if isinstance(rows, torch.Tensor):
                rows = rows.numpy()
        yield np.asarray(rows, dtype=np.float64)


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
        ``n_features`` are 0.
    explained_variance_ratio : ndarray of shape (n_components,)
    total_variance : float
        The sum of the features' variances (divided by ``n_samples``).
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
    # PCA's signs are arbitrary: each axis is oriented so that the codes of
    # the first ORIENT_ROWS rows have a positive third moment (its largest
    # entry positive where that is 0). Neither the order of the features nor
    # the chunking of the rows changes it: another image layout, sparse or
    # on-disk rows give the same codes.
    first = np.concatenate(first)
    codes = (first - mean) @ components.T
    skew = np.sum(codes**3, axis=0)
    largest = components[np.arange(n_components), np.abs(components).argmax(axis=1)]
    tied = np.abs(skew) <= 1e-9 * np.sum(np.abs(codes) ** 3, axis=0)
    components *= np.where(np.where(tied, largest, skew) < 0, -1.0, 1.0)[:, None]
    if total_variance > 0:
        ratio[:k] = variances[:k] / total_variance
    return mean, components, ratio, total_variance


def _last_layer(part):
    """The last submodule of ``part`` holding a weight (its output layer)."""
    last = None
    for layer in part.modules():
        if isinstance(getattr(layer, "weight", None), torch.nn.Parameter):
            last = layer
    return last


def zero_output_layers(module):
    """Zero the last layer of the module's encoder and decoder: what remains of
    the module's maps is its PCA path."""
    with torch.no_grad():
        for part in (module.encoder, module.decoder):
            layer = _last_layer(part)
            layer.weight.zero_()
            if layer.bias is not None:
                layer.bias.zero_()


def attach(estimator, module, n_features):
    """Give a rebuilt module the PCA path its fitted estimator had (a model file).

    Files from before the PCA start lack ``pca_start_``: their network is
    rebuilt without the path, as it was.
    """
    if getattr(estimator, "pca_start_", None) is not None:
        module.pca_path = PCAPath(n_features, estimator.n_components)


def start(estimator, module, X, Xn, *, partial):
    """Compute PCA's solution and start ``module`` from it (a new fit).

    Sets ``pca_start_`` and ``pca_explained_variance_ratio_``; keeps the
    solution for :func:`after_train` (``_pca_solution``, dropped by :func:`forget`).
    Draws no random numbers: the network's initial weights are those it
    would have without the start.
    """
    forget(estimator)
    if "pca_start" not in estimator._parameter_constraints:
        return  # an estimator without the parameter (sparse, variational)
    estimator.pca_start_ = estimator.pca_explained_variance_ratio_ = None
    estimator.held_out_mse_ = estimator.pca_held_out_mse_ = None
    if not applies(estimator):
        return
    identity = estimator.output_activation_ != "sigmoid"
    if not identity and (partial or not _may_become_pca(estimator)):
        return
    n_features = X.shape[1]
    k = estimator.n_components
    mean, components, ratio, total_variance = fit_pca(
        network_rows(estimator, X, Xn), X.shape[0], n_features, k
    )
    module.pca_path = PCAPath(n_features, k)
    if identity:
        # Rows in the network's units are centred: the path needs no mean.
        mean = np.zeros(n_features)
        module.pca_path.components.copy_(torch.from_numpy(components))
        zero_output_layers(module)
    estimator.pca_start_ = "start"
    estimator.pca_explained_variance_ratio_ = ratio
    if not partial:
        estimator._pca_solution = (mean, components, total_variance)


def held_out(estimator, X, Xn, train_data, valid_data, split_seed, *, partial):
    """The training and held-out data of a fit that starts from PCA.

    Early stopping's validation split when there is one; else
    ``validation_fraction`` of the rows (at most ``MAX_HELD_OUT_ROWS``), or
    of the blocks for data read by chunks, split as early stopping splits
    them. Unchanged for other trainings (``partial_fit``, continued fits,
    no PCA start) and where no row can be spared.
    """
    if partial or getattr(estimator, "_pca_solution", None) is None:
        return train_data, valid_data
    if valid_data is None:
        n_samples = X.shape[0]
        if Xn is None:
            train_data, valid_data = training_data(
                X,
                None,
                estimator._normalize,
                early=True,
                validation_fraction=estimator.validation_fraction,
                split_seed=split_seed,
            )
        else:
            n_valid = min(math.ceil(estimator.validation_fraction * n_samples), MAX_HELD_OUT_ROWS)
            if n_samples - n_valid < 1:
                return train_data, valid_data
            train_idx, valid_idx = held_out_indices(n_samples, n_valid, split_seed)
            train_data, valid_data = TensorData(Xn, train_idx), TensorData(Xn, valid_idx)
    estimator._pca_held_out = valid_data
    return train_data, valid_data


def refit_epochs(estimator, start, kept_epoch, n_held_out, n_samples):
    """Epochs of a refit on all rows after the held-out choice kept the network; 0: none.

    Where the choice held out at least ``REFIT_MIN_HELD_OUT_SHARE`` of at
    most ``REFIT_MAX_ROWS`` rows, training on the rest costs the network
    accuracy (on the digits, 1 347 rows, about 5 % in test MSE): it then
    trains again from the same start (``start``, a
    :meth:`~skae._net.AutoencoderNet.snapshot`) on all rows, for the
    epochs of the weights it kept (``kept_epoch``), as ``GridSearchCV``
    refits its choice. Not after early stopping's split (the user's) or
    where PCA won (its solution already comes from all rows).
    """
    if start is None or kept_epoch is None or getattr(estimator, "pca_start_", None) != "network":
        return 0
    small = n_samples <= REFIT_MAX_ROWS and n_held_out >= REFIT_MIN_HELD_OUT_SHARE * n_samples
    return kept_epoch if small else 0


def refit_holds(estimator):
    """Whether the refit network reconstructs the held-out rows no worse than PCA."""
    net_mse, pca_mse = held_out_errors(estimator, estimator._pca_held_out, estimator._pca_solution)
    return net_mse <= pca_mse


def held_out_indices(n_samples, n_valid, split_seed):
    """Sorted training and held-out row numbers of the PCA start's own split."""
    train_idx, valid_idx = train_test_split(
        np.arange(n_samples), test_size=n_valid, random_state=split_seed
    )
    return np.sort(train_idx), np.sort(valid_idx)


def held_out_errors(estimator, valid_data, solution):
    """Mean squared errors, in the units of ``X``, of the network and of PCA
    on the held-out rows ``valid_data``."""
    net = estimator.net_
    module = net.module_
    mean, components, _ = solution
    mean = torch.from_numpy(mean)
    components = torch.from_numpy(components)
    sigmoid = estimator.output_activation_ == "sigmoid"
    errors = np.zeros(2)
    n_values = 0
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            for rows, _ in net.get_iterator(valid_data, training=False):
                out = module.decode(module.encode(rows.to(net.device))).cpu().double()
                if sigmoid:
                    out = torch.sigmoid(out)
                rows = rows.double()
                pca = ((rows - mean) @ components.T) @ components + mean
                errors += [float(((out - rows) ** 2).sum()), float(((pca - rows) ** 2).sum())]
                n_values += rows.numel()
    finally:
        module.train(was_training)
    return errors * estimator.scale_**2 / max(n_values, 1)


def _become_pca(estimator, solution):
    """Turn a sigmoid network into PCA's solution: identity output, the data's
    mean and scale, the path holding PCA's axes, the network's output layers 0."""
    mean, components, total_variance = solution
    rms = math.sqrt(total_variance / len(mean))
    estimator.output_activation_ = "identity"
    estimator.reconstruction_loss_ = "squared_error"
    estimator.mean_ = np.asarray(mean, dtype=np.float64)
    estimator.scale_ = rms if rms > 0 else 1.0
    module = estimator.net_.module_
    module.pca_path.components.copy_(torch.from_numpy(components))
    zero_output_layers(module)
    # A later partial_fit / warm start trains the squared error. Set in place:
    # set_params would also build a new optimizer (its state, its rate).
    net = estimator.net_
    net.criterion_.reconstruction = "squared_error"
    vars(net)["criterion__reconstruction"] = "squared_error"


def forget(estimator):
    """Drop what a fit left for :func:`after_train` and the refit (it holds
    training rows): at the end of every fit, and after one that failed."""
    estimator.__dict__.pop("_pca_solution", None)
    estimator.__dict__.pop("_pca_held_out", None)


def after_train(estimator, *, early, interrupted):
    """The held-out choice, at the end of a new fit that starts from PCA.

    Where PCA's squared error on the held-out rows is at most the trained
    network's, the estimator takes PCA's solution (``pca_start_ ==
    "pca"``; with early stopping, ``best_epoch_`` is 0, the start);
    otherwise it keeps the network (``"network"``). Sets
    ``held_out_mse_`` and ``pca_held_out_mse_``.
    """
    solution = estimator.__dict__.get("_pca_solution")
    valid_data = estimator.__dict__.get("_pca_held_out")
    if solution is None or interrupted:
        return
    module = estimator.net_.module_
    sigmoid = estimator.output_activation_ == "sigmoid"
    if valid_data is None:
        if sigmoid:  # nothing to choose: the network, without a path of zeros
            module.pca_path = None
            estimator.pca_start_ = estimator.pca_explained_variance_ratio_ = None
        return
    net_mse, pca_mse = held_out_errors(estimator, valid_data, solution)
    estimator.pca_held_out_mse_ = float(pca_mse)
    if net_mse < pca_mse:
        estimator.pca_start_ = "network"
        estimator.held_out_mse_ = float(net_mse)
        return
    if sigmoid:
        _become_pca(estimator, solution)
    else:
        zero_output_layers(module)
    estimator.pca_start_ = "pca"
    estimator.held_out_mse_ = float(pca_mse)
    if early:
        estimator.best_epoch_ = 0
        estimator.best_validation_loss_ = float(pca_mse) / estimator.scale_**2
