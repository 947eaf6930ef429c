"""Shared fixtures for the skae test suite.

Data is kept small (the 1797 8x8 digits of scikit-learn, or a slice of them)
and networks narrow, so that the suite runs in about a minute on two CPU
cores.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import load_digits

from skae import AutoencoderTransformer

# The networks under test are tiny: torch's intra-op parallelism gains nothing
# on them, and with pytest-xdist (one process per core) or any other load on
# the machine, several threads per process spin-wait on each other and make a
# fit up to ~100x slower. One thread per test process keeps the suite fast.
torch.set_num_threads(1)

# The repository's sibling folder ``shared/data/mnist`` holds the original
# MNIST IDX files where they are available (``../shared/data/mnist`` from the
# repository root).
REPO_ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = REPO_ROOT.parent / "shared" / "data" / "mnist"
MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@cache
def _digits():
    X, y = load_digits(return_X_y=True)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


@pytest.fixture
def digits():
    """The digits data set: X of shape (1797, 64), raw pixel values 0..16, and y."""
    X, y = _digits()
    return X.copy(), y.copy()


@pytest.fixture
def digits01(digits):
    """The digits scaled to [0, 1] (float64), and their labels."""
    X, y = digits
    return X / 16.0, y


@pytest.fixture
def make_ae():
    """Factory for a small, fast, seeded :class:`AutoencoderTransformer`.

    Keyword arguments override the defaults given here.
    """

    def make(**params):
        defaults = dict(
            n_components=4,
            hidden_layer_sizes=(32,),
            max_epochs=5,
            random_state=0,
            device="cpu",
        )
        defaults.update(params)
        return AutoencoderTransformer(**defaults)

    return make


@pytest.fixture
def X():
    """The first 200 digits scaled to [0, 1]: float64, shape (200, 64), a fresh copy."""
    X, _ = _digits()
    return X[:200] / 16.0


@pytest.fixture(scope="session")
def rewrite_model_file():
    """``rewrite(path, edit)``: rewrite a model file after ``edit(header, tensors)``,
    with a fresh digest: what a deliberate forger (not an accident) would do."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    from skae._io import _digest

    def rewrite(path, edit):
        with safe_open(str(path), framework="pt") as f:
            header = dict(f.metadata())
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        header.pop("sha256")
        edit(header, tensors)
        header["sha256"] = _digest(header, tensors)
        save_file(tensors, str(path), metadata=header)

    return rewrite


@pytest.fixture(scope="session")
def mnist_dir():
    """Folder of the original MNIST IDX files; skips the test where absent."""
    missing = [name for name in MNIST_FILES if not (MNIST_DIR / name).is_file()]
    if missing:
        pytest.skip(
            f"MNIST IDX files {missing} not found in {MNIST_DIR} "
            "(expected at ../shared/data/mnist relative to the repository root)"
        )
    return MNIST_DIR


@pytest.fixture
def densified_rows(monkeypatch):
    """The number of rows of every dense array made from a sparse matrix or
    array of any format (``toarray``; ``todense`` calls it), in order."""
    rows = []
    formats = ("csr", "csc", "coo", "lil", "dok")
    for cls in [getattr(sp, f"{fmt}_{kind}") for fmt in formats for kind in ("matrix", "array")]:
        original = cls.toarray

        def spy(self, *args, _original=original, **kwargs):
            out = _original(self, *args, **kwargs)
            rows.append(out.shape[0] if out.ndim == 2 else 1)
            return out

        monkeypatch.setattr(cls, "toarray", spy)
    return rows
