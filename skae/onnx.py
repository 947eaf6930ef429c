"""Export fitted skae estimators to ONNX, alone or as a step of a Pipeline.

Two ways in:

* :func:`to_onnx` exports one method of a fitted estimator --
  ``transform``, ``inverse_transform`` or ``reconstruct`` -- as an
  :class:`onnx.ModelProto`, with the input scaling (``mean_``,
  ``scale_``) and the output activation folded in;
* importing this module registers skl2onnx converters for every skae
  estimator (:func:`register_converters`), so that
  :func:`skl2onnx.to_onnx` converts a whole
  :class:`~sklearn.pipeline.Pipeline` with skae steps::

      import skae.onnx  # registers the converters
      import skl2onnx

      onx = skl2onnx.to_onnx(pipeline, X[:1].astype(np.float32))

Graphs take flat float32 rows ``(N, n_features)`` -- an image flattened as
``fit`` reads it, in the order of ``image_layout_`` -- with a dynamic batch
dimension ``N``. The networks go through PyTorch's ``torch.export``-based
ONNX exporter (``torch.onnx.export(..., dynamo=True)``), which needs
``onnxscript``; the converters need ``skl2onnx``. Install them with
``pip install "skae[onnx]"``.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import numbers
import warnings

import numpy as np
import torch
from sklearn.utils.validation import check_array, check_is_fitted

from ._base import BaseAutoencoder
from ._io import registered_estimator_classes
from ._scaling import Scaling
from ._version import __version__

INSTALL_HINT = 'ONNX export needs onnx and onnxscript: pip install "skae[onnx]".'

try:
    import onnx
    import onnxscript  # noqa: F401 (torch.onnx.export(dynamo=True) imports it)
except ImportError as exc:  # pragma: no cover (the dev extra installs them)
    raise ImportError(f"{exc}. {INSTALL_HINT}") from exc

__all__ = ["register_converters", "to_onnx"]

#: The methods :func:`to_onnx` exports, with the names of the graph's input
#: and output.
METHODS = {
    "transform": ("X", "codes"),
    "inverse_transform": ("codes", "X_original"),
    "reconstruct": ("X", "X_reconstructed"),
}

#: The lowest ONNX opset the graphs are written in. PyTorch's exporter
#: translates to opset 18 and later only (its conversion to older opsets
#: writes invalid models, e.g. ``Split`` with ``num_outputs`` in opset 17).
MIN_OPSET = 18

# The name of the dynamic batch dimension of the graphs' inputs and outputs.
BATCH_DIM = "N"


# ---------------------------------------------------------------- export
class _Method(torch.nn.Module):
    """One method of a fitted estimator as a torch module on float32 rows.

    The same steps as the estimator's ``_encode`` and ``_decode``: the
    fitted input scaling (:class:`skae._scaling.TorchScaling`, the maps of
    the estimator's :class:`~skae._scaling.Scaling`), the encoder (a conv
    encoder reshapes flat rows to images itself, in the fitted layout),
    then for decoding methods the decoder and the scaling's inverse (the
    sigmoid of ``output_activation_``, or ``* scale_ + mean_``).
    """

    def __init__(self, estimator, method):
        super().__init__()
        # A CPU copy in evaluation mode: the export leaves the fitted one alone.
        self.network = copy.deepcopy(estimator.net_.module_).cpu().eval()
        self.method = method
        self.scaling = Scaling.of(estimator).torch_module()

    def forward(self, x):
        if self.method != "inverse_transform":
            x = self.network.encode(self.scaling(x))  # a VAE's posterior mean
            if self.method == "transform":
                return x
        return self.scaling.inverse(self.network.decode(x))


@contextlib.contextmanager
def _quiet_exporter():
    """Hide the exporter's own noise, which a user cannot act on.

    Deprecation notices of torch's internals (``FutureWarning`` /
    ``DeprecationWarning`` raised while tracing), and the log lines its
    operator registry writes at every export when the optional torchvision
    is absent. Other warnings, and errors, go through.
    """
    registry_log = logging.getLogger("torch.onnx._internal.exporter._registration")

    def drop_torchvision(record):
        return "torchvision" not in record.getMessage()

    registry_log.addFilter(drop_torchvision)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        registry_log.removeFilter(drop_torchvision)


def _example_input(estimator, X, method):
    """Two float32 rows to trace ``method`` with: from ``X`` (validated) or
    made up (the training mean, or zero codes)."""
    if method == "inverse_transform":
        if X is None:
            return torch.zeros(2, estimator.n_components_)
        rows = check_array(X, dtype=np.float32)
        if rows.shape[1] != estimator.n_components_:
            raise ValueError(
                f"X has {rows.shape[1]} columns, but inverse_transform takes codes with "
                f"n_components_={estimator.n_components_} columns."
            )
    elif X is None:
        rows = np.asarray(estimator.mean_, dtype=np.float32)[None, :]
    else:
        rows = np.asarray(estimator._check_rows(X)[0], dtype=np.float32)
    # A batch of 2 rows: torch.export specialises a dimension of size 0 or 1.
    rows = np.resize(rows[:2], (2, rows.shape[1]))
    return torch.from_numpy(np.ascontiguousarray(rows))


def to_onnx(estimator, X=None, *, method="transform", opset=None):
    """Export a method of a fitted skae estimator as an ONNX model.

    The graph computes what ``method`` computes, from float32 rows, input
    scaling and output activation included: ``transform`` gives the codes
    (a variational autoencoder's posterior mean), ``inverse_transform``
    decodes codes to rows in the units of the training data,
    ``reconstruct`` encodes and decodes. It is traced from the estimator's
    torch modules by PyTorch's ``torch.export``-based exporter
    (``torch.onnx.export(..., dynamo=True)``), with a dynamic batch
    dimension named ``"N"``.

    Parameters
    ----------
    estimator : skae estimator
        A fitted :class:`~skae.AutoencoderTransformer`,
        :class:`~skae.ConvolutionalAutoencoder`, or any other skae
        estimator, with its built-in networks or your own ``encoder`` /
        ``decoder`` (these must be traceable by :func:`torch.export.export`).
    X : {array-like, DataFrame} of shape (n_samples, n_features) or (n_samples, ...), \
            default=None
        Example input to trace with, checked as ``method`` checks its input
        (images are flattened; codes of shape ``(n_samples, n_components)``
        for ``inverse_transform``). The graph holds for any rows: None
        traces with made-up ones.
    method : {"transform", "inverse_transform", "reconstruct"}, default="transform"
        The method to export.
    opset : int, default=None
        The ONNX opset of the default domain, at least ``MIN_OPSET`` (18,
        the oldest PyTorch's exporter writes). None: 18, which
        onnxruntime 1.14 and later run.

    Returns
    -------
    model : onnx.ModelProto
        One float32 input and one float32 output, both of shape ``(N,
        width)``: ``"X"`` ``(N, n_features)`` to ``"codes"`` ``(N,
        n_components)`` for ``transform``, ``"codes"`` to ``"X_original"``
        ``(N, n_features)`` for ``inverse_transform``, ``"X"`` to
        ``"X_reconstructed"`` for ``reconstruct``. Rows are flat: an image
        is one row, flattened in the order ``fit`` read it (``image_layout_``),
        and ``inverse_transform`` / ``reconstruct`` give flat rows where the
        estimator would give images. ``metadata_props`` name the estimator
        class, the method and the skae version.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If ``method`` is not one of the three, ``opset`` is below 18, or
        ``X`` does not fit the estimator.
    TypeError
        If ``estimator`` is not a skae estimator.
    RuntimeError
        If PyTorch cannot export the network (a custom ``encoder`` /
        ``decoder`` that :func:`torch.export.export` cannot trace).

    See Also
    --------
    register_converters : Converters for skl2onnx, to export a whole Pipeline.

    Notes
    -----
    The graph computes in float32, as the estimator does; ``inverse_transform``
    and ``reconstruct`` add ``mean_`` in float32 where the estimator returns
    float64, so results agree to float32 precision. The legacy TorchScript
    exporter (``dynamo=False``) is not used: PyTorch deprecates it, and it
    writes an invalid ``Transpose`` for channels-last images.

    References
    ----------
    .. [1] ONNX, "Open Neural Network Exchange", https://onnx.ai/.
    .. [2] PyTorch, "torch.onnx",
       https://docs.pytorch.org/docs/stable/onnx_export.html.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.onnx import to_onnx
    >>> X = load_digits().data[:200] / 16.0
    >>> ae = AutoencoderTransformer(n_components=4, max_epochs=2, random_state=0).fit(X)
    >>> model = to_onnx(ae, method="transform")
    >>> session = onnxruntime.InferenceSession(model.SerializeToString())
    >>> (codes,) = session.run(None, {"X": X.astype(np.float32)})
    >>> codes.shape
    (200, 4)
    >>> bool(np.allclose(codes, ae.transform(X), atol=1e-5))
    True
    """
    if method not in METHODS:
        raise ValueError(
            f"method must be one of {sorted(METHODS)}, got {method!r}: ONNX export covers "
            "transform, inverse_transform and reconstruct."
        )
    if not isinstance(estimator, BaseAutoencoder):
        raise TypeError(
            f"to_onnx exports skae estimators, got {type(estimator).__name__}: convert "
            "other estimators (or a Pipeline) with skl2onnx.to_onnx."
        )
    check_is_fitted(estimator)
    opset = MIN_OPSET if opset is None else opset
    if not isinstance(opset, numbers.Integral) or opset < MIN_OPSET:
        raise ValueError(
            f"opset must be an integer of at least {MIN_OPSET}, got {opset!r}: PyTorch's "
            "ONNX exporter writes opset 18 and later."
        )
    input_name, output_name = METHODS[method]
    example = _example_input(estimator, X, method)
    module = _Method(estimator, method).eval()
    try:
        with _quiet_exporter():
            # dynamo=True: the torch.export-based exporter, PyTorch's default
            # since 2.9; the TorchScript one (dynamo=False) is deprecated and
            # mis-exports movedim (the channels-last reshape of conv networks).
            program = torch.onnx.export(
                module,
                (example,),
                dynamo=True,
                opset_version=int(opset),
                input_names=[input_name],
                output_names=[output_name],
                dynamic_shapes=({0: torch.export.Dim(BATCH_DIM)},),
                verbose=False,
                optimize=True,
            )
    except Exception as exc:
        raise RuntimeError(
            f"PyTorch could not export the network of {type(estimator).__name__} to ONNX "
            f"({type(exc).__name__}, above). A custom encoder or decoder must be traceable "
            "by torch.export.export: no Python control flow on the values of tensors."
        ) from exc
    model = program.model_proto
    model.graph.name = f"skae_{type(estimator).__name__}_{method}"
    onnx.helper.set_model_props(
        model,
        {"skae.estimator": type(estimator).__name__, "skae.method": method, "skae": __version__},
    )
    return model


# -------------------------------------------------------------- skl2onnx
# The estimator classes whose converters are registered, by class.
_REGISTERED = set()


def _shape_calculator(operator):
    """skl2onnx shape calculator: ``(N, n_features)`` rows to ``(N, n_components)``
    codes, float32 (float64 for float64 inputs). Several inputs (the columns of a
    DataFrame) are concatenated as the features."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType, Int64TensorType
    from skl2onnx.common.utils import (
        check_input_and_output_numbers,
        check_input_and_output_types,
    )

    check_input_and_output_numbers(operator, input_count_range=[1, None], output_count_range=1)
    check_input_and_output_types(
        operator, good_input_types=[FloatTensorType, DoubleTensorType, Int64TensorType]
    )
    estimator = operator.raw_operator
    widths = [variable.get_second_dimension() for variable in operator.inputs]
    if all(isinstance(w, int) for w in widths) and sum(widths) != estimator.n_features_in_:
        raise ValueError(
            f"The ONNX input has {sum(widths)} features, but {type(estimator).__name__} "
            f"was fitted on n_features_in_={estimator.n_features_in_}."
        )
    all_double = all(isinstance(v.type, DoubleTensorType) for v in operator.inputs)
    output_type = DoubleTensorType if all_double else FloatTensorType
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = output_type([n_rows, estimator.n_components_])


def _converter(scope, operator, container):
    """skl2onnx converter: the ``transform`` graph of :func:`to_onnx`, its names
    made unique in ``scope``, added to ``container``."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    opset = container.target_opset_onnx
    if opset < MIN_OPSET:
        raise ValueError(
            f"skae estimators convert with target_opset of at least {MIN_OPSET}, got "
            f"{opset}: pass target_opset={MIN_OPSET} or more to skl2onnx."
        )
    graph = to_onnx(operator.raw_operator, opset=opset).graph
    nested = [a.name for node in graph.node for a in node.attribute if a.g.node or a.graphs]
    if nested:
        raise NotImplementedError(
            f"The exported network holds subgraphs ({nested}); skae's skl2onnx converter "
            "does not embed control flow. Convert it with skae.onnx.to_onnx instead."
        )

    # The graph's input: the operator's inputs as float32, concatenated.
    columns = []
    for variable in operator.inputs:
        name = variable.full_name
        if not isinstance(variable.type, FloatTensorType):
            name = scope.get_unique_variable_name(f"{name}_float")
            container.add_node(
                "Cast",
                [variable.full_name],
                [name],
                name=scope.get_unique_operator_name("SkaeCast"),
                to=onnx.TensorProto.FLOAT,
            )
        columns.append(name)
    if len(columns) > 1:
        name = scope.get_unique_variable_name("skae_features")
        container.add_node(
            "Concat", columns, [name], name=scope.get_unique_operator_name("SkaeConcat"), axis=1
        )
        columns = [name]
    (output,) = operator.outputs
    codes = output.full_name
    if isinstance(output.type, DoubleTensorType):
        codes = scope.get_unique_variable_name(f"{codes}_float")

    # Every other name becomes a fresh name of the scope: two skae steps in a
    # pipeline, or names skl2onnx chose, never collide.
    renamed = {"": "", graph.input[0].name: columns[0], graph.output[0].name: codes}
    prefix = f"{operator.full_name}_"

    def rename(name):
        if name not in renamed:
            renamed[name] = scope.get_unique_variable_name(prefix + name)
        return renamed[name]

    for tensor in graph.initializer:
        array = onnx.numpy_helper.to_array(tensor)
        container.add_initializer(
            rename(tensor.name),
            tensor.data_type,
            list(array.shape),
            onnx.numpy_helper.from_array(array),
        )
    for node in graph.node:
        attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        container.add_node(
            node.op_type,
            [rename(name) for name in node.input],
            [rename(name) for name in node.output],
            op_domain=node.domain,
            name=scope.get_unique_operator_name(prefix + (node.name or node.op_type)),
            **attributes,
        )
    if codes != output.full_name:
        container.add_node(
            "Cast",
            [codes],
            [output.full_name],
            name=scope.get_unique_operator_name("SkaeCast"),
            to=onnx.TensorProto.DOUBLE,
        )


def register_converters():
    """Register skl2onnx converters for every skae estimator class.

    Called when :mod:`skae.onnx` is imported: ``import skae.onnx`` before
    :func:`skl2onnx.to_onnx` converts a Pipeline with skae steps. Each step
    becomes its ``transform`` graph (see :func:`to_onnx`), taking the
    step's input -- float32, float64 (cast to float32 and the codes back
    to float64), int64, or several columns concatenated -- to
    ``(N, n_components)`` codes. Calling it again is harmless; call it
    after defining a subclass of a skae estimator, to register it too.

    Returns
    -------
    classes : list of type
        The estimator classes registered, by the aliases
        ``"Skae" + class name``.

    Raises
    ------
    ImportError
        If skl2onnx is not installed (``pip install "skae[onnx]"``).

    Notes
    -----
    skl2onnx converts a custom estimator through a shape calculator and a
    converter registered with :func:`skl2onnx.update_registered_converter`
    (see skl2onnx's tutorial "A custom converter for a custom model"). The
    converter traces the network with :func:`to_onnx` and copies its nodes
    and initializers into skl2onnx's graph under fresh names. It needs a
    ``target_opset`` of at least 18.

    Examples
    --------
    >>> from skae import AutoencoderTransformer
    >>> from skae.onnx import register_converters
    >>> AutoencoderTransformer in register_converters()
    True
    """
    try:
        from skl2onnx import update_registered_converter
    except ImportError as exc:  # pragma: no cover (the dev extra installs it)
        raise ImportError(f'{exc}. skl2onnx is needed: pip install "skae[onnx]".') from exc
    classes = registered_estimator_classes()
    for cls in classes:
        if cls not in _REGISTERED:
            update_registered_converter(
                cls, f"Skae{cls.__name__}", _shape_calculator, _converter, overwrite=True
            )
            _REGISTERED.add(cls)
    return classes


with contextlib.suppress(ImportError):  # skl2onnx is optional for to_onnx
    register_converters()
