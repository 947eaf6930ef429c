"""Supervised codes: a logistic regression on the codes of each reducer.

Issue 39. For each data set and bottleneck width ``k``, every reducer is
fitted on the training rows and a ``StandardScaler`` then
``LogisticRegression(max_iter=1000)`` is trained on its training codes and
scored on its test codes (test accuracy):

* ``PCA``: ``PCA(k)``;
* ``LDA``: ``LinearDiscriminantAnalysis(n_components=k)``, where
  ``k <= n_classes - 1`` (blank elsewhere);
* ``NCA``: ``NeighborhoodComponentsAnalysis(n_components=k)``, on at most
  ``--nca-rows`` training rows (a stratified subsample: on MNIST its n x n
  distance matrices would not fit in memory for 60 000 rows);
* ``UMAP``: ``umap.UMAP(n_components=k, target_weight=0.5)`` fitted with
  ``y`` (UMAP's own default weight of the labels; blank without
  ``umap-learn``, which skae does not depend on); its training codes are its
  fitted embedding, its test codes ``transform``'s (not timed: about 2 min
  on the 10 000 MNIST test images, one thread);
* ``AE``: ``AutoencoderTransformer(k, random_state=seed)``, every parameter
  at its default, fitted without ``y``;
* ``AE+y``: the same with ``target_weight=1.0``, fitted with the training
  labels (the supervised autoencoder).

Beside the accuracies: ``lead``, AE+y's accuracy minus the best of the
others in the same row; the test reconstruction MSE of PCA, AE and AE+y and
AE+y's over PCA's (the price of supervision); each fit's seconds.

Data, split 75 / 25 as ``skae compare`` splits (``random_state=0``,
stratified; ``skae.cli.load_split`` for the images) and, for the tables,
standardised on the training rows (as ``skae compare`` scales a table):

* ``wine`` (178 x 13, 3 classes), ``breast-cancer`` (569 x 30, 2 classes)
  at k = 2 and ``n_features // 4``;
* ``diabetes`` (442 x 10) in three classes, the tertiles of its target (a
  disease's progression after one year: low, middle, high), at k = 2
  (= ``n_features // 4``). scikit-learn bundles no other real classification
  table (iris, 4 features, is separated by any 2-D projection; linnerud has
  20 rows) and nothing can be downloaded here (``fetch_covtype``, OpenML);
* ``digits`` (1 797 8 x 8 images, pixels / 16) and ``mnist`` (the 60 000 /
  10 000 split, ``--n-train`` for a quick run) at k = 2, 8, 32.

``--semi``: MNIST with ``--n-labelled`` (600, 1 %) training labels, a
stratified draw per seed, the other labels -1, at k = 8. The logistic
regression is trained on the codes of the labelled rows only and scored on
the 10 000 test images, for the codes of: PCA and the unsupervised AE fitted
on all rows, AE+y fitted on the labelled rows alone, and AE+y fitted on all
rows with the -1 labels (semi-supervised).

Run from the repository root (one torch thread, ``--threads``)::

    python benchmarks/bench_supervised.py --datasets wine breast-cancer diabetes digits
    python benchmarks/bench_supervised.py --datasets mnist --seeds 1
    python benchmarks/bench_supervised.py --semi --seeds 1
    python benchmarks/bench_supervised.py --datasets mnist --n-train 6000 --seeds 1

The last line prints whether the issue's targets hold on the rows run (the
mean over seeds where there are several): AE+y ahead of every other reducer
at k = 2, within 0.005 of the best at larger k, MNIST at k = 2 at 0.95 or
more with a reconstruction error below PCA's, the semi-supervised codes
0.02 or more ahead of both the supervised fit on the labelled rows alone
and the unsupervised codes.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NeighborhoodComponentsAnalysis
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer
from skae._compare import scale_split
from skae.cli import _split, load_split

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ("wine", "breast-cancer", "diabetes", "digits", "mnist")
REDUCERS = ("PCA", "LDA", "NCA", "UMAP", "AE", "AE+y")
TABLES = {"wine": load_wine, "breast-cancer": load_breast_cancer, "diabetes": load_diabetes}


def load(name, data_home, n_train):
    """``X_train, X_test, y_train, y_test, ks`` of one data set."""
    if name in TABLES:
        X, y = TABLES[name](return_X_y=True)
        if name == "diabetes":  # three classes: the tertiles of the progression
            y = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
        X_train, X_test, y_train, y_test = _split(X.astype(np.float32), y, 0)
        X_train, X_test, _ = scale_split(X_train, X_test, "standard")
        return X_train, X_test, y_train, y_test, sorted({2, X.shape[1] // 4})
    X_train, X_test, y_train, y_test, _ = load_split(name, data_home, n_train)
    return X_train, X_test, y_train, y_test, [2, 8, 32]


def stratified_rows(y, n, seed):
    """Indices of ``n`` rows of ``y`` drawn stratified (all rows if ``n`` >= len)."""
    if n >= len(y):
        return np.arange(len(y))
    rows, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
    return np.sort(rows)


def has_target_weight():
    return "target_weight" in AutoencoderTransformer().get_params()


def make(name, k, seed, args, n_classes):
    """The unfitted reducer ``name`` at ``k``, or None where it does not apply."""
    if name == "PCA":
        return PCA(n_components=k, random_state=seed)
    if name == "LDA":
        return LinearDiscriminantAnalysis(n_components=k) if k <= n_classes - 1 else None
    if name == "NCA":
        return NeighborhoodComponentsAnalysis(n_components=k, random_state=seed)
    if name == "UMAP":
        try:
            import umap
        except ImportError:
            return None
        return umap.UMAP(n_components=k, target_weight=args.umap_weight, random_state=seed)
    extra = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
    if name == "AE":
        return AutoencoderTransformer(n_components=k, random_state=seed, **extra)
    if not has_target_weight():
        return None
    return AutoencoderTransformer(
        n_components=k, random_state=seed, target_weight=args.target_weight, **extra
    )


def fit(name, est, X, y, seed, nca_rows):
    """Fit ``est`` (with ``y`` where it takes labels); its seconds."""
    start = time.perf_counter()
    if name == "AE" or name == "PCA":
        est.fit(X)
    elif name == "NCA":
        rows = stratified_rows(y, nca_rows, seed)
        est.fit(X[rows], y[rows])
    else:
        est.fit(X, y)
    return time.perf_counter() - start


def accuracy(Z_train, y_train, Z_test, y_test):
    """Test accuracy of StandardScaler + LogisticRegression(max_iter=1000) on codes."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return float(model.fit(Z_train, y_train).score(Z_test, y_test))


def mse(est, X_test):
    return float(np.mean((np.asarray(est.inverse_transform(est.transform(X_test))) - X_test) ** 2))


def run_row(X_train, X_test, y_train, y_test, k, seed, args):
    """``{reducer: (accuracy, mse, seconds)}`` at one ``k`` and seed."""
    n_classes = len(np.unique(y_train))
    out = {}
    for name in args.reducers:
        est = make(name, k, seed, args, n_classes)
        if est is None or k > X_train.shape[1]:
            out[name] = (math.nan, math.nan, math.nan)
            continue
        seconds = fit(name, est, X_train, y_train, seed, args.nca_rows)
        # UMAP's training codes are its fitted embedding (what fit_transform
        # returns): its transform of 60 000 MNIST rows would take many minutes.
        Z_train = est.embedding_ if name == "UMAP" else est.transform(X_train)
        acc = accuracy(Z_train, y_train, est.transform(X_test), y_test)
        error = mse(est, X_test) if name in ("PCA", "AE", "AE+y") else math.nan
        out[name] = (acc, error, seconds)
    return out


def fmt(value, spec):
    width = int(spec.split(".")[0].lstrip("+"))
    return " " * width if math.isnan(value) else f"{value:{spec}}"


def lead(row):
    """AE+y's accuracy minus the best other reducer's."""
    others = [a for name, (a, _, _) in row.items() if name != "AE+y" and not math.isnan(a)]
    if "AE+y" not in row or math.isnan(row["AE+y"][0]) or not others:
        return math.nan
    return row["AE+y"][0] - max(others)


def print_row(label, seed, row, reducers):
    acc = " ".join(fmt(row[r][0], "6.4f") for r in reducers)
    errors = [row[r][1] if r in row else math.nan for r in ("PCA", "AE", "AE+y")]
    ratio = errors[2] / errors[0]
    seconds = " ".join(fmt(row[r][2], "6.2f") for r in reducers)
    print(
        f"{label} {seed:>4} {acc} {fmt(lead(row), '+6.3f')} | "
        + " ".join(fmt(e, "8.4g") for e in errors)
        + f" {fmt(ratio, '6.3f')} | {seconds}",
        flush=True,
    )


def mean_row(rows):
    names = rows[0].keys()
    return {n: tuple(np.mean([r[n][i] for r in rows]) for i in range(3)) for n in names}


def main_table(args):
    reducers = args.reducers
    names = " ".join(f"{r:>6}" for r in reducers)
    header = (
        f"{'data':<14} {'n_train x d':>12} {'k':>3} {'seed':>4} {names} {'lead':>6} | "
        f"{'MSE PCA':>8} {'AE':>8} {'AE+y':>8} {'y/PCA':>6} | seconds {names}"
    )
    print("test accuracy of a logistic regression on the codes; test reconstruction MSE")
    print(header)
    print("-" * len(header))
    means = {}
    for name in args.datasets:
        X_train, X_test, y_train, y_test, ks = load(name, args.data_home, args.n_train)
        for k in ks:
            if args.k and k not in args.k:
                continue
            label = f"{name:<14} {f'{len(X_train)}x{X_train.shape[1]}':>12} {k:>3}"
            rows = []
            for seed in range(args.seeds):
                rows.append(run_row(X_train, X_test, y_train, y_test, k, seed, args))
                print_row(label, str(seed), rows[-1], reducers)
            means[(name, k)] = mean_row(rows)
            if args.seeds > 1:
                print_row(label, "mean", means[(name, k)], reducers)
    print(
        "\nlead: AE+y's accuracy minus the best of the others; y/PCA: AE+y's test MSE "
        "over PCA's; blank: does not apply (LDA: k > n_classes - 1; UMAP: umap-learn "
        "not installed; AE+y: this skae has no target_weight)."
    )
    targets(means, args)


def targets(means, args):
    """Print whether the issue's targets hold on the rows run."""
    if not has_target_weight() or "AE+y" not in args.reducers:
        print("targets: cannot tell (no AE+y rows)")
        return
    at_2 = {key: lead(row) for key, row in means.items() if key[1] == 2}
    larger = {key: lead(row) for key, row in means.items() if key[1] != 2}
    lines = []
    if at_2:
        # Strictly ahead; a tie at accuracy 1 (nothing left to gain) is named as such.
        perfect = [key[0] for key, v in at_2.items() if v == 0 and means[key]["AE+y"][0] == 1]
        ok = all(v > 0 or key[0] in perfect for key, v in at_2.items())
        worst = min(at_2, key=at_2.get)
        tied = f"; tied at accuracy 1.0 on {', '.join(perfect)}" if perfect else ""
        lines.append(
            f"AE+y ahead of every other reducer at k = 2: {'holds' if ok else 'MISSED'} "
            f"(smallest lead {at_2[worst]:+.4f}, {worst[0]}{tied})"
        )
    if larger:
        ok = all(v >= -0.005 for v in larger.values())
        worst = min(larger, key=larger.get)
        lines.append(
            f"AE+y within 0.005 of the best at larger k: {'holds' if ok else 'MISSED'} "
            f"(smallest lead {larger[worst]:+.4f}, {worst[0]} k={worst[1]})"
        )
    ratios = {key: row["AE+y"][1] / row["PCA"][1] for key, row in means.items()}
    below = sum(r < 1 for r in ratios.values())
    worst = max(ratios, key=ratios.get)
    lines.append(
        f"AE+y's test MSE below PCA's on {below} of {len(ratios)} rows (largest y/PCA "
        f"{ratios[worst]:.3f}, {worst[0]} k={worst[1]})"
    )
    if ("mnist", 2) in means:
        row = means[("mnist", 2)]
        acc, error, pca_error = row["AE+y"][0], row["AE+y"][1], row["PCA"][1]
        ok = acc >= 0.95 and error < pca_error
        lines.append(
            f"MNIST k = 2: accuracy >= 0.95 with MSE below PCA's: {'holds' if ok else 'MISSED'} "
            f"(accuracy {acc:.4f}, MSE {error:.4g} against PCA's {pca_error:.4g})"
        )
    print("targets (means over seeds): " + ("; ".join(lines) if lines else "none run"))


def semi_table(args):
    """MNIST with ``--n-labelled`` training labels, the rest -1, at k = 8."""
    X_train, X_test, y_train, y_test, _ = load_split("mnist", args.data_home, args.n_train)
    k = args.semi_k
    extra = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
    columns = ("PCA", "AE", "AE+y lab", "AE+y semi")
    print(
        f"mnist: {len(X_train)} training images, {args.n_labelled} labelled (stratified "
        f"draw per seed, the rest -1), {len(X_test)} test images, k = {k}; test accuracy "
        "of a logistic regression trained on the labelled rows' codes"
    )
    header = (
        f"{'seed':>4} " + " ".join(f"{c:>9}" for c in columns) + f" {'semi-AE':>8} "
        f"{'semi-lab':>8} | {'MSE PCA':>8} {'AE':>8} {'lab':>8} {'semi':>8} | seconds "
        + " ".join(f"{c:>9}" for c in columns)
    )
    print(header)
    print("-" * len(header))
    results = []
    for seed in range(args.seeds):
        rows = stratified_rows(y_train, args.n_labelled, seed)
        y_semi = np.full(len(y_train), -1, dtype=np.int64)
        y_semi[rows] = y_train[rows]
        fits = {
            "PCA": (PCA(n_components=k, random_state=seed), X_train, None),
            "AE": (
                AutoencoderTransformer(n_components=k, random_state=seed, **extra),
                X_train,
                None,
            ),
        }
        if has_target_weight():
            sup = dict(n_components=k, random_state=seed, target_weight=args.target_weight)
            fits["AE+y lab"] = (
                AutoencoderTransformer(**sup, **extra),
                X_train[rows],
                y_train[rows],
            )
            fits["AE+y semi"] = (AutoencoderTransformer(**sup, **extra), X_train, y_semi)
        row = {}
        for name in columns:
            if name not in fits:
                row[name] = (math.nan, math.nan, math.nan)
                continue
            est, X, y = fits[name]
            start = time.perf_counter()
            if y is None:
                est.fit(X)
            else:
                est.fit(X, y)
            seconds = time.perf_counter() - start
            acc = accuracy(
                est.transform(X_train[rows]), y_train[rows], est.transform(X_test), y_test
            )
            row[name] = (acc, mse(est, X_test), seconds)
        results.append(row)
        print_semi(str(seed), row, columns)
    mean = mean_row(results)
    if args.seeds > 1:
        print_semi("mean", mean, columns)
    print(
        "\nsemi-AE, semi-lab: the semi-supervised codes' accuracy minus the unsupervised "
        "codes' (AE) and minus the supervised fit on the labelled rows alone's (AE+y lab)."
    )
    if math.isnan(mean["AE+y semi"][0]):
        print("targets: cannot tell (this skae has no target_weight)")
        return
    over_ae = mean["AE+y semi"][0] - mean["AE"][0]
    over_lab = mean["AE+y semi"][0] - mean["AE+y lab"][0]
    ok = over_ae >= 0.02 and over_lab >= 0.02
    print(
        f"targets (means over seeds): semi-supervised ahead of both by >= 0.02: "
        f"{'holds' if ok else 'MISSED'} ({over_ae:+.4f} over AE, {over_lab:+.4f} over AE+y "
        "on the labelled rows alone)"
    )


def print_semi(seed, row, columns):
    acc = [row[c][0] for c in columns]
    print(
        f"{seed:>4} "
        + " ".join(fmt(a, "9.4f") for a in acc)
        + f" {fmt(acc[3] - acc[1], '+8.4f')} {fmt(acc[3] - acc[2], '+8.4f')} | "
        + " ".join(fmt(row[c][1], "8.4g") for c in columns)
        + " | seconds "
        + " ".join(fmt(row[c][2], "9.1f") for c in columns),
        flush=True,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--k", type=int, nargs="+", default=None, help="only rows of these k")
    parser.add_argument(
        "--reducers", nargs="+", choices=REDUCERS, default=list(REDUCERS), help="only these"
    )
    parser.add_argument("--seeds", type=int, default=3, help="model seeds 0 .. SEEDS - 1")
    parser.add_argument("--data-home", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument(
        "--n-train", type=int, default=None, help="MNIST: the first N training images only"
    )
    parser.add_argument(
        "--nca-rows", type=int, default=5000, help="NCA's training rows at most (stratified)"
    )
    parser.add_argument("--umap-weight", type=float, default=0.5, help="UMAP's target_weight")
    parser.add_argument("--target-weight", type=float, default=1.0, help="AE+y's target_weight")
    parser.add_argument("--max-epochs", type=int, default=None, help="the AEs' max_epochs")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--semi", action="store_true", help="the semi-supervised MNIST rows")
    parser.add_argument("--n-labelled", type=int, default=600, help="--semi: labelled rows")
    parser.add_argument("--semi-k", type=int, default=8, help="--semi: n_components")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.semi:
        semi_table(args)
    else:
        main_table(args)


if __name__ == "__main__":
    main()
