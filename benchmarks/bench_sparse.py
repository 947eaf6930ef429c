"""Peak memory of ``fit`` and ``transform`` on a large scipy.sparse CSR matrix.

Builds a ``--n-rows`` x ``--n-features`` CSR matrix of float32 values in
[0, 1) at ``--density`` (by default 100 000 x 20 000 at 0.001: 2 million
stored values, about 16 MiB, where the dense matrix would take 7.5 GiB),
fits an :class:`skae.AutoencoderTransformer` on it for one epoch
(``max_epochs=1``; ``early_stopping=False``, the default) and transforms it,
with the PCA start (``pca_start=True``, the default) and without it
(``pca_start=False``): both by default, each in a fresh process (so that
neither run's peak benefits from memory the other left to the allocator),
one with ``--pca-start`` or ``--no-pca-start``.
Each call's peak resident memory rise is measured as
``benchmarks/bench_memory.py`` measures it: after a warm-up call on a few
rows (torch's one-off costs), ``/proc/self/clear_refs`` resets the
kernel's record of the peak (``VmHWM``), and the peak after the call, minus
the resident memory just before it, is the rise (Linux only).

Sparse input is densified one mini-batch (training) or one chunk of rows
(inference) at a time, so the rise is the network, its optimizer state, a
few batches and the output, not the dense matrix; the PCA start is computed
from the sparse matrix itself (:mod:`skae._pca_start`). The script prints
the matrix's bytes (data + indices + indptr), each rise, the fit and
transform times, and the limit ``3 x matrix bytes + 300 MiB`` with pass or
fail; with both runs, the time of fit + transform with the start over the
time without it, against the limit 1.5.

Run from the repository root (a few minutes on 2 cores at full size)::

    python benchmarks/bench_sparse.py
    python benchmarks/bench_sparse.py --no-pca-start  # without the start only
    python benchmarks/bench_sparse.py --n-rows 5000 --n-features 2000 --density 0.01  # quick
"""

from __future__ import annotations

import argparse
import gc
import re
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sp
from bench_memory import _status_kib

MIB = 2**20


def make_X(n_rows, n_features, density, seed=0):
    """A CSR matrix of uniform float32 values in [0, 1) (TF-IDF-like), with
    ``density * n_rows * n_features`` stored values at random positions."""
    return sp.random(
        n_rows,
        n_features,
        density=density,
        format="csr",
        dtype=np.float32,
        random_state=np.random.default_rng(seed),
    )


def matrix_bytes(X):
    return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes


def peak_rise(call, *args):
    """``call(*args)``'s result, the rise of the peak resident memory it caused
    (bytes), and its wall-clock time (seconds)."""
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak resident set size (VmHWM)
    before = _status_kib("VmRSS")
    start = time.perf_counter()
    out = call(*args)
    elapsed = time.perf_counter() - start
    return out, (_status_kib("VmHWM") - before) * 1024, elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-rows", type=int, default=100_000)
    parser.add_argument("--n-features", type=int, default=20_000)
    parser.add_argument("--density", type=float, default=0.001)
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--pca-start",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="only with (--pca-start) or only without (--no-pca-start) the PCA start; "
        "both by default, each in a fresh process",
    )
    parser.add_argument("--no-header", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pca_start is None:
        both(sys.argv[1:] if argv is None else list(argv))
        return

    import torch

    torch.set_num_threads(args.threads)
    from skae import AutoencoderTransformer

    def estimator(pca_start=True):
        return AutoencoderTransformer(
            n_components=args.n_components,
            max_epochs=1,
            random_state=0,
            device="cpu",
            pca_start=pca_start,
        )

    X = make_X(args.n_rows, args.n_features, args.density)
    size = matrix_bytes(X)
    limit = 3 * size + 300 * MIB
    dense = args.n_rows * args.n_features * 4
    if not args.no_header:
        print(
            f"X: {args.n_rows} x {args.n_features} CSR, density {args.density:g}, "
            f"{X.nnz} stored float32 values, indices {X.indices.dtype}"
        )
        print(
            f"matrix bytes (data + indices + indptr): {size} ({size / MIB:.1f} MiB); "
            f"dense float32 would be {dense / MIB:.0f} MiB"
        )
        print(f"limit: 3 x matrix bytes + 300 MiB = {limit / MIB:.1f} MiB\n")

    # Warm-up on a few rows: torch's thread pools, kernels and lazy imports.
    warm = estimator(args.pca_start).fit(X[:2000])
    warm.transform(X[:2000])
    del warm

    ae, fit_rise, fit_time = peak_rise(estimator(args.pca_start).fit, X)
    Z, transform_rise, transform_time = peak_rise(ae.transform, X)
    print(f"pca_start={args.pca_start}")
    print(f"  {'method':<10} {'peak rise MiB':>14} {'time s':>8}  verdict")
    for name, rise, elapsed in (
        ("fit", fit_rise, fit_time),
        ("transform", transform_rise, transform_time),
    ):
        verdict = "pass" if rise <= limit else "FAIL"
        print(f"  {name:<10} {rise / MIB:>14.1f} {elapsed:>8.1f}  {verdict}")
    print(
        f"  fit: {ae.n_iter_} epoch, final training loss {ae.loss_curve_[-1]:.5f}, "
        f"output_activation_={ae.output_activation_!r}, "
        f"pca_start_={getattr(ae, 'pca_start_', None)!r}; "
        f"codes {Z.shape} {Z.dtype} ({Z.nbytes / MIB:.1f} MiB)"
    )
    print(f"  fit + transform: {fit_time + transform_time:.1f} s\n")


def both(argv):
    """Run without, then with the start, each in a fresh process; print both
    and the ratio of their times."""
    totals = {}
    for switch in ("--no-pca-start", "--pca-start"):
        cmd = [sys.executable, __file__, *argv, switch]
        if totals:
            cmd.append("--no-header")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        print(out, end="", flush=True)
        totals[switch] = float(re.search(r"fit \+ transform: ([0-9.]+) s", out).group(1))
    ratio = totals["--pca-start"] / totals["--no-pca-start"]
    verdict = "pass" if ratio <= 1.5 else "FAIL"
    print(
        f"fit + transform with the start / without: {totals['--pca-start']:.1f} s / "
        f"{totals['--no-pca-start']:.1f} s = {ratio:.2f} (limit 1.5)  {verdict}"
    )


if __name__ == "__main__":
    main()
