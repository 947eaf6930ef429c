"""Threads: ``skae compare`` with torch's threads chosen by skae against one thread.

Times ``skae compare`` on scikit-learn's digits with its defaults (PCA and the
dense autoencoder at 2, 8 and 32 components), each run a fresh process:

(a) as is: skae picks torch's threads from the work (``skae/_threads.py``);
(b) with ``OMP_NUM_THREADS=1``;

both on a quiet machine and while ``--load`` other CPU-bound processes
(``python -c "while True: pass"``) run, and prints the times and the ratios
(a) / (b). The issue this answers (37): with torch's default of one thread a
core, the digits run took 20 minutes on 2 cores shared with other jobs, and 56 s
with ``OMP_NUM_THREADS=1``.

``--calibrate`` instead times training steps (forward, backward, Adam) of
dense autoencoders of growing size on one thread and on all of this process's
CPUs, and prints each one's work (floating-point operations a step, as
:func:`skae._threads.row_macs` counts them) beside the speed-up: the work at
which a second thread starts to pay is ``WORK_PER_THREAD`` in
``skae/_threads.py``. Run it on a quiet machine.

    python benchmarks/bench_threads.py                       # 12 runs of skae compare
    python benchmarks/bench_threads.py --max-epochs 2 --n-train 300 --repeats 1   # smoke run
    python benchmarks/bench_threads.py --calibrate
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from contextlib import contextmanager

BUSY = "while True: pass"


def _compare_command(args):
    command = [sys.executable, "-m", "skae", "compare", "--quiet", "--output", "none"]
    if args.max_epochs is not None:
        command += ["--max-epochs", str(args.max_epochs)]
    if args.n_train is not None:
        command += ["--n-train", str(args.n_train)]
    return command


def _time_compare(args, one_thread):
    """Seconds of one ``skae compare`` run in a fresh process."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(name, None)
    if one_thread:
        env["OMP_NUM_THREADS"] = "1"
    env["PYTHONWARNINGS"] = "ignore"  # short smoke runs warn that training went on
    start = time.perf_counter()
    subprocess.run(_compare_command(args), env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


@contextmanager
def _busy(n):
    """``n`` CPU-bound processes running while the block runs."""
    procs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(n)]
    try:
        time.sleep(0.5 if n else 0)
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def run_compare(args):
    print(f"command: {' '.join(_compare_command(args)[1:])}")
    print(f"CPUs available: {len(os.sched_getaffinity(0))}; repeats: {args.repeats} (median)")
    rows = []
    for load in (0, args.load):
        with _busy(load):
            times = {}
            for label, one_thread in (("as is", False), ("OMP_NUM_THREADS=1", True)):
                runs = sorted(_time_compare(args, one_thread) for _ in range(args.repeats))
                times[label] = runs[len(runs) // 2]
                print(f"  load {load}, {label}: {', '.join(f'{t:.1f}' for t in runs)} s")
        rows.append((load, times["as is"], times["OMP_NUM_THREADS=1"]))
    print(f"\n{'busy processes':>14}  {'as is (s)':>9}  {'OMP=1 (s)':>9}  {'ratio':>5}")
    for load, as_is, one in rows:
        print(f"{load:>14}  {as_is:>9.1f}  {one:>9.1f}  {as_is / one:>5.2f}")


def run_calibration(args):
    import torch
    from torch import nn

    from skae._threads import row_macs

    n_cpus = len(os.sched_getaffinity(0))
    batch = 128
    print(f"training steps of dense autoencoders, batches of {batch} rows, Adam; ")
    print(f"1 thread against {n_cpus}; median of {args.repeats} timings of {args.steps} steps")
    print(
        f"{'features':>8}  {'hidden':>11}  {'GFLOP/step':>10}  {'1 (ms)':>7}  "
        f"{f'{n_cpus} (ms)':>7}  {'speed-up':>8}"
    )
    sizes = [
        (64, (256, 128)),
        (128, (256, 128)),
        (256, (256, 128)),
        (128, (512, 256)),
        (512, (256, 128)),
        (256, (512, 256)),
        (784, (256, 128)),
        (784, (512, 256)),
        (784, (1024, 512)),
        (1024, (2048, 1024)),
        (2048, (2048, 2048)),
    ]
    saved = torch.get_num_threads()
    for n_features, hidden in sizes:
        widths = [n_features, *hidden, 8, *hidden[::-1], n_features]
        layers = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        net = nn.Sequential(*layers[:-1])
        X = torch.rand(batch, n_features)
        work = 2.0 * 3 * row_macs(net, X[0]) * batch
        optimizer = torch.optim.Adam(net.parameters())

        def step(net=net, X=X, optimizer=optimizer):
            optimizer.zero_grad()
            loss = ((net(X) - X) ** 2).mean()
            loss.backward()
            optimizer.step()

        ms = {}
        for threads in (1, n_cpus):
            torch.set_num_threads(threads)
            for _ in range(3):
                step()
            runs = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                for _ in range(args.steps):
                    step()
                runs.append((time.perf_counter() - start) / args.steps * 1e3)
            ms[threads] = sorted(runs)[len(runs) // 2]
        print(
            f"{n_features:>8}  {str(hidden):>11}  {work / 1e9:>10.3f}  {ms[1]:>7.3f}  "
            f"{ms[n_cpus]:>7.3f}  {ms[1] / ms[n_cpus]:>8.2f}"
        )
    torch.set_num_threads(saved)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calibrate", action="store_true", help="time training steps instead")
    parser.add_argument("--load", type=int, default=2, help="busy processes (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (median)")
    parser.add_argument("--max-epochs", type=int, default=None, help="smoke runs: fewer epochs")
    parser.add_argument("--n-train", type=int, default=None, help="smoke runs: fewer rows")
    parser.add_argument("--steps", type=int, default=20, help="--calibrate: steps a timing")
    args = parser.parse_args(argv)
    if args.calibrate:
        run_calibration(args)
    else:
        run_compare(args)


if __name__ == "__main__":
    main()
