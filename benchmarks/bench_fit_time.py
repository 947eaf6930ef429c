"""Fit time of ``skae.AutoencoderTransformer`` against a plain PyTorch loop.

Trains the same network -- 784-256-128-32-128-256-784, ReLU, linear code,
sigmoid output with binary cross-entropy on logits, Adam (lr 1e-3, torch's
fused kernel, as skae runs it), batch size 128, a fixed number of epochs and
no early stopping -- three ways, in the same process and on the same data
(MNIST training images by default):

``skae``
    ``AutoencoderTransformer(...).fit(X)``: validation, normalisation, the
    skorch ``AutoencoderNet`` with index batching, history and callbacks.
``plain``
    A hand-written loop: the data as one float32 tensor, ``torch.randperm``
    each epoch, index slicing, ``zero_grad`` / ``backward`` / ``step``. It is
    seeded exactly as skae seeds its fit: same initial weights, same batches.
    Its loss is ``F.binary_cross_entropy_with_logits(..., reduction="mean")``
    while skae's criterion averages per sample and then over the batch, a
    different summation order; the last digits of the gradients differ and
    the final losses agree to about 1e-4, not bit for bit.
``skorch-stock`` (reference, ``--no-stock`` to skip)
    skorch's own ``NeuralNet`` with its default ``DataLoader`` (one sample
    at a time, collated into batches), the same module and a small criterion
    wrapper: what skae's index batching avoids.

Each fit is timed end to end (``time.perf_counter``) ``--repeats`` times; the
order of the methods rotates between repeats and the median is reported,
with the ratio of each median to the plain loop's. Run from the repository
root::

    python benchmarks/bench_fit_time.py --epochs 3 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from skorch import NeuralNet
from torch import nn
from torch.nn import functional as F

import skae
from skae._device import torch_seed
from skae._nn import AutoencoderModule, DenseDecoder, DenseEncoder
from skae.datasets import load_mnist

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_HOME = REPO_ROOT / ".." / "shared" / "data" / "mnist"

HIDDEN = (256, 128)
N_COMPONENTS = 32
BATCH_SIZE = 128
LR = 1e-3
RANDOM_STATE = 0


def build_module(n_features):
    """The module skae's ``AutoencoderTransformer`` builds for these settings."""
    return AutoencoderModule(
        DenseEncoder(n_features, HIDDEN, N_COMPONENTS, "relu"),
        DenseDecoder(N_COMPONENTS, HIDDEN, n_features, "relu"),
    )


# --------------------------------------------------------------- the fits
def fit_skae(X, epochs):
    ae = skae.AutoencoderTransformer(
        n_components=N_COMPONENTS,
        hidden_layer_sizes=HIDDEN,
        activation="relu",
        output_activation="sigmoid",
        max_epochs=epochs,
        batch_size=BATCH_SIZE,
        lr=LR,
        optimizer="adam",
        device="cpu",
        early_stopping=False,
        n_iter_no_change=epochs + 1,
        random_state=RANDOM_STATE,
    )
    ae.fit(X)
    assert ae.n_iter_ == epochs, (ae.n_iter_, epochs)
    return ae.loss_curve_[-1]


def fit_plain(X, epochs):
    """A hand-written PyTorch loop, seeded as skae seeds its fit."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(torch_seed(RANDOM_STATE))
        Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        n = len(Xt)
        module = build_module(Xt.shape[1])
        optimizer = torch.optim.Adam(module.parameters(), lr=LR, fused=True)
        module.train()
        for _ in range(epochs):
            order = torch.randperm(n)
            total = 0.0
            for start in range(0, n, BATCH_SIZE):
                xb = Xt[order[start : start + BATCH_SIZE]]
                optimizer.zero_grad()
                recon = module(xb)["reconstruction"]
                loss = F.binary_cross_entropy_with_logits(recon, xb)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(xb)
            epoch_loss = total / n
    return epoch_loss


class StockLoss(nn.Module):
    """Criterion for the stock ``NeuralNet``: BCE on the module's logits."""

    def forward(self, y_pred, y_true):
        return F.binary_cross_entropy_with_logits(y_pred["reconstruction"], y_true)


def fit_stock(X, epochs):
    """skorch's ``NeuralNet`` with its default ``DataLoader``, same network."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(torch_seed(RANDOM_STATE))
        net = NeuralNet(
            module=build_module(X.shape[1]),
            criterion=StockLoss,
            optimizer=torch.optim.Adam,
            optimizer__fused=True,
            lr=LR,
            max_epochs=epochs,
            batch_size=BATCH_SIZE,
            train_split=None,
            iterator_train__shuffle=True,
            device="cpu",
            verbose=0,
        )
        net.fit(X, X)
    return net.history[-1, "train_loss"]


METHODS = {"skae": fit_skae, "plain": fit_plain, "skorch-stock": fit_stock}


# ------------------------------------------------------------------ driver
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Fit time of skae.AutoencoderTransformer vs a plain PyTorch loop on MNIST."
    )
    parser.add_argument(
        "--n-samples",
        type=int,
        default=None,
        help="use the first N training images (default: all 60 000)",
    )
    parser.add_argument("--epochs", type=int, default=5, help="epochs per fit (default: 5)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="timed fits per method; the median is reported (default: 3)",
    )
    parser.add_argument(
        "--data-home",
        type=Path,
        default=DEFAULT_DATA_HOME,
        help="folder with the MNIST IDX .gz files (default: ../shared/data/mnist "
        "relative to the repository root)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch.set_num_threads(N) (default: torch's own choice)",
    )
    parser.add_argument(
        "--no-stock",
        action="store_true",
        help="skip the reference row for skorch's stock NeuralNet + DataLoader",
    )
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.repeats < 1:
        parser.error("--epochs and --repeats must be at least 1")
    if args.n_samples is not None and args.n_samples < 1:
        parser.error("--n-samples must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    X, _ = load_mnist(args.data_home, return_X_y=True, download_if_missing=False)
    if args.n_samples is not None:
        X = X[: args.n_samples]
    X = np.ascontiguousarray(X, dtype=np.float32)

    names = ["skae", "plain"] + ([] if args.no_stock else ["skorch-stock"])
    print(
        f"MNIST {X.shape[0]} x {X.shape[1]}, {args.epochs} epochs, batch {BATCH_SIZE}, "
        f"{args.repeats} repeats, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device cpu, "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )

    # Warm-up (untimed): thread pools, lazy imports, allocator.
    for name in names:
        METHODS[name](X[: min(len(X), 2048)], 1)

    times = {name: [] for name in names}
    cpu_times = {name: [] for name in names}
    losses = {name: [] for name in names}
    for r in range(args.repeats):
        # Rotate the order so no method always runs first (skae and plain
        # swap places between consecutive repeats).
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            t0, c0 = time.perf_counter(), time.process_time()
            loss = METHODS[name](X, args.epochs)
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            times[name].append(elapsed)
            cpu_times[name].append(cpu)
            losses[name].append(float(loss))
            print(
                f"  repeat {r + 1}: {name:<13} {elapsed:8.2f} s wall {cpu:8.2f} s cpu  "
                f"loss {loss:.6f}",
                flush=True,
            )

    wall = {name: statistics.median(times[name]) for name in names}
    cpu = {name: statistics.median(cpu_times[name]) for name in names}
    print()
    print(
        f"{'method':<13} {'median fit (s)':>15} {'final train loss':>17} {'/ plain':>8}"
        f" {'median cpu (s)':>15} {'/ plain':>8}"
    )
    for name in names:
        print(
            f"{name:<13} {wall[name]:>15.2f} {losses[name][-1]:>17.6f} "
            f"{wall[name] / wall['plain']:>8.3f} {cpu[name]:>15.2f} "
            f"{cpu[name] / cpu['plain']:>8.3f}"
        )
    ratio = wall["skae"] / wall["plain"]
    print()
    print(
        f"skae / plain = {ratio:.3f} (wall-clock medians; CPU time: "
        f"{cpu['skae'] / cpu['plain']:.3f})"
    )
    return ratio


if __name__ == "__main__":
    main()
