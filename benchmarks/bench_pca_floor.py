"""Never worse than PCA: the default autoencoders' test error over PCA's.

With ``pca_start=True`` (the default) a fit starts from PCA's solution and
keeps it unless held-out rows say the network does better (see
:mod:`skae._pca_start`). This script measures what that gives, all
parameters at their defaults, as the test reconstruction MSE of the model
over PCA's (same split, same ``n_components``), the mean over ``--seeds``
seeds (each seed its own 75 / 25 split, ``random_state`` = seed):

* scikit-learn's ``wine``, ``breast-cancer``, ``diabetes`` and ``digits``,
  standardised (``StandardScaler`` fitted on the training rows), with
  ``AutoencoderTransformer`` at ``n_components`` = 2, ``n_features // 4``
  and ``n_features // 2``;
* 2 000 and 20 000 photograph patches (28 x 28, pixels in [0, 1], from
  :func:`skae.datasets.load_photo_patches`, as ``bench_defaults.py`` cuts
  them), 32 codes, ``AutoencoderTransformer`` and
  ``ConvolutionalAutoencoder``.

Each row prints the mean and largest per-seed ratio (the target: a mean of
at most 1.02), how many seeds kept PCA's solution (``pca_start_ ==
"pca"``), PCA's test MSE and the mean fit times of PCA and of the model.
Run from the repository root::

    python benchmarks/bench_pca_floor.py --threads 1 --part tables
    python benchmarks/bench_pca_floor.py --threads 1 --part patches

``--quick``: two seeds, 2 000 patches only.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer, ConvolutionalAutoencoder
from skae.datasets import load_photo_patches

TABLES = (
    ("wine", load_wine),
    ("breast-cancer", load_breast_cancer),
    ("diabetes", load_diabetes),
    ("digits", load_digits),
)
NETWORKS = {"dense": AutoencoderTransformer, "conv": ConvolutionalAutoencoder}
TARGET = 1.02


def table_cases():
    """``(name, X, k, standardise, network)`` for the scikit-learn tables."""
    for name, load in TABLES:
        X = load().data.astype(np.float64)
        n_features = X.shape[1]
        for k in sorted({2, n_features // 4, n_features // 2}):
            yield name, X, k, True, "dense"


def patch_cases(sizes):
    """The photograph patches, as ``bench_defaults.py`` loads them: 32 codes."""
    for n in sizes:
        X = load_photo_patches(n_patches=n).reshape(n, -1).astype(np.float64)
        for network in ("dense", "conv"):
            yield f"patches-{n // 1000}k", X, 32, False, network


def test_mse(reconstruct, X_test):
    return float(np.mean((reconstruct(X_test) - X_test) ** 2))


def run_case(X, k, standardise, network, seed):
    """One seed: PCA's and the model's test MSE and fit times, and what the
    PCA start chose."""
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed)
    if standardise:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    start = time.perf_counter()
    pca = PCA(n_components=k).fit(X_train)
    pca_time = time.perf_counter() - start
    pca_mse = test_mse(lambda Z: pca.inverse_transform(pca.transform(Z)), X_test)
    start = time.perf_counter()
    model = NETWORKS[network](n_components=k, random_state=seed).fit(X_train)
    model_time = time.perf_counter() - start
    model_mse = test_mse(model.reconstruct, X_test)
    return pca_mse, model_mse, pca_time, model_time, model.pca_start_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seeds", type=int, default=4, help="seeds (splits) per row")
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
        help="only rows of these networks (the tables are dense)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = range(2 if args.quick else args.seeds)
    sizes = [2000] if args.quick else args.patches
    cases = []
    if args.part in ("tables", "all"):
        cases += list(table_cases())
    if args.part in ("patches", "all"):
        cases += list(patch_cases(sizes))
    header = (
        f"{'data':<14} {'net':<5} {'n x d':>10} {'k':>3} {'PCA MSE':>10} "
        f"{'ratio':>7} {'max':>7} {'PCA kept':>8} {'PCA s':>7} {'model s':>8}"
    )
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name, X, k, standardise, network in cases:
        if network not in args.networks:
            continue
        runs = [run_case(X, k, standardise, network, seed) for seed in seeds]
        pca_mse, model_mse, pca_time, model_time, chosen = zip(*runs, strict=True)
        ratios = np.array(model_mse) / np.array(pca_mse)
        worst = max(worst, float(ratios.mean()))
        kept = f"{chosen.count('pca')}/{len(runs)}"
        print(
            f"{name:<14} {network:<5} {f'{X.shape[0]}x{X.shape[1]}':>10} {k:>3} "
            f"{np.mean(pca_mse):>10.4g} {ratios.mean():>7.4f} {ratios.max():>7.4f} "
            f"{kept:>8} {np.mean(pca_time):>7.3f} "
            f"{np.mean(model_time):>8.1f}",
            flush=True,
        )
    print(
        f"\nratio: mean over {len(seeds)} seeds of the model's test MSE over PCA's "
        f"(target <= {TARGET}); max: the largest seed's; PCA kept: seeds whose "
        f"held-out rows chose PCA's solution. Worst mean ratio: {worst:.4f}."
    )


if __name__ == "__main__":
    main()
