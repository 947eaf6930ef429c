"""Hinton & Salakhutdinov's MNIST table (Science, 2006, Fig. 2B), reproduced with skae.

The paper reports, on the 10 000 MNIST test images at 30 dimensions, the
average squared reconstruction error per image -- summed over the 784
pixels, intensities in [0, 1]: PCA 13.87, logistic PCA 8.01, their deep
autoencoder (784-1000-500-250-30, pretrained as a stack of RBMs, then
fine-tuned) 3.00.

This script prints the same measure for PCA (``PCA(n_components=30)``,
scikit-learn) and for a skae estimator at ``n_components=30`` trained on the
60 000 training images within a time budget (``--budget-minutes``), beside
the paper's numbers. The budget sets ``max_epochs``: one timed epoch on a
tenth of the training images gives the seconds per epoch, and the fit gets
as many epochs as fit in 90 % of the budget (after an untimed warm-up fit
on 256 images), so that its learning-rate
schedule (``lr_schedule``, annealed over the planned epochs) completes.
Every other parameter is the estimator's default.

``--estimator conv`` (the default) is :class:`skae.ConvolutionalAutoencoder`;
``--estimator dense`` is :class:`skae.AutoencoderTransformer` with the
paper's layer sizes, ``hidden_layer_sizes=(1000, 500, 250)``. Run from the
repository root, with the MNIST IDX files in ``../shared/data/mnist``::

    python benchmarks/bench_hinton2006.py --budget-minutes 10
    python benchmarks/bench_hinton2006.py --budget-minutes 30
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer, ConvolutionalAutoencoder
from skae.datasets import load_mnist

ROOT = Path(__file__).resolve().parents[1]
N_COMPONENTS = 30
# Fig. 2B of Hinton & Salakhutdinov (2006): SSE per MNIST test image at 30 dims.
PAPER = (
    ("PCA (paper)", 13.87),
    ("logistic PCA (paper)", 8.01),
    ("deep autoencoder 784-1000-500-250-30, RBM-pretrained (paper)", 3.00),
)


def sse_per_image(X, X_hat):
    """Average over images of the squared error summed over pixels."""
    return float(np.mean(np.sum((np.asarray(X_hat, np.float64) - X) ** 2, axis=1)))


def build(kind, max_epochs, device):
    params = {"n_components": N_COMPONENTS, "random_state": 0, "device": device}
    if kind == "dense":
        return AutoencoderTransformer(
            hidden_layer_sizes=(1000, 500, 250), max_epochs=max_epochs, **params
        )
    return ConvolutionalAutoencoder(max_epochs=max_epochs, **params)


def epochs_in_budget(kind, X, budget_s, device):
    """Epochs of ``kind`` on ``X`` that fit in 90 % of ``budget_s`` seconds."""
    probe = X[: len(X) // 10]
    build(kind, 1, device).fit(X[:256])  # untimed: a process's one-off costs
    start = time.perf_counter()
    build(kind, 1, device).fit(probe)
    per_epoch = (time.perf_counter() - start) * len(X) / len(probe)
    return max(1, math.floor(0.9 * budget_s / per_epoch)), per_epoch


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--budget-minutes", type=float, default=10.0)
    parser.add_argument("--estimator", choices=("conv", "dense"), default="conv")
    parser.add_argument("--n-train", type=int, default=None, help="training images (all)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    X_train, _ = load_mnist(args.data_home, subset="train", return_X_y=True)
    X_test, _ = load_mnist(args.data_home, subset="test", return_X_y=True)
    X_train = np.asarray(X_train[: args.n_train], np.float32)
    X_test = np.asarray(X_test, np.float32)
    print(
        f"MNIST: {len(X_train)} training / {len(X_test)} test images; torch threads "
        f"{torch.get_num_threads()}; load average {os.getloadavg()[0]:.2f}"
    )

    pca = PCA(N_COMPONENTS, random_state=0).fit(X_train)
    pca_sse = sse_per_image(X_test, pca.inverse_transform(pca.transform(X_test)))

    budget_s = 60.0 * args.budget_minutes
    max_epochs, per_epoch = epochs_in_budget(args.estimator, X_train, budget_s, args.device)
    model = build(args.estimator, max_epochs, args.device)
    start = time.perf_counter()
    model.fit(X_train)
    fit_s = time.perf_counter() - start
    model_sse = sse_per_image(X_test, model.reconstruct(X_test))

    params = model.get_params()
    shown = ("hidden_layer_sizes", "channels", "kernel_size", "upsampling", "activation")
    net = ", ".join(f"{k}={params[k]!r}" for k in shown if k in params)
    config = (
        f"{type(model).__name__}(n_components={N_COMPONENTS}, max_epochs={max_epochs}); "
        f"defaults: {net}, batch_size={params['batch_size']}, lr={params['lr']}, "
        f"lr_schedule={params['lr_schedule']!r}, optimizer={params['optimizer']!r}"
    )
    print(f"\nbudget {args.budget_minutes:g} min: probe {per_epoch:.1f} s an epoch -> {config}")
    print(f"trained {model.n_iter_} epochs in {fit_s:.1f} s ({fit_s / 60:.1f} min)\n")

    print(f"{'MNIST test, 30 dimensions':<64} {'SSE / image':>11}")
    for name, value in PAPER:
        print(f"{name:<64} {value:>11.2f}")
    print(f"{'PCA (scikit-learn, this run)':<64} {pca_sse:>11.2f}")
    name = f"skae {args.estimator}, {args.budget_minutes:g}-minute budget (this run)"
    print(f"{name:<64} {model_sse:>11.2f}")
    verdict = "reaches" if model_sse <= 3.00 else "does not reach"
    print(
        f"\nskae {verdict} the paper's deep autoencoder (3.00): {model_sse:.2f} "
        f"({model_sse / pca_sse:.3f} x PCA's {pca_sse:.2f}), fit {fit_s / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
