"""Peak extra memory of each skae method, as a multiple of the input's size.

For each method, a fresh Python process builds ``X`` (``--n-samples`` x
``--n-features`` float32, low-rank plus noise), resets the kernel's record
of its peak resident memory (``/proc/self/clear_refs``, Linux) after a
warm-up call on 2 000 rows (the process's one-off costs: torch's thread
pools, lazy imports), calls the method once and reads the new peak
(``VmHWM`` in ``/proc/self/status``).
The table gives that peak minus the resident memory just before the call,
in MiB and as a multiple of ``X.nbytes``, next to the size of the method's
output, also as a multiple of ``X``:

* ``fit`` (one epoch; memory does not grow with epochs) with the defaults,
  the PCA start among them (``pca_start=True``: PCA's solution computed a
  chunk of rows at a time, :mod:`skae._pca_start`), with
  ``early_stopping=True``, and without the start (``pca_start=False``), the
  start's cost being the difference;
* ``transform``, ``score_samples``, ``reconstruct`` and
  ``inverse_transform`` of a model fitted beforehand on a subset and loaded
  from a model file (so that the fit's own peak is not in the process);
* the variational autoencoder's ``score_samples`` (a Monte-Carlo ELBO).

The targets of issue 12 are printed beside each row: ``fit`` at most 1.5 x X,
``transform`` and ``score_samples`` at most 0.5 x X, ``reconstruct`` and
``inverse_transform`` at most their output plus 0.5 x X.

Run from the repository root (Linux; about a minute)::

    python benchmarks/bench_memory.py
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

MIB = 2**20

# (row label, estimator, method, extra fit parameters, target as a multiple
# of X beyond the output)
CASES = [
    ("fit", "dense", "fit", {}, 1.5),
    ("fit, early_stopping=True", "dense", "fit", {"early_stopping": True}, 1.5),
    ("fit, pca_start=False", "dense", "fit", {"pca_start": False}, 1.5),
    ("transform", "dense", "transform", {}, 0.5),
    ("score_samples", "dense", "score_samples", {}, 0.5),
    ("reconstruct", "dense", "reconstruct", {}, 0.5),
    ("inverse_transform", "dense", "inverse_transform", {}, 0.5),
    ("VAE score_samples", "vae", "score_samples", {}, 0.5),
]


def make_X(n_samples, n_features, seed=0):
    """Low-rank data plus noise, float32, built without float64 temporaries."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((8, n_features), dtype=np.float32)
    X = np.empty((n_samples, n_features), dtype=np.float32)
    for start in range(0, n_samples, 10_000):
        stop = min(start + 10_000, n_samples)
        codes = rng.standard_normal((stop - start, 8), dtype=np.float32)
        X[start:stop] = codes @ basis
        X[start:stop] += 0.1 * rng.standard_normal((stop - start, n_features), dtype=np.float32)
    return X


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def estimator(kind, **params):
    from skae import AutoencoderTransformer, VariationalAutoencoder

    cls = VariationalAutoencoder if kind == "vae" else AutoencoderTransformer
    return cls(n_components=8, max_epochs=1, random_state=0, device="cpu", **params)


def measure(args, case_index, model_path):
    """In this (fresh) process: the peak extra resident memory of one call."""
    import torch

    torch.set_num_threads(args.threads)
    import skae

    _, kind, method, params, _ = CASES[case_index]
    X = make_X(args.n_samples, args.n_features)
    if method == "fit":
        est, call_args = estimator(kind, **params), (X,)
    else:
        est = skae.load(model_path)
        call_args = (est.transform(X[:1000]),) if method == "inverse_transform" else (X,)
        if method == "inverse_transform":
            # Codes for every row, made before the measurement (small: 8 columns).
            call_args = (np.tile(call_args[0], (len(X) // 1000 + 1, 1))[: len(X)],)
    # Warm up on a few rows: the first fit or inference of a process pays
    # one-off costs (torch's thread pools and kernels, lazy imports; about
    # 85 MiB) that do not grow with X and are not the method's.
    warm_args = tuple(a[:2000] for a in call_args)
    getattr(estimator(kind, **params) if method == "fit" else est, method)(*warm_args)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak resident set size (VmHWM)
    before = _status_kib("VmRSS")
    out = getattr(est, method)(*call_args)
    peak = _status_kib("VmHWM")
    out_bytes = 0 if method == "fit" else np.asarray(out).nbytes
    return {"extra": (peak - before) * 1024, "x": X.nbytes, "out": out_bytes}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-samples", type=int, default=250_000)
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--case", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.case is not None:  # a child process: one measurement, as JSON
        kind = CASES[args.case][1]
        result = measure(args, args.case, Path(args.model_dir) / f"{kind}.safetensors")
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory() as tmp:
        X_small = make_X(5_000, args.n_features)
        for kind in ("dense", "vae"):
            estimator(kind).fit(X_small).save(Path(tmp) / f"{kind}.safetensors")
        print(
            f"Peak extra resident memory, X = {args.n_samples} x {args.n_features} float32 "
            f"({args.n_samples * args.n_features * 4 / MIB:.0f} MiB), each call in a fresh "
            "process\n"
        )
        header = ("method", "extra MiB", "extra / X", "output / X", "target")
        print("{:<26} {:>10} {:>10} {:>11} {:>14}".format(*header))
        for i, (label, _, _, _, target) in enumerate(CASES):
            cmd = [sys.executable, __file__, "--case", str(i), "--model-dir", tmp]
            cmd += ["--n-samples", str(args.n_samples), "--n-features", str(args.n_features)]
            cmd += ["--threads", str(args.threads)]
            result = json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)
            extra, out = result["extra"] / result["x"], result["out"] / result["x"]
            limit = out + target
            verdict = "ok" if extra <= limit else "OVER"
            print(
                f"{label:<26} {result['extra'] / MIB:>10.1f} {extra:>10.2f} {out:>11.2f} "
                f"{'<= ' + format(limit, '.2f'):>10} {verdict}"
            )


if __name__ == "__main__":
    main()
