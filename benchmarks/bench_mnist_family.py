"""Every skae estimator against PCA on MNIST: reconstruction and accuracy.

For each method (PCA and the five autoencoders, default parameters) and each
``n_components`` (default 2, 8, 32), fits on the MNIST training images and
prints the test reconstruction MSE (pixels in [0, 1]), the test accuracy of
a ``LogisticRegression`` trained on the standardised codes, and the fit
seconds. PCA is the baseline, measured in the same run. This is
``skae compare`` with every method; run from the repository root::

    python benchmarks/bench_mnist_family.py --data-home ../shared/data/mnist

``--n-train 10000`` gives a quicker run on the first 10 000 training images
(and 2 500 test images).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from skae._compare import METHODS
from skae.cli import main as skae_main

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--n-components", default="2,8,32")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--n-train", default=None)
    parser.add_argument("--output", default="bench-mnist-family.png")
    args = parser.parse_args(argv)
    cmd = [
        "compare",
        "--dataset",
        "mnist",
        "--data-home",
        args.data_home,
        "--methods",
        args.methods,
        "--n-components",
        args.n_components,
        "--output",
        args.output,
    ]
    if args.n_train:
        cmd += ["--n-train", args.n_train]
    return skae_main(cmd)


if __name__ == "__main__":
    main()
