"""The network choice: dense or convolutional, or the user's own modules.

An :class:`Architecture` owns everything about one built-in network: the
parameters it reads (with their constraints and docs), the geometry it fits
to the data (``image_shape_``), its ``max_epochs="auto"`` budget, and the
encoder and decoder it builds from :mod:`skae._nn`. The ``encoder=`` /
``decoder=`` parameters replace either half with a module of the user's
(:func:`build_custom_module`); the estimator checks the shapes it returns.
"""

from __future__ import annotations

import copy
import numbers
from abc import ABC, abstractmethod

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ._image_shape import resolve_image_shape as resolve_shape
from ._nn import ACTIVATIONS, ConvDecoder, ConvEncoder, DenseDecoder, DenseEncoder
from ._parameters import Attr, Param

# How each layout orders the axes of one sample, as (axis names, spatial
# rank). The network always works on (*spatial, channels).
LAYOUTS = {"L": 1, "LC": 1, "CL": 1, "HW": 2, "HWC": 2, "CHW": 2}

# ----------------------------------------------------------- parameters
ACTIVATION = Param(
    "activation",
    "relu",
    (StrOptions(set(ACTIVATIONS)),),
    '{"relu", "tanh", "logistic", "elu", "gelu", "leaky_relu", "identity"}',
    """Activation of the hidden layers (dense) or after each convolution
    (convolutional). The code layer is linear unless the variant says
    otherwise.""",
)
HIDDEN_LAYER_SIZES = Param(
    "hidden_layer_sizes",
    (256, 128),
    ("array-like", Interval(numbers.Integral, 1, None, closed="left")),
    "int or tuple of int",
    """Widths of the dense encoder's hidden layers, from the input side; an
    int is one layer. The decoder mirrors them (``n_components -> 128 -> 256
    -> n_features`` by default), as
    :class:`~sklearn.neural_network.MLPRegressor` names its layers. ``()``
    gives a linear autoencoder, which learns PCA's subspace.""",
)
IMAGE_SHAPE = Param(
    "image_shape",
    None,
    ("array-like", None),
    "tuple of int or None",
    """Geometry of one sample for the convolutional network, in the order
    ``image_layout`` names: ``(height, width)``, ``(height, width,
    channels)`` or ``(length,)`` by default; flat rows hold the sample
    flattened in that order. None reads it from ``X`` given as images, and
    takes flat rows as a square one-channel image when ``n_features`` is a
    perfect square, else as a 1-D signal. See :ref:`images`.""",
)
IMAGE_LAYOUT = Param(
    "image_layout",
    "auto",
    (StrOptions({"auto", *LAYOUTS}),),
    '{"auto", "HW", "HWC", "CHW", "L", "LC", "CL"}',
    """What each axis of ``image_shape`` (or of ``X``'s samples given as
    images) is: ``H`` height, ``W`` width, ``C`` channels, ``L`` length of
    a 1-D signal; ``"CHW"`` reads torch's channels-first images. ``"auto"``
    reads 1, 2 or 3 values as ``"L"``, ``"HW"`` or ``"HWC"`` and refuses a
    shape that could be channels-first, such as ``(3, 32, 32)``. See
    :ref:`images`.""",
)
CHANNELS = Param(
    "channels",
    (16, 32),
    ("array-like",),
    "tuple of int",
    """Feature maps of each convolution stage, from the input side (at least
    one stage); each stage halves the spatial size.""",
)
KERNEL_SIZE = Param(
    "kernel_size",
    3,
    (Interval(numbers.Integral, 1, None, closed="left"),),
    "int",
    """Size of the convolution kernels (odd: "same" padding keeps the
    size).""",
)
UPSAMPLING = Param(
    "upsampling",
    "nearest",
    (StrOptions({"nearest", "transposed"}),),
    '{"nearest", "transposed"}',
    """Decoder upsampling of the convolutional network: nearest-neighbour
    then convolution (no checkerboard artifacts, Odena et al. 2016), or a
    stride-2 transposed convolution.""",
)
ARCHITECTURE = Param(
    "architecture",
    "dense",
    (StrOptions({"dense", "conv"}),),
    '{"dense", "conv"}',
    """The built-in network: an MLP (``hidden_layer_sizes``) or a
    convolutional pyramid (``image_shape``, ``channels``, ``kernel_size``,
    ``upsampling``, as :class:`~skae.ConvolutionalAutoencoder`). The
    parameters of the other network are ignored.""",
)
ENCODER = Param(
    "encoder",
    None,
    (None, callable),
    "None, callable or torch.nn.Module",
    """Your own encoder, in place of the built-in one: a
    ``torch.nn.Module`` class (or callable) built at ``fit`` as
    ``encoder(n_features, n_outputs, **encoder_params)``, or a module
    instance, which ``fit`` deep-copies. It maps float32 rows ``(batch,
    n_features)`` to ``(batch, n_outputs)``: ``n_components`` values (twice
    that for a variational autoencoder: the means, then the log-variances).
    See :ref:`custom-networks`.""",
)
ENCODER_PARAMS = Param(
    "encoder_params",
    None,
    (dict, None),
    "dict or None",
    """Keyword arguments of ``encoder`` when it is a class or callable.""",
)
DECODER = Param(
    "decoder",
    None,
    (None, callable),
    "None, callable or torch.nn.Module",
    """Your own decoder, as ``encoder``: built as ``decoder(n_components,
    n_features, **decoder_params)``, or an instance deep-copied at ``fit``.
    It maps codes ``(batch, n_components)`` to rows ``(batch, n_features)``
    *before* the output activation: logits when the data lies in [0, 1]
    (skae applies the sigmoid), so end it with a linear layer.""",
)
DECODER_PARAMS = Param(
    "decoder_params",
    None,
    (dict, None),
    "dict or None",
    """Keyword arguments of ``decoder`` when it is a class or callable.""",
)

DENSE_PARAMS = (HIDDEN_LAYER_SIZES, ACTIVATION)
CONV_PARAMS = (IMAGE_SHAPE, IMAGE_LAYOUT, CHANNELS, KERNEL_SIZE, UPSAMPLING, ACTIVATION)
CUSTOM_MODULE_PARAMS = (ENCODER, ENCODER_PARAMS, DECODER, DECODER_PARAMS)
# The parameters of a variant that takes either network.
NETWORK_CHOICE_PARAMS = (
    ARCHITECTURE,
    HIDDEN_LAYER_SIZES,
    IMAGE_SHAPE,
    IMAGE_LAYOUT,
    CHANNELS,
    KERNEL_SIZE,
    UPSAMPLING,
    ACTIVATION,
)
IMAGE_LAYOUT_ATTR = Attr(
    "image_layout_",
    "str",
    """The layout the network reads rows in (``image_layout``, or the one
    ``"auto"`` chose): ``"HW"``, ``"HWC"``, ``"CHW"``, ``"L"``, ``"LC"``
    or ``"CL"`` (convolutional architecture only).""",
)
IMAGE_SHAPE_ATTR = Attr(
    "image_shape_",
    "tuple of int",
    """The geometry of one sample the convolutional network uses,
    ``(*spatial, channels)`` whatever ``image_layout`` (convolutional
    architecture only).""",
)
# The fitted geometry of the convolutional network.
IMAGE_ATTRIBUTES = (IMAGE_SHAPE_ATTR, IMAGE_LAYOUT_ATTR)


def check_layer_sizes(sizes, name="hidden_layer_sizes", min_len=0):
    """``sizes`` (an int or a sequence of them) as a list of positive ints.

    Raises
    ------
    ValueError
        If a size is not a positive integer, or fewer than ``min_len`` are given.
    """
    values = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
    if len(values) < min_len or not all(isinstance(v, numbers.Integral) and v >= 1 for v in values):
        at_least = f"at least {min_len} " if min_len else ""
        raise ValueError(f"{name} must hold {at_least}positive integers, got {sizes!r}.")
    return [int(v) for v in values]


def resolve_image_shape(image_shape, image_layout, n_features, sample_shape=None):
    """The image geometry as ``(*spatial, channels)``, and the layout read.

    Parameters
    ----------
    image_shape : tuple of int or None
        The ``image_shape`` parameter, in ``image_layout``'s order.
    image_layout : {"auto", "HW", "HWC", "CHW", "L", "LC", "CL"}
    n_features : int
        Values per sample.
    sample_shape : tuple of int or None, default=None
        The shape of ``X``'s samples when ``X`` came as images (rank 2 or
        more); None for flat rows.

    Returns
    -------
    shape : tuple of int
        ``(*spatial, channels)``: ``(s, s, 1)`` for a square ``n_features``
        and no shape given, else ``(n_features, 1)``, a 1-D signal.
    layout : str
        The layout the flat rows are in (never ``"auto"``).

    Raises
    ------
    ValueError
        If the shape is not positive ints of a rank the layout takes, does
        not hold ``n_features`` values, differs from the samples of ``X``,
        or could be read as channels-last or channels-first (``"auto"``).
    """
    guessed = image_shape is None and (sample_shape is None or len(sample_shape) < 2)
    shape = resolve_shape(
        image_shape,
        n_features,
        sample_shape=sample_shape,
        not_square=(n_features,),
        hint="each row must be one image flattened; pass the matching image_shape, or "
        "None for a square or 1-D default",
    )
    if guessed:  # a square one-channel image, else a 1-D signal
        return (*shape, 1), {1: "L", 2: "HW"}[len(shape)]
    layout = image_layout
    if layout == "auto":
        if len(shape) == 3 and shape[0] < shape[-1]:
            raise ValueError(
                f"The image shape {shape} could be (height, width, channels) or "
                "(channels, height, width): pass image_layout='HWC' or image_layout='CHW'."
            )
        layout = {1: "L", 2: "HW", 3: "HWC"}[len(shape)]
    if len(layout) != len(shape):
        raise ValueError(
            f"image_layout={image_layout!r} names {len(layout)} axes but the image shape "
            f"{shape} has {len(shape)}: pass a matching image_layout."
        )
    axes = dict(zip(layout, shape, strict=True))
    spatial = tuple(axes[a] for a in layout if a != "C")
    return (*spatial, axes.get("C", 1)), layout


def layout_shape(image_shape_, layout):
    """One sample's shape in ``layout``'s order, from ``(*spatial, channels)``."""
    *spatial, channels = image_shape_
    axes = dict(zip([a for a in layout if a != "C"], spatial, strict=True), C=channels)
    return tuple(axes[a] for a in layout)


# -------------------------------------------------------- architectures
class Architecture(ABC):
    """A built-in network: its parameters, fitted geometry, budget and modules.

    Attributes
    ----------
    name : str
        The value of the ``architecture`` parameter that selects it.
    params : tuple of Param
        The estimator parameters it reads.
    auto_steps : int
        Optimizer steps aimed at by ``max_epochs="auto"``.
    auto_max_epochs : int
        The most epochs ``max_epochs="auto"`` gives a small data set.
    """

    name = ""
    params = ()
    auto_steps = 10_000
    auto_max_epochs = 200

    def fit_geometry(self, estimator, n_features, sample_shape):  # noqa: B027 (optional hook)
        """Set the fitted attributes the network's shape depends on (at ``fit``).

        ``sample_shape`` is the shape of one sample of ``X`` as given
        (``(n_features,)`` for flat rows).
        """

    def sample_shapes(self, estimator):
        """Shapes of one sample, other than flat rows, that inference accepts."""
        return set()

    @abstractmethod
    def build_encoder(self, estimator, n_features, n_outputs):
        """The encoder module: rows ``(batch, n_features)`` to ``(batch, n_outputs)``."""

    @abstractmethod
    def build_decoder(self, estimator, n_components, n_features):
        """The decoder module: codes ``(batch, n_components)`` to pre-activation rows."""


class Dense(Architecture):
    """An MLP encoder and its mirror (:class:`skae._nn.DenseEncoder`)."""

    name = "dense"
    params = DENSE_PARAMS
    # Dense networks: the budget of updates as about 20 epochs of a data set
    # the size of MNIST; at most 200 epochs, beyond which small tables
    # over-fit (benchmarks/bench_defaults.py measures it).
    auto_steps = 10_000

    def build_encoder(self, estimator, n_features, n_outputs):
        sizes = check_layer_sizes(estimator.hidden_layer_sizes)
        return DenseEncoder(n_features, sizes, n_outputs, estimator.activation)

    def build_decoder(self, estimator, n_components, n_features):
        sizes = check_layer_sizes(estimator.hidden_layer_sizes)
        return DenseDecoder(n_components, sizes, n_features, estimator.activation)


class Convolutional(Architecture):
    """A convolutional pyramid and its mirror (:class:`skae._nn.ConvEncoder`)."""

    name = "conv"
    params = CONV_PARAMS
    # Convolutional updates cost about ten times a dense one's on a CPU: half
    # the dense budget (the benchmarks page, "skae compare", gives its
    # MNIST figures).
    auto_steps = 5_000
    # Up to 400 epochs (the whole budget down to ~1 600 rows): convolutions
    # share their weights (a fraction of the dense default's parameters),
    # over-fit small sets less, and still improve after 200 epochs on small
    # image sets (benchmarks/bench_defaults.py measures it).
    auto_max_epochs = 400

    def fit_geometry(self, estimator, n_features, sample_shape):
        estimator.image_shape_, estimator.image_layout_ = resolve_image_shape(
            estimator.image_shape, estimator.image_layout, n_features, sample_shape
        )

    def sample_shapes(self, estimator):
        return {layout_shape(estimator.image_shape_, self._layout(estimator))}

    def _stages(self, estimator):
        channels = check_layer_sizes(estimator.channels, "channels", min_len=1)
        if estimator.kernel_size % 2 == 0:
            raise ValueError(
                f"kernel_size={estimator.kernel_size} must be odd so that 'same' padding "
                "keeps the image size: use 3, 5, ..."
            )
        return estimator.image_shape_[:-1], estimator.image_shape_[-1], channels

    def _layout(self, estimator):
        # Files written before image_layout_ existed hold channels-last rows.
        default = "LC" if len(estimator.image_shape_) == 2 else "HWC"
        return getattr(estimator, "image_layout_", default)

    def _channels_first(self, estimator):
        return self._layout(estimator).startswith("C")

    def build_encoder(self, estimator, n_features, n_outputs):
        spatial, n_channels, channels = self._stages(estimator)
        return ConvEncoder(
            spatial,
            n_channels,
            channels,
            estimator.kernel_size,
            n_outputs,
            estimator.activation,
            self._channels_first(estimator),
        )

    def build_decoder(self, estimator, n_components, n_features):
        spatial, n_channels, channels = self._stages(estimator)
        return ConvDecoder(
            n_components,
            spatial,
            n_channels,
            channels,
            estimator.kernel_size,
            estimator.activation,
            estimator.upsampling,
            self._channels_first(estimator),
        )


DENSE = Dense()
CONVOLUTIONAL = Convolutional()
ARCHITECTURES = {arch.name: arch for arch in (DENSE, CONVOLUTIONAL)}


class ArchitectureChoice:
    """Mixin of the variants whose ``architecture`` parameter picks the network."""

    def _architecture(self):
        return ARCHITECTURES[self.architecture]


# ------------------------------------------------------- custom modules
def build_custom_module(spec, spec_params, sizes, what):
    """The user's ``encoder`` / ``decoder``: built from a class or copied from an instance.

    Parameters
    ----------
    spec : callable or torch.nn.Module
        A module instance (deep-copied), or a class or callable called as
        ``spec(*sizes, **spec_params)``.
    spec_params : dict or None
        Keyword arguments for a class or callable ``spec``.
    sizes : tuple of int
        ``(n_features, n_outputs)`` for an encoder, ``(n_components,
        n_features)`` for a decoder.
    what : {"encoder", "decoder"}
        The parameter's name, for error messages.

    Returns
    -------
    module : torch.nn.Module

    Raises
    ------
    TypeError
        If a class or callable does not return a ``torch.nn.Module``.
    ValueError
        If ``{what}_params`` is given with a module instance.
    """
    if isinstance(spec, nn.Module):
        if spec_params:
            raise ValueError(
                f"{what}_params={spec_params!r} is given but {what} is a module instance, "
                f"which is used as it is: pass the class as {what}= to build it with "
                f"{what}_params, or drop {what}_params."
            )
        return copy.deepcopy(spec)
    module = spec(*sizes, **(spec_params or {}))
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"{what}={spec!r} returned {type(module).__name__}, not a torch.nn.Module: pass "
            "an nn.Module subclass, a function returning a module, or a module instance."
        )
    return module


def check_custom_shapes(module, x, n_outputs, n_components, n_features):
    """Run one small batch through the module's encoder and decoder; raise on a wrong shape.

    Parameters
    ----------
    module : skae._nn.AutoencoderModule
        Holds ``encoder`` and ``decoder`` (either may be the user's).
    x : torch.Tensor of shape (batch, n_features)
        A few training rows, in the network's input space.

    Raises
    ------
    ValueError
        If the encoder does not return ``(batch, n_outputs)`` or the decoder
        does not return ``(batch, n_features)``, naming both shapes.
    """
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            encoded = _probe("encoder", module.encoder, x, f"a batch of shape {tuple(x.shape)}")
            _check_shape(
                "encoder",
                f"a batch of shape {tuple(x.shape)}",
                encoded,
                (len(x), n_outputs),
                f"(batch, {n_outputs}) for n_components={n_components}. Build the encoder's "
                "last layer with n_outputs units (a class passed as encoder= receives "
                "(n_features, n_outputs))",
            )
            codes = torch.zeros((len(x), n_components), dtype=x.dtype, device=x.device)
            _check_shape(
                "decoder",
                f"codes of shape {tuple(codes.shape)}",
                _probe("decoder", module.decoder, codes, f"codes of shape {tuple(codes.shape)}"),
                (len(x), n_features),
                f"one flat row of n_features={n_features} values per code (a class passed "
                "as decoder= receives (n_components, n_features))",
            )
    finally:
        module.train(was_training)


def _probe(what, part, x, given):
    """``part(x)``, with a failure inside the user's module reported as a ValueError."""
    try:
        return part(x)
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        sizes = "(n_features, n_outputs)" if what == "encoder" else "(n_components, n_features)"
        raise ValueError(
            f"The {what} cannot map {given} ({type(exc).__name__}: {exc}). A module "
            f"instance must be built for these sizes; a class passed as {what}= receives "
            f"{sizes} and is built for them."
        ) from exc


def _check_shape(what, given, output, want, hint):
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != want:
        got = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise ValueError(
            f"The {what} maps {given} to {got}, but this estimator needs {want}: {hint}."
        )
