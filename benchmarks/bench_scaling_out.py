"""Scaling out: skae searches and training on Dask and Ray against one process.

On the 1 797 digits of scikit-learn (8 x 8 pixels scaled to [0, 1]; 75 %
train, 25 % test), or on a subset of MNIST (``--dataset mnist``), every
route fits ``AutoencoderTransformer(random_state=0, max_epochs=E)`` models
(``--max-epochs``, default 45) and reports wall-clock seconds, its speedup
against the sequential run of the same work, what it chose and the chosen
model's test reconstruction MSE (``-score``, mean over pixels).

Table 1, one grid search (``GridSearchCV`` over ``n_components`` 2, 4, 8,
16 with ``cv=3``: 12 fits and the refit) run four ways:

* ``sequential``: one process, ``torch.set_num_threads(1)``;
* ``joblib loky``: ``n_jobs=--workers``, joblib's own worker processes;
* ``dask``: under ``joblib.parallel_backend("dask")`` on a
  ``distributed.LocalCluster`` of ``--workers`` worker processes with one
  thread each (``setup s``: starting the cluster);
* ``ray``: under ``ray.util.joblib``'s ``"ray"`` backend on a local Ray
  instance with ``--workers`` CPUs (``setup s``: ``ray.init``).

A search under a backend must choose what the sequential one chooses, with
the same cross-validated scores (``same`` column): every fit is seeded and
runs on one torch thread wherever it runs.

Table 2, a wider grid (``n_components`` x ``lr`` 1e-3, 3e-3, 1e-2: 12
candidates): ``GridSearchCV`` (sequential, every candidate for E epochs),
``HalvingGridSearchCV(resource="max_epochs", factor=3)`` (sequential; the
candidates get E/9, then E/3 epochs, the survivors E) and dask-ml's
``HyperbandSearchCV`` on the cluster (``partial_fit`` calls on blocks of the
training data, at most ``--hyperband-max-iter`` per model).

Table 3, training on a ``dask.array`` of the training data in blocks:
``dask_ml.wrappers.Incremental`` (one ``partial_fit`` per block in the
workers, E passes) against one local ``fit`` for E epochs.

Needs ``pip install "skae[dask,ray]"`` (``--no-ray`` skips Ray). Run from the
repository root::

    python benchmarks/bench_scaling_out.py

Torch threads: the sequential run uses one, and every worker one: Dask's
nanny starts each worker process with ``OMP_NUM_THREADS=1``, Ray sets it to
the CPUs a task holds (1), joblib's loky to cores // n_jobs; the header
prints what the workers report. Keep workers x threads per worker <= cores.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import multiprocessing
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import joblib
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, train_test_split

from skae import AutoencoderTransformer

ROOT = Path(__file__).resolve().parents[1]
N_COMPONENTS = [2, 4, 8, 16]
LRS = [1e-3, 3e-3, 1e-2]


def load(args):
    if args.dataset == "digits":
        X = load_digits().data / 16.0
        name = f"digits, {X.shape[0]} x {X.shape[1]}"
    else:
        from skae.datasets import load_mnist

        X, _ = load_mnist(args.data_home, subset="train", return_X_y=True)
        X = X[: args.n_samples].reshape(-1, 784).astype(np.float64)
        name = f"MNIST training images, first {len(X)} x 784"
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    return name, X_train, X_test


def _probe_fit(X, epochs):
    torch.set_num_threads(1)
    start = time.perf_counter()
    AutoencoderTransformer(n_components=8, random_state=0, max_epochs=epochs).fit(X)
    return time.perf_counter() - start


def parallel_capacity(X, workers, epochs=30):
    """How much faster ``workers`` single-thread fits run at once than one
    after another, in as many processes: the most any route can gain here
    (``workers`` on a machine with that many free cores)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        list(pool.map(_probe_fit, [X] * workers, [2] * workers))  # imports, warm-up
        alone = pool.submit(_probe_fit, X, epochs).result()
        start = time.perf_counter()
        list(pool.map(_probe_fit, [X] * workers, [epochs] * workers))
        together = time.perf_counter() - start
    return workers * alone / together


def make(args, **params):
    return AutoencoderTransformer(random_state=0, max_epochs=args.max_epochs, **params)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def fmt_params(params):
    return ", ".join(
        f"{k.split('__')[-1]}={v:g}" if isinstance(v, float) else f"{k.split('__')[-1]}={v}"
        for k, v in sorted(params.items())
    )


def print_table(title, rows, last):
    print(f"\n{title}")
    print(
        f"{'route':<34}{'setup s':>8}{'wall s':>8}{'speedup':>8}  {'chosen':<40}"
        f"{'test MSE':>9}  {last}"
    )
    for row in rows:
        setup = "" if row["setup"] is None else f"{row['setup']:.1f}"
        speedup = "" if row["speedup"] is None else f"{row['speedup']:.2f}"
        print(
            f"{row['route']:<34}{setup:>8}{row['wall']:>8.1f}{speedup:>8}  {row['chosen']:<40}"
            f"{row['mse']:>9.5f}  {row['same']}".rstrip()
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--data-home", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--n-samples", type=int, default=4000, help="MNIST images (4000)")
    parser.add_argument("--max-epochs", type=int, default=45)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--blocks", type=int, default=5, help="dask.array blocks (5)")
    parser.add_argument("--hyperband-max-iter", type=int, default=81)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray route")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    # HyperbandSearchCV asks each bracket for more candidates than the grid has.
    warnings.filterwarnings("ignore", message="The total space of parameters")

    import dask.array as da
    import distributed
    from dask_ml.model_selection import HyperbandSearchCV
    from dask_ml.wrappers import Incremental

    name, X_train, X_test = load(args)
    print(
        f"{name}: {len(X_train)} train / {len(X_test)} test rows; max_epochs={args.max_epochs}; "
        f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.2f}; "
        f"{datetime.date.today()}",
        flush=True,
    )

    capacity = parallel_capacity(X_train, args.workers)
    print(
        f"parallel capacity: {args.workers} single-thread fits at once in {args.workers} "
        f"processes run {capacity:.2f}x as fast as one after another (ideal "
        f"{args.workers:.1f}x): the most any route below can gain on this machine",
        flush=True,
    )

    def test_mse(estimator):
        return -estimator.score(X_test)

    # ---------------------------------------------------------- table 1
    def grid_search(**kwargs):
        return GridSearchCV(make(args), {"n_components": N_COMPONENTS}, cv=3, **kwargs)

    sequential, seconds = timed(lambda: grid_search().fit(X_train))
    print(f"  sequential grid search: {seconds:.1f} s", flush=True)
    rows = []

    def add(route, search, wall, setup=None, same=None):
        if same is None:
            # Table 1: the same search as the sequential one, elsewhere.
            same = (
                "yes"
                if search.best_params_ == sequential.best_params_
                and np.allclose(
                    search.cv_results_["mean_test_score"],
                    sequential.cv_results_["mean_test_score"],
                )
                else "NO"
            )
        rows.append(
            dict(
                route=route,
                setup=setup,
                wall=wall,
                speedup=None,
                chosen=fmt_params(search.best_params_),
                mse=test_mse(search.best_estimator_),
                same=same,
            )
        )

    add("GridSearchCV, sequential", sequential, seconds, same="")
    loky, wall = timed(lambda: grid_search(n_jobs=args.workers).fit(X_train))
    add(f"GridSearchCV, loky n_jobs={args.workers}", loky, wall)
    loky_threads = joblib.Parallel(n_jobs=args.workers)(
        joblib.delayed(torch.get_num_threads)() for _ in range(args.workers)
    )
    print(f"  loky: {wall:.1f} s; torch threads per worker {sorted(loky_threads)}", flush=True)

    cluster_start = time.perf_counter()
    cluster = distributed.LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: no clash with another cluster
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    cluster_seconds = time.perf_counter() - cluster_start
    threads = sorted(client.run(torch.get_num_threads).values())
    omp = sorted(client.run(lambda: os.environ.get("OMP_NUM_THREADS")).values())
    print(
        f"  dask: LocalCluster of {args.workers} processes x 1 thread started in "
        f"{cluster_seconds:.1f} s; torch threads per worker {threads}, OMP_NUM_THREADS {omp}",
        flush=True,
    )
    with joblib.parallel_backend("dask"):
        on_dask, wall = timed(lambda: grid_search().fit(X_train))
    add(f"GridSearchCV, dask {args.workers} workers x 1", on_dask, wall, setup=cluster_seconds)
    print(f"  dask: {wall:.1f} s", flush=True)

    if not args.no_ray:
        import ray
        from ray.util.joblib import register_ray

        _, ray_seconds = timed(
            lambda: ray.init(
                num_cpus=args.workers,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        )
        register_ray()

        @ray.remote
        def ray_threads():
            return torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")

        print(
            f"  ray: init {ray_seconds:.1f} s; torch threads, OMP_NUM_THREADS per task "
            f"{sorted(ray.get([ray_threads.remote() for _ in range(args.workers)]))}",
            flush=True,
        )
        with joblib.parallel_backend("ray"):
            on_ray, wall = timed(lambda: grid_search().fit(X_train))
        add(f"GridSearchCV, ray {args.workers} CPUs", on_ray, wall, setup=ray_seconds)
        print(f"  ray: {wall:.1f} s", flush=True)
        ray.shutdown()

    for row in rows:
        row["speedup"] = rows[0]["wall"] / row["wall"]
    print_table(
        f"1. GridSearchCV over n_components {N_COMPONENTS}, cv=3 "
        f"({3 * len(N_COMPONENTS)} fits + refit, {args.max_epochs} epochs each)",
        rows,
        "same as sequential",
    )

    # ---------------------------------------------------------- table 2
    wide = {"n_components": N_COMPONENTS, "lr": LRS}
    n_candidates = len(N_COMPONENTS) * len(LRS)
    rows = []
    wide_grid, wall = timed(lambda: GridSearchCV(make(args), wide, cv=3).fit(X_train))
    add("GridSearchCV, sequential", wide_grid, wall, same="")
    print(f"  wide grid search: {wall:.1f} s", flush=True)
    halving, wall = timed(
        lambda: HalvingGridSearchCV(
            make(args),
            wide,
            resource="max_epochs",
            max_resources=args.max_epochs,
            factor=3,
            cv=3,
            random_state=0,
        ).fit(X_train)
    )
    epochs = "/".join(map(str, halving.n_resources_))
    add("HalvingGridSearchCV, sequential", halving, wall, same=f"epochs {epochs}")
    print(
        f"  halving: {wall:.1f} s; candidates {halving.n_candidates_} for "
        f"{halving.n_resources_} epochs",
        flush=True,
    )

    # dask-ml's incremental searches take the data as a dask array in blocks
    # of rows, and need a y: skae ignores it. Not persisted: dask-ml 2025.1.0
    # persists it itself, and its train/test split fails on an array persisted
    # beforehand (TypeError: only integer scalar arrays can be converted to a
    # scalar index, with dask 2025.2.0).
    chunk = -(-len(X_train) // args.blocks)
    dX = da.from_array(X_train, chunks=(chunk, X_train.shape[1]))
    dy = da.zeros(len(X_train), chunks=chunk)
    hyperband, wall = timed(
        lambda: HyperbandSearchCV(
            make(args), wide, max_iter=args.hyperband_max_iter, random_state=0
        ).fit(dX, dy)
    )
    calls = hyperband.metadata_["partial_fit_calls"]
    models = hyperband.metadata_["n_models"]
    add(
        f"HyperbandSearchCV, dask {args.workers} x 1",
        hyperband,
        wall,
        same=f"{models} models, {calls} partial_fit calls",
    )
    print(f"  hyperband: {wall:.1f} s", flush=True)
    for row in rows:
        row["speedup"] = rows[0]["wall"] / row["wall"]
    print_table(
        f"2. {n_candidates} candidates: n_components {N_COMPONENTS} x lr {LRS}, cv=3 "
        f"(GridSearchCV: {3 * n_candidates} fits of {args.max_epochs} epochs + refit)",
        rows,
        "notes",
    )

    # ---------------------------------------------------------- table 3
    best = {"n_components": 16}
    local, local_wall = timed(lambda: make(args, **best).fit(X_train))

    def incremental_fit():
        # The blocks stay in the workers' memory between passes.
        blocks = dX.persist()
        inc = Incremental(make(args, **best), random_state=0)
        inc.fit(blocks)
        for _ in range(args.max_epochs - 1):
            inc.partial_fit(blocks)
        return inc.estimator_

    incremental, inc_wall = timed(incremental_fit)
    print(f"\n3. Training on {dX.numblocks[0]} blocks of ~{chunk} rows, n_components=16")
    print(f"{'route':<42}{'epochs':>7}{'wall s':>8}{'vs fit':>8}{'test MSE':>10}")
    for route, est, wall in [
        ("fit, local", local, local_wall),
        (f"Incremental (dask), {dX.numblocks[0]} blocks per pass", incremental, inc_wall),
    ]:
        epochs = est.n_iter_ if route.startswith("fit") else est.n_iter_ // dX.numblocks[0]
        print(f"{route:<42}{epochs:>7}{wall:>8.1f}{wall / local_wall:>8.2f}{test_mse(est):>10.5f}")

    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
