"""Data larger than memory: ``fit`` and ``score_samples`` on a memmap.

Builds a float32 ``.npy`` file of ``--n-rows`` x 784 (1 000 000 rows:
2.9 GiB) from the 60 000 MNIST training images, repeated with Gaussian
noise (standard deviation 0.05, clipped to [0, 1]) and written chunk by
chunk, in a temporary folder (or ``--path``). Then, each in a fresh Python
process:

* ``fit`` of ``AutoencoderTransformer(n_components=32, max_epochs=1,
  random_state=0)`` -- one epoch, validation and scaling included -- on the
  file opened with ``np.load(path, mmap_mode="r")``, and ``score_samples``
  of a fitted model on it;
* the same two calls on the first ``--in-memory-rows`` rows (200 000)
  loaded into an in-memory array: the rows-per-second baseline.

Each process first warms up on 2 000 rows (torch's thread pools, lazy
imports). While the measured call runs, a thread samples the process's
anonymous resident memory (``RssAnon`` in ``/proc/self/status``) every
10 ms: the pages of a memmap are file pages (``RssFile``), which the
kernel can drop at any time, so only anonymous memory is what the call
holds. The table gives the peak ``RssAnon`` of the process during the call,
its growth over the level just before the call, both as a multiple of the
array's size, rows per second of wall-clock time and of process CPU time
(steadier on a busy machine), and the ratio of each to the in-memory rate.

Targets (issue 14): peak anonymous memory during ``fit`` and
``score_samples`` on the memmap under 0.3 x the array's bytes; rows per
second at least the in-memory rate / 1.5.

Run from the repository root (Linux; about 10 minutes for 1 000 000 rows
with one torch thread; 3 GiB of disk)::

    python benchmarks/bench_out_of_core.py --threads 1

``--n-rows 100000`` for a quick run. The file is in the page cache after it
is written (on a machine with memory to spare), so the reads measure skae's
chunked reading, not the disk.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MIB = 2**20
N_FEATURES = 784
WARM_ROWS = 2_000
CASES = [
    ("fit", "memmap"),
    ("score_samples", "memmap"),
    ("fit", "in-memory"),
    ("score_samples", "in-memory"),
]


def write_memmap(path, n_rows, data_home, seed=0):
    """MNIST training rows, repeated with noise, written as a float32 ``.npy``
    chunk by chunk (never more than a chunk in memory)."""
    from skae.datasets import load_mnist

    images, _ = load_mnist(data_home, subset="train", return_X_y=True)
    images = np.asarray(images, dtype=np.float32)
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_rows, N_FEATURES))
    step = 10_000
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        rows = images[np.arange(start, stop) % len(images)]
        rows = rows + rng.normal(0.0, 0.05, rows.shape).astype(np.float32)
        np.clip(rows, 0.0, 1.0, out=rows)
        out[start:stop] = rows
    out.flush()
    del out


def _anon_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise RuntimeError("no RssAnon in /proc/self/status (Linux only)")


class AnonPeak:
    """Samples ``RssAnon`` every ``interval`` seconds while the block runs."""

    def __init__(self, interval=0.01):
        self.interval = interval

    def __enter__(self):
        self.before = self.peak = _anon_kib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _anon_kib())
            self._stop.wait(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _anon_kib())


def estimator():
    from skae import AutoencoderTransformer

    return AutoencoderTransformer(n_components=32, max_epochs=1, random_state=0, device="cpu")


def measure(args, method, source):
    """In this (fresh) process: one call's peak anonymous memory and speed."""
    import torch

    torch.set_num_threads(args.threads)
    import skae

    X = np.load(args.path, mmap_mode="r")
    if source == "in-memory":
        X = np.array(X[: args.in_memory_rows])  # an ordinary in-memory array
    if method == "fit":
        est = estimator()
    else:
        est = skae.load(args.model)
    # Warm-up on a few rows of the same kind (memmap rows stay a memmap).
    warm = X[:WARM_ROWS]
    getattr(estimator() if method == "fit" else est, method)(warm)
    del warm
    gc.collect()
    with AnonPeak() as memory:
        start, cpu_start = time.perf_counter(), time.process_time()
        getattr(est, method)(X)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "rows": len(X),
        "bytes": int(X.nbytes),
        "seconds": seconds,
        "cpu": cpu,
        "before": memory.before * 1024,
        "peak": memory.peak * 1024,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-rows", type=int, default=1_000_000)
    parser.add_argument("--in-memory-rows", type=int, default=200_000)
    parser.add_argument("--path", default=None, help="the .npy file (default: a temp folder)")
    parser.add_argument("--data-home", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--case", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--model", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.case is not None:  # a child process: one measurement, as JSON
        print(json.dumps(measure(args, *CASES[args.case])))
        return

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.path) if args.path else Path(tmp) / "mnist_noisy.npy"
        args.in_memory_rows = min(args.in_memory_rows, args.n_rows)
        start = time.perf_counter()
        write_memmap(path, args.n_rows, args.data_home)
        print(
            f"Wrote {args.n_rows} x {N_FEATURES} float32 ({path.stat().st_size / MIB:.0f} MiB) "
            f"to {path} in {time.perf_counter() - start:.0f} s; torch threads {args.threads}, "
            f"load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        # The model score_samples runs: fitted on a few in-memory rows.
        model = Path(tmp) / "model.safetensors"
        X = np.load(path, mmap_mode="r")
        estimator().fit(np.array(X[:5000])).save(model)
        del X

        results = []
        for i, (method, source) in enumerate(CASES):
            cmd = [sys.executable, __file__, "--case", str(i), "--path", str(path)]
            cmd += ["--model", str(model), "--threads", str(args.threads)]
            cmd += ["--in-memory-rows", str(args.in_memory_rows)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
            r = results[-1]
            print(f"  {method} on {source}: {r['seconds']:.1f} s", flush=True)
        if not args.path:
            path.unlink()

    rate, cpu_rate = {}, {}
    for key, r in zip(CASES, results, strict=True):
        rate[key], cpu_rate[key] = r["rows"] / r["seconds"], r["rows"] / r["cpu"]
    print()
    header = ("call", "X", "rows", "peak anon", "/ X", "growth / X", "rows/s", "ratio")
    header += ("rows/CPU s", "ratio")
    print("{:<14} {:<10} {:>9} {:>11} {:>6} {:>11} {:>8} {:>6} {:>11} {:>6}".format(*header))
    verdicts = []
    for (method, source), r in zip(CASES, results, strict=True):
        peak, growth = r["peak"] / r["bytes"], (r["peak"] - r["before"]) / r["bytes"]
        speed = rate[method, source] / rate[method, "in-memory"]
        cpu_speed = cpu_rate[method, source] / cpu_rate[method, "in-memory"]
        print(
            f"{method:<14} {source:<10} {r['rows']:>9} {r['peak'] / MIB:>7.0f} MiB "
            f"{peak:>6.2f} {growth:>11.2f} {rate[method, source]:>8.0f} {speed:>6.2f} "
            f"{cpu_rate[method, source]:>11.0f} {cpu_speed:>6.2f}"
        )
        if source == "memmap":
            verdicts.append(
                f"{method}: peak anon {peak:.2f} x X "
                f"({'ok' if peak < 0.3 else 'OVER'} < 0.30), "
                f"rows/s {speed:.2f} x in-memory ({'ok' if speed >= 1 / 1.5 else 'UNDER'} "
                f">= {1 / 1.5:.2f}; per CPU second {cpu_speed:.2f} x)"
            )
    print("\nTargets: peak anonymous memory < 0.3 x X; rows/s >= in-memory / 1.5")
    for line in verdicts:
        print("  " + line)


if __name__ == "__main__":
    main()
