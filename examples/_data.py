"""Where the examples find MNIST, and how small they run.

``SKAE_DATA_HOME`` (the folder of the four IDX ``.gz`` files) wins; else the
project's ``../shared/data/mnist``; else :func:`skae.datasets.load_mnist`
fetches from OpenML. ``SKAE_EXAMPLE_N_TRAIN`` and ``SKAE_EXAMPLE_MAX_EPOCHS``
shrink a run: ``tests/test_examples.py`` runs every example that way, with
settings of its own for each, and checks the numbers it prints.
"""

import os
from pathlib import Path

from skae.datasets import load_mnist

N_TRAIN = int(os.environ.get("SKAE_EXAMPLE_N_TRAIN", "20000"))
_epochs = os.environ.get("SKAE_EXAMPLE_MAX_EPOCHS", "auto")
MAX_EPOCHS = _epochs if _epochs == "auto" else int(_epochs)


def mnist_home():
    if os.environ.get("SKAE_DATA_HOME"):
        return os.environ["SKAE_DATA_HOME"]
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    return str(shared) if shared.is_dir() else None


def mnist(n_train=N_TRAIN, n_test=None):
    """MNIST training and test images, ``(X_train, y_train, X_test, y_test)``."""
    home = mnist_home()
    X_train, y_train = load_mnist(home, subset="train", return_X_y=True)
    X_test, y_test = load_mnist(home, subset="test", return_X_y=True)
    n_test = n_test if n_test is not None else max(n_train // 6, 100)
    return X_train[:n_train], y_train[:n_train], X_test[:n_test], y_test[:n_test]
