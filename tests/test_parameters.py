"""Estimator parameters: optimizer_params, hidden_layer_sizes as an int, and the
agreement of each public class's hand-written ``__init__`` with its declared
parameters, its ``_parameter_constraints`` and its docstring (the model is
scikit-learn's ``sklearn/tests/test_docstring_parameters.py``)."""

from __future__ import annotations

import ast
import inspect
import re

import numpy as np
import pytest
import torch
from numpydoc.docscrape import ClassDoc, FunctionDoc
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from torch import nn

import skae
import skae.datasets
from skae import (
    AutoencoderTransformer,
    CodePrefix,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from skae._parameters import Param, declare

torch.set_num_threads(1)

FAST = {"max_epochs": 2, "random_state": 0, "device": "cpu"}
PUBLIC_CLASSES = [
    getattr(skae, name) for name in skae.__all__ if isinstance(getattr(skae, name), type)
]
# Every public autoencoder class: skae's public classes but CodePrefix (a
# pipeline step without a network) and AutoencoderOutlierDetector (a
# meta-estimator over another estimator).
ESTIMATORS = [
    cls for cls in PUBLIC_CLASSES if cls not in (CodePrefix, skae.AutoencoderOutlierDetector)
]
# The one parameter a class takes by position: an autoencoder's width, the
# detector's estimator.
FIRST_PARAMETER = {skae.AutoencoderOutlierDetector: "estimator"}
PUBLIC_FUNCTIONS = [
    getattr(module, name)
    for module in (skae, skae.datasets)
    for name in module.__all__
    if not isinstance(getattr(module, name), type)
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
        **FAST,
    ).fit(X)
    assert isinstance(est.net_.optimizer_, torch.optim.SGD)
    assert _param_group(est)["momentum"] == 0.9
    assert _param_group(est)["lr"] == est.lr_ == 1e-3
    plain = AutoencoderTransformer(2, hidden_layer_sizes=(8,), optimizer="sgd", **FAST).fit(X)
    assert _param_group(plain)["momentum"] == 0

    # The momentum is used (SGD keeps a momentum buffer per parameter only
    # with one) and changes the training: its losses (the model kept may be
    # either fit's start, PCA, after two epochs at this rate).
    def momentum_buffers(est):
        state = est.net_.optimizer_.state.values()
        return [s["momentum_buffer"] for s in state if s.get("momentum_buffer") is not None]

    assert len(momentum_buffers(est)) == len(list(est.net_.module_.parameters()))
    assert momentum_buffers(plain) == []
    assert len(est.loss_curve_) == len(plain.loss_curve_) == 2
    assert est.loss_curve_ != plain.loss_curve_


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


# ------------------------------- signature, declarations, constraints, docs
def test_every_autoencoder_and_only_they_declare_their_parameters():
    declared = [cls for cls in PUBLIC_CLASSES if "_declared_parameters" in vars(cls)]
    assert declared == ESTIMATORS
    assert {cls.__name__ for cls in ESTIMATORS} == {
        "AutoencoderTransformer",
        "ConvolutionalAutoencoder",
        "DenoisingAutoencoder",
        "SparseAutoencoder",
        "VariationalAutoencoder",
    }


def _documented_defaults(doc, where):
    """``{name: default}`` from a numpydoc Parameters section (``default=...`` or absent)."""
    documented = {}
    for param in doc["Parameters"]:
        match = re.search(r"default=(.+)$", param.type)
        documented[param.name] = (
            ast.literal_eval(match.group(1)) if match else inspect.Parameter.empty
        )
    return documented


def _check_same_defaults(where, expected, documented):
    for name, default in expected.items():
        assert type(documented[name]) is type(default) and documented[name] == default, (
            f"{where}: {name} documented default={documented[name]!r}, signature {default!r}"
        )


@pytest.mark.parametrize("cls", PUBLIC_CLASSES, ids=lambda c: c.__name__)
def test_init_declarations_constraints_and_docstring_agree(cls):
    # A hand-written __init__ in the class itself, which getsource shows.
    assert "__init__" in vars(cls), f"{cls.__name__} inherits its __init__"
    assert cls.__init__.__qualname__ == f"{cls.__name__}.__init__"
    first = FIRST_PARAMETER.get(cls, "n_components")
    source = inspect.getsource(cls.__init__)
    assert re.match(rf"def __init__\(\s*self,\s*{first}=", source.lstrip())
    assert inspect.getsourcefile(cls.__init__) == inspect.getsourcefile(cls)

    signature = inspect.signature(cls)
    params = list(signature.parameters.values())
    names = [p.name for p in params]
    defaults = {p.name: p.default for p in params}
    # The first parameter alone may come by position; no *args or **kwargs.
    assert params[0].name == first
    assert params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    positional = [p.name for p in params[1:] if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert positional == [], f"{cls.__name__}: {positional} may be passed by position"

    # Each __init__ argument is stored unchanged (checked on non-default values).
    values = {name: object() for name in names}
    est = cls(**values)
    assert vars(est).keys() == values.keys()
    assert all(getattr(est, name) is value for name, value in values.items())

    # The constraints, in signature order; get_params reads the signature.
    assert list(cls._parameter_constraints) == names
    assert list(cls().get_params()) == sorted(names)

    if cls in ESTIMATORS:
        declared = cls._declared_parameters
        assert [p.name for p in declared] == names
        _check_same_defaults(
            f"{cls.__name__} declarations", defaults, {p.name: p.default for p in declared}
        )
        assert [p.positional for p in declared] == [True] + [False] * (len(names) - 1)

    # The docstring, parsed as numpydoc does for Sphinx.
    documented = _documented_defaults(ClassDoc(cls), cls.__name__)
    assert list(documented) == names
    _check_same_defaults(f"{cls.__name__} docstring", defaults, documented)


@pytest.mark.parametrize("func", PUBLIC_FUNCTIONS, ids=lambda f: f.__name__)
def test_public_function_docstrings_document_the_signature(func):
    signature = inspect.signature(func)
    documented = _documented_defaults(FunctionDoc(func), func.__name__)
    assert list(documented) == list(signature.parameters)
    _check_same_defaults(
        func.__name__, {p.name: p.default for p in signature.parameters.values()}, documented
    )


def test_dataset_loaders_validate_their_declared_parameters(tmp_path):
    for loader in (skae.datasets.load_mnist, skae.datasets.load_fashion_mnist):
        with pytest.raises(ValueError, match=f"'subset' parameter of {loader.__name__}"):
            loader(tmp_path, subset="validation", download_if_missing=False)
        with pytest.raises(TypeError, match="return_X_y"):
            loader(tmp_path, return_X_y="yes", download_if_missing=False)


A = Param("a", 1, ("boolean",), "int", "First.", positional=True)
B = Param("b", (1, 2), ("array-like",), "tuple", "Second.")
C = Param("c", "x", ("array-like",), "str", "Third.")


# __init__s that disagree with the declarations (A, B, C) in one way each.
def _init_order(self, a=1, *, c="x", b=(1, 2)):
    self.a, self.b, self.c = a, b, c


def _init_missing(self, a=1, *, b=(1, 2)):
    self.a, self.b = a, b


def _init_extra(self, a=1, *, b=(1, 2), c="x", d=0):
    self.a, self.b, self.c, self.d = a, b, c, d


def _init_default(self, a=1, *, b=(1, 3), c="x"):
    self.a, self.b, self.c = a, b, c


def _init_default_type(self, a=1.0, *, b=(1, 2), c="x"):
    self.a, self.b, self.c = a, b, c


def _init_positional(self, a=1, b=(1, 2), *, c="x"):
    self.a, self.b, self.c = a, b, c


def _init_keyword_only(self, *, a=1, b=(1, 2), c="x"):
    self.a, self.b, self.c = a, b, c


def _init_not_stored(self, a=1, *, b=(1, 2), c="x"):
    self.a, self.b = a, list(b)


def _init_extra_attribute(self, a=1, *, b=(1, 2), c="x"):
    self.a, self.b, self.c, self.b_ = a, b, c, b


def _init_generic(self, *args, **kwargs):
    pass


DISAGREEING = [
    (_init_order, r"order \(a, c, b\) instead of \(a, b, c\)"),
    (_init_missing, r"missing \['c'\]"),
    (_init_extra, r"not declared \['d'\]"),
    (_init_default, r"'b' defaults to \(1, 3\), declared \(1, 2\)"),
    (_init_default_type, r"'a' defaults to 1\.0, declared 1"),
    (_init_positional, r"'b' is positional or keyword, declared keyword-only"),
    (_init_keyword_only, r"'a' is keyword-only, declared positional or keyword"),
    (_init_not_stored, r"does not store 'b' unchanged.*does not store 'c' unchanged"),
    (_init_extra_attribute, r"sets \['b_'\], which are not parameters"),
    (_init_generic, r"not declared \['args', 'kwargs'\]"),
]


@pytest.mark.parametrize(
    "init, problem",
    DISAGREEING,
    ids=[init.__name__.removeprefix("_init_") for init, _ in DISAGREEING],
)
def test_declare_refuses_an_init_that_disagrees_with_the_declarations(init, problem):
    with pytest.raises(
        TypeError, match=rf"ThrowawayEstimator\.__init__ does not match .*{problem}"
    ):

        @declare(A, B, C)
        class ThrowawayEstimator:
            """A throwaway class.

            <parameters and attributes>
            """

            __init__ = init


def test_declare_accepts_a_matching_init():
    @declare(A, B, C)
    class Matching:
        """A throwaway class.

        <parameters and attributes>
        """

        def __init__(self, a=1, *, b=(1, 2), c="x"):
            self.a = a
            self.b = b
            self.c = c

    assert list(Matching._parameter_constraints) == ["a", "b", "c"]
    assert "b : tuple, default=(1, 2)" in Matching.__doc__


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_a_misspelled_keyword_names_the_class(cls):
    message = rf"{cls.__name__}\.__init__\(\) got an unexpected keyword argument 'n_componets'"
    with pytest.raises(TypeError, match=message):
        cls(n_componets=3)
    assert cls(3).n_components == 3
    with pytest.raises(TypeError, match=rf"{cls.__name__}\.__init__\(\) takes"):
        cls(3, "relu")


@pytest.mark.parametrize(
    "cls, default",
    [(AutoencoderTransformer, 2), (DenoisingAutoencoder, 2), (SparseAutoencoder, 2)],
)
def test_n_components_defaults(cls, default):
    assert cls().n_components == default
    assert [p.type for p in ClassDoc(cls)["Parameters"]][0].endswith(f"default={default}")


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_new_parameters_default_to_none(cls):
    params = cls().get_params()
    for name in ("encoder", "encoder_params", "decoder", "decoder_params", "optimizer_params"):
        assert params[name] is None, name
