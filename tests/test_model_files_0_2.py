"""Model files written by skae 0.2 (format 3) load and give the same outputs.

``tests/data/models-0.2/`` holds, for each model, the file skae 0.2 wrote
(``<name>.safetensors``; ``pipeline_scaled.skae`` for a whole Pipeline
through :func:`skae.save`) and ``<name>.npz`` with its outputs;
``make_models.py`` there says how they were made. They guard the
restructurings after 0.2 (hand-written constructors, training moved out of
the base class, one scaling helper): a file must read back to the same model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from sklearn.datasets import load_digits
from sklearn.pipeline import Pipeline

import skae
from skae import VariationalAutoencoder

torch.set_num_threads(1)

MODELS_DIR = Path(__file__).resolve().parent / "data" / "models-0.2"
ESTIMATOR_FILES = sorted(MODELS_DIR.glob("*.safetensors"))


def _close(actual, desired):
    # Written on one processor, read on another: equal up to the float32
    # rounding of kernels that sum in another order (see
    # tests/test_model_file_compat.py); bit for bit on the machine that wrote them.
    np.testing.assert_allclose(actual, desired, rtol=1e-6, atol=1e-6)


def _data(frame):
    X = load_digits().data[:200] / 16.0
    if frame:
        import pandas as pd

        return pd.DataFrame(X, columns=[f"pixel_{i}" for i in range(X.shape[1])])
    return X


def test_every_estimator_class_has_a_file():
    names = set()
    for path in ESTIMATOR_FILES:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata()
        assert header["format_version"] == "3", path.name
        names.add(header["estimator"])
    assert names == {
        "AutoencoderTransformer",
        "ConvolutionalAutoencoder",
        "DenoisingAutoencoder",
        "SparseAutoencoder",
        "VariationalAutoencoder",
    }


@pytest.mark.parametrize("path", ESTIMATOR_FILES, ids=lambda p: p.stem)
def test_estimator_file_gives_the_same_outputs(path):
    expected = np.load(path.with_suffix(".npz"))
    data = _data(frame=path.stem.endswith("_frame"))
    loaded = skae.load(path)
    Z = loaded.transform(data)
    _close(Z, expected["transform"])
    _close(loaded.inverse_transform(expected["transform"][:5]), expected["inverse_transform"])
    _close(loaded.score_samples(data), expected["score_samples"])
    if isinstance(loaded, VariationalAutoencoder):
        _close(loaded.sample(3, random_state=1), expected["sample"])


def test_pipeline_file_gives_the_same_outputs():
    expected = np.load(MODELS_DIR / "pipeline_scaled.npz")
    pipe = skae.load(MODELS_DIR / "pipeline_scaled.skae")
    assert isinstance(pipe, Pipeline)
    _close(pipe.transform(_data(frame=False)), expected["transform"])
    _close(pipe.inverse_transform(expected["transform"][:5]), expected["inverse_transform"])
