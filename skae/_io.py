"""Model files that are safe to open: parameters as JSON, weights as safetensors.

A pickle (or joblib) file can run any code when it is loaded, so a model
received from someone else should not be unpickled. :func:`save` writes one
`safetensors <https://huggingface.co/docs/safetensors>`_ file instead, for a
fitted skae estimator or a fitted scikit-learn composite (a Pipeline,
ColumnTransformer or FeatureUnion, nested at will) holding skae steps:

* the network's weights and every fitted array as tensors;
* in the file's header (a JSON string map): the format name and version, the
  estimator's class name, its parameters, its other fitted attributes and
  its ``set_output`` configuration as JSON, and a SHA-256 digest of all of
  it;
* for a composite, its skeleton -- the composite with each skae estimator
  replaced by a placeholder string -- as a `skops <https://skops.readthedocs.io>`_
  file in one ``uint8`` tensor, and each skae estimator's record (header
  fields and tensors as above, the tensors' names prefixed with its
  placeholder).

:func:`load` reads that file with ``safetensors`` (which parses a JSON header
and raw tensor bytes, and has no way to run code), builds the estimator
named in the header from the registered estimator classes only (skae's, and
subclasses of its base defined in the running program), checks the digest
and the shape of every weight against the network those parameters build,
and returns the fitted estimator. A user's own ``encoder`` / ``decoder`` is
stored as its weights and class name; ``load`` rebuilds it only from the
classes the caller names in ``modules``. A composite's skeleton goes
through ``skops.io.loads``, which builds only the types skops trusts by
default (scikit-learn's estimators, numpy, scipy, builtins), skae's
:class:`~skae.CodePrefix` and those the caller lists in ``trusted``; then
its placeholders are replaced by the skae estimators. Nothing on either
path unpickles, imports or runs anything the file names.

Layout versions: 1 (skae 0.1), 2 (dict parameters and the user's own
modules), 3 (the ``set_output`` configuration, and composites). Every
version is readable.

This module imports no estimator module: estimator classes register
themselves (:func:`register_estimator_class`, called by the base class for
every subclass), so a new estimator module is loadable without a change
here, and there is no import cycle.
"""

from __future__ import annotations

import copy
import hashlib
import json
import numbers
import os
import warnings
from zipfile import BadZipFile

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._device import resolve_device
from ._ordered import nested_decoder_state
from ._version import __version__

FORMAT = "skae.model"
# Version 2 (skae 0.2) adds dict parameters and the user's own modules;
# version 3 the set_output configuration ("output_config") and composites
# (a "composite" file: a skops skeleton and one record per skae estimator).
# A file of any readable version may lack parameters its class gained in
# later releases: they take their defaults where the default keeps the
# behaviour of the releases before it, and the value in _LEGACY_VALUES where
# it does not, so that a loaded model clones and refits as it was trained. A
# parameter the class does not know is an error: dropping it would change the
# model in silence. Bump FORMAT_VERSION only
# when the layout of the file changes.
FORMAT_VERSION = "3"
READABLE_VERSIONS = ("1", "2", "3")
_MODULE = "module."
_ATTRIBUTE = "attribute."
# A composite's skeleton (skops bytes) is the tensor of this name; the skae
# estimator numbered i is the string _PLACEHOLDER + str(i) in the skeleton,
# its tensors are named _PLACEHOLDER + str(i) + "/" + its own tensor name.
_SKELETON = "skeleton"
_PLACEHOLDER = "skae.estimator:"
# Parameters that may hold the user's own torch modules.
_MODULE_PARAMS = ("encoder", "decoder")

_ESTIMATOR_CLASSES = {}
# Parameters added with a default that changes training (0.3's pca_start=True):
# the value a file without them was trained with.
_LEGACY_VALUES = {"pca_start": False}


def estimator_class_name(cls):
    """The name a model file gives ``cls``: the bare class name for skae's own
    classes, ``module.QualifiedName`` for others."""
    if cls.__module__.split(".")[0] == "skae":
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


def register_estimator_class(cls):
    """Make ``cls`` loadable by :func:`load` under :func:`estimator_class_name`.

    The one registry of skae's estimator classes: the base class calls this
    for every subclass, and :mod:`skae.onnx` registers its converters for
    the classes here (:func:`registered_estimator_classes`). A class
    defined again under the same name replaces the earlier one.
    """
    _ESTIMATOR_CLASSES[estimator_class_name(cls)] = cls
    return cls


def registered_estimator_classes():
    """The registered estimator classes, in the order their names were first registered.

    Returns
    -------
    classes : list of type
        skae's estimator classes and the subclasses of its base defined so
        far in the running program.
    """
    return list(_ESTIMATOR_CLASSES.values())


# ----------------------------------------------------------- JSON encoding
def _to_json(value, what):
    """JSON-ready form of a parameter or attribute; tuples, dicts, string
    arrays and the user's modules are tagged so that they come back with
    their type."""
    if what in _MODULE_PARAMS and value is not None:
        if isinstance(value, nn.Module):
            return {"__module_instance__": type(value).__name__}
        name = getattr(value, "__name__", None)
        if not (isinstance(name, str) and name.isidentifier()):
            raise ValueError(
                f"{what}={value!r} has no name a model file can refer to (a lambda or "
                "functools.partial): pass the module class itself as "
                f"{what}= and its keyword arguments as {what}_params, or use pickle for "
                "files you only open yourself."
            )
        return {"__module_class__": name}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v, what) for v in value]}
    if isinstance(value, list):
        return [_to_json(v, what) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _to_json(v, f"{what}[{k!r}]") for k, v in value.items()}}
    if isinstance(value, np.ndarray) and value.dtype == object:
        return {"__object_array__": [_to_json(v, what) for v in value.tolist()]}
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, type) and issubclass(value, torch.optim.Optimizer):
        if getattr(torch.optim, value.__name__, None) is value:
            return {"__torch_optim__": value.__name__}
    raise ValueError(
        f"{what}={value!r} cannot be stored in a skae model file, which holds only "
        "JSON values and tensors: set it to a plain value (e.g. with set_params) "
        "before save, or use pickle for files you only open yourself."
    )


def _from_json(value, modules=None):
    """Inverse of :func:`_to_json`; the user's modules come from ``modules`` only."""
    if isinstance(value, list):
        return [_from_json(v, modules) for v in value]
    if isinstance(value, dict):
        if "__tuple__" in value:
            return tuple(_from_json(v, modules) for v in value["__tuple__"])
        if "__dict__" in value and isinstance(value["__dict__"], dict):
            return {k: _from_json(v, modules) for k, v in value["__dict__"].items()}
        for tag in ("__module_class__", "__module_instance__"):
            if tag in value:  # checked by _check_trusted_modules first
                return modules[str(value[tag])]
        if "__object_array__" in value:
            return np.array(
                [_from_json(v, modules) for v in value["__object_array__"]], dtype=object
            )
        if "__torch_optim__" in value:
            cls = getattr(torch.optim, str(value["__torch_optim__"]), None)
            if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer):
                return cls
            raise ValueError(f"Unknown optimizer {value['__torch_optim__']!r} in the model file.")
        raise ValueError(f"Unexpected value {value!r} in the model file.")
    return value


class UntrustedModuleError(ValueError):
    """A model file needs a module class the caller did not name in ``modules``."""


def _module_tags(value):
    """``(name, is_instance)`` of every user module a stored parameter value names."""
    if isinstance(value, list):
        return [tag for v in value for tag in _module_tags(v)]
    if not isinstance(value, dict):
        return []
    for key, instance in (("__module_class__", False), ("__module_instance__", True)):
        if key in value:
            return [(str(value[key]), instance)]
    return [tag for v in value.values() for tag in _module_tags(v)]


def _check_trusted_modules(raw_params, modules):
    """Raise one error naming every user module ``modules`` lacks or gives wrongly."""
    modules = modules or {}
    problems = []
    for name, instance in _module_tags(raw_params):
        value = modules.get(name)
        if value is None:
            kind = "an instance of" if instance else "built by"
            problems.append(f"{name!r} (the encoder or decoder was {kind} it; pass {name})")
        elif instance and not isinstance(value, nn.Module):
            problems.append(
                f"{name!r} (given as an instance at fit: pass an instance, not "
                f"{type(value).__name__})"
            )
        elif not instance and (isinstance(value, nn.Module) or not callable(value)):
            problems.append(
                f"{name!r} (the class or function that built it, not {type(value).__name__})"
            )
    if problems:
        wanted = ", ".join(f"{name!r}: {name}" for name, _ in _module_tags(raw_params))
        raise UntrustedModuleError(
            "the model uses modules of your own, and load never imports code a file "
            f"names: pass the trusted code as skae.load(path, modules={{{wanted}}}). "
            "Missing or wrong: " + "; ".join(problems) + "."
        )


def _digest(header, tensors):
    """SHA-256 of the header fields and of every tensor's name, dtype, shape and bytes."""
    h = hashlib.sha256()
    for key in sorted(header):
        h.update(f"{key}={header[key]}\n".encode())
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}\n".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


# -------------------------------------------------------------- composites
class UntrustedTypeError(ValueError):
    """A composite's file holds types skops does not trust by default and the
    caller did not list in ``trusted``."""


def _is_skae_estimator(obj):
    """Whether ``obj`` is an instance of a registered skae estimator class."""
    return _ESTIMATOR_CLASSES.get(estimator_class_name(type(obj))) is type(obj)


def _swap(value, replace, memo):
    """``value`` with every object that ``replace`` changes replaced, at any depth.

    Looks into the attributes of scikit-learn estimators (a Pipeline's
    ``steps``, a FeatureUnion's ``transformer_list``, a ColumnTransformer's
    ``transformers`` and ``transformers_``, a search's ``best_estimator_``),
    and into lists, tuples and dicts. What holds a replacement is copied
    (shallow): ``value`` itself is never changed. ``memo`` (a dict) maps
    ``id`` to ``(object, replacement)``, so an object met twice is replaced
    by one object.
    """
    if id(value) in memo:
        return memo[id(value)][1]
    new = replace(value)
    if new is value:
        if type(value) in (list, tuple):
            items = [_swap(item, replace, memo) for item in value]
            if any(a is not b for a, b in zip(items, value, strict=True)):
                new = type(value)(items)
        elif isinstance(value, (dict, BaseEstimator)):
            state = value if isinstance(value, dict) else vars(value)
            changed = {}
            for key, item in state.items():
                if (swapped := _swap(item, replace, memo)) is not item:
                    changed[key] = swapped
            if changed:
                new = copy.copy(value)
                (new if isinstance(new, dict) else vars(new)).update(changed)
    memo[id(value)] = (value, new)  # holds value, so that its id is not reused
    return new


def _composite_record(composite):
    """``(header fields, tensors)`` of a scikit-learn composite holding skae
    estimators: its skops skeleton, each skae estimator replaced by a
    placeholder string, and each skae estimator's record and tensors.

    Raises
    ------
    ValueError
        If the composite holds a string that looks like a placeholder, or a
        skae estimator parameter that is not a JSON value.
    TypeError
        If a skae estimator sits where the placeholders cannot reach it, or
        skops cannot store a part of the composite.
    """
    import skops.io

    records, tensors = {}, {}

    def to_placeholder(value):
        if isinstance(value, str) and value.startswith(_PLACEHOLDER):
            raise ValueError(
                f"{type(composite).__name__} holds the string {value!r}, which skae "
                f"model files reserve for their own use (strings starting with "
                f"{_PLACEHOLDER!r}): rename it before save."
            )
        if not _is_skae_estimator(value):
            return value
        name = f"{_PLACEHOLDER}{len(records)}"
        records[name], own = _estimator_record(value)
        tensors.update({f"{name}/{key}": tensor for key, tensor in own.items()})
        return name

    skeleton = _swap(composite, to_placeholder, {})
    try:
        skeleton = skops.io.dumps(skeleton)
    except TypeError as exc:
        raise TypeError(
            f"skops.io cannot store this {type(composite).__name__} ({exc}): a "
            "scikit-learn part of it holds an object skops does not support (a "
            "FeatureUnion fitted under set_output(transform='pandas') keeps pandas "
            "Index objects, for one). Use pickle for files you only open yourself."
        ) from exc
    ours = {f"{cls.__module__}.{cls.__qualname__}" for cls in _ESTIMATOR_CLASSES.values()}
    missed = [t for t in skops.io.get_untrusted_types(data=skeleton) if t in ours]
    if missed:
        raise TypeError(
            f"{type(composite).__name__} holds {missed} where save cannot reach them "
            "(it finds skae estimators in scikit-learn estimators' attributes and in "
            "lists, tuples and dicts, not e.g. in numpy object arrays): keep skae "
            "estimators as steps of a Pipeline, ColumnTransformer or FeatureUnion, or "
            "use pickle for files you only open yourself."
        )
    tensors[_SKELETON] = torch.from_numpy(np.frombuffer(skeleton, dtype=np.uint8).copy())
    header = {
        "composite": estimator_class_name(type(composite)),
        "estimators": json.dumps(records, sort_keys=True),
    }
    return header, tensors


# ------------------------------------------------------------------- save
def _writable_path(path):
    """``path`` as a string, checked before any work: its folder exists and
    this user may write the file there.

    Raises
    ------
    FileNotFoundError
        If the folder ``path`` is in does not exist.
    NotADirectoryError, IsADirectoryError
        If that folder is a file, or ``path`` a folder.
    PermissionError
        If this user may not write that folder or an existing ``path``.
    """
    path_str = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path_str))
    where = f"cannot save to {path_str!r}:"
    if not os.path.isdir(folder):
        if os.path.exists(folder):
            raise NotADirectoryError(f"{where} {folder!r} is a file, not a folder.")
        raise FileNotFoundError(
            f"{where} folder {folder!r} does not exist: create it first "
            f"(os.makedirs({folder!r}, exist_ok=True))."
        )
    if os.path.isdir(path_str):
        raise IsADirectoryError(
            f"{where} it is a folder: name a file in it, e.g. "
            f"{os.path.join(path_str, 'model.skae')!r}."
        )
    if os.path.exists(path_str) and not os.access(path_str, os.W_OK):
        raise PermissionError(f"{where} the file exists and this user may not overwrite it.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(
            f"{where} this user may not write in folder {folder!r}: save it in a "
            "folder of yours, or change the folder's permissions."
        )
    return path_str


def _estimator_record(estimator):
    """``(record, tensors)`` of a skae estimator: its class name, parameters,
    ``set_output`` configuration and fitted attributes (none when it is not
    fitted, as a ColumnTransformer's ``transformers``) as JSON strings, its
    weights and fitted arrays as tensors.

    Raises
    ------
    ValueError
        If a parameter or fitted attribute is not a JSON value.
    """
    # _to_json refuses what is not plain data (callbacks, a RandomState).
    params = {k: _to_json(v, k) for k, v in estimator.get_params(deep=False).items()}
    output_config = getattr(estimator, "_sklearn_output_config", {})
    record = {
        "estimator": estimator_class_name(type(estimator)),
        "params": json.dumps(params, sort_keys=True),
        "output_config": json.dumps(dict(output_config), sort_keys=True),
    }
    tensors, attributes = {}, {}
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return record, tensors
    for key, value in estimator.net_.module_.state_dict().items():
        tensors[_MODULE + key] = value.detach().cpu().contiguous()
    for key, value in vars(estimator).items():
        if not key.endswith("_") or key.startswith("_") or key == "net_":
            continue
        if isinstance(value, np.ndarray) and value.dtype != object:
            tensors[_ATTRIBUTE + key] = torch.from_numpy(np.ascontiguousarray(value))
        else:
            attributes[key] = _to_json(value, key)
    record["attributes"] = json.dumps(attributes, sort_keys=True)
    return record, tensors


def save(obj, path):
    """Write a fitted skae estimator or Pipeline to a model file that is safe to open.

    ``obj`` is a skae estimator (the implementation of ``estimator.save``,
    :meth:`skae.AutoencoderTransformer.save`), or a scikit-learn composite
    -- a :class:`~sklearn.pipeline.Pipeline`,
    :class:`~sklearn.compose.ColumnTransformer` or
    :class:`~sklearn.pipeline.FeatureUnion`, nested at will -- whose steps
    are skae estimators and scikit-learn estimators. The file is one
    safetensors file (a JSON header and raw tensor bytes): each skae
    estimator's parameters, fitted attributes and ``set_output``
    configuration as JSON, its weights and fitted arrays as tensors; for a
    composite, the rest of it (the scikit-learn steps, with placeholders
    for the skae ones) as a `skops <https://skops.readthedocs.io>`_ file
    held in one tensor; a SHA-256 digest of the whole. :func:`load` reads
    it back without unpickling. The file does not hold the optimizer's
    state or skorch's full history.

    Parameters
    ----------
    obj : skae estimator or scikit-learn estimator
        Fitted. A scikit-learn estimator may hold skae estimators in its
        attributes (a Pipeline's steps, a ColumnTransformer's transformers),
        and in lists, tuples and dicts in them.
    path : str or path-like
        Where to write, e.g. ``"model.safetensors"`` or ``"pipe.skae"`` (any
        name: the format is the same). Its folder must exist.

    Returns
    -------
    path : str or path-like
        ``path``, as given.

    Raises
    ------
    TypeError
        If ``obj`` is neither a skae nor a scikit-learn estimator, holds a
        skae estimator where ``save`` cannot reach it (in a numpy object
        array), or holds an object ``skops.io`` cannot store (a FeatureUnion
        fitted under ``set_output(transform="pandas")`` keeps pandas
        ``Index`` objects).
    FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError
        If ``path``'s folder does not exist or is a file, ``path`` is a
        folder, or this user may not write there: checked before any work,
        the message names the folder.
    sklearn.exceptions.NotFittedError
        If ``obj`` is not fitted.
    ValueError
        If a skae estimator's parameter is not a JSON value: ``callbacks``,
        a ``RandomState`` as ``random_state``, an optimizer class outside
        ``torch.optim``.

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import skae
    >>> from sklearn.datasets import load_wine
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_wine(return_X_y=True)
    >>> pipe = make_pipeline(StandardScaler(),
    ...                      skae.AutoencoderTransformer(2, max_epochs=2, random_state=0),
    ...                      LogisticRegression()).fit(X, y)
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     pipe2 = skae.load(skae.save(pipe, os.path.join(folder, "pipe.skae")))
    >>> bool((pipe2.predict_proba(X) == pipe.predict_proba(X)).all())
    True
    """
    skae_estimator = _is_skae_estimator(obj)
    if not (skae_estimator or isinstance(obj, BaseEstimator)):
        raise TypeError(
            "save expects a fitted skae estimator, or a scikit-learn estimator such as "
            f"a Pipeline holding skae steps; got {type(obj).__name__}."
        )
    path_str = _writable_path(path)
    check_is_fitted(obj)
    if skae_estimator:
        fields, tensors = _estimator_record(obj)
    else:
        fields, tensors = _composite_record(obj)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skae_version": __version__,
        **fields,
    }
    header["sha256"] = _digest(header, tensors)
    save_file(tensors, path_str, metadata=header)
    return path


# ------------------------------------------------------------------- load
def _bad_file(path, why):
    return ValueError(f"{os.fspath(path)!s} is not a valid skae model file: {why}")


def _read(path):
    """The header (less its digest) and tensors of a skae model file, its
    format, version and digest checked."""
    try:
        with safe_open(path, framework="pt", device="cpu") as f:
            header = dict(f.metadata() or {})
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise _bad_file(path, f"it cannot be read as safetensors ({exc}).") from exc
    if header.get("format") != FORMAT:
        raise _bad_file(path, "its header does not say it was written by skae's save.")
    if header.get("format_version") not in READABLE_VERSIONS:
        raise _bad_file(
            path,
            f"format version {header.get('format_version')!r}; this skae reads "
            f"versions {', '.join(READABLE_VERSIONS)}: upgrade skae to read it.",
        )
    stored_digest = header.pop("sha256", None)
    if stored_digest != _digest(header, tensors):
        raise _bad_file(
            path,
            "its SHA-256 digest does not match its contents: the file was modified "
            "or damaged after it was saved.",
        )
    return header, tensors


def _build_estimator(record, tensors, where, device, modules):
    """The skae estimator a record (header fields) and its tensors describe:
    fitted, or unfitted where the record has no fitted attributes."""
    name = record.get("estimator")
    if name not in _ESTIMATOR_CLASSES:
        raise _bad_file(
            where, f"unknown estimator {name!r}; skae has {sorted(_ESTIMATOR_CLASSES)}."
        )
    cls = _ESTIMATOR_CLASSES[name]
    fitted = "attributes" in record
    try:
        raw_params = json.loads(record["params"])
        _check_trusted_modules(raw_params, modules)
        params = {k: _from_json(v, modules) for k, v in raw_params.items()}
        attributes = json.loads(record["attributes"]) if fitted else {}
        attributes = {k: _from_json(v) for k, v in attributes.items()}
        output_config = json.loads(record.get("output_config", "{}"))
    except UntrustedModuleError as exc:
        raise UntrustedModuleError(f"{where}: {exc}") from None
    except (AttributeError, KeyError, TypeError, ValueError) as exc:  # JSONDecodeError too
        raise _bad_file(where, f"its parameters are not readable JSON ({exc}).") from exc
    unknown = sorted(set(params) - set(cls._get_param_names()))
    if unknown:
        raise _bad_file(
            where,
            f"it holds parameters {unknown} that {name} does not take (written by a "
            f"newer skae, {record.get('skae_version')!r}?): upgrade skae to read it.",
        )
    if device is not None:
        params["device"] = device
    for param, value in _LEGACY_VALUES.items():
        if param in cls._get_param_names() and param not in params:
            params[param] = value
    estimator = cls(**params)  # other parameters the file lacks take their defaults
    try:
        estimator.set_output(**output_config)
    except (AttributeError, TypeError, ValueError) as exc:
        raise _bad_file(where, f"its set_output configuration is not one ({exc}).") from exc
    if not fitted:
        if tensors:
            raise _bad_file(where, f"unfitted {name} with tensors {sorted(tensors)}.")
        return estimator

    state = {}
    for key, value in tensors.items():
        if key.startswith(_ATTRIBUTE):
            attributes[key[len(_ATTRIBUTE) :]] = value.numpy()
        elif key.startswith(_MODULE):
            state[key[len(_MODULE) :]] = value
        else:
            raise _bad_file(where, f"unexpected tensor {key!r}.")
    declared = getattr(cls, "_fitted_attribute_names", frozenset())
    for key, value in attributes.items():
        # Only the fitted attributes the class declares: never a method,
        # parameter or private attribute.
        if key not in declared:
            raise _bad_file(where, f"{key!r} is not a fitted attribute of {name}.")
        setattr(estimator, key, value)

    if device is not None:
        run_on = resolve_device(device)  # the caller's request: a clear error if unmet
    else:
        saved = str(estimator.device)
        run_on = resolve_device("auto" if saved == "auto" else "cpu")
        if saved not in ("auto", "cpu"):
            try:
                run_on = resolve_device(saved)
            except ValueError:
                warnings.warn(
                    f"{name} was saved with device={saved!r}, which this machine does not "
                    "have: loading it on the CPU. Pass device='cpu' (or 'auto') to load "
                    "to choose explicitly.",
                    UserWarning,
                    stacklevel=3,  # the caller of load, for a single estimator
                )

    if getattr(estimator, "ordered", False):
        state = nested_decoder_state(state, estimator.n_components)
    try:
        estimator._restore_net(state, run_on)
    except (AttributeError, RuntimeError, TypeError, ValueError) as exc:
        raise _bad_file(
            where,
            f"its weights or attributes do not fit the network that {name} with "
            f"these parameters builds ({exc}).",
        ) from exc
    return estimator


# skae's own plain transformers and meta-estimators, which skops loads as it
# loads scikit-learn's, by the name skops gives a type: CodePrefix, and the
# classes that register themselves (register_trusted_class): the outlier
# detector, in a layer above this module, which imports nothing of it.
_SKOPS_TRUSTED = ["skae._ordered.CodePrefix"]


def register_trusted_class(cls):
    """Let :func:`load` build ``cls`` in a composite's skeleton, as skops
    builds scikit-learn's types.

    For skae's classes without a network that a model file stores through
    skops: :class:`~skae.AutoencoderOutlierDetector` registers itself and
    every subclass of it, as the base class registers the estimator
    classes (:func:`register_estimator_class`), so that this module names
    no class of a layer above it.

    Returns
    -------
    cls : type
        Unchanged.
    """
    name = f"{cls.__module__}.{cls.__name__}"  # skops's name for the type
    if name not in _SKOPS_TRUSTED:
        _SKOPS_TRUSTED.append(name)
    return cls


def _build_composite(header, tensors, where, device, modules, trusted):
    """The scikit-learn composite a composite file describes: its skeleton
    through ``skops.io.loads``, then its placeholders replaced by the skae
    estimators of the records."""
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        records = json.loads(header["estimators"])
        skeleton = tensors.pop(_SKELETON).numpy().tobytes()
    except (KeyError, ValueError) as exc:
        raise _bad_file(where, f"its composite lacks its skeleton or records ({exc}).") from exc
    if not (
        isinstance(records, dict)
        and all(isinstance(r, dict) and n.startswith(_PLACEHOLDER) for n, r in records.items())
    ):
        raise _bad_file(where, "its records of skae estimators are not a JSON object of them.")

    try:
        composite = skops.io.loads(skeleton, trusted=[*_SKOPS_TRUSTED, *(trusted or [])])
    except UntrustedTypesFoundException:
        ours = set(_SKOPS_TRUSTED)
        untrusted = [t for t in skops.io.get_untrusted_types(data=skeleton) if t not in ours]
        raise UntrustedTypeError(
            f"{where} holds types that skops does not trust by default: {untrusted}. "
            "Loading builds objects of these types (and a pipeline calls their "
            "methods), so a file from someone you do not trust could misuse them: "
            "review them, and only if you trust every one, pass "
            f"skae.load(path, trusted={untrusted!r})."
        ) from None
    except (BadZipFile, KeyError, ValueError) as exc:
        raise _bad_file(where, f"its skeleton is not a readable skops file ({exc}).") from exc

    built = {}
    for name, record in records.items():
        prefix = name + "/"
        own = {k[len(prefix) :]: tensors.pop(k) for k in list(tensors) if k.startswith(prefix)}
        record = {**record, "skae_version": header.get("skae_version")}
        built[name] = _build_estimator(record, own, f"{where} ({name})", device, modules)
    if tensors:
        raise _bad_file(where, f"unexpected tensors {sorted(tensors)}.")
    return _swap(composite, lambda v: built.get(v, v) if isinstance(v, str) else v, {})


def load(path, *, device=None, modules=None, trusted=None):
    """Read a skae estimator or Pipeline written by :func:`save` (or ``estimator.save``).

    Never unpickles: the file is parsed by ``safetensors`` (a JSON header
    and raw tensor bytes), each skae estimator is one of skae's own classes
    named in the header (or a registered subclass), its parameters are
    JSON values, and a custom encoder or decoder comes from ``modules``
    only. A composite's scikit-learn part (a Pipeline and its scikit-learn
    steps) is read by ``skops.io.loads``, which builds only the types skops
    trusts by default -- scikit-learn's estimators, numpy and scipy types,
    Python builtins: what a Pipeline of scikit-learn steps holds -- and the
    types you list in ``trusted``, and never unpickles either. skae adds
    only its own :class:`~skae.CodePrefix` to that list: trusting, say,
    every name under ``numpy`` would trust functions too (``numpy.save`` as
    a FunctionTransformer's ``func`` writes files when the pipeline runs).

    Files written by earlier skae releases load too; parameters added since
    take their defaults. The SHA-256 digest is an integrity check: it
    catches a damaged file, not a deliberate edit.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    device : str, torch.device or None, default=None
        Where the loaded networks run: ``"cpu"``, ``"cuda"``, ``"auto"``
        (a GPU when PyTorch sees one); each skae estimator's ``device``
        parameter is set to it. A device this machine lacks is a
        ``ValueError``. None keeps the saved ``device`` parameter, except
        that a model saved for a device this machine lacks (``"cuda"`` on a
        CPU-only machine) loads on the CPU, with a warning naming the saved
        device.
    modules : dict of str to class, callable or torch.nn.Module, default=None
        The code you trust to rebuild a model fitted with your own
        ``encoder`` / ``decoder``, by the name the file gives it (the class
        or function name): ``{"MyEncoder": MyEncoder}`` for a class passed
        at fit (built again with the saved ``encoder_params``), or
        ``{"MyEncoder": MyEncoder(...)}`` for an instance passed at fit: a
        copy of it, with the file's weights, becomes the fitted network;
        your instance is left as it is and becomes the ``encoder``
        parameter (a later ``fit`` starts from its weights, as a fit with
        that instance would).
    trusted : list of str or type, default=None
        For a composite: types to build beyond those skops trusts by
        default, as ``skops.io.loads`` takes them (the names an
        :class:`UntrustedTypeError` lists, e.g. your own transformer's
        ``"mypackage.MyTransformer"``). Review them before you trust them.

    Returns
    -------
    estimator : skae estimator or scikit-learn estimator
        Fitted, as saved: its ``transform`` (a pipeline's ``predict``,
        ``predict_proba``...) gives the same results as the saved one's (bit
        for bit on the same device), with the same ``set_output``
        configuration.

    Raises
    ------
    ValueError
        If the file is not a safetensors file, was not written by skae,
        names an unknown estimator, parameters or fitted attributes it does
        not take, was damaged after saving (SHA-256 mismatch), or holds
        weights that do not fit the network its parameters build; or if
        ``device`` names a device this machine lacks.
    UntrustedTypeError
        A ``ValueError``: if a composite holds types neither skops's
        defaults nor ``trusted`` include; the message lists them.
    UntrustedModuleError
        A ``ValueError``: if a model uses an encoder or decoder of your own
        that ``modules`` does not give.
    FileNotFoundError
        If ``path`` does not exist.

    See Also
    --------
    save : Write such a file.
    """
    where = os.fspath(path)
    if not os.path.exists(where):
        raise FileNotFoundError(f"No such model file: {where!r}")
    header, tensors = _read(where)
    if "composite" in header:
        return _build_composite(header, tensors, where, device, modules, trusted)
    return _build_estimator(header, tensors, where, device, modules)
