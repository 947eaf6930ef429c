"""The training defaults against the previous ones, on data sets other than MNIST.

``--previous 0.2`` (the default) compares against skae 0.2's defaults, that
is ``pca_start=False``: the network trained from a random start, without
PCA's solution beside it or the held-out rows that choose its epoch (user
guide, "The PCA start"). ``--previous 0.1`` compares against skae 0.1's, written
out below (also without the PCA start).

skae 0.1 trained at a constant learning rate of 1e-3 (``lr_schedule=
"constant"``), a convolutional network for at most 200 epochs. The defaults
now warm up over 5 % of the planned steps, hold the rate until 70 % and
anneal it to 0 (``lr_schedule="cooldown"``), at a peak rate that grows with
the training rows (``lr="auto"``: 1e-3 up to 5 000 rows, ``1e-3 * n_train /
5 000`` beyond, at most 3e-3), and a convolutional network on a small set
trains up to 400 epochs (``max_epochs="auto"``: 5 000 updates in either
case on larger sets). This script fits both, all other parameters at their
defaults, on:

* ``digits`` -- scikit-learn's 8 x 8 digits, scaled to [0, 1];
* ``photo-patches`` -- 28 x 28 patches of scikit-image's bundled photographs
  (:func:`skae.datasets.load_photo_patches`, no download), pixels in [0, 1],
  2 000 of them (``--n-patches``) and, for the dense network only, 20 000
  (``--n-large-patches``: 15 000 training rows, where ``"auto"`` gives 3e-3);
* ``breast-cancer``, ``wine``, ``diabetes`` -- scikit-learn's bundled
  tables, standardised (``StandardScaler`` fitted on the training rows).

Each set is split 75 / 25 (``random_state`` = seed); the script prints the
test reconstruction MSE of PCA, of the previous defaults and of the new
defaults (each as a multiple of PCA's), averaged over ``--seeds`` splits and
seeds, and the new defaults' ratio to the previous ones (below 1: better),
beside twice the standard error of the per-seed ratios (each seed fits both
on the same split): a ratio above 1 by less than that is reported as a tie,
by more as worse.
The dense ``AutoencoderTransformer`` runs on every set, the
``ConvolutionalAutoencoder`` on the small image sets. Run from the
repository root (about 25 minutes on 2 cores)::

    python benchmarks/bench_defaults.py --threads 2

``--mnist`` adds the dense network on MNIST (60 000 / 10 000, 32 codes, one
seed; about 8 minutes more; ``--mnist-only`` for those rows alone): the
previous and new defaults, the new schedule at the old ``lr=1e-3``, and the
one-cycle schedule at 3e-3.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer, ConvolutionalAutoencoder
from skae.datasets import load_mnist, load_photo_patches

ROOT = Path(__file__).resolve().parents[1]

# The previous defaults, written out; everything else is the estimators' default.
PREVIOUS = {"lr": 1e-3, "lr_schedule": "constant", "pca_start": False}
SKAE_0_2 = {"pca_start": False}
MNIST_VARIANTS = (
    ("previous: constant, lr 1e-3", PREVIOUS),
    ("new default: cooldown, lr auto", {}),
    ("cooldown, lr 1e-3", {"lr": 1e-3}),
    ("onecycle, lr 3e-3", {"lr": 3e-3, "lr_schedule": "onecycle"}),
)
DENSE = ("dense", AutoencoderTransformer)
CONV = ("conv", ConvolutionalAutoencoder)


def data_sets(n_patches, n_large_patches=0):
    """(name, X, n_components, image, networks) for each data set."""
    digits = load_digits().data.astype(np.float32) / 16.0
    yield "digits", digits, 8, True, (DENSE, CONV)
    for n, networks in ((n_patches, (DENSE, CONV)), (n_large_patches, (DENSE,))):
        if n:
            patches = load_photo_patches(n_patches=n).reshape(n, -1)
            yield f"patches-{n // 1000}k", patches, 32, True, networks
    for name, loader, k in (
        ("breast-cancer", load_breast_cancer, 5),
        ("wine", load_wine, 4),
        ("diabetes", load_diabetes, 3),
    ):
        yield name, loader().data.astype(np.float32), k, False, (DENSE,)


def paired_noise(previous, new):
    """Twice the standard error of the per-seed ratios ``new / previous``.

    Each seed fits both defaults on the same split, so the ratios are
    paired; with one seed there is no estimate of the noise (0).
    """
    ratios = np.asarray(new) / np.asarray(previous)
    if len(ratios) < 2:
        return 0.0
    return float(2 * ratios.std(ddof=1) / np.sqrt(len(ratios)))


def previous_defaults(network, n_train, release="0.2"):
    """The training defaults of skae ``release`` for ``network`` on ``n_train`` rows.

    skae 0.2: no PCA start. skae 0.1: also a constant rate of 1e-3 and, for
    the convolutional network, skae 0.1's ``max_epochs="auto"``, 5 000
    updates of 128 rows clipped to [10, 200] epochs (since raised to 400
    epochs for small sets).
    """
    if release == "0.2":
        return SKAE_0_2
    if network != "conv":
        return PREVIOUS
    epochs = int(np.clip(math.ceil(5_000 / math.ceil(n_train / 128)), 10, 200))
    return {**PREVIOUS, "max_epochs": epochs}


def test_mse(model, X_test):
    return float(np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2))


def mnist_rows(data_home):
    """Test MSE of the dense network on MNIST under each of ``MNIST_VARIANTS``."""
    X, _ = load_mnist(data_home, return_X_y=True)
    X_test, _ = load_mnist(data_home, subset="test", return_X_y=True)
    X, X_test = np.asarray(X, np.float32), np.asarray(X_test, np.float32)
    pca = test_mse(PCA(32).fit(X), X_test)
    print(f"\nMNIST, dense, n_components=32 (PCA test MSE {pca:.5f})")
    print(f"{'schedule':<32} {'lr_':>7} {'test MSE':>9} {'x PCA':>6} {'epochs':>6} {'fit s':>6}")
    for name, params in MNIST_VARIANTS:
        model = AutoencoderTransformer(n_components=32, random_state=0, **params)
        start = time.perf_counter()
        model.fit(X)
        elapsed = time.perf_counter() - start
        mse = test_mse(model, X_test)
        print(
            f"{name:<32} {model.lr_:>7.1e} {mse:>9.5f} {mse / pca:>6.3f} {model.n_iter_:>6} "
            f"{elapsed:>6.1f}",
            flush=True,
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=2, help="splits and seeds averaged")
    parser.add_argument("--n-patches", type=int, default=2000, help="photograph patches")
    parser.add_argument(
        "--n-large-patches", type=int, default=20_000, help="patches for the dense rows (0: none)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument(
        "--previous", choices=("0.1", "0.2"), default="0.2", help="the release compared against"
    )
    parser.add_argument(
        "--datasets", nargs="+", default=None, help="only these data sets (e.g. wine diabetes)"
    )
    parser.add_argument("--mnist", action="store_true", help="add the MNIST rows")
    parser.add_argument("--mnist-only", action="store_true", help="only the MNIST rows")
    parser.add_argument("--data-home", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.mnist_only:
        mnist_rows(args.data_home)
        return

    header = (
        f"{'data set':<14} {'network':<6} {'n x d':>11} {'k':>3} {'PCA MSE':>9} "
        f"{'previous':>9} {'new':>7} {'new lr_':>8} {'new/prev':>9} {'2 SE':>6} {'prev s':>7} "
        f"{'new s':>6}"
    )
    print(header)
    print("-" * len(header))
    worse, within_noise = [], []
    for name, X, k, image, networks in data_sets(args.n_patches, args.n_large_patches):
        if args.datasets and name not in args.datasets:
            continue
        for network, cls in networks:
            pca, prev, new, t_prev, t_new = [], [], [], 0.0, 0.0
            for seed in range(args.seeds):
                X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed)
                if not image:
                    scaler = StandardScaler().fit(X_train)
                    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
                pca.append(test_mse(PCA(k).fit(X_train), X_test))
                previous = previous_defaults(network, len(X_train), args.previous)
                for params, out in ((previous, prev), ({}, new)):
                    model = cls(n_components=k, random_state=seed, **params)
                    start = time.perf_counter()
                    model.fit(X_train)
                    elapsed = time.perf_counter() - start
                    if params:
                        t_prev += elapsed
                    else:
                        t_new += elapsed
                    out.append(test_mse(model, X_test))
                    new_lr = model.lr_
            p, a, b = np.mean(pca), np.mean(prev), np.mean(new)
            noise = paired_noise(prev, new)
            print(
                f"{name:<14} {network:<6} {f'{X.shape[0]}x{X.shape[1]}':>11} {k:>3} "
                f"{p:>9.5f} {a / p:>8.3f}x {b / p:>6.3f}x {new_lr:>8.1e} {b / a:>9.3f} "
                f"{noise:>6.3f} {t_prev / args.seeds:>7.1f} {t_new / args.seeds:>6.1f}",
                flush=True,
            )
            if b / a - 1 > noise:
                worse.append(f"{name} ({network})")
            elif b > a:
                within_noise.append(f"{name} ({network}, {b / a:.3f})")
    print()
    written = previous_defaults("dense", 0, args.previous)
    print(f"previous: skae {args.previous}'s defaults, written out: {written}")
    print(
        "MSE columns: test reconstruction MSE, 'previous' and 'new' as multiples of PCA's; "
        f"mean over {args.seeds} seeds; s: mean fit seconds."
    )
    print(
        "new/prev: ratio of the mean test MSEs; 2 SE: twice the standard error of the per-seed "
        "ratios (same split and seed), the noise a difference must exceed to count."
    )
    if within_noise:
        print("Higher, but within 2 SE (a tie): " + ", ".join(within_noise))
    if worse:
        print("The new defaults are worse (beyond 2 SE) on: " + ", ".join(worse))
    else:
        print("The new defaults are at least as good as the previous ones on every data set.")
    if args.mnist:
        mnist_rows(args.data_home)


if __name__ == "__main__":
    main()
