"""One ordered fit for every code width, against one fit per width.

For each seed, fits ``Estimator(n_components=K, ordered=True,
random_state=seed)`` once (``K`` the widest width compared) and a separate
``Estimator(n_components=k, random_state=seed)`` at every width ``k``, every
other parameter at its default, and prints for each ``k``:

* the test reconstruction MSE (in the data's units) through the first ``k``
  units of the ordered code (``inverse_transform`` of the code with the later
  units set to zero) and of the separate fit, and their ratio (the issue's
  target: at most 1.05);
* with ``--accuracy`` (data with labels), the test accuracy of a
  ``StandardScaler`` + ``LogisticRegression(max_iter=1000)`` trained on the
  training rows' codes, the prefix's against the separate fit's (target:
  within 0.01);
* the fit seconds: the ordered fit against the separate fits together (the
  fits it replaces; target: at most 1).

Then the per-width worst ratio over the seeds. Data sets (``--dataset``):

* ``mnist`` -- the 60 000 / 10 000 split (``--n-train`` for fewer training
  images), pixels in [0, 1];
* ``digits`` -- scikit-learn's 1 797 8 x 8 digits, pixels / 16, split 75 / 25
  (stratified, ``random_state=0``);
* ``photo-patches`` -- 28 x 28 patches of scikit-image's bundled
  photographs (:func:`skae.datasets.load_photo_patches`, 4 000 of them),
  pixels in [0, 1], split 75 / 25: natural images where MNIST has strokes
  (MNIST-sized; Fashion-MNIST itself cannot be downloaded here);
* ``breast-cancer`` -- scikit-learn's 569 x 30 table, standardised on the
  training rows, split 75 / 25 (stratified);
* ``satimage`` -- ADBench's 5 803 x 36 satellite table (``--adbench-home``),
  standardised, split 75 / 25; ``letter`` -- its 1 600 x 32 table.

``--estimator conv`` fits :class:`skae.ConvolutionalAutoencoder` (image
sets only), ``dense`` :class:`skae.AutoencoderTransformer`. Times on a
shared machine are noisy: ``--threads 1`` there (benchmarks/README.md).
Run from the repository root::

    python benchmarks/bench_ordered.py --dataset mnist --seeds 2 --accuracy
    python benchmarks/bench_ordered.py --dataset digits --seeds 2 --accuracy
    python benchmarks/bench_ordered.py --dataset digits --estimator conv --seeds 2
"""

from __future__ import annotations

import argparse
import ast
import os
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer, ConvolutionalAutoencoder
from skae.datasets import load_mnist, load_photo_patches

ROOT = Path(__file__).resolve().parents[1]
MSE_TARGET = 1.05
ACCURACY_TARGET = 0.01
TIME_TARGET = 1.0
ESTIMATORS = {"dense": AutoencoderTransformer, "conv": ConvolutionalAutoencoder}
IMAGE_SETS = {"mnist": (28, 28), "digits": (8, 8), "photo-patches": (28, 28)}


def split(X, y, standardise=False):
    """75 / 25, stratified where there are labels; tables standardised."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    if standardise:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return X_train, X_test, y_train, y_test


def load(name, args):
    """``X_train, X_test, y_train, y_test`` (``y`` None without labels)."""
    if name == "mnist":
        X_train, y_train = load_mnist(args.data_home, subset="train", return_X_y=True)
        X_test, y_test = load_mnist(args.data_home, subset="test", return_X_y=True)
        return X_train[: args.n_train], X_test, y_train[: args.n_train], y_test
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return split(X / 16.0, y)
    if name == "photo-patches":
        X = load_photo_patches(n_patches=4000, random_state=0).reshape(4000, -1)
        X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
        return X_train, X_test, None, None
    if name == "breast-cancer":
        X, y = load_breast_cancer(return_X_y=True)
        return split(X, y, standardise=True)
    table = {"satimage": "31_satimage-2", "letter": "20_letter"}[name]
    data = np.load(Path(args.adbench_home) / f"{table}.npz")
    return split(data["X"].astype(np.float64), data["y"], standardise=True)


def prefix_mse(estimator, X, width):
    """Test MSE through the first ``width`` units of ``estimator``'s code."""
    Z = estimator.transform(X)
    Z[:, width:] = 0.0
    return float(np.mean((X - estimator.inverse_transform(Z)) ** 2))


def prefix_accuracy(estimator, width, X_train, y_train, X_test, y_test):
    """Test accuracy of a logistic regression on the first ``width`` code units."""
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    clf.fit(estimator.transform(X_train)[:, :width], y_train)
    return float(clf.score(estimator.transform(X_test)[:, :width], y_test))


def timed_fit(estimator, X):
    start = time.perf_counter()
    estimator.fit(X)
    return estimator, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--dataset",
        default="mnist",
        choices=["mnist", "digits", "photo-patches", "breast-cancer", "satimage", "letter"],
    )
    parser.add_argument("--estimator", default="dense", choices=sorted(ESTIMATORS))
    parser.add_argument("--data-home", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--adbench-home", default=str(ROOT.parent / "shared" / "data" / "adbench"))
    parser.add_argument("--n-train", type=int, default=None, help="MNIST training images")
    parser.add_argument("--widths", default="2,4,8,16,32", help="prefix widths compared")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--accuracy", action="store_true", help="logistic regression on codes")
    parser.add_argument(
        "--ordered-params",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="parameters of the ordered fit beside its defaults (values read as Python)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.estimator == "conv" and args.dataset not in IMAGE_SETS:
        parser.error(f"--estimator conv needs an image set: {sorted(IMAGE_SETS)}")
    widths = sorted(int(w) for w in args.widths.split(","))
    ordered_params = {
        name: ast.literal_eval(value)
        for name, value in (item.split("=", 1) for item in args.ordered_params)
    }
    X_train, X_test, y_train, y_test = load(args.dataset, args)
    accuracy = args.accuracy and y_train is not None
    print(
        f"{args.dataset}: {len(X_train)} training / {len(X_test)} test rows x "
        f"{X_train.shape[1]} features; {ESTIMATORS[args.estimator].__name__}; torch threads "
        f"{torch.get_num_threads()}; load average {os.getloadavg()[0]:.2f}"
    )

    def autoencoder(k, seed, **params):
        if args.estimator == "conv":
            params["image_shape"] = IMAGE_SETS[args.dataset]
        return ESTIMATORS[args.estimator](
            n_components=k, random_state=seed, device=args.device, **params
        )

    mse_ratios, accuracy_gaps, time_ratios = [], [], []
    for seed in range(args.seeds):
        ordered_ae = autoencoder(widths[-1], seed, ordered=True, **ordered_params)
        ordered, ordered_seconds = timed_fit(ordered_ae, X_train)
        separate, seconds = {}, {}
        for k in widths:
            separate[k], seconds[k] = timed_fit(autoencoder(k, seed), X_train)
        header = f"{'k':>4} {'separate MSE':>13} {'prefix MSE':>11} {'ratio':>6}"
        if accuracy:
            header += f" {'separate acc':>13} {'prefix acc':>11} {'diff':>7}"
        print(f"\nseed {seed}: test reconstruction through the first k units\n{header}")
        ratios, gaps = [], []
        for k in widths:
            theirs, mine = prefix_mse(separate[k], X_test, k), prefix_mse(ordered, X_test, k)
            ratios.append(mine / theirs)
            row = f"{k:>4} {theirs:>13.5f} {mine:>11.5f} {mine / theirs:>6.3f}"
            if accuracy:
                data = (X_train, y_train, X_test, y_test)
                acc_sep = prefix_accuracy(separate[k], k, *data)
                acc_ord = prefix_accuracy(ordered, k, *data)
                gaps.append(acc_ord - acc_sep)
                row += f" {acc_sep:>13.4f} {acc_ord:>11.4f} {acc_ord - acc_sep:>+7.4f}"
            print(row)
        total = sum(seconds.values())
        print(
            f"fit seconds: ordered {ordered_seconds:.1f} ({ordered.n_iter_} epochs, best "
            f"{ordered.best_epoch_}); separate {total:.1f} together ("
            + ", ".join(f"k={k}: {seconds[k]:.1f}" for k in widths)
            + f"); ratio {ordered_seconds / total:.2f}"
        )
        mse_ratios.append(ratios)
        accuracy_gaps.append(gaps)
        time_ratios.append(ordered_seconds / total)

    worst = np.max(mse_ratios, axis=0)
    print(f"\nworst over {args.seeds} seeds, per width (targets: MSE ratio <= {MSE_TARGET})")
    for i, k in enumerate(widths):
        row = f"  k={k:<3} MSE ratio {worst[i]:.3f} {'ok' if worst[i] <= MSE_TARGET else 'MISSED'}"
        if accuracy:
            gap = float(np.min(np.asarray(accuracy_gaps)[:, i]))
            verdict = "ok" if gap >= -ACCURACY_TARGET else "MISSED"
            row += f"; accuracy difference {gap:+.4f} (>= -{ACCURACY_TARGET}) {verdict}"
        print(row)
    worst_time = max(time_ratios)
    print(
        f"  time: ordered fit / separate fits {worst_time:.2f} (<= {TIME_TARGET}) "
        f"{'ok' if worst_time <= TIME_TARGET else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
