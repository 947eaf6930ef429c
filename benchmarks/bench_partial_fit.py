"""Training on chunks: ``partial_fit`` against ``fit`` on MNIST.

``AutoencoderTransformer(n_components=32)`` with default parameters,
trained two ways on the 60 000 MNIST training images, in the same run:

* ``fit``: one call on all the training images (the baseline);
* ``partial_fit``: the training images cut into consecutive chunks of
  ``--chunk-size`` rows (60 chunks of 1 000), one ``partial_fit`` call per
  chunk, for as many passes over all chunks as ``fit`` ran epochs
  (``fit``'s ``n_iter_``), the order of the chunks shuffled between passes
  by a seeded generator. The first chunk sets the input scaling. It trains
  at the constant rate ``partial_fit`` uses (``lr="auto"``: 1e-3);
* ``partial_fit``, rate per call: the same calls, each given its rate from
  ``fit``'s schedule over the calls (``skae.learning_rates(lr_schedule,
  fit's lr_, n_calls)``, passed by ``set_params(lr=...)`` before the call),
  as the user guide suggests where the number of calls is known.

Both with ``random_state=0``. The table gives the test reconstruction MSE
on the 10 000 test images (``-score``), its ratio to ``fit``'s, the number
of epochs (passes) and optimizer steps, and the wall-clock training time.
The issue's target: ``partial_fit``'s test MSE within 5 % of ``fit``'s.

Run from the repository root::

    python benchmarks/bench_partial_fit.py --data-home ../shared/data/mnist --threads 1
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np
import torch

from skae import AutoencoderTransformer, learning_rates
from skae.datasets import load_mnist

ROOT = Path(__file__).resolve().parents[1]


def n_steps(estimator):
    """Optimizer steps run: training batches over the net's whole history."""
    return sum(len(row["batches"]) for row in estimator.net_.history)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--n-train", type=int, default=None, help="training images (all)")
    parser.add_argument("--n-test", type=int, default=None, help="test images (all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the chunk order")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    X_train, _ = load_mnist(args.data_home, subset="train", return_X_y=True)
    X_test, _ = load_mnist(args.data_home, subset="test", return_X_y=True)
    X_train, X_test = X_train[: args.n_train], X_test[: args.n_test]
    chunks = [
        slice(start, start + args.chunk_size) for start in range(0, len(X_train), args.chunk_size)
    ]
    print(
        f"MNIST: {len(X_train)} training images in {len(chunks)} chunks of "
        f"{args.chunk_size}, {len(X_test)} test images; torch threads "
        f"{torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )

    def make():
        return AutoencoderTransformer(n_components=args.n_components, random_state=0)

    start = time.perf_counter()
    fitted = make().fit(X_train)
    fit_seconds = time.perf_counter() - start
    n_passes = fitted.n_iter_
    print(f"  fit: {n_passes} epochs, {fit_seconds:.1f} s", flush=True)

    def train_on_chunks(rates=None):
        """partial_fit over the chunks for n_passes passes (the same chunk
        order for every call of this function), at the constant rate or at
        ``rates[call]``."""
        rng = np.random.default_rng(args.seed)
        estimator = make()
        order = [i for _ in range(n_passes) for i in rng.permutation(len(chunks))]
        start = time.perf_counter()
        for call, i in enumerate(order):
            if rates is not None:
                estimator.set_params(lr=rates[call])
            estimator.partial_fit(X_train[chunks[i]])
        seconds = time.perf_counter() - start
        print(
            f"  partial_fit{'' if rates is None else ', rate per call'}: "
            f"{estimator.n_iter_} calls, {seconds:.1f} s "
            f"({1000 * seconds / estimator.n_iter_:.0f} ms a call)",
            flush=True,
        )
        return estimator, seconds

    incremental, partial_seconds = train_on_chunks()
    rates = learning_rates(fitted.lr_schedule, fitted.lr_, n_passes * len(chunks))
    scheduled, scheduled_seconds = train_on_chunks(rates)

    rows = [
        ("fit", fitted, n_passes, fit_seconds),
        (f"partial_fit ({len(chunks)} chunks)", incremental, n_passes, partial_seconds),
        ("  rate per call", scheduled, n_passes, scheduled_seconds),
    ]
    baseline = -fitted.score(X_test)
    print(
        f"\n{'method':<28}{'epochs':>7}{'steps':>8}{'test MSE':>11}{'vs fit':>8}"
        f"{'train s':>9}{'vs fit':>8}"
    )
    for name, estimator, epochs, seconds in rows:
        mse = -estimator.score(X_test)
        print(
            f"{name:<28}{epochs:>7}{n_steps(estimator):>8}{mse:>11.5f}{mse / baseline:>8.3f}"
            f"{seconds:>9.1f}{seconds / fit_seconds:>8.2f}"
        )
    print()
    for name, estimator in (("at the constant rate", incremental), ("rate per call", scheduled)):
        ratio = -estimator.score(X_test) / baseline
        verdict = "within" if math.isfinite(ratio) and ratio <= 1.05 else "NOT within"
        print(
            f"partial_fit's test MSE ({name}) is {verdict} 5 % of fit's "
            f"({100 * (ratio - 1):+.1f} %)."
        )


if __name__ == "__main__":
    main()
