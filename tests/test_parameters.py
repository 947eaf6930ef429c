"""Estimator parameters: optimizer_params, hidden_layer_sizes as an int, and the
signature, docstring and constraints every public estimator declares."""

from __future__ import annotations

import ast
import inspect
import re

import numpy as np
import pytest
import torch
from numpydoc.docscrape import NumpyDocString
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from torch import nn

import skae
from skae import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)

torch.set_num_threads(1)

FAST = {"max_epochs": 2, "random_state": 0, "device": "cpu"}
# Every public autoencoder class: skae's public classes but CodePrefix (a
# pipeline step without a network).
ESTIMATORS = [
    getattr(skae, name)
    for name in skae.__all__
    if isinstance(getattr(skae, name), type) and name != "CodePrefix"
]


def _param_group(est):
    return est.net_.optimizer_.param_groups[0]


# ------------------------------------------------------- optimizer_params
def test_optimizer_params_reach_sgd(X):
    est = AutoencoderTransformer(
        2,
        hidden_layer_sizes=(8,),
        optimizer="sgd",
        optimizer_params={"momentum": 0.9},
        lr_schedule="constant",  # the optimizer ends at lr, not annealed
        pca_start=False,  # the network's training, never PCA's solution
        **FAST,
    ).fit(X)
    assert isinstance(est.net_.optimizer_, torch.optim.SGD)
    assert _param_group(est)["momentum"] == 0.9
    assert _param_group(est)["lr"] == est.lr_ == 1e-3
    plain = AutoencoderTransformer(
        2, hidden_layer_sizes=(8,), optimizer="sgd", pca_start=False, **FAST
    ).fit(X)
    assert _param_group(plain)["momentum"] == 0
    # The momentum changes the training.
    assert not np.array_equal(est.transform(X), plain.transform(X))


def test_optimizer_params_reach_adam_and_a_torch_class(X):
    est = AutoencoderTransformer(
        2,
        hidden_layer_sizes=(8,),
        optimizer_params={"weight_decay": 1e-3, "betas": (0.8, 0.95)},
        **FAST,
    ).fit(X)
    assert isinstance(est.net_.optimizer_, torch.optim.Adam)
    assert _param_group(est)["weight_decay"] == 1e-3
    assert tuple(_param_group(est)["betas"]) == (0.8, 0.95)

    est = VariationalAutoencoder(
        2,
        hidden_layer_sizes=(8,),
        optimizer=torch.optim.SGD,
        optimizer_params={"momentum": 0.5, "nesterov": True},
        **FAST,
    ).fit(X)
    assert _param_group(est)["momentum"] == 0.5
    assert _param_group(est)["nesterov"] is True


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_builtin_optimizers_run_fused_on_cpu(optimizer, X):
    # torch's fused kernel: the same update as its loop of small tensor ops,
    # up to float rounding, in less time.
    est = AutoencoderTransformer(2, hidden_layer_sizes=(8,), optimizer=optimizer, **FAST).fit(X)
    assert _param_group(est)["fused"] is True
    unfused = AutoencoderTransformer(
        2,
        hidden_layer_sizes=(8,),
        optimizer=optimizer,
        optimizer_params={"fused": False},
        **FAST,
    ).fit(X)
    assert not _param_group(unfused)["fused"]
    np.testing.assert_allclose(est.transform(X), unfused.transform(X), rtol=1e-4, atol=1e-5)


def test_fused_optimizer_respects_foreach_and_other_optimizers(X):
    est = AutoencoderTransformer(
        2, hidden_layer_sizes=(8,), optimizer_params={"foreach": True}, **FAST
    ).fit(X)
    assert not _param_group(est)["fused"]
    assert _param_group(est)["foreach"] is True
    est = AutoencoderTransformer(2, hidden_layer_sizes=(8,), optimizer="rmsprop", **FAST).fit(X)
    assert "fused" not in _param_group(est)


def test_optimizer_params_are_not_modified_by_fit(X):
    params = {"weight_decay": 1e-4}
    est = AutoencoderTransformer(2, hidden_layer_sizes=(8,), optimizer_params=params, **FAST)
    est.fit(X)
    assert est.optimizer_params is params
    assert params == {"weight_decay": 1e-4}


def test_optimizer_params_survive_clone_and_grid_search(X):
    est = AutoencoderTransformer(
        2, hidden_layer_sizes=(8,), optimizer="sgd", optimizer_params={"momentum": 0.9}, **FAST
    )
    assert clone(est).get_params()["optimizer_params"] == {"momentum": 0.9}

    grid = {"optimizer_params": [{"momentum": 0.0}, {"momentum": 0.5}, {"momentum": 0.9}]}
    search = GridSearchCV(est, grid, cv=2).fit(X)
    assert [p["optimizer_params"] for p in search.cv_results_["params"]] == grid["optimizer_params"]
    best = search.best_estimator_
    assert best.get_params()["optimizer_params"] == search.best_params_["optimizer_params"]
    assert _param_group(best)["momentum"] == search.best_params_["optimizer_params"]["momentum"]


@pytest.mark.parametrize(
    "optimizer_params",
    [{"weight_decay": 1e-4}, {"betas": (0.9, 0.99), "amsgrad": True}, {}],
    ids=["weight_decay", "tuple", "empty"],
)
def test_optimizer_params_survive_save_and_load(optimizer_params, X, tmp_path):
    est = AutoencoderTransformer(
        2, hidden_layer_sizes=(8,), optimizer_params=optimizer_params, **FAST
    ).fit(X)
    loaded = skae.load(est.save(tmp_path / "m.safetensors"))
    assert loaded.get_params()["optimizer_params"] == optimizer_params
    assert loaded.get_params() == est.get_params()
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
    # The loaded estimator trains with them again.
    refit = loaded.fit(X)
    for key, value in optimizer_params.items():
        got = _param_group(refit)[key]
        assert (tuple(got) if isinstance(value, tuple) else got) == value
    np.testing.assert_array_equal(refit.transform(X), est.transform(X))


@pytest.mark.parametrize(
    "optimizer, optimizer_params, unknown",
    [
        ("adam", {"momentum": 0.9}, "momentum"),
        ("sgd", {"betas": (0.9, 0.99)}, "betas"),
        ("adam", {"weight_decay": 0.0, "wieght_decay": 1e-4}, "wieght_decay"),
    ],
)
def test_unknown_optimizer_param_is_refused_at_fit(optimizer, optimizer_params, unknown, X):
    est = AutoencoderTransformer(
        2, optimizer=optimizer, optimizer_params=optimizer_params, **FAST
    )  # no error before fit: sklearn's __init__ contract
    with pytest.raises(ValueError, match=f"'{unknown}'"):
        est.fit(X)
    assert not hasattr(est, "net_")


def test_lr_in_optimizer_params_says_to_use_lr(X):
    est = AutoencoderTransformer(2, optimizer_params={"lr": 0.1}, **FAST)
    with pytest.raises(ValueError, match=r"lr=0\.1"):
        est.fit(X)
    assert not hasattr(est, "net_")


@pytest.mark.parametrize("value", ["momentum=0.9", [("momentum", 0.9)]])
def test_optimizer_params_must_be_a_dict(value, X):
    with pytest.raises(ValueError, match="optimizer_params"):
        AutoencoderTransformer(2, optimizer_params=value, **FAST).fit(X)


# ------------------------------------------------------ hidden_layer_sizes
def _linear_widths(module):
    return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, nn.Linear)]


@pytest.mark.parametrize(
    "sizes, encoder_widths",
    [
        (64, [(64, 64), (64, 2)]),
        ((64,), [(64, 64), (64, 2)]),
        ([24, 12], [(64, 24), (24, 12), (12, 2)]),
        ((), [(64, 2)]),
    ],
    ids=["int", "tuple", "list", "linear"],
)
def test_hidden_layer_sizes_as_mlpregressor(sizes, encoder_widths, X):
    est = AutoencoderTransformer(2, hidden_layer_sizes=sizes, **FAST).fit(X)
    assert _linear_widths(est.net_.module_.encoder) == encoder_widths
    mirrored = [(b, a) for a, b in reversed(encoder_widths)]
    assert _linear_widths(est.net_.module_.decoder) == mirrored


def test_hidden_layer_sizes_int_is_one_layer_tuple(X, tmp_path):
    as_int = AutoencoderTransformer(2, hidden_layer_sizes=64, **FAST).fit(X)
    as_tuple = AutoencoderTransformer(2, hidden_layer_sizes=(64,), **FAST).fit(X)
    np.testing.assert_array_equal(as_int.transform(X), as_tuple.transform(X))
    assert as_int.get_params()["hidden_layer_sizes"] == 64
    loaded = skae.load(as_int.save(tmp_path / "m.safetensors"))
    assert loaded.get_params()["hidden_layer_sizes"] == 64
    np.testing.assert_array_equal(loaded.transform(X), as_int.transform(X))
    # The variants with a network choice take an int too.
    sparse = SparseAutoencoder(8, hidden_layer_sizes=16, **FAST).fit(X)
    assert _linear_widths(sparse.net_.module_.encoder) == [(64, 16), (16, 8)]


@pytest.mark.parametrize("sizes", [0, -3, (16, 0), (16, 2.5)])
def test_invalid_hidden_layer_sizes_are_refused(sizes, X):
    est = AutoencoderTransformer(2, hidden_layer_sizes=sizes, **FAST)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        est.fit(X)
    assert not hasattr(est, "net_")


# ------------------------------------------- signature, docs, constraints
@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_n_components_is_the_only_positional_parameter(cls):
    params = list(inspect.signature(cls).parameters.values())
    assert params[0].name == "n_components"
    assert params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    others = [p.name for p in params[1:] if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert others == [], f"{cls.__name__}: {others} may be passed by position"
    assert cls(3).n_components == 3
    with pytest.raises(TypeError):
        cls(3, "relu")
    # The signature is what sklearn reads for get_params.
    assert list(cls().get_params()) == sorted(p.name for p in params)


def _documented_params(cls):
    doc = NumpyDocString(inspect.getdoc(cls))
    return {p.name: p.type for p in doc["Parameters"]}


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_docstring_documents_every_parameter_in_order(cls):
    documented = list(_documented_params(cls))
    assert documented == list(inspect.signature(cls).parameters)
    assert set(documented) == set(cls().get_params())
    for name in ("encoder", "encoder_params", "decoder", "decoder_params", "optimizer_params"):
        assert name in documented


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_documented_defaults_match_the_signature(cls):
    documented = _documented_params(cls)
    for name, param in inspect.signature(cls).parameters.items():
        match = re.search(r"default=(.+)$", documented[name])
        assert match, f"{cls.__name__}.{name}: no default in {documented[name]!r}"
        assert ast.literal_eval(match.group(1)) == param.default, (
            f"{cls.__name__}.{name}: documented {match.group(1)}, signature {param.default!r}"
        )


@pytest.mark.parametrize(
    "cls, default",
    [(AutoencoderTransformer, 2), (DenoisingAutoencoder, 2), (SparseAutoencoder, 2)],
)
def test_n_components_defaults(cls, default):
    assert cls().n_components == default
    assert f"default={default}" in _documented_params(cls)["n_components"]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_constraints_cover_exactly_the_parameters(cls):
    assert set(cls._parameter_constraints) == set(cls().get_params())


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_new_parameters_default_to_none(cls):
    params = cls().get_params()
    for name in ("encoder", "encoder_params", "decoder", "decoder_params", "optimizer_params"):
        assert params[name] is None, name
