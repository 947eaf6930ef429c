"""One ordered fit for every code width, against one fit per width, on MNIST.

Fits ``AutoencoderTransformer(n_components=32, ordered=True,
random_state=0)`` once on the MNIST training images and measures its test
reconstruction MSE (pixels in [0, 1]) through the first 2, 8 and 32 units of
its code (``inverse_transform`` of the code with the later units set to
zero), against separate default fits ``AutoencoderTransformer(n_components=k,
random_state=0)`` at each width, all in the same run. Prints the ratio of
each prefix's MSE to the separate fit's, the fit seconds (the ordered fit
against the separate fit of the same width), and the ordered code's
``explained_variance_ratio_.cumsum()`` at 1, 2, 4, 8, 16, 32 units beside
PCA's on the same training images.

The issue's target: each prefix within 15 % of the separate fit's test MSE,
in at most twice the time of one of those fits. Timings on a shared machine
are noisy; use ``--threads 1`` there (see benchmarks/README.md). Run from the
repository root::

    python benchmarks/bench_ordered.py --threads 1

``--n-train 10000`` gives a quicker run on the first 10 000 training images.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer
from skae.datasets import load_mnist

ROOT = Path(__file__).resolve().parents[1]
MSE_TARGET = 1.15
TIME_TARGET = 2.0


def prefix_mse(estimator, X, width):
    """Test MSE through the first ``width`` units of ``estimator``'s code."""
    Z = estimator.transform(X)
    Z[:, width:] = 0.0
    return float(np.mean((X - estimator.inverse_transform(Z)) ** 2))


def timed_fit(estimator, X):
    start = time.perf_counter()
    estimator.fit(X)
    return estimator, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--n-train", type=int, default=None, help="training images (all)")
    parser.add_argument("--widths", default="2,8,32", help="prefix widths compared")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    widths = [int(w) for w in args.widths.split(",")]
    n_components = max(widths)

    X_train, _ = load_mnist(args.data_home, subset="train", return_X_y=True)
    X_test, _ = load_mnist(args.data_home, subset="test", return_X_y=True)
    X_train = X_train[: args.n_train]
    print(
        f"MNIST: {len(X_train)} training / {len(X_test)} test images; torch threads "
        f"{torch.get_num_threads()}; load average {os.getloadavg()[0]:.2f}"
    )

    def autoencoder(k, **params):
        return AutoencoderTransformer(n_components=k, random_state=0, device=args.device, **params)

    # The separate fit of the widest code first and the ordered fit next,
    # so that the two fits whose times are compared run back to back.
    separate, seconds = {}, {}
    separate[n_components], seconds[n_components] = timed_fit(autoencoder(n_components), X_train)
    ordered, ordered_seconds = timed_fit(autoencoder(n_components, ordered=True), X_train)
    for k in sorted(set(widths) - {n_components}):
        separate[k], seconds[k] = timed_fit(autoencoder(k), X_train)
    pca = PCA(n_components, random_state=0).fit(X_train)

    print(f"\ntest MSE through the first k units (ordered n_components={n_components})")
    print(f"{'k':>4} {'separate fit':>13} {'ordered prefix':>15} {'ratio':>6}  target")
    worst = 0.0
    for k in widths:
        mine, theirs = prefix_mse(ordered, X_test, k), prefix_mse(separate[k], X_test, k)
        ratio = mine / theirs
        worst = max(worst, ratio)
        verdict = "ok" if ratio <= MSE_TARGET else "MISSED"
        print(f"{k:>4} {theirs:>13.5f} {mine:>15.5f} {ratio:>6.2f}  <= {MSE_TARGET:.2f} {verdict}")

    print("\nfit seconds (same run)")
    for k in widths:
        print(f"  separate n_components={k:<3} {seconds[k]:8.1f}  ({separate[k].n_iter_} epochs)")
    time_ratio = ordered_seconds / seconds[n_components]
    verdict = "ok" if time_ratio <= TIME_TARGET else "MISSED"
    print(
        f"  ordered  n_components={n_components:<3} {ordered_seconds:8.1f}  ({ordered.n_iter_} "
        f"epochs; {time_ratio:.2f} x the separate n_components={n_components} fit, target "
        f"<= {TIME_TARGET:.2f} {verdict}; the separate fits took "
        f"{sum(seconds.values()):.1f} s together)"
    )

    print("\nfraction of the training variance reconstructed by the first k units")
    print(f"{'k':>4} {'ordered AE':>11} {'PCA':>7}")
    ordered_curve = np.cumsum(ordered.explained_variance_ratio_)
    pca_curve = np.cumsum(pca.explained_variance_ratio_)
    k = 1
    while k <= n_components:
        print(f"{k:>4} {ordered_curve[k - 1]:>11.3f} {pca_curve[k - 1]:>7.3f}")
        k *= 2
    print(
        f"\nworst MSE ratio {worst:.2f} (target <= {MSE_TARGET:.2f}), time ratio "
        f"{time_ratio:.2f} (target <= {TIME_TARGET:.2f})"
    )


if __name__ == "__main__":
    main()
