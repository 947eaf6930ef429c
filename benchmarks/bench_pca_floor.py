"""The default autoencoders' test error over PCA's, seed by seed.

With ``pca_start=True`` (the default) the network starts as PCA's solution
(a PCA path beside a network whose output layers start at zero) and a fit
keeps the epoch of lowest loss on held-out rows, the start counted (see
:mod:`skae._pca_start`). This script measures what that gives, every
parameter at its default, as the test reconstruction MSE of the model over
PCA's (same split, same ``n_components``), for each of ``--seeds`` model
seeds (``random_state``) on one split:

* scikit-learn's ``wine``, ``breast-cancer``, ``diabetes`` and ``digits``,
  split 75 / 25 as ``skae compare`` splits them (stratified by class where
  there are classes, ``random_state=0``), standardised (``StandardScaler``
  fitted on the training rows), with ``AutoencoderTransformer`` at
  ``n_components`` = 2, ``n_features // 4`` and ``n_features // 2``;
* 2 000 and 20 000 photograph patches (28 x 28, pixels in [0, 1], from
  :func:`skae.datasets.load_photo_patches`, as ``bench_defaults.py`` cuts
  them), 32 codes, ``AutoencoderTransformer`` and
  ``ConvolutionalAutoencoder``.

Each row prints the per-seed ratios, their mean, the worst seed and the
worst over the median seed, how many seeds kept PCA's solution
(``pca_start_ == "pca"``), PCA's test MSE and fit time, the model's mean
fit time and, with ``--baseline``, the mean fit time of ``pca_start=False``
(the network alone) and the model's over it. Run from the repository root::

    python benchmarks/bench_pca_floor.py --threads 1 --part tables --baseline
    python benchmarks/bench_pca_floor.py --threads 1 --part patches --seeds 4

``--quick``: two seeds, 2 000 patches only.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import type_of_target

from skae import AutoencoderTransformer, ConvolutionalAutoencoder
from skae.datasets import load_photo_patches

TABLES = (
    ("wine", load_wine),
    ("breast-cancer", load_breast_cancer),
    ("diabetes", load_diabetes),
    ("digits", load_digits),
)
REGRESSION = ("diabetes",)  # a numeric target: the split is not stratified
NETWORKS = {"dense": AutoencoderTransformer, "conv": ConvolutionalAutoencoder}


def table_cases(networks=("dense",)):
    """``(name, X, y, k, standardise, network)`` for the scikit-learn tables."""
    for name, load in TABLES:
        data = load()
        X, y = data.data.astype(np.float64), data.target
        y = None if name in REGRESSION else y
        n_features = X.shape[1]
        for k in sorted({2, n_features // 4, n_features // 2}):
            for network in networks:
                yield name, X, y, k, True, network


def patch_cases(sizes):
    """The photograph patches, as ``bench_defaults.py`` loads them: 32 codes."""
    for n in sizes:
        X = load_photo_patches(n_patches=n).reshape(n, -1).astype(np.float64)
        for network in ("dense", "conv"):
            yield f"patches-{n // 1000}k", X, None, 32, False, network


def split(X, y, standardise):
    """75 / 25, ``random_state=0``, stratified where ``y`` holds classes (as
    ``skae compare`` splits); the tables standardised on the training rows."""
    stratify = y if y is not None and type_of_target(y) in ("binary", "multiclass") else None
    X_train, X_test = train_test_split(X, test_size=0.25, stratify=stratify, random_state=0)
    if standardise:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return X_train, X_test


def test_mse(reconstruct, X_test):
    return float(np.mean((reconstruct(X_test) - X_test) ** 2))


def fit_timed(make, X_train):
    start = time.perf_counter()
    model = make().fit(X_train)
    return model, time.perf_counter() - start


def run_case(X_train, X_test, k, network, seed, baseline):
    """One model seed: the default's test MSE, fit time and what the PCA start
    kept; with ``baseline``, the fit time of ``pca_start=False``."""
    cls = NETWORKS[network]
    model, model_time = fit_timed(lambda: cls(n_components=k, random_state=seed), X_train)
    alone_time = math.nan
    if baseline:
        _, alone_time = fit_timed(
            lambda: cls(n_components=k, random_state=seed, pca_start=False), X_train
        )
    return test_mse(model.reconstruct, X_test), model_time, alone_time, model.pca_start_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seeds", type=int, default=8, help="model seeds per row")
    parser.add_argument("--quick", action="store_true", help="2 seeds, 2 000 patches only")
    parser.add_argument(
        "--part", choices=("tables", "patches", "all"), default="all", help="which rows"
    )
    parser.add_argument(
        "--patches", type=int, nargs="+", default=[2000, 20_000], help="patch set sizes"
    )
    parser.add_argument(
        "--networks",
        nargs="+",
        choices=tuple(NETWORKS),
        default=list(NETWORKS),
        help="only rows of these networks",
    )
    parser.add_argument(
        "--table-networks",
        nargs="+",
        choices=tuple(NETWORKS),
        default=["dense"],
        help="the networks of the table rows (conv: 1-D convolutions over the features)",
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=[name for name, _ in TABLES],
        help="only rows of these tables",
    )
    parser.add_argument(
        "--baseline", action="store_true", help="also time pca_start=False (the network alone)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = range(2 if args.quick else args.seeds)
    sizes = [2000] if args.quick else args.patches
    cases = []
    if args.part in ("tables", "all"):
        cases += list(table_cases(args.table_networks))
    if args.part in ("patches", "all"):
        cases += list(patch_cases(sizes))
    header = (
        f"{'data':<14} {'net':<5} {'n x d':>10} {'k':>3} {'PCA MSE':>9} {'mean':>6} "
        f"{'worst':>6} {'w/med':>6} {'PCA':>4} {'PCA s':>6} {'model s':>7} {'alone s':>7} "
        f"{'time x':>6}  per seed"
    )
    print(header)
    print("-" * len(header))
    summary = {"mean": 0.0, "worst": 0.0, "w/med": 0.0, "time x": 0.0}
    for name, X, y, k, standardise, network in cases:
        table = not name.startswith("patches")
        if network not in args.networks or (table and name not in args.datasets):
            continue
        X_train, X_test = split(X, y, standardise)
        pca, pca_time = fit_timed(lambda k=k: PCA(n_components=k), X_train)
        pca_mse = test_mse(lambda Z, p=pca: p.inverse_transform(p.transform(Z)), X_test)
        runs = [run_case(X_train, X_test, k, network, seed, args.baseline) for seed in seeds]
        model_mse, model_time, alone_time, chosen = zip(*runs, strict=True)
        ratios = np.array(model_mse) / pca_mse
        row = {
            "mean": ratios.mean(),
            "worst": ratios.max(),
            "w/med": ratios.max() / np.median(ratios),
            "time x": np.mean(model_time) / np.mean(alone_time),
        }
        summary = {key: np.nanmax([summary[key], row[key]]) for key in summary}
        print(
            f"{name:<14} {network:<5} {f'{X.shape[0]}x{X.shape[1]}':>10} {k:>3} "
            f"{pca_mse:>9.4g} {row['mean']:>6.3f} {row['worst']:>6.3f} {row['w/med']:>6.3f} "
            f"{chosen.count('pca'):>4} {pca_time:>6.3f} {np.mean(model_time):>7.2f} "
            f"{np.mean(alone_time):>7.2f} {row['time x']:>6.2f}  "
            + " ".join(f"{r:.3f}" for r in ratios),
            flush=True,
        )
    print(
        f"\nmean / worst: the mean and the largest over {len(seeds)} model seeds of the "
        "model's test MSE over PCA's; w/med: the worst seed's over the median seed's; "
        "PCA: seeds that kept PCA's solution (best_epoch_ 0); alone s: pca_start=False's "
        "mean fit time (--baseline); time x: the model's over it. Largest over the rows: "
        + ", ".join(f"{key} {value:.3f}" for key, value in summary.items())
    )


if __name__ == "__main__":
    main()
