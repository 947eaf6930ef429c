"""Where a supervised head starts: a linear model, the trivial model or PyTorch's.

With ``target_weight > 0`` the network has a linear head from the code to
the target. skae starts it as a linear model of ``y`` on the untrained
network's codes (:func:`skae._target.fit_linear_head`), so that under the
PCA start epoch 0, a candidate of the selection, is PCA with its linear
model. This script measures three starts for each estimator, each fitted
from the same seed on the same split:

* ``linear``: :func:`skae._target.fit_linear_head` on the codes of the
  training rows before training;
* ``trivial``: zero weights, the class log-priors of the training rows;
* ``default``: ``torch.nn.Linear``'s own initialisation.

Data: scikit-learn's digits (8 x 8 images, 10 classes), breast cancer and
wine, split 75 / 25 stratified with ``random_state=1`` -- another split
than the ``random_state=0`` one the benchmarks page reports supervised
codes on (``bench_supervised.py``) -- standardised on the training rows;
``n_components=2``, ``target_weight=1.0``, every other parameter at its
default. Each row: the test accuracy of a logistic regression on the codes
and of the head's ``predict``, means over ``--seeds`` model seeds. Run from
the repository root (about 10 minutes on 2 cores)::

    python benchmarks/bench_head_start.py --threads 1
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skae import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    SparseAutoencoder,
    _target,
)

DATA = {"digits": load_digits, "breast-cancer": load_breast_cancer, "wine": load_wine}
ESTIMATORS = {
    "dense, PCA start": lambda **kw: AutoencoderTransformer(**kw),
    "dense, no start": lambda **kw: AutoencoderTransformer(pca_start=False, **kw),
    "denoising": lambda **kw: DenoisingAutoencoder(**kw),
    "sparse": lambda **kw: SparseAutoencoder(**kw),
}


def linear_start(self, module, train_data):
    """Every head a linear model of the untrained codes (skae's start)."""
    if module.target_head is not None:
        _target.fit_linear_head(self, module, train_data)


def trivial_start(self, module, train_data):
    """Every head at the trivial model: zero weights, log-priors."""
    if module.target_head is None:
        return
    labels = train_data.y if train_data.indices is None else train_data.y[train_data.indices]
    counts = torch.bincount(labels[labels >= 0], minlength=len(self.classes_)).double()
    with torch.no_grad():
        module.target_head.weight.zero_()
        module.target_head.bias.copy_((counts.clamp(min=0.5) / counts.sum()).log().float())


def default_start(self, module, train_data):
    """Every head at ``torch.nn.Linear``'s initialisation."""


STARTS = {"linear": linear_start, "trivial": trivial_start, "default": default_start}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seeds", type=int, default=3, help="model seeds per row")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    skae_start = _target.SupervisedBottleneck._start_head
    print(f"{'data':<14}{'estimator':<18}{'head start':<12}{'LR on codes':>12}{'predict':>10}")
    for name, load in DATA.items():
        X, y = load(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=1, stratify=y
        )
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        for label, make in ESTIMATORS.items():
            for start, method in STARTS.items():
                _target.SupervisedBottleneck._start_head = method
                codes_acc, head_acc = [], []
                for seed in range(args.seeds):
                    ae = make(n_components=2, target_weight=1.0, random_state=seed)
                    ae.fit(X_train, y_train)
                    clf = LogisticRegression(max_iter=1000).fit(ae.transform(X_train), y_train)
                    codes_acc.append(clf.score(ae.transform(X_test), y_test))
                    head_acc.append(np.mean(ae.predict(X_test) == y_test))
                print(
                    f"{name:<14}{label:<18}{start:<12}"
                    f"{np.mean(codes_acc):>12.3f}{np.mean(head_acc):>10.3f}",
                    flush=True,
                )
    _target.SupervisedBottleneck._start_head = skae_start


if __name__ == "__main__":
    main()
