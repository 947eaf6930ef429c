"""Your own encoder / decoder: encoder=, decoder=, their params, model files, pickle.

The modules under test are defined at module level, as a user's would be, so
that pickle can find them and a grid search can build one per fit.
"""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from torch import nn

import skae
from skae import (
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    VariationalAutoencoder,
)
from skae._nn import ConvEncoder, DenseDecoder, DenseEncoder

torch.set_num_threads(1)

FAST = {"max_epochs": 2, "random_state": 0, "device": "cpu"}
# Every public autoencoder class (the test in test_parameters.py checks the list);
# CodePrefix is a pipeline step without a network, AutoencoderOutlierDetector a
# meta-estimator over one; functions are not classes.
ESTIMATORS = [
    getattr(skae, name)
    for name in skae.__all__
    if isinstance(getattr(skae, name), type)
    and name not in ("CodePrefix", "AutoencoderOutlierDetector")
]


class TinyEncoder(nn.Module):
    """A user's encoder: ``n_features -> hidden -> n_outputs``."""

    def __init__(self, n_features, n_outputs, hidden=16):
        super().__init__()
        self.n_features, self.n_outputs, self.hidden = n_features, n_outputs, hidden
        self.net = nn.Sequential(
            nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_outputs)
        )

    def forward(self, x):
        return self.net(x)


class TinyDecoder(nn.Module):
    """A user's decoder: ``n_components -> hidden -> n_features`` (logits)."""

    def __init__(self, n_components, n_features, hidden=16):
        super().__init__()
        self.n_components, self.n_features, self.hidden = n_components, n_features, hidden
        self.net = nn.Sequential(
            nn.Linear(n_components, hidden), nn.ReLU(), nn.Linear(hidden, n_features)
        )

    def forward(self, z):
        return self.net(z)


def make_encoder(n_features, n_outputs):
    """A user's encoder factory: a function, not a class."""
    return nn.Sequential(nn.Linear(n_features, 12), nn.Tanh(), nn.Linear(12, n_outputs))


def _widths(module):
    return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, nn.Linear)]


def _state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


def _assert_same_outputs(loaded, est, X):
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
    Z = est.transform(X[:5])
    np.testing.assert_array_equal(loaded.inverse_transform(Z), est.inverse_transform(Z))
    np.testing.assert_array_equal(loaded.score_samples(X), est.score_samples(X))


def _set_param(name, value):
    def edit(header, tensors):
        params = json.loads(header["params"])
        params[name] = value
        header["params"] = json.dumps(params, sort_keys=True)

    return edit


MODULES = {"TinyEncoder": TinyEncoder, "TinyDecoder": TinyDecoder}


# ------------------------------------------------- the "done when"
def test_grid_search_over_custom_classes_then_save_and_load(X, tmp_path):
    est = AutoencoderTransformer(
        encoder=TinyEncoder,
        decoder=TinyDecoder,
        encoder_params={"hidden": 8},
        **FAST,
    )
    search = GridSearchCV(est, {"n_components": [2, 4]}, cv=2).fit(X)
    best = search.best_estimator_
    k = best.n_components
    assert k in (2, 4)
    encoder, decoder = best.net_.module_.encoder, best.net_.module_.decoder
    assert type(encoder) is TinyEncoder
    assert type(decoder) is TinyDecoder
    assert _widths(encoder) == [(64, 8), (8, k)]
    assert _widths(decoder) == [(k, 16), (16, 64)]
    assert best.transform(X).shape == (len(X), k)
    # The estimator's parameters still hold the classes, not built modules.
    assert best.get_params()["encoder"] is TinyEncoder
    assert best.get_params()["decoder"] is TinyDecoder

    path = best.save(tmp_path / "best.safetensors")
    loaded = skae.load(path, modules=MODULES)
    assert type(loaded.net_.module_.encoder) is TinyEncoder
    assert loaded.get_params()["encoder"] is TinyEncoder
    assert loaded.get_params()["encoder_params"] == {"hidden": 8}
    _assert_same_outputs(loaded, best, X)


def test_load_without_the_trusted_classes_says_how_to_pass_them(X, tmp_path):
    est = AutoencoderTransformer(4, encoder=TinyEncoder, decoder=TinyDecoder, **FAST).fit(X)
    path = est.save(tmp_path / "m.safetensors")
    # Without modules=, one error names every class of the file and how to pass them.
    suggestion = r"modules=\{'TinyDecoder': TinyDecoder, 'TinyEncoder': TinyEncoder\}"
    with pytest.raises(ValueError, match=suggestion) as info:
        skae.load(path)
    assert "never imports" in str(info.value)
    assert "Missing or wrong: 'TinyDecoder'" in str(info.value)
    assert "'TinyEncoder' (the encoder or decoder was built by it" in str(info.value)
    with pytest.raises(ValueError, match=suggestion) as info:
        skae.load(path, modules={"TinyEncoder": TinyEncoder})
    assert "'TinyEncoder' (" not in str(info.value)
    with pytest.raises(ValueError, match=r"Missing or wrong: 'TinyEncoder'"):
        skae.load(path, modules={"TinyDecoder": TinyDecoder, "Other": TinyEncoder})
    _assert_same_outputs(skae.load(path, modules=MODULES), est, X)


def test_load_never_imports_what_the_file_names(X, tmp_path, monkeypatch, rewrite_model_file):
    est = AutoencoderTransformer(4, encoder=TinyEncoder, **FAST).fit(X)
    path = est.save(tmp_path / "m.safetensors")
    rewrite_model_file(path, _set_param("encoder", {"__module_class__": "os.system"}))

    def forbidden(*args, **kwargs):
        raise AssertionError("load must never run or import code named in a file")

    monkeypatch.setattr(os, "system", forbidden)
    monkeypatch.setattr("importlib.import_module", forbidden)
    with pytest.raises(ValueError, match="'os.system'"):
        skae.load(path)
    # The trusted classes do not include the forged name either.
    with pytest.raises(ValueError, match="'os.system'"):
        skae.load(path, modules=MODULES)
    for forged in ({"__module_instance__": "os.system"}, {"__import__": "os.system"}):
        rewrite_model_file(path, _set_param("encoder", forged))
        with pytest.raises(ValueError):
            skae.load(path, modules=MODULES)


def test_module_instance_round_trip(X, tmp_path):
    torch.manual_seed(0)
    est = AutoencoderTransformer(4, encoder=TinyEncoder(64, 4), **FAST).fit(X)
    assert type(est.net_.module_.encoder) is TinyEncoder
    assert type(est.net_.module_.decoder) is DenseDecoder
    path = est.save(tmp_path / "m.safetensors")
    loaded = skae.load(path, modules={"TinyEncoder": TinyEncoder(64, 4)})
    _assert_same_outputs(loaded, est, X)
    # A class where the file needs an instance (or the reverse) is refused.
    with pytest.raises(ValueError, match="instance"):
        skae.load(path, modules={"TinyEncoder": TinyEncoder})
    # An instance of another shape does not take the file's weights.
    with pytest.raises(ValueError, match="weights or attributes do not fit"):
        skae.load(path, modules={"TinyEncoder": TinyEncoder(64, 4, hidden=8)})
    with pytest.raises(ValueError, match="TinyEncoder"):
        skae.load(path)

    by_class = AutoencoderTransformer(4, encoder=TinyEncoder, **FAST).fit(X)
    path = by_class.save(tmp_path / "class.safetensors")
    with pytest.raises(ValueError, match="class"):
        skae.load(path, modules={"TinyEncoder": TinyEncoder(64, 4)})


def test_instance_is_copied_never_trained(X):
    torch.manual_seed(0)
    encoder, decoder = TinyEncoder(64, 3), TinyDecoder(3, 64)
    before_enc, before_dec = _state(encoder), _state(decoder)
    est = AutoencoderTransformer(3, encoder=encoder, decoder=decoder, **FAST)
    Z1 = est.fit(X).transform(X)
    _assert_same_state(_state(encoder), before_enc)
    _assert_same_state(_state(decoder), before_dec)
    assert est.get_params()["encoder"] is encoder
    assert est.net_.module_.encoder is not encoder
    # The copy did train: its weights moved away from the instance's.
    trained = est.net_.module_.encoder.state_dict()
    assert any(not torch.equal(trained[k], before_enc[k]) for k in before_enc)
    # A second fit starts again from the instance's weights: same result.
    np.testing.assert_array_equal(est.fit(X).transform(X), Z1)


def test_function_factory_encoder(X, tmp_path):
    est = AutoencoderTransformer(3, encoder=make_encoder, **FAST).fit(X)
    assert _widths(est.net_.module_.encoder) == [(64, 12), (12, 3)]
    assert est.transform(X).shape == (len(X), 3)
    path = est.save(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="make_encoder"):
        skae.load(path)
    with pytest.raises(ValueError):
        skae.load(path, modules={"make_encoder": make_encoder(64, 3)})
    _assert_same_outputs(skae.load(path, modules={"make_encoder": make_encoder}), est, X)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_estimator_takes_custom_halves(cls, X, tmp_path):
    est = cls(2, encoder=TinyEncoder, decoder=TinyDecoder, decoder_params={"hidden": 8}, **FAST)
    est.fit(X)
    n_outputs = 4 if cls is VariationalAutoencoder else 2
    module = est.net_.module_
    assert type(module.encoder) is TinyEncoder and type(module.decoder) is TinyDecoder
    assert _widths(module.encoder) == [(64, 16), (16, n_outputs)]
    assert _widths(module.decoder) == [(2, 8), (8, 64)]
    Z = est.transform(X)
    assert Z.shape == (len(X), 2) and np.isfinite(Z).all()
    X_rec = est.inverse_transform(Z[:5])
    assert X_rec.shape == (5, 64)
    # Data in [0, 1]: the decoder's logits go through skae's sigmoid.
    assert X_rec.min() >= 0.0 and X_rec.max() <= 1.0
    loaded = skae.load(est.save(tmp_path / "m.safetensors"), modules=MODULES)
    _assert_same_outputs(loaded, est, X)


def test_variational_custom_encoder_gives_means_then_log_variances(X, tmp_path):
    est = VariationalAutoencoder(3, encoder=TinyEncoder, **FAST).fit(X)
    encoder = est.net_.module_.encoder
    assert encoder.n_outputs == 6
    assert type(est.net_.module_.decoder) is DenseDecoder
    Xt = torch.from_numpy(X[:7].astype(np.float32))
    with torch.no_grad():
        means = encoder(Xt)[:, :3].numpy()
    np.testing.assert_allclose(est.transform(X[:7]), means, rtol=1e-6, atol=1e-6)
    loaded = skae.load(est.save(tmp_path / "m.safetensors"), modules=MODULES)
    np.testing.assert_array_equal(loaded.sample(3, random_state=1), est.sample(3, random_state=1))
    _assert_same_outputs(loaded, est, X)


def test_variational_encoder_with_n_components_outputs_is_refused(X):
    def half_width(n_features, n_outputs):
        return nn.Linear(n_features, n_outputs // 2)

    est = VariationalAutoencoder(3, encoder=half_width, **FAST)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 6\)"):
        est.fit(X)
    assert not hasattr(est, "net_")


def test_convolutional_encoder_with_custom_decoder(X, tmp_path):
    est = ConvolutionalAutoencoder(4, channels=(4,), decoder=TinyDecoder, **FAST).fit(X)
    assert type(est.net_.module_.encoder) is ConvEncoder
    assert type(est.net_.module_.decoder) is TinyDecoder
    assert est.image_shape_ == (8, 8, 1)
    assert est.transform(X).shape == (len(X), 4)
    assert est.inverse_transform(est.transform(X[:3])).shape == (3, 64)
    loaded = skae.load(est.save(tmp_path / "m.safetensors"), modules=MODULES)
    _assert_same_outputs(loaded, est, X)


def test_custom_encoder_with_built_in_decoder_honours_hidden_layer_sizes(X):
    est = AutoencoderTransformer(3, hidden_layer_sizes=(10,), encoder=TinyEncoder, **FAST).fit(X)
    assert type(est.net_.module_.encoder) is TinyEncoder
    assert type(est.net_.module_.decoder) is DenseDecoder
    assert _widths(est.net_.module_.decoder) == [(3, 10), (10, 64)]


def test_custom_encoder_sees_normalised_float32_rows():
    seen = []

    class Recording(TinyEncoder):
        def forward(self, x):
            seen.append((x.dtype, tuple(x.shape), float(x.mean()), float(x.std())))
            return super().forward(x)

    rng = np.random.default_rng(0)
    X = rng.normal(100.0, 20.0, size=(120, 6))  # far from [0, 1]: "identity" scaling
    est = AutoencoderTransformer(2, encoder=Recording, batch_size=120, **FAST).fit(X)
    assert est.output_activation_ == "identity"
    dtype, shape, mean, std = seen[-1]
    assert dtype == torch.float32 and shape[1] == 6
    # Centred and divided by the global scale: order 1, not order 100.
    assert abs(mean) < 0.5 and 0.3 < std < 3.0


# ------------------------------------------------------------ wrong shapes
@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"encoder": lambda n_features, n_outputs: nn.Linear(n_features, n_outputs + 1)},
            r"The encoder maps a batch of shape \(2, 64\) to \(2, 5\).*needs \(2, 4\)",
        ),
        (
            {"encoder": lambda n_features, n_outputs: nn.Unflatten(1, (1, n_features))},
            r"The encoder maps a batch of shape \(2, 64\) to \(2, 1, 64\).*needs \(2, 4\)",
        ),
        (
            {"decoder": lambda n_components, n_features: nn.Linear(n_components, n_features - 1)},
            r"The decoder maps codes of shape \(2, 4\) to \(2, 63\).*needs \(2, 64\)",
        ),
        (
            {"encoder": TinyEncoder(64, 2)},
            r"The encoder maps a batch of shape \(2, 64\) to \(2, 2\)",
        ),
    ],
    ids=["encoder-width", "encoder-3d", "decoder-width", "encoder-instance"],
)
def test_wrong_shapes_are_a_clear_error_and_leave_no_fit(params, message, X):
    est = AutoencoderTransformer(4, **FAST)
    est.fit(X)  # a previous fit must not survive the failed one
    est.set_params(**params)
    with pytest.raises(ValueError, match=message):
        est.fit(X)
    assert not hasattr(est, "net_")
    assert not hasattr(est, "n_features_in_")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"encoder": TinyEncoder(50, 4)}, r"encoder.* a batch of shape \(2, 64\)"),
        ({"decoder": TinyDecoder(3, 64)}, r"decoder.* codes of shape \(2, 4\)"),
    ],
    ids=["encoder", "decoder"],
)
def test_module_built_for_another_input_width_is_a_clear_error(params, message, X):
    # The likeliest mistake with an instance: built for another n_features or
    # n_components. The shape check runs the module on a probe batch; torch's
    # own error there ("mat1 and mat2 shapes cannot be multiplied") should
    # come out as the same ValueError naming the shapes.
    est = AutoencoderTransformer(4, **params, **FAST)
    with pytest.raises(ValueError, match=message):
        est.fit(X)
    assert not hasattr(est, "net_")


def test_encoder_returning_a_tuple_is_a_clear_error(X):
    class TupleEncoder(TinyEncoder):
        def forward(self, x):
            return super().forward(x), None

    est = AutoencoderTransformer(4, encoder=TupleEncoder, **FAST)
    with pytest.raises(ValueError, match=r"The encoder maps a batch of shape \(2, 64\) to tuple"):
        est.fit(X)
    assert not hasattr(est, "net_")


# ------------------------------------------------------- invalid arguments
@pytest.mark.parametrize("what", ["encoder", "decoder"])
def test_params_without_a_module_class_are_refused(what, X):
    est = AutoencoderTransformer(4, **{f"{what}_params": {"hidden": 8}}, **FAST)
    with pytest.raises(ValueError, match=f"{what}_params"):
        est.fit(X)
    assert not hasattr(est, "net_")
    # An empty dict asks for nothing.
    AutoencoderTransformer(4, **{f"{what}_params": {}}, **FAST).fit(X)


@pytest.mark.parametrize("what", ["encoder", "decoder"])
def test_params_with_a_module_instance_are_refused(what, X):
    instance = TinyEncoder(64, 4) if what == "encoder" else TinyDecoder(4, 64)
    est = AutoencoderTransformer(4, **{what: instance, f"{what}_params": {"hidden": 8}}, **FAST)
    with pytest.raises(ValueError, match=f"{what}_params"):
        est.fit(X)
    assert not hasattr(est, "net_")


@pytest.mark.parametrize("what", ["encoder", "decoder"])
def test_callable_returning_a_non_module_is_a_type_error(what, X):
    est = AutoencoderTransformer(4, **{what: lambda a, b: np.zeros((a, b))}, **FAST)
    with pytest.raises(TypeError, match=f"{what}=.*ndarray.*torch.nn.Module"):
        est.fit(X)
    assert not hasattr(est, "net_")


@pytest.mark.parametrize("value", ["mlp", 3])
def test_non_callable_encoder_is_refused(value, X):
    with pytest.raises(ValueError, match="encoder"):
        AutoencoderTransformer(4, encoder=value, **FAST).fit(X)


# ------------------------------------------ get_params / clone / pickle
def test_get_set_params_and_clone_keep_classes_and_instances(X):
    instance = TinyEncoder(64, 4)
    est = AutoencoderTransformer(4, encoder=instance, decoder=TinyDecoder, **FAST)
    params = est.get_params()
    assert params["encoder"] is instance
    assert params["decoder"] is TinyDecoder
    assert params["encoder_params"] is None and params["decoder_params"] is None

    est.set_params(encoder=TinyEncoder, encoder_params={"hidden": 4})
    assert est.get_params()["encoder"] is TinyEncoder
    assert est.get_params()["encoder_params"] == {"hidden": 4}

    est.set_params(encoder=instance, encoder_params=None)
    twin = clone(est)
    assert twin.get_params()["decoder"] is TinyDecoder
    # clone copies an instance (as every non-estimator parameter), weights included.
    assert type(twin.encoder) is TinyEncoder
    _assert_same_state(_state(twin.encoder), _state(instance))
    np.testing.assert_array_equal(twin.fit(X).transform(X), est.fit(X).transform(X))


def test_clone_of_a_fitted_estimator_is_unfitted_and_refits_the_same(X):
    est = AutoencoderTransformer(3, encoder=TinyEncoder, encoder_params={"hidden": 6}, **FAST).fit(
        X
    )
    twin = clone(est)
    assert not hasattr(twin, "net_")
    assert twin.get_params()["encoder"] is TinyEncoder
    assert twin.get_params()["encoder_params"] == {"hidden": 6}
    np.testing.assert_array_equal(twin.fit(X).transform(X), est.transform(X))


def test_grid_search_over_encoder_params(X):
    est = AutoencoderTransformer(2, encoder=TinyEncoder, **FAST)
    grid = {"encoder_params": [{"hidden": 4}, {"hidden": 12}]}
    search = GridSearchCV(est, grid, cv=2).fit(X)
    hidden = search.best_params_["encoder_params"]["hidden"]
    assert search.best_estimator_.net_.module_.encoder.hidden == hidden
    assert len(search.cv_results_["params"]) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"encoder": TinyEncoder, "decoder": TinyDecoder, "encoder_params": {"hidden": 5}},
        {"encoder": make_encoder},
        {"decoder": TinyDecoder(3, 64)},
    ],
    ids=["classes", "factory", "instance"],
)
def test_pickle_round_trip(params, X):
    est = AutoencoderTransformer(3, **params, **FAST).fit(X)
    restored = pickle.loads(pickle.dumps(est))
    _assert_same_outputs(restored, est, X)
    for what in ("encoder", "decoder"):
        assert type(getattr(restored.net_.module_, what)) is type(getattr(est.net_.module_, what))
    assert restored.get_params()["encoder_params"] == est.get_params()["encoder_params"]


def test_built_in_network_unchanged_by_the_new_parameters(X):
    # encoder=None / decoder=None build skae's own network, as before.
    est = AutoencoderTransformer(3, hidden_layer_sizes=(16,), **FAST).fit(X)
    assert type(est.net_.module_.encoder) is DenseEncoder
    assert type(est.net_.module_.decoder) is DenseDecoder
    assert _widths(est.net_.module_.encoder) == [(64, 16), (16, 3)]


def test_save_refuses_a_module_factory_without_a_name(X, tmp_path):
    # A lambda or functools.partial has no name load could be told about:
    # refused at save, with the way out, and no file is written.
    import functools

    est = AutoencoderTransformer(4, encoder=functools.partial(TinyEncoder, hidden=4), **FAST).fit(X)
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValueError, match=r"no name a model file can refer to.*encoder_params"):
        est.save(path)
    assert not path.exists()
