"""How much a default fit depends on its seed: the worst seed against the median.

A fit should not end by accident: with a fixed train / test split, the
default ``AutoencoderTransformer`` is fitted with ``random_state`` 0 to
``--seeds - 1`` on each of scikit-learn's bundled tables and the digits,
standardised (``StandardScaler`` fitted on the training rows) at ``k =
n_features // 4``, and on the raw wine table (its own units: proline's
variance is about 10^5 times the smallest feature's) at ``k = 8``. For each,
the script prints PCA's test reconstruction MSE, the seeds' median and
worst test MSE, and the worst over the median (the target: at most 1.5),
with the epochs each fit ran (min-max) and how many fits stopped early.

Run from the repository root (about 3 minutes on 2 cores)::

    python benchmarks/bench_seed_spread.py --threads 2

``--param name=value`` (repeatable) fits with other parameters, e.g.
``--param n_iter_no_change=20``, to compare settings in the same run.
"""

from __future__ import annotations

import argparse
import ast
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer


def data_sets():
    """(name, X_train, X_test, n_components) for each case: split 75 / 25 as
    ``skae compare`` splits (stratified by class, but for diabetes's
    regression target), with ``random_state=0``."""
    for name, loader in (
        ("wine", load_wine),
        ("breast-cancer", load_breast_cancer),
        ("diabetes", load_diabetes),
        ("digits", load_digits),
    ):
        X, y = loader(return_X_y=True)
        stratify = None if name == "diabetes" else y
        X_train, X_test = train_test_split(X, test_size=0.25, stratify=stratify, random_state=0)
        scaler = StandardScaler().fit(X_train)
        yield name, scaler.transform(X_train), scaler.transform(X_test), X.shape[1] // 4
    X, y = load_wine(return_X_y=True)
    X_train, X_test = train_test_split(X, test_size=0.25, stratify=y, random_state=0)
    yield "wine, raw units", X_train, X_test, 8


def test_mse(model, X_test):
    return float(np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2))


def parse_param(text):
    name, _, value = text.partition("=")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=8, help="seeds 0 .. SEEDS - 1")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--param", action="append", default=[], type=parse_param)
    parser.add_argument("--only", default=None, help="run only the data set of this name")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    params = dict(args.param)
    print(f"AutoencoderTransformer({', '.join(f'{k}={v!r}' for k, v in params.items())})")
    header = (
        f"{'data set':16} {'n x d':>9} {'k':>3} {'PCA MSE':>9} {'median':>9} {'worst':>9} "
        f"{'worst/median':>12} {'epochs':>8} {'stopped early':>13} {'s/fit':>6}"
    )
    print(header)
    for name, X_train, X_test, k in data_sets():
        if args.only and name != args.only:
            continue
        pca = PCA(k).fit(X_train)
        errors, epochs, early, seconds = [], [], 0, []
        for seed in range(args.seeds):
            model = AutoencoderTransformer(k, random_state=seed, **params)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_train)
            seconds.append(time.perf_counter() - start)
            errors.append(test_mse(model, X_test))
            epochs.append(model.n_iter_)
            early += bool(getattr(model, "stopped_early_", False))
        median, worst = float(np.median(errors)), max(errors)
        n, d = X_train.shape[0] + X_test.shape[0], X_train.shape[1]
        print(
            f"{name:16} {f'{n}x{d}':>9} {k:>3} {test_mse(pca, X_test):9.4g} {median:9.4g} "
            f"{worst:9.4g} {worst / median:12.3f} {f'{min(epochs)}-{max(epochs)}':>8} "
            f"{f'{early}/{args.seeds}':>13} {np.mean(seconds):6.1f}"
        )


if __name__ == "__main__":
    main()
