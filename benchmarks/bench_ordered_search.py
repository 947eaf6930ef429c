"""Grid-searching the bottleneck width: one ordered fit per fold against one fit per width.

Two searches over the code width ``k`` in ``--widths`` (2, 4, 8, 16, 32),
with the same folds (``KFold(--cv)``, shuffled with ``random_state=0``):

* ``separate``: ``GridSearchCV`` over ``ae__n_components`` of a pipeline
  whose first step is ``AutoencoderTransformer(k, random_state=0)``: one
  autoencoder fit per width and fold, and the refit;
* ``ordered``: ``GridSearchCV`` over ``prefix__n_components`` of
  ``Pipeline([("ae", AutoencoderTransformer(K, ordered=True,
  random_state=0)), ("prefix", CodePrefix()), ...], memory=...)`` (``K``
  the widest width): the autoencoder fitted once per fold (the pipeline's
  cache serves every width), and the refit.

With ``--scoring accuracy`` the pipelines end in ``StandardScaler`` and
``LogisticRegression(max_iter=1000)`` (classification after reduction);
with ``--scoring reconstruction`` they end at the code, scored by
:func:`skae.metrics.neg_mean_squared_reconstruction_error` (no labels). The
script prints each search's chosen width, its cross-validated score at every
width, the refitted pipeline's score on the test rows and the search's
seconds, then the ordered search's time over the separate one's (the
issue's target: at most 1 / 2) and whether both chose the same width (or
the ordered choice's test score is within 0.01 of the separate choice's, for
accuracy).

Data: ``digits`` (1 797 8 x 8 images / 16, split 75 / 25, stratified,
``random_state=0``) or ``mnist`` (``--n-train`` of the 60 000 training
images, the 10 000 test images). Run from the repository root::

    python benchmarks/bench_ordered_search.py --dataset digits --scoring accuracy
    python benchmarks/bench_ordered_search.py --dataset digits --scoring reconstruction
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer, CodePrefix
from skae.datasets import load_mnist
from skae.metrics import neg_mean_squared_reconstruction_error

ROOT = Path(__file__).resolve().parents[1]
TIME_TARGET = 0.5
ACCURACY_TOLERANCE = 0.01


def load(args):
    if args.dataset == "digits":
        X, y = load_digits(return_X_y=True)
        return train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y)
    X_train, y_train = load_mnist(args.data_home, subset="train", return_X_y=True)
    X_test, y_test = load_mnist(args.data_home, subset="test", return_X_y=True)
    return X_train[: args.n_train], X_test, y_train[: args.n_train], y_test


def classifier_steps(scoring):
    if scoring == "accuracy":
        return [("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))]
    return []


def run_search(name, pipeline, grid, scoring, X_train, y_train, X_test, y_test, cv):
    start = time.perf_counter()
    search = GridSearchCV(pipeline, grid, scoring=scoring, cv=cv).fit(X_train, y_train)
    seconds = time.perf_counter() - start
    (param,) = grid
    best = search.best_params_[param]
    test_score = search.score(X_test, y_test)
    scores = " ".join(
        f"{k}: {s:.4f}"
        for k, s in zip(grid[param], search.cv_results_["mean_test_score"], strict=True)
    )
    print(f"{name:>9}: chose k={best:<3} test score {test_score:.4f} {seconds:7.1f} s  cv {scores}")
    return best, test_score, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="digits", choices=["digits", "mnist"])
    parser.add_argument("--scoring", default="accuracy", choices=["accuracy", "reconstruction"])
    parser.add_argument("--data-home", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--n-train", type=int, default=None, help="MNIST training images")
    parser.add_argument("--widths", default="2,4,8,16,32")
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    widths = sorted(int(w) for w in args.widths.split(","))
    X_train, X_test, y_train, y_test = load(args)
    scoring = "accuracy" if args.scoring == "accuracy" else neg_mean_squared_reconstruction_error
    cv = KFold(args.cv, shuffle=True, random_state=0)
    print(
        f"{args.dataset}: {len(X_train)} training / {len(X_test)} test rows; scoring "
        f"{args.scoring}; {args.cv} folds; torch threads {torch.get_num_threads()}; load "
        f"average {os.getloadavg()[0]:.2f}"
    )
    data = (X_train, y_train, X_test, y_test)
    tail = classifier_steps(args.scoring)

    separate = Pipeline([("ae", AutoencoderTransformer(widths[-1], random_state=0)), *tail])
    sep_k, sep_score, sep_seconds = run_search(
        "separate", separate, {"ae__n_components": widths}, scoring, *data, cv
    )
    with tempfile.TemporaryDirectory() as cache:
        ordered = Pipeline(
            [
                ("ae", AutoencoderTransformer(widths[-1], ordered=True, random_state=0)),
                ("prefix", CodePrefix()),
                *tail,
            ],
            memory=cache,
        )
        ord_k, ord_score, ord_seconds = run_search(
            "ordered", ordered, {"prefix__n_components": widths}, scoring, *data, cv
        )

    ratio = ord_seconds / sep_seconds
    same = ord_k == sep_k or (
        args.scoring == "accuracy" and abs(ord_score - sep_score) <= ACCURACY_TOLERANCE
    )
    print(
        f"\nordered search / separate search: time {ratio:.2f} (target <= {TIME_TARGET}) "
        f"{'ok' if ratio <= TIME_TARGET else 'MISSED'}; width {ord_k} against {sep_k}, test "
        f"score {ord_score:.4f} against {sep_score:.4f}: {'ok' if same else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
