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
named in the header from skae's own classes only, checks the digest and the
shape of every weight against the network those parameters build, and
returns the fitted estimator. Nothing on that path unpickles.
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

FORMAT = "skae.model"
FORMAT_VERSION = "1"
_MODULE = "module."
_ATTRIBUTE = "attribute."


def _estimator_classes():
    from . import __all__ as public
    from . import _dense, _family

    classes = {}
    for mod in (_dense, _family):
        for name in public:
            if hasattr(mod, name):
                classes[name] = getattr(mod, name)
    return classes


# ----------------------------------------------------------- JSON encoding
def _to_json(value, what):
    """JSON-ready form of a parameter or attribute; tuples and string arrays
    are tagged so that they come back with their type."""
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


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if "__tuple__" in value:
            return tuple(_from_json(v) for v in value["__tuple__"])
        if "__object_array__" in value:
            return np.array([_from_json(v) for v in value["__object_array__"]], dtype=object)
        if "__torch_optim__" in value:
            cls = getattr(torch.optim, str(value["__torch_optim__"]), None)
            if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer):
                return cls
            raise ValueError(f"Unknown optimizer {value['__torch_optim__']!r} in the model file.")
        raise ValueError(f"Unexpected value {value!r} in the model file.")
    return value


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

    Parameters
    ----------
    estimator : skae estimator
        A fitted ``AutoencoderTransformer``, ``ConvolutionalAutoencoder``,
        ``DenoisingAutoencoder``, ``SparseAutoencoder`` or
        ``VariationalAutoencoder``.
    path : str or path-like
        Where to write; by convention ending in ``.safetensors``.

    Returns
    -------
    path : str or path-like
        ``path``, as given.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If a parameter cannot be stored as JSON: ``callbacks`` (skorch
        callback objects), a ``numpy.random.RandomState`` as
        ``random_state``, or an optimizer class outside ``torch.optim``.
    TypeError
        If ``estimator`` is not a skae estimator.

    See Also
    --------
    load : Read the file back.

    Notes
    -----
    The file holds what ``transform``, ``inverse_transform``, ``score``,
    ``score_samples`` and ``sample`` need, and the training curves. It does
    not hold the optimizer's state or skorch's full history; ``fit`` on a
    loaded estimator trains from scratch, as ``fit`` always does.
    """
    from sklearn.utils.validation import check_is_fitted

    classes = _estimator_classes()
    name = type(estimator).__name__
    if classes.get(name) is not type(estimator):
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

    from . import __version__

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


def load(path, *, device=None):
    """Read an estimator written by :func:`save` (or ``estimator.save``).

    Never unpickles: the file is parsed by ``safetensors`` (a JSON header
    and raw tensor bytes), the estimator is one of skae's own classes named
    in the header, and its parameters are JSON values.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    device : str or None, default=None
        Where the loaded network runs: ``"cpu"``, ``"cuda"``, ``"auto"``
        (a GPU when PyTorch sees one). None keeps the estimator's saved
        ``device`` parameter, except that a model saved with a CUDA device
        loads on the CPU, with a warning, where no GPU is visible. The
        ``device`` parameter of the returned estimator is set to this
        value when given.

    Returns
    -------
    estimator : skae estimator
        Fitted; its ``transform`` gives the same codes as the saved one's
        (bit for bit on the same device).

    Raises
    ------
    ValueError
        If the file is not a safetensors file, was not written by skae,
        names an unknown estimator or parameters it does not take, was
        modified after saving (SHA-256 mismatch), or holds weights that do
        not fit the network its parameters build.
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
    if header.get("format_version") != FORMAT_VERSION:
        raise _bad_file(
            path,
            f"format version {header.get('format_version')!r}; this skae reads "
            f"version {FORMAT_VERSION}.",
        )
    stored_digest = header.pop("sha256", None)
    if stored_digest != _digest(header, tensors):
        raise _bad_file(
            path,
            "its SHA-256 digest does not match its contents: the file was modified "
            "or damaged after it was saved.",
        )

    classes = _estimator_classes()
    name = header.get("estimator")
    if name not in classes:
        raise _bad_file(path, f"unknown estimator {name!r}; skae has {sorted(classes)}.")
    cls = classes[name]
    try:
        params = {k: _from_json(v) for k, v in json.loads(header["params"]).items()}
        attributes = {k: _from_json(v) for k, v in json.loads(header["attributes"]).items()}
    except (KeyError, TypeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise _bad_file(path, f"its parameters are not readable JSON ({exc}).") from exc
    expected = set(cls().get_params(deep=False))
    if set(params) != expected:
        raise _bad_file(
            path,
            f"it claims to be a {name} but its parameters {sorted(params)} are not "
            f"{name}'s {sorted(expected)}.",
        )
    if device is not None:
        params["device"] = device
    estimator = cls(**params)

    for key, value in attributes.items():
        setattr(estimator, key, value)
    state = {}
    for key, value in tensors.items():
        if key.startswith(_ATTRIBUTE):
            setattr(estimator, key[len(_ATTRIBUTE) :], value.numpy())
        elif key.startswith(_MODULE):
            state[key[len(_MODULE) :]] = value
        else:
            raise _bad_file(path, f"unexpected tensor {key!r}.")

    from ._base import resolve_device

    run_on = str(estimator.device)
    if run_on == "auto":
        run_on = resolve_device(run_on)
    elif run_on.startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"{name} was saved with device={run_on!r} but PyTorch sees no CUDA GPU: "
            "loading it on the CPU. Pass device='cpu' to load to silence this.",
            UserWarning,
            stacklevel=2,
        )
        run_on = "cpu"

    try:
        with torch.random.fork_rng():
            module = estimator._build_module(estimator.n_features_in_)
        net = estimator._make_net(module, estimator.reconstruction_loss_, run_on)
        net.initialize()
        net.module_.load_state_dict(state, strict=True)
    except (AttributeError, RuntimeError, TypeError, ValueError) as exc:
        raise _bad_file(
            path,
            f"its weights or attributes do not fit the network that {name} with "
            f"these parameters builds ({exc}).",
        ) from exc
    estimator.net_ = net
    return estimator
