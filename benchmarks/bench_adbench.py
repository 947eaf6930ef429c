"""ADBench's unsupervised protocol: skae's outlier detector against its peers.

Protocol (Han et al., "ADBench: Anomaly Detection Benchmark", NeurIPS 2022):
for each table in ``../shared/data/adbench`` (``.npz`` with ``X`` and ``y``,
1 = anomaly) and each split seed, a stratified 70/30 split
(``train_test_split(stratify=y, test_size=0.3, random_state=seed)``), a
``MinMaxScaler`` fitted on the training rows, every detector fitted on the
training rows with their anomalies among them and unlabelled, and the ROC
AUC of its anomaly score on the test rows.

Detectors (``--detectors``, comma-separated): ``iforest``
(IsolationForest), ``lof`` (LocalOutlierFactor(novelty=True)), ``ocsvm``
(OneClassSVM), ``knn``, ``ecod`` and ``pyod-ae`` (pyod's KNN, ECOD and
AutoEncoder at their defaults; left out, with a note, where pyod is not
installed: ``pip install pyod``, a benchmark dependency only) and ``skae``
(``AutoencoderOutlierDetector()`` at its defaults). Every detector that
takes a seed gets the split's seed. Names starting ``cand-`` are candidate
defaults studied for issue 44 (``candidates``); they run only when named.

Command (report splits 0, 1, 2; one torch thread)::

    python benchmarks/bench_adbench.py --seeds 0,1,2

Candidate defaults are compared on other splits of the same tables
(``--seeds 10,11,12``), never chosen on the report splits.

Printed: one row per table with each detector's AUROC (mean over the
splits), then each detector's mean AUROC over the tables, its mean rank
(rank 1 is the best AUROC on a table, ties averaged, then averaged over the
tables) and its total fit + score seconds over all tables and splits,
measured in the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from scipy.stats import rankdata
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import OneClassSVM

from skae import AutoencoderOutlierDetector, AutoencoderTransformer
from skae.outliers import default_max_epochs, default_n_components

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "adbench"
HAS_PYOD = importlib.util.find_spec("pyod") is not None
PYOD = ("knn", "ecod", "pyod-ae")
PEERS = ("iforest", "lof", "ocsvm", "knn", "ecod", "pyod-ae")


class Sklearn:
    """A scikit-learn detector: anomaly score = minus ``score_samples``."""

    def __init__(self, make):
        self.make = make

    def fit(self, X, seed):
        self.model = self.make(seed).fit(X)
        return self

    def anomaly(self, X):
        return -self.model.score_samples(X)


class Pyod:
    """A pyod detector: ``decision_function`` is already higher for anomalies."""

    def __init__(self, make):
        self.make = make

    def fit(self, X, seed):
        self.model = self.make(seed)
        self.model.fit(X)
        return self

    def anomaly(self, X):
        return self.model.decision_function(X)


def _pyod(name):
    def make(seed):
        from pyod.models.auto_encoder import AutoEncoder
        from pyod.models.ecod import ECOD
        from pyod.models.knn import KNN

        if name == "knn":
            return KNN()
        if name == "ecod":
            return ECOD()
        return AutoEncoder(random_state=seed, verbose=0)

    return Pyod(make)


# ------------------------------------------------------------ candidates
def _robust_z(values, reference):
    """``(values - median) / (1.4826 MAD)`` of ``reference``."""
    centre = np.median(reference, axis=0)
    scale = 1.4826 * np.median(np.abs(reference - centre), axis=0)
    scale = np.where(scale > 0, scale, np.std(reference, axis=0))
    return (values - centre) / np.where(scale > 0, scale, 1.0)


def _knn_distance(train, X, k, *, in_sample):
    """Distance to the ``k``-th nearest training row (pyod KNN's "largest"),
    leaving a row itself out where ``in_sample``."""
    k = min(k, len(train) - 1)
    nn = NearestNeighbors(n_neighbors=k + int(in_sample)).fit(train)
    return nn.kneighbors(X)[0][:, -1]


class Candidate:
    """A candidate default for issue 44, fitted once (no cross-fitting: the
    ranking does not depend on ``offset_``).

    ``width``: the code's width from the number of features; ``hidden``:
    hidden layers; ``epochs``: ``"default"`` (the detector's budget),
    ``"N steps"`` (about N mini-batch updates, 5 to 200 epochs) or an int;
    ``score``: ``"mse"`` (cube root of the mean squared error), ``"std"``
    (each feature's squared error over its median on the training rows,
    summed), ``"code-knn"`` (k-th neighbour distance among the training
    rows' codes), ``"knn+rec"`` and ``"knn+std"`` (sum of the robust z-scores
    of the ``"mse"`` or ``"std"`` error and of the k-th neighbour distance in
    the input space); ``members``: an ensemble of that many networks, each
    seeded apart and on a bootstrap of the rows where ``bootstrap``, their
    scores robust-z-scored and averaged (Chen et al. 2017); ``k``:
    neighbours.
    """

    def __init__(
        self,
        width=default_n_components,
        hidden=(256, 128),
        epochs="default",
        score="mse",
        members=1,
        bootstrap=False,
        k=5,
        pca_start=True,
    ):
        self.width, self.hidden, self.epochs, self.score = width, hidden, epochs, score
        self.members, self.bootstrap, self.k, self.pca_start = members, bootstrap, k, pca_start

    def _net(self, X, seed):
        epochs = self.epochs
        if epochs == "default":
            epochs = default_max_epochs(len(X))
        elif isinstance(epochs, str):  # "500 steps": that many mini-batch updates
            steps = int(epochs.split()[0])
            epochs = int(np.clip(np.ceil(steps / np.ceil(len(X) / 128)), 5, 200))
        return AutoencoderTransformer(
            self.width(X.shape[1]),
            hidden_layer_sizes=self.hidden,
            max_epochs=epochs,
            pca_start=self.pca_start,
            random_state=seed,
        )

    def fit(self, X, seed):
        X = np.asarray(X, np.float32)
        rng = np.random.default_rng(seed)
        self.train_, self.nets_, self.refs_ = X, [], []
        for m in range(self.members):
            rows = rng.integers(0, len(X), len(X)) if self.bootstrap else np.arange(len(X))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                net = self._net(X[rows], 1000 * seed + m).fit(X[rows])
            self.nets_.append(net)
            self.refs_.append(self._raw(net, X, in_sample=True))
        return self

    def _errors(self, net, X):
        return (X - np.asarray(net.inverse_transform(net.transform(X)), np.float32)) ** 2

    def _raw(self, net, X, *, in_sample=False):
        if self.score == "code-knn":
            codes = np.asarray(net.transform(self.train_), np.float64)
            return _knn_distance(
                codes, np.asarray(net.transform(X), np.float64), self.k, in_sample=in_sample
            )
        errors = self._errors(net, X)
        if self.score in ("std", "knn+std"):
            if in_sample:
                self.feature_scale_ = np.maximum(np.median(errors, axis=0), 1e-12)
            rec = np.cbrt(np.sum(errors / self.feature_scale_, axis=1))
            if self.score == "std":
                return rec
        else:
            rec = np.cbrt(errors.mean(axis=1))
        if self.score in ("knn+rec", "knn+std"):
            knn = _knn_distance(self.train_, X, self.k, in_sample=in_sample)
            if in_sample:
                self.knn_ref_, self.rec_ref_ = knn, rec
            return _robust_z(rec, self.rec_ref_) + _robust_z(knn, self.knn_ref_)
        return rec

    def anomaly(self, X):
        X = np.asarray(X, np.float32)
        if self.members == 1:
            return self._raw(self.nets_[0], X)
        return np.mean(
            [_robust_z(self._raw(n, X), r) for n, r in zip(self.nets_, self.refs_, strict=True)],
            axis=0,
        )


def _half(cap):
    return lambda d: min(cap, max(1, d // 2))


# The small networks train from PyTorch's initialisation (pca_start=False) for
# about 500 mini-batch updates: with the PCA start, a short fit that does not
# beat PCA on its held-out rows keeps PCA's solution, and every small variant
# is then PCA.
SMALL = {"hidden": (32,), "epochs": "500 steps", "pca_start": False}

CANDIDATES = {
    # under-complete and briefly trained: capacity and length for detection
    "cand-small": lambda: Candidate(**SMALL),
    "cand-small-long": lambda: Candidate(**{**SMALL, "epochs": "default"}),
    # errors per feature on one scale (over the training rows' median)
    "cand-small-std": lambda: Candidate(score="std", **SMALL),
    "cand-std": lambda: Candidate(score="std"),
    # an ensemble of small networks over bootstraps and seeds
    "cand-ens": lambda: Candidate(members=5, bootstrap=True, **SMALL),
    # the code space: k-th neighbour distance of the codes
    "cand-code-knn": lambda: Candidate(score="code-knn", width=_half(16), **SMALL),
    # reconstruction and kNN in the input space, by robust z-scores
    "cand-knn+small": lambda: Candidate(score="knn+rec", **SMALL),
    "cand-knn+rec": lambda: Candidate(score="knn+rec"),
    "cand-knn+std": lambda: Candidate(score="knn+std", **SMALL),
    "cand-knn10+small": lambda: Candidate(score="knn+rec", k=10, **SMALL),
    "cand-knn+ens3": lambda: Candidate(score="knn+rec", members=3, **SMALL),
}


def detectors():
    """{name: factory of an unfitted detector with fit(X, seed) and anomaly(X)}."""
    found = {
        "iforest": lambda: Sklearn(lambda s: IsolationForest(random_state=s)),
        "lof": lambda: Sklearn(lambda s: LocalOutlierFactor(novelty=True)),
        "ocsvm": lambda: Sklearn(lambda s: OneClassSVM()),
        **{name: (lambda n=name: _pyod(n)) for name in PYOD},
        "skae": lambda: Sklearn(lambda s: AutoencoderOutlierDetector(random_state=s)),
    }
    found.update(CANDIDATES)
    return found


def load(path):
    data = np.load(path, allow_pickle=False)
    return np.asarray(data["X"], np.float64), np.asarray(data["y"]).astype(int).ravel()


def run_split(X, y, seed, names):
    """{name: (AUROC, seconds)} for one split."""
    X_train, X_test, _, y_test = train_test_split(
        X, y, test_size=0.3, random_state=seed, stratify=y
    )
    scaler = MinMaxScaler().fit(X_train)
    X_train = scaler.transform(X_train).astype(np.float32)
    X_test = scaler.transform(X_test).astype(np.float32)
    found = {}
    factories = detectors()
    for name in names:
        start = time.perf_counter()
        detector = factories[name]().fit(X_train, seed)
        score = np.asarray(detector.anomaly(X_test), np.float64)
        seconds = time.perf_counter() - start
        score = np.nan_to_num(score, nan=np.nanmax(score), posinf=np.finfo(float).max)
        found[name] = (roc_auc_score(y_test, score), seconds)
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DATA), help="folder of ADBench .npz tables")
    parser.add_argument("--seeds", default="0,1,2", help="split seeds, comma-separated")
    parser.add_argument(
        "--detectors", default=None, help="comma-separated; default: the six peers and skae"
    )
    parser.add_argument("--tables", default=None, help="comma-separated file stems; default: all")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    names = [*PEERS, "skae"] if args.detectors is None else args.detectors.split(",")
    unknown = set(names) - set(detectors())
    if unknown:
        parser.error(f"unknown detectors: {sorted(unknown)}")
    if HAS_PYOD:  # imported before any timing, so no detector's seconds hold it
        import pyod.models.auto_encoder
        import pyod.models.ecod
        import pyod.models.knn  # noqa: F401
    else:
        print("pyod is not installed: knn, ecod and pyod-ae are left out (pip install pyod).")
        names = [n for n in names if n not in PYOD]
    paths = sorted(Path(args.data).glob("*.npz"), key=lambda p: int(p.stem.split("_")[0]))
    if args.tables is not None:
        wanted = set(args.tables.split(","))
        paths = [p for p in paths if p.stem in wanted or p.stem.split("_", 1)[-1] in wanted]
    if not paths:
        parser.error(f"no ADBench .npz tables found in {args.data} (--data, --tables)")
    print(
        f"ADBench unsupervised protocol: {len(paths)} tables, split seeds {seeds}, "
        f"{torch.get_num_threads()} torch thread(s), OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    width = max(9, *(len(n) + 1 for n in names))
    header = f"{'table':<18}" + "".join(f"{n:>{width}}" for n in names)
    print(header)
    print("-" * len(header))
    auroc, seconds = {}, dict.fromkeys(names, 0.0)
    for path in paths:
        X, y = load(path)
        per_split = [run_split(X, y, seed, names) for seed in seeds]
        auroc[path.stem] = {n: float(np.mean([r[n][0] for r in per_split])) for n in names}
        for n in names:
            seconds[n] += sum(r[n][1] for r in per_split)
        print(
            f"{path.stem:<18}" + "".join(f"{auroc[path.stem][n]:>{width}.3f}" for n in names),
            flush=True,
        )
    table = np.array([[auroc[t][n] for n in names] for t in auroc])
    ranks = np.array([rankdata(-row) for row in table])
    print("-" * len(header))
    print(f"{'mean AUROC':<18}" + "".join(f"{v:>{width}.3f}" for v in table.mean(axis=0)))
    print(f"{'mean rank':<18}" + "".join(f"{v:>{width}.2f}" for v in ranks.mean(axis=0)))
    print(f"{'seconds, total':<18}" + "".join(f"{seconds[n]:>{width}.1f}" for n in names))
    peers = [n for n in names if n in PEERS]
    if peers:
        means = dict(zip(names, table.mean(axis=0), strict=True))
        best = max(peers, key=means.get)
        for n in (n for n in names if n not in PEERS):
            print(f"{n} - best peer ({best}): {means[n] - means[best]:+.3f} mean AUROC")


if __name__ == "__main__":
    main()
