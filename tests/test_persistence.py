"""save / skae.load: safetensors model files, round trip, tampering, devices."""

import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from skorch.callbacks import EpochTimer

import skae
from skae import (
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from skae._io import _digest

FAST = {"max_epochs": 2, "random_state": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def X():
    return load_digits().data[:200] / 16.0


ESTIMATORS = [
    AutoencoderTransformer(4, **FAST),
    AutoencoderTransformer(3, hidden_layer_sizes=(16,), optimizer=torch.optim.AdamW, **FAST),
    ConvolutionalAutoencoder(4, channels=(4, 8), **FAST),
    ConvolutionalAutoencoder(4, image_shape=(8, 8), upsampling="transposed", **FAST),
    DenoisingAutoencoder(4, noise="masking", **FAST),
    DenoisingAutoencoder(4, architecture="conv", channels=(4,), **FAST),
    SparseAutoencoder(8, **FAST),
    SparseAutoencoder(8, sparsity="kl", **FAST),
    VariationalAutoencoder(2, early_stopping=True, **FAST),
    VariationalAutoencoder(2, architecture="conv", channels=(4,), **FAST),
]


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_round_trip_gives_identical_results(est, X, tmp_path):
    est.fit(X)
    path = tmp_path / "model.safetensors"
    assert est.save(path) == path
    loaded = skae.load(path)
    assert type(loaded) is type(est)
    assert loaded.get_params() == est.get_params()
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
    Z = est.transform(X[:5])
    np.testing.assert_array_equal(loaded.inverse_transform(Z), est.inverse_transform(Z))
    np.testing.assert_array_equal(loaded.score_samples(X), est.score_samples(X))
    assert loaded.loss_curve_ == est.loss_curve_
    assert loaded.validation_loss_curve_ == est.validation_loss_curve_
    for name in ("mean_activation_", "sparsity_", "image_shape_"):
        if hasattr(est, name):
            np.testing.assert_array_equal(getattr(loaded, name), getattr(est, name))
    if isinstance(est, VariationalAutoencoder):
        new, old = loaded.sample(3, random_state=1), est.sample(3, random_state=1)
        np.testing.assert_array_equal(new, old)


def test_feature_names_and_dtypes_survive(X, tmp_path):
    df = pd.DataFrame(X, columns=[f"pixel_{i}" for i in range(X.shape[1])])
    est = AutoencoderTransformer(3, **FAST).fit(df)
    skae.load(est.save(tmp_path / "m.safetensors"))
    loaded = skae.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.feature_names_in_, est.feature_names_in_)
    assert loaded.mean_.dtype == np.float64
    assert list(loaded.get_feature_names_out()) == list(est.get_feature_names_out())
    with pytest.raises(ValueError, match="feature names"):
        loaded.transform(df.rename(columns={"pixel_0": "other"}))


def test_loaded_estimator_refits_and_clones(X, tmp_path):
    est = AutoencoderTransformer(3, **FAST).fit(X)
    loaded = skae.load(est.save(tmp_path / "m.safetensors"))
    refit = loaded.fit(X)
    np.testing.assert_array_equal(refit.transform(X), est.transform(X))


def test_unfitted_or_unstorable_estimators_are_refused(X, tmp_path):
    with pytest.raises(NotFittedError):
        AutoencoderTransformer().save(tmp_path / "m.safetensors")
    est = AutoencoderTransformer(3, callbacks=[EpochTimer()], **FAST).fit(X)
    with pytest.raises(ValueError, match="callbacks=.*cannot be stored"):
        est.save(tmp_path / "m.safetensors")
    est = AutoencoderTransformer(3, **{**FAST, "random_state": np.random.RandomState(0)}).fit(X)
    with pytest.raises(ValueError, match="random_state"):
        est.save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_damaged_file_is_refused(X, tmp_path):
    path = tmp_path / "m.safetensors"
    AutoencoderTransformer(3, **FAST).fit(X).save(path)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # flip bits in the last weight
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256 digest does not match"):
        skae.load(path)


def test_edited_header_without_new_digest_is_refused(X, tmp_path):
    path = tmp_path / "m.safetensors"
    AutoencoderTransformer(3, **FAST).fit(X).save(path)
    with safe_open(str(path), framework="pt") as f:
        header = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    header["estimator"] = "SparseAutoencoder"
    save_file(tensors, str(path), metadata=header)
    with pytest.raises(ValueError, match="modified or damaged"):
        skae.load(path)


def test_file_claiming_another_estimator_is_refused(X, tmp_path, rewrite_model_file):
    path = tmp_path / "m.safetensors"
    AutoencoderTransformer(3, **FAST).fit(X).save(path)

    def claim_vae(header, tensors):
        # Its parameters, but for ``ordered`` and ``target_weight`` (which the
        # VAE does not take),
        # are a subset of the VAE's (the rest would take their defaults), but
        # its weights do not fit a VAE.
        # The same for ``pca_start`` and what it fitted.
        params = json.loads(header["params"])
        del params["ordered"], params["pca_start"], params["target_weight"]
        attributes = json.loads(header["attributes"])
        for name in ("pca_start_", "pca_explained_variance_ratio_"):
            attributes.pop(name, None)
            tensors.pop(f"attribute.{name}", None)
        header.update(
            estimator="VariationalAutoencoder",
            params=json.dumps(params),
            attributes=json.dumps(attributes),
        )

    rewrite_model_file(path, claim_vae)
    with pytest.raises(ValueError, match="do not fit the network that VariationalAutoencoder"):
        skae.load(path)
    rewrite_model_file(path, lambda h, t: h.update(estimator="os.system"))
    with pytest.raises(ValueError, match="unknown estimator 'os.system'"):
        skae.load(path)


def test_weights_that_do_not_fit_the_parameters_are_refused(X, tmp_path, rewrite_model_file):
    path = tmp_path / "m.safetensors"
    AutoencoderTransformer(3, **FAST).fit(X).save(path)

    def widen(header, tensors):
        params = json.loads(header["params"])
        params["n_components"] = 5
        header["params"] = json.dumps(params)

    rewrite_model_file(path, widen)
    with pytest.raises(ValueError, match="weights or attributes do not fit"):
        skae.load(path)


def test_non_skae_files_are_refused_without_unpickling(X, tmp_path, monkeypatch):
    est = AutoencoderTransformer(3, **FAST).fit(X)
    pickled = tmp_path / "m.pkl"
    pickled.write_bytes(pickle.dumps(est))
    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(3)}, str(plain))

    def forbidden(*args, **kwargs):
        raise AssertionError("load must never unpickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    with pytest.raises(ValueError, match="cannot be read as safetensors"):
        skae.load(pickled)
    with pytest.raises(ValueError, match="not say it was written by skae"):
        skae.load(plain)
    with pytest.raises(FileNotFoundError):
        skae.load(tmp_path / "missing.safetensors")
    good = est.save(tmp_path / "good.safetensors")
    np.testing.assert_array_equal(skae.load(good).transform(X), est.transform(X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the CPU-only fallback")
def test_model_saved_for_cuda_loads_on_cpu(X, tmp_path):
    est = AutoencoderTransformer(3, **FAST).fit(X)
    # A model fitted with device="cuda" keeps that parameter in its file.
    est.set_params(device="cuda").save(tmp_path / "m.safetensors")
    with pytest.warns(UserWarning, match="saved with device='cuda', which this machine"):
        loaded = skae.load(tmp_path / "m.safetensors")
    assert str(loaded.net_.device) == "cpu"
    np.testing.assert_array_equal(loaded.transform(X), est.set_params(device="cpu").transform(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explicit = skae.load(tmp_path / "m.safetensors", device="cpu")
    assert explicit.device == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the CPU-only error")
@pytest.mark.parametrize("cls", [AutoencoderTransformer, ConvolutionalAutoencoder])
def test_cuda_without_a_gpu_is_a_clear_error(cls, X):
    est = cls(2, max_epochs=1, device="cuda")
    with pytest.raises(ValueError, match="sees no CUDA GPU.*device='auto'"):
        est.fit(X)
    assert not hasattr(est, "net_")


def test_auto_device_runs_where_torch_can(X):
    est = DenoisingAutoencoder(2, max_epochs=1, random_state=0).fit(X)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert str(est.net_.device) == expected
    assert est.transform(X).shape == (len(X), 2)


def test_load_unknown_json_tag_is_a_bad_file(tmp_path):
    # A header whose digest matches but whose parameters hold a value skae
    # never writes is refused as a bad model file, not with a bare error.
    X = np.random.default_rng(0).random((40, 6))
    path = tmp_path / "m.safetensors"
    AutoencoderTransformer(2, **FAST).fit(X).save(path)
    with safe_open(str(path), framework="pt") as f:
        header = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    params = json.loads(header["params"])
    params["optimizer"] = {"__pickle__": "gASV"}
    header["params"] = json.dumps(params, sort_keys=True)
    del header["sha256"]
    header["sha256"] = _digest(header, tensors)
    save_file(tensors, str(path), metadata=header)
    with pytest.raises(ValueError, match="is not a valid skae model file.*not readable"):
        skae.load(path)


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the CPU-only error")
def test_load_asking_for_a_missing_device_is_a_clear_error(X, tmp_path):
    path = AutoencoderTransformer(3, **FAST).fit(X).save(tmp_path / "m.safetensors")
    # Saved on the CPU: no word about a CUDA save, an error about the request.
    with pytest.raises(ValueError, match="device='cuda' but PyTorch sees no CUDA GPU"):
        skae.load(path, device="cuda")
    with pytest.raises(ValueError, match="device='tpu9' is not a device torch knows"):
        skae.load(path, device="tpu9")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert str(skae.load(path).net_.device) == "cpu"


@pytest.mark.parametrize("device", ["tpu9", "meta", 3.5])
def test_bad_device_is_a_value_error_naming_the_parameter(device, X):
    est = AutoencoderTransformer(2, max_epochs=1, device=device)
    with pytest.raises((ValueError, TypeError), match="device"):
        est.fit(X)
    assert not hasattr(est, "net_")


def test_device_as_a_torch_device_works(X):
    est = AutoencoderTransformer(2, max_epochs=1, device=torch.device("cpu")).fit(X)
    assert str(est.net_.device) == "cpu"


def test_every_fitted_attribute_is_declared_for_model_files(X):
    from skae import SparseAutoencoder, VariationalAutoencoder

    estimators = [
        AutoencoderTransformer(2, early_stopping=True, **FAST),
        ConvolutionalAutoencoder(2, channels=(4,), **FAST),
        DenoisingAutoencoder(2, architecture="conv", channels=(4,), **FAST),
        SparseAutoencoder(8, **FAST),
        VariationalAutoencoder(2, **FAST),
    ]
    for est in estimators:
        est.fit(pd.DataFrame(X, columns=[f"p{i}" for i in range(X.shape[1])]))
        fitted = {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}
        assert fitted - {"net_"} <= type(est)._fitted_attribute_names, type(est).__name__
