"""The main job: PCA against autoencoders on a train/test split.

Used by ``skae compare`` (:mod:`skae.cli`); importable for notebooks.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils.multiclass import type_of_target
from tqdm.auto import tqdm

from ._autoencoder import AutoencoderTransformer, ConvolutionalAutoencoder
from ._denoising import DenoisingAutoencoder
from ._sparse import SparseAutoencoder
from ._target import SupervisedBottleneck
from ._variational import VariationalAutoencoder

#: Methods ``skae compare`` knows, by the name given to ``--methods``: each
#: an estimator class taking ``n_components`` and ``random_state``.
METHODS = {
    "pca": PCA,
    "dense": AutoencoderTransformer,
    "conv": ConvolutionalAutoencoder,
    "denoising": DenoisingAutoencoder,
    "sparse": SparseAutoencoder,
    "vae": VariationalAutoencoder,
}

#: The suffix of a supervised method's name: ``"dense-supervised"`` is
#: ``"dense"`` with ``target_weight=1.0`` (the documented "on" value), fitted
#: with the training labels so that its codes also predict them.
SUPERVISED_SUFFIX = "-supervised"


#: Supervised methods ``skae compare`` knows (``--supervised`` adds them;
#: ``--methods`` takes them by name): ``{name: the method it supervises}``,
#: one for each method of :data:`METHODS` that takes ``target_weight`` (a
#: :class:`~skae._target.SupervisedBottleneck`).
SUPERVISED = {
    f"{name}{SUPERVISED_SUFFIX}": name
    for name, cls in METHODS.items()
    if issubclass(cls, SupervisedBottleneck)
}


#: A numeric target of whole numbers is read as classes up to this many
#: distinct values, and as a regression target above it.
MAX_CLASSES = 20

#: ``scale`` of :func:`scale_split`: the scaler and the units of the scaled data.
SCALERS = {
    "standard": (StandardScaler, "standardised units (each feature to mean 0, variance 1)"),
    "minmax": (MinMaxScaler, "min-max units (each feature to [0, 1])"),
    "none": (None, "the data's own units (not scaled)"),
}


def infer_task(y, task="auto"):
    """Whether the labels ``y`` are classes or values to regress on, and why.

    Text, boolean and other non-numeric labels are classes. Numeric labels
    are a regression target where :func:`~sklearn.utils.multiclass.type_of_target`
    calls them "continuous" (values that are not whole numbers), or where
    they hold more than :data:`MAX_CLASSES` (20) distinct whole numbers
    (scikit-learn calls those "multiclass"; counts, ages, prices in whole
    units are more common targets than 21 or more integer-coded classes);
    otherwise they are classes.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The labels.
    task : {"auto", "classification", "regression"}, default="auto"
        "auto" decides as above; the others force the task.

    Returns
    -------
    task : {"classification", "regression"}
    reason : str
        What the decision rests on, in a few words, e.g. "214 distinct whole
        numbers, more than 20".

    Raises
    ------
    ValueError
        If ``task`` is not one of the above, or is "regression" for
        non-numeric labels.
    """
    y = np.asarray(y)
    numeric = y.dtype.kind in "iuf"
    n_distinct = len(np.unique(y))
    if task not in ("auto", "classification", "regression"):
        raise ValueError(f"Unknown task {task!r}: choose auto, classification or regression.")
    if task == "regression" and not numeric:
        raise ValueError(
            f"A regression target must be numeric; these labels have dtype {y.dtype} "
            f"(e.g. {y[0]!r}): use task classification, or encode them as numbers."
        )
    if task != "auto":
        return task, "as asked"
    if not numeric:
        return "classification", f"{n_distinct} distinct non-numeric labels"
    if type_of_target(y) == "continuous":
        return "regression", f"{n_distinct} distinct values, not all whole numbers"
    if n_distinct > MAX_CLASSES:
        return "regression", f"{n_distinct} distinct whole numbers, more than {MAX_CLASSES}"
    return "classification", f"{n_distinct} distinct whole numbers, at most {MAX_CLASSES}"


def scale_split(X_train, X_test, scale="standard"):
    """Scale the train and test data by a scaler fitted on the training data.

    Parameters
    ----------
    X_train, X_test : ndarray of shape (n_train, n_features), (n_test, n_features)
        Training and test data.
    scale : {"standard", "minmax", "none"}, default="standard"
        ``StandardScaler`` (mean 0, variance 1 per feature), ``MinMaxScaler``
        ([0, 1] per feature, on the training data) or no scaling.

    Returns
    -------
    X_train, X_test : ndarrays of dtype float32
        The scaled data (the inputs themselves for "none").
    units : str
        The units of the scaled data, e.g. "standardised units (each feature
        to mean 0, variance 1)".

    Raises
    ------
    ValueError
        If ``scale`` is not one of the above.
    """
    if scale not in SCALERS:
        raise ValueError(f"Unknown scale {scale!r}: choose from {', '.join(SCALERS)}.")
    scaler, units = SCALERS[scale]
    if scaler is None:
        return X_train, X_test, units
    scaler = scaler().fit(X_train)
    return (
        scaler.transform(X_train).astype(np.float32),
        scaler.transform(X_test).astype(np.float32),
        units,
    )


def make_method(name, n_components, random_state=0, **params):
    """Build the unfitted estimator ``name`` with ``n_components`` codes.

    Parameters
    ----------
    name : str
        A key of :data:`METHODS` (``"pca"``, ``"dense"``, ...) or of
        :data:`SUPERVISED` (``"dense-supervised"``, ...: the method with
        ``target_weight=1.0``, to be fitted with labels).
    n_components : int
        Bottleneck width.
    random_state : int, default=0
        Seed handed to the estimator.
    **params
        Further parameters set on the estimator where it has them (e.g.
        ``max_epochs`` for autoencoders; ignored by PCA).

    Returns
    -------
    estimator : sklearn transformer with ``inverse_transform``

    Raises
    ------
    ValueError
        If ``name`` is not a known method.
    """
    if name not in METHODS and name not in SUPERVISED:
        raise ValueError(
            f"Unknown method {name!r}: choose from {sorted(METHODS) + sorted(SUPERVISED)}."
        )
    est = METHODS[SUPERVISED.get(name, name)](n_components=n_components, random_state=random_state)
    if name in SUPERVISED:
        est.set_params(target_weight=1.0)
    own = est.get_params()
    return est.set_params(**{k: v for k, v in params.items() if k in own})


def compare(
    X_train,
    X_test,
    y_train,
    y_test,
    *,
    n_components=(2, 8, 32),
    methods=("pca", "dense"),
    task="auto",
    random_state=0,
    progress=True,
    **params,
):
    """Fit each method at each bottleneck width and score it on the test split.

    Parameters
    ----------
    X_train, X_test : ndarray of shape (n_train, n_features), (n_test, n_features)
        Training and test data.
    y_train, y_test : ndarray of shape (n_train,), (n_test,), or None
        Labels, used to score a model trained on the codes: a
        LogisticRegression for classes, a ridge regression for values
        (see ``task``); None scores neither. The supervised methods also
        fit on ``y_train``; no other method sees the labels.
    n_components : sequence of int, default=(2, 8, 32)
        Bottleneck widths to try.
    methods : sequence of str, default=("pca", "dense")
        Keys of :data:`METHODS` or :data:`SUPERVISED` (e.g.
        ``"dense-supervised"``, which needs ``y_train``).
    task : {"auto", "classification", "regression"}, default="auto"
        Whether ``y`` holds classes or values; "auto" decides by
        :func:`infer_task` on ``y_train``.
    random_state : int, default=0
        Seed of every estimator.
    progress : bool, default=True
        Show a tqdm progress bar over the fits (on stderr).
    **params
        Passed to :func:`make_method` (e.g. ``max_epochs=5``).

    Returns
    -------
    results : pandas.DataFrame
        One row per (method, n_components): ``method``, ``n_components``,
        ``test_mse`` (mean squared reconstruction error on the test split, in
        the units of ``X``), ``test_accuracy`` for class labels (of a
        ``LogisticRegression(max_iter=1000)`` trained on standardised
        training codes, on the test codes) or ``test_r2`` for a regression
        target (R² of a ``RidgeCV`` likewise), neither where ``y_train`` is
        None, ``fit_seconds`` (wall-clock time of the estimator's ``fit``).
    estimators : dict
        ``{(method, n_components): fitted estimator}``.

    Raises
    ------
    ValueError
        As :func:`infer_task`, or for a supervised method without ``y_train``.
    """
    if y_train is None and any(m in SUPERVISED for m in methods):
        named = ", ".join(m for m in methods if m in SUPERVISED)
        raise ValueError(f"{named} fit(s) on labels: pass y_train.")
    rows, fitted = [], {}
    if y_train is None:
        probe = None
    elif infer_task(y_train, task)[0] == "regression":
        probe = ("test_r2", RidgeCV(), r2_score)
    else:
        probe = ("test_accuracy", LogisticRegression(max_iter=1000), accuracy_score)
    jobs = [(m, k) for m in methods for k in n_components]
    for method, k in tqdm(jobs, desc="skae compare", disable=not progress):
        est = make_method(method, k, random_state, **params)
        start = time.perf_counter()
        if method in SUPERVISED:
            est.fit(X_train, y_train)
        else:
            est.fit(X_train)
        seconds = time.perf_counter() - start
        Z_train, Z_test = est.transform(X_train), est.transform(X_test)
        row = {
            "method": method,
            "n_components": k,
            "test_mse": mean_squared_error(X_test, est.inverse_transform(Z_test)),
        }
        if probe is not None:
            column, model, score = probe
            model = make_pipeline(StandardScaler(), clone(model)).fit(Z_train, y_train)
            row[column] = score(y_test, model.predict(Z_test))
        rows.append({**row, "fit_seconds": seconds})
        fitted[(method, k)] = est
    return pd.DataFrame(rows), fitted


def plot_comparison(X_test, y_test, fitted, image_shape, path, n_images=10):
    """Write a PNG of reconstructions and latent spaces, drawn by skae's Displays.

    Top (images only): the first ``n_images`` test images and their
    reconstruction by every fitted (method, n_components), one row each
    (:class:`~skae.plotting.ReconstructionDisplay`). Bottom: one panel per
    method, the test codes at the smallest ``n_components`` fitted,
    coloured by label where there are labels
    (:class:`~skae.plotting.LatentSpaceDisplay`).

    Parameters
    ----------
    X_test : ndarray of shape (n_test, n_features)
    y_test : ndarray of shape (n_test,) or None
        Labels (or values) colouring the latent-space panels; None leaves
        them one colour.
    fitted : dict
        ``{(method, n_components): fitted estimator}`` from :func:`compare`.
    image_shape : tuple of int or None
        ``(height, width)`` or ``(height, width, 3)`` of one image; None for
        rows that are not images (the figure has the latent spaces only).
    path : str or path-like
        Where to write the PNG.
    n_images : int, default=10
        Number of test images (columns).

    Returns
    -------
    path : str or path-like

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install "skae[plot]"``).
    """
    from .plotting import LatentSpaceDisplay, ReconstructionDisplay, _pyplot

    _pyplot("skae compare's figure")
    # A bare Figure draws off-screen without pyplot's figure manager: the
    # caller's backend and open figures are left alone.
    from matplotlib.figure import Figure

    smallest = min(k for _, k in fitted)
    methods = list(dict.fromkeys(m for m, _ in fitted))
    n_points = min(len(X_test), 2000)
    labels = None if y_test is None else np.asarray(y_test)[:n_points]
    if labels is not None and labels.dtype.kind not in "biuf" and len(np.unique(labels)) > 20:
        labels = np.unique(labels, return_inverse=True)[1]  # too many names for a legend
    if image_shape is None:
        fig = Figure(figsize=(max(3.0 * len(methods), 4.0), 3.4), layout="constrained")
        grid = fig.add_gridspec(1, len(methods))
        fig.suptitle(f"Test codes at k = n_components = {smallest}", fontsize=10)
    else:
        width = max(0.9 * n_images + 2, 3.0 * len(methods))
        fig = Figure(figsize=(width, 0.9 * (len(fitted) + 1) + 3.2), layout="constrained")
        grid = fig.add_gridspec(2, len(methods), height_ratios=[len(fitted) + 1, 3.2])
        top = fig.add_subplot(grid[0, :])
        named = {f"{m}, k={k}": est for (m, k), est in fitted.items()}
        ReconstructionDisplay.from_estimator(
            named, X_test, n_images=n_images, image_shape=image_shape, ax=top
        )
        top.set_title("Test images and their reconstructions (k = n_components)")
    for i, method in enumerate(methods):
        ax = fig.add_subplot(grid[-1, i])
        disp = LatentSpaceDisplay.from_estimator(
            fitted[(method, smallest)], X_test[:n_points], labels, ax=ax, s=3
        )
        ax.set_title(f"{method}, k={smallest}", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.xaxis.label.set_fontsize(7)
        ax.yaxis.label.set_fontsize(7)
        if i < len(methods) - 1 and disp.legend_ is not None:
            disp.legend_.remove()
    fig.savefig(path, dpi=100)
    return path
