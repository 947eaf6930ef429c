"""Model files that are safe to open: parameters as JSON, weights as safetensors.

A pickle (or joblib) file can run any code when it is loaded, so a model
received from someone else should not be unpickled. :func:`save` writes one
`safetensors <https://huggingface.co/docs/safetensors>`_ file instead:

* the network's weights and every fitted array as tensors;
* in the file's header (a JSON string map): the format name and version, the
  estimator's class name, its parameters and its other fitted attributes as
  JSON, and a SHA-256 digest of all of it.

:func:`load` reads that file with ``safetensors`` (which parses a JSON header
and raw tensor bytes, and has no way to run code), builds the estimator
named in the header from the registered estimator classes only (skae's, and
subclasses of its base defined in the running program), checks the digest
and the shape of every weight against the network those parameters build,
and returns the fitted estimator. A user's own ``encoder`` / ``decoder`` is
stored as its weights and class name; ``load`` rebuilds it only from the
classes the caller names in ``modules``. Nothing on that path unpickles,
imports or runs anything the file names.

This module imports no estimator module: estimator classes register
themselves (:func:`register_estimator_class`, called by the base class for
every subclass), so a new estimator module is loadable without a change
here, and there is no import cycle.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
import warnings

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from ._runtime import resolve_device
from ._version import __version__

FORMAT = "skae.model"
# Version 2 (skae 0.2) adds dict parameters and the user's own modules.
# A file of any readable version may lack parameters its class gained in
# later releases: they take their defaults (each new parameter's default
# keeps the behaviour of the releases before it), so adding a parameter
# needs no change here. A parameter the class does not know is an error:
# dropping it would change the model in silence. Bump FORMAT_VERSION only
# when the layout of the file changes.
FORMAT_VERSION = "2"
READABLE_VERSIONS = ("1", "2")
_MODULE = "module."
_ATTRIBUTE = "attribute."
# Parameters that may hold the user's own torch modules.
_MODULE_PARAMS = ("encoder", "decoder")

_ESTIMATOR_CLASSES = {}


def estimator_class_name(cls):
    """The name a model file gives ``cls``: the bare class name for skae's own
    classes, ``module.QualifiedName`` for others."""
    if cls.__module__.split(".")[0] == "skae":
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


def register_estimator_class(cls):
    """Make ``cls`` loadable by :func:`load` under :func:`estimator_class_name`."""
    _ESTIMATOR_CLASSES[estimator_class_name(cls)] = cls
    return cls


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


# ------------------------------------------------------------------- save
def save(estimator, path):
    """Write a fitted skae estimator to a safetensors file that is safe to open.

    The implementation of ``estimator.save(path)``, documented there
    (:meth:`skae.AutoencoderTransformer.save`): parameters and fitted
    attributes as JSON in the header, weights and fitted arrays as tensors,
    a SHA-256 digest of the whole. The file does not hold the optimizer's
    state or skorch's full history.
    """
    from sklearn.utils.validation import check_is_fitted

    name = estimator_class_name(type(estimator))
    if _ESTIMATOR_CLASSES.get(name) is not type(estimator):
        raise TypeError(f"save expects a skae estimator, got {type(estimator).__name__}.")
    check_is_fitted(estimator)

    # _to_json refuses what is not plain data (callbacks, a RandomState).
    params = {k: _to_json(v, k) for k, v in estimator.get_params(deep=False).items()}

    tensors, attributes = {}, {}
    for key, value in estimator.net_.module_.state_dict().items():
        tensors[_MODULE + key] = value.detach().cpu().contiguous()
    for key, value in vars(estimator).items():
        if not key.endswith("_") or key.startswith("_") or key == "net_":
            continue
        if isinstance(value, np.ndarray) and value.dtype != object:
            tensors[_ATTRIBUTE + key] = torch.from_numpy(np.ascontiguousarray(value))
        else:
            attributes[key] = _to_json(value, key)

    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skae_version": __version__,
        "estimator": name,
        "params": json.dumps(params, sort_keys=True),
        "attributes": json.dumps(attributes, sort_keys=True),
    }
    header["sha256"] = _digest(header, tensors)
    save_file(tensors, os.fspath(path), metadata=header)
    return path


# ------------------------------------------------------------------- load
def _bad_file(path, why):
    return ValueError(f"{os.fspath(path)!s} is not a valid skae model file: {why}")


def load(path, *, device=None, modules=None):
    """Read an estimator written by :func:`save` (or ``estimator.save``).

    Never unpickles: the file is parsed by ``safetensors`` (a JSON header
    and raw tensor bytes), the estimator is one of skae's own classes named
    in the header (or a registered subclass), its parameters are JSON
    values, and a custom encoder or decoder comes from ``modules`` only.
    Files written by earlier skae releases load too; parameters added since
    take their defaults. The SHA-256 digest is an integrity check: it
    catches a damaged file, not a deliberate edit.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    device : str, torch.device or None, default=None
        Where the loaded network runs: ``"cpu"``, ``"cuda"``, ``"auto"``
        (a GPU when PyTorch sees one); the returned estimator's ``device``
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

    Returns
    -------
    estimator : skae estimator
        Fitted; its ``transform`` gives the same codes as the saved one's
        (bit for bit on the same device).

    Raises
    ------
    ValueError
        If the file is not a safetensors file, was not written by skae,
        names an unknown estimator, parameters or fitted attributes it does
        not take, was damaged after saving (SHA-256 mismatch), or holds
        weights that do not fit the network its parameters build; or if
        ``device`` names a device this machine lacks.
    FileNotFoundError
        If ``path`` does not exist.
    """
    path_str = os.fspath(path)
    if not os.path.exists(path_str):
        raise FileNotFoundError(f"No such model file: {path_str!r}")
    try:
        with safe_open(path_str, framework="pt", device="cpu") as f:
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

    name = header.get("estimator")
    if name not in _ESTIMATOR_CLASSES:
        raise _bad_file(path, f"unknown estimator {name!r}; skae has {sorted(_ESTIMATOR_CLASSES)}.")
    cls = _ESTIMATOR_CLASSES[name]
    try:
        raw_params = json.loads(header["params"])
        _check_trusted_modules(raw_params, modules)
        params = {k: _from_json(v, modules) for k, v in raw_params.items()}
        attributes = {k: _from_json(v) for k, v in json.loads(header["attributes"]).items()}
    except UntrustedModuleError as exc:
        raise UntrustedModuleError(f"{os.fspath(path)!s}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise _bad_file(path, f"its parameters are not readable JSON ({exc}).") from exc
    unknown = sorted(set(params) - set(cls._get_param_names()))
    if unknown:
        raise _bad_file(
            path,
            f"it holds parameters {unknown} that {name} does not take (written by a "
            f"newer skae, {header.get('skae_version')!r}?): upgrade skae to read it.",
        )
    if device is not None:
        params["device"] = device
    estimator = cls(**params)  # parameters the file lacks take their defaults

    fitted = dict(attributes)
    state = {}
    for key, value in tensors.items():
        if key.startswith(_ATTRIBUTE):
            fitted[key[len(_ATTRIBUTE) :]] = value.numpy()
        elif key.startswith(_MODULE):
            state[key[len(_MODULE) :]] = value
        else:
            raise _bad_file(path, f"unexpected tensor {key!r}.")
    declared = getattr(cls, "_fitted_attribute_names", frozenset())
    for key, value in fitted.items():
        # Only the fitted attributes the class declares: never a method,
        # parameter or private attribute.
        if key not in declared:
            raise _bad_file(path, f"{key!r} is not a fitted attribute of {name}.")
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
                    stacklevel=2,
                )

    try:
        estimator._restore_net(state, run_on)
    except (AttributeError, RuntimeError, TypeError, ValueError) as exc:
        raise _bad_file(
            path,
            f"its weights or attributes do not fit the network that {name} with "
            f"these parameters builds ({exc}).",
        ) from exc
    return estimator
