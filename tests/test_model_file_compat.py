"""Model files written by skae 0.1.0 load in this release and give the same outputs.

``tests/data/models-0.1.0/`` holds, for each model, ``<name>.safetensors``
written by skae 0.1.0 and ``<name>.npz`` with its outputs; ``make_models.py``
there says how they were made: fitted on the first 200 digits scaled to
[0, 1], the ``_frame`` one on a DataFrame with columns ``pixel_0..pixel_63``.
"""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors import safe_open
from sklearn.datasets import load_digits

import skae
from skae import VariationalAutoencoder

torch.set_num_threads(1)

MODELS_DIR = Path(__file__).resolve().parent / "data" / "models-0.1.0"
MODEL_FILES = sorted(MODELS_DIR.glob("*.safetensors"))
NEW_PARAMS = (
    "encoder",
    "encoder_params",
    "decoder",
    "decoder_params",
    "optimizer_params",
    "lr_schedule",
)


def same_up_to_rounding(actual, desired, rtol=1e-6):
    """The same outputs up to float32 rounding.

    The order in which a CPU's kernels sum (oneDNN's for the channels-last
    convolutions since 0.1.0, the matrix products' by instruction set)
    differs between processors, so the fixtures, written on one machine,
    agree with another's outputs to a few units of float32 rounding, not bit
    for bit (on the machine that wrote them, bit for bit).
    """
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=1e-6)


@cache
def _data():
    X = load_digits().data[:200] / 16.0
    X.setflags(write=False)
    return X


def _input_for(path):
    X = _data().copy()
    if path.stem.endswith("_frame"):
        return pd.DataFrame(X, columns=[f"pixel_{i}" for i in range(X.shape[1])])
    return X


def _header(path):
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata())


def _drop_param(name):
    def edit(header, tensors):
        params = json.loads(header["params"])
        del params[name]
        header["params"] = json.dumps(params, sort_keys=True)

    return edit


def test_every_estimator_has_a_model_file():
    assert len(MODEL_FILES) >= 10
    names = {_header(p)["estimator"] for p in MODEL_FILES}
    assert names == {
        "AutoencoderTransformer",
        "ConvolutionalAutoencoder",
        "DenoisingAutoencoder",
        "SparseAutoencoder",
        "VariationalAutoencoder",
    }
    for path in MODEL_FILES:
        assert path.with_suffix(".npz").is_file(), path.name


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.stem)
def test_old_model_file_gives_the_same_outputs(path):
    header = _header(path)
    assert (header["format_version"], header["skae_version"]) == ("1", "0.1.0")
    expected = np.load(path.with_suffix(".npz"))
    data = _input_for(path)

    loaded = skae.load(path)
    assert type(loaded).__name__ == header["estimator"]
    same_up_to_rounding(loaded.transform(data), expected["transform"])
    Z = expected["transform"][:5]
    same_up_to_rounding(loaded.inverse_transform(Z), expected["inverse_transform"])
    if isinstance(loaded, VariationalAutoencoder):
        same_up_to_rounding(loaded.sample(3, random_state=1), expected["sample"])
        # score_samples changed on purpose: 0.1.0 returned the posterior-mean
        # plug-in, this release a Monte-Carlo ELBO (tests/test_scores.py).
    else:
        same_up_to_rounding(loaded.score_samples(data), expected["score_samples"])
        assert "sample" not in expected


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.stem)
def test_old_model_file_takes_the_new_defaults(path):
    loaded = skae.load(path)
    params = loaded.get_params()
    stored = json.loads(_header(path)["params"])
    added = set(params) - set(stored)
    assert set(NEW_PARAMS) <= added
    defaults = type(loaded)().get_params()
    for name in added - {"pca_start"}:
        assert params[name] == defaults[name], name
    # The PCA start (new in 0.3) stays off: the model refits as 0.1.0 trained
    # it (the estimators without a start have no such parameter).
    assert params.get("pca_start", False) is False
    assert ("pca_start" in params) == ("pca_start" in defaults)
    assert params["device"] == "cpu" and params["random_state"] == 0


def test_old_model_file_keeps_feature_names_and_refits():
    path = MODELS_DIR / "dense_adamw_frame.safetensors"
    loaded = skae.load(path)
    assert loaded.get_params()["optimizer"] is torch.optim.AdamW
    assert list(loaded.feature_names_in_) == [f"pixel_{i}" for i in range(64)]
    assert list(loaded.get_feature_names_out()) == [
        "autoencodertransformer0",
        "autoencodertransformer1",
        "autoencodertransformer2",
    ]
    expected = np.load(path.with_suffix(".npz"))
    # Fitting the loaded estimator again with 0.1.0's training (a constant
    # learning rate, the default is now a schedule; AdamW's loop of tensor
    # ops, the default is now torch's fused kernel, equal up to float
    # rounding) reproduces its fit, to float32 rounding on another
    # processor. No PCA start (new in 0.3): a file from before it loads
    # without one.
    assert loaded.pca_start is False
    refit = loaded.set_params(lr_schedule="constant", optimizer_params={"fused": False})
    refit.fit(_input_for(path))
    same_up_to_rounding(refit.transform(_input_for(path)), expected["transform"], rtol=1e-5)


def test_old_model_file_saves_in_the_new_format(tmp_path):
    path = MODELS_DIR / "vae.safetensors"
    loaded = skae.load(path)
    resaved = loaded.save(tmp_path / "vae.safetensors")
    assert _header(resaved)["format_version"] == "3"
    again = skae.load(resaved)
    expected = np.load(path.with_suffix(".npz"))
    same_up_to_rounding(again.transform(_data()), expected["transform"])
    same_up_to_rounding(again.sample(3, random_state=1), expected["sample"])


@pytest.mark.parametrize("dropped", ["lr", "optimizer_params", "tol"])
def test_a_file_lacking_a_parameter_loads_it_with_its_default(
    dropped, tmp_path, rewrite_model_file
):
    # What a file written before the class gained that parameter looks like,
    # of any format version: the parameter takes its default.
    path = tmp_path / "dense.safetensors"
    original = skae.load(MODELS_DIR / "dense.safetensors")
    original.save(path)
    rewrite_model_file(path, _drop_param(dropped))
    loaded = skae.load(path)
    assert loaded.get_params()[dropped] == type(original)().get_params()[dropped]
    np.testing.assert_array_equal(loaded.transform(_data()), original.transform(_data()))


def test_an_attribute_the_class_does_not_declare_is_refused(tmp_path, rewrite_model_file):
    path = tmp_path / "dense.safetensors"
    shutil.copyfile(MODELS_DIR / "dense.safetensors", path)

    def add(header, tensors):
        attributes = json.loads(header["attributes"])
        attributes["fit_"] = 1  # looks fitted, but is not one of the class's
        header["attributes"] = json.dumps(attributes, sort_keys=True)

    rewrite_model_file(path, add)
    with pytest.raises(ValueError, match="'fit_' is not a fitted attribute of"):
        skae.load(path)


def test_old_file_with_an_unknown_parameter_is_refused(tmp_path, rewrite_model_file):
    path = tmp_path / "dense.safetensors"
    shutil.copyfile(MODELS_DIR / "dense.safetensors", path)

    def add(header, tensors):
        params = json.loads(header["params"])
        params["injected"] = 1
        header["params"] = json.dumps(params, sort_keys=True)

    rewrite_model_file(path, add)
    with pytest.raises(ValueError, match="not a valid skae model file.*parameters"):
        skae.load(path)


def test_unknown_format_version_is_refused(tmp_path, rewrite_model_file):
    path = tmp_path / "dense.safetensors"
    shutil.copyfile(MODELS_DIR / "dense.safetensors", path)
    rewrite_model_file(path, lambda header, tensors: header.update(format_version="99"))
    with pytest.raises(ValueError, match="format version '99'.*upgrade skae"):
        skae.load(path)
