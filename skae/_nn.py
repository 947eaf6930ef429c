"""Network layer: encoders, decoders and the autoencoder modules (torch only).

Nothing in this file knows about scikit-learn, numpy or how the networks are
trained. A module returns what the loss needs (:mod:`skae._losses`); the
training layer (:mod:`skae._net`) decides what to do with it, and
:mod:`skae._architectures` chooses which encoder and decoder to build.
"""

from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "identity": nn.Identity,
}


def _mlp(sizes, activation, last_activation):
    """A stack of ``Linear`` layers ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Every layer but the last is followed by ``activation``; the last one by
    ``last_activation`` (``None`` for a linear output).
    """
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        layers.append(nn.Linear(n_in, n_out))
        is_last = i == len(sizes) - 2
        act = last_activation if is_last else activation
        if act is not None:
            layers.append(ACTIVATIONS[act]())
    return nn.Sequential(*layers)


class DenseEncoder(nn.Sequential):
    """MLP encoder ``n_features -> hidden_layer_sizes... -> n_components``.

    The code layer is linear (no activation), as in Hinton & Salakhutdinov
    (2006), so the code is not squashed into the range of the activation.
    """

    def __init__(self, n_features, hidden_layer_sizes, n_components, activation):
        sizes = [n_features, *hidden_layer_sizes, n_components]
        super().__init__(*_mlp(sizes, activation, last_activation=None))


class DenseDecoder(nn.Sequential):
    """MLP decoder, the mirror of :class:`DenseEncoder`.

    Returns the *pre-activation* output (logits when the output activation is
    a sigmoid), so that the loss can use the numerically stable
    ``binary_cross_entropy_with_logits``.
    """

    def __init__(self, n_components, hidden_layer_sizes, n_features, activation):
        sizes = [n_components, *reversed(hidden_layer_sizes), n_features]
        super().__init__(*_mlp(sizes, activation, last_activation=None))


class AutoencoderModule(nn.Module):
    """An encoder and a decoder, built-in or the user's own.

    ``forward(x)`` returns a dict with the ``"code"`` of shape
    ``(batch, n_components)`` and the ``"reconstruction"`` (pre-activation) of
    the input's shape; loss terms read what they need from it.
    ``code_activation`` (a name in ``ACTIVATIONS``) is applied to the
    encoder's output: ``"logistic"`` for the sigmoid codes of a KL-sparse
    autoencoder, ``"relu"`` for L1-sparse ones. ``prefix_widths`` (a
    tuple of widths below ``n_components``, for ordered codes, whose
    ``decoder`` is then a :class:`NestedDecoders`) makes ``forward`` also
    decode each prefix of the code, the code with its units after the
    first ``k`` set to zero, by the decoder of its width, as the list
    ``"prefix_reconstructions"`` (the loss adds their errors,
    :class:`skae._losses.AutoencoderLoss`; with a ``target_head``, its
    predictions from the prefixes are ``"prefix_targets"``). In training
    each prefix decoder also sees, for half the rows, the widths between
    the next narrower trained width and its own (:func:`nested_prefix`);
    the whole code's decoder, whose range is the whole code alone
    (:func:`skae._ordered.nested_widths` ends at ``n_components - 1``),
    always sees the whole code; in evaluation every width is exact.
    ``encode`` and ``decode`` are unaffected. ``pca_path`` (a :class:`PCAPath`, or None) adds a
    fixed linear map beside the encoder and the decoder: ``encoder(x) +
    pca_path.encode(x)`` before the code activation, ``decoder(z) +
    pca_path.decode(z)``. ``target_head`` (a module, e.g. a ``Linear`` from
    the code to the target, or None) makes ``forward`` also return its
    prediction from the code as ``"target"`` (a supervised bottleneck, Le
    et al. 2018; the loss adds its error, :class:`skae._losses.TargetTerm`);
    ``encode`` and ``decode`` do not use it.
    """

    def __init__(
        self,
        encoder,
        decoder,
        code_activation="identity",
        prefix_widths=None,
        pca_path=None,
        target_head=None,
    ):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.code_activation = ACTIVATIONS[code_activation]()
        # Decodings of the code's prefixes in ``forward`` only (the loss),
        # never in ``encode`` / ``decode``.
        self.prefix_widths = tuple(prefix_widths or ())
        self.pca_path = pca_path
        self.target_head = target_head

    def encode(self, x):
        h = self.encoder(x)
        if self.pca_path is not None:
            h = h + self.pca_path.encode(x)
        return self.code_activation(h)

    def decode(self, z, width=None):
        if width is None:
            out = self.decoder(z)
        else:  # the decoder of a prefix width, with ordered codes' NestedDecoders
            out = self.decoder.of_width(width)(z)
        if self.pca_path is not None:
            out = out + self.pca_path.decode(z)
        return out

    def forward(self, x):
        code = self.encode(x)
        output = {"code": code}
        if self.target_head is not None:
            output["target"] = self.target_head(code)
        if not self.prefix_widths:
            output["reconstruction"] = self.decode(code)
            return output
        # Ordered codes: each width's decoder on prefixes of its width (in
        # training, of widths drawn in its range for half the rows), the
        # whole code's last; every row in every batch teaches every decoder.
        widths = (*self.prefix_widths, code.shape[1])
        prefixes = [
            nested_prefix(code, low, width) if self.training else prefix_codes(code, [width])[0]
            for low, width in zip((0, *widths[:-1]), widths, strict=True)
        ]
        *output["prefix_reconstructions"], output["reconstruction"] = [
            self.decode(prefix, width) for prefix, width in zip(prefixes, widths, strict=True)
        ]
        if self.target_head is not None:
            output["prefix_targets"] = [self.target_head(prefix) for prefix in prefixes[:-1]]
        return output

    def predict_target(self, x):
        """The head's prediction from the code of ``x`` (logits for classes)."""
        return self.target_head(self.encode(x))


class PCAPath(nn.Module):
    """A fixed linear encoder and decoder: PCA's, beside a network's (skip path).

    ``encode(x) = (x - mean) @ components.T`` and ``decode(z) = z @
    components + mean``, for rows ``x`` as the network sees them: with PCA's
    mean and principal axes (orthonormal rows), these are PCA's
    ``transform`` and ``inverse_transform`` in the network's units. With
    ``logits=True`` (a network whose output goes through a sigmoid, for data
    in [0, 1]), ``decode`` returns the logit of PCA's reconstruction clipped
    to ``[EPS, 1 - EPS]``, so that the sigmoid of it is PCA's reconstruction
    kept in [0, 1]. ``mean`` and ``components`` are buffers: saved with the
    weights, never trained; the network beside the path learns what PCA
    misses.

    Parameters
    ----------
    n_features : int
        Width of the rows.
    n_components : int
        Width of the code; rows of ``components`` beyond PCA's rank stay 0.
    logits : bool, default=False
        Decode to logits (sigmoid outputs) rather than to values.
    """

    #: Reconstructions are clipped to [EPS, 1 - EPS] before their logit.
    EPS = 1e-3

    def __init__(self, n_features, n_components, logits=False):
        super().__init__()
        self.logits = logits
        self.register_buffer("components", torch.zeros(n_components, n_features))
        self.register_buffer("mean", torch.zeros(n_features))

    def encode(self, x):
        # (x - mean) @ C.T, without a batch-sized copy of x: x @ C.T - mean @ C.T.
        return x @ self.components.T - self.mean @ self.components.T

    def decode(self, z):
        out = torch.addmm(self.mean, z, self.components)
        if self.logits:
            out = torch.logit(out, eps=self.EPS)  # clamps to [EPS, 1 - EPS] first
        return out


class NestedDecoders(nn.Module):
    """One decoder per trained prefix width of an ordered code.

    The decoder of an ordered autoencoder (``ordered=True``): a decoder of
    the same architecture for each width ``k`` in ``widths`` (the prefix
    widths the loss trains, then the whole code), each taking the
    zero-padded code of ``n_components`` units and trained only on prefixes
    of its width, so that no width's reconstruction is a compromise with
    another's (a decoder shared by the widths reconstructs each worse:
    benchmarks/bench_ordered.py). ``forward`` decodes each row with the
    decoder of the narrowest trained width that holds its prefix: a row
    whose units after the ``j``-th are zero (as
    :class:`~skae.CodePrefix` pads them) is a prefix of width ``j``. The
    encoder is shared: its first ``k`` units are the code of width ``k``.

    Parameters
    ----------
    widths : sequence of int
        Increasing; the last is ``n_components``.
    decoders : sequence of torch.nn.Module
        One per width, each mapping ``(batch, n_components)`` to the
        reconstruction.
    """

    def __init__(self, widths, decoders):
        super().__init__()
        self.widths = tuple(int(width) for width in widths)
        self.decoders = nn.ModuleList(decoders)

    def of_width(self, width):
        """The decoder of prefixes of ``width`` units (a trained width)."""
        return self.decoders[self.widths.index(width)]

    def forward(self, z):
        # A row's prefix width: the position of its last nonzero unit (1 for
        # an all-zero row); its decoder the narrowest trained width holding it.
        positions = torch.arange(1, z.shape[1] + 1, device=z.device)
        row_widths = ((z != 0) * positions).amax(dim=1).clamp(min=1)
        widths = torch.as_tensor(self.widths, device=z.device)
        choice = (row_widths[:, None] > widths).sum(dim=1)  # narrowest width >= the row's
        if torch.compiler.is_exporting():
            # A traceable form for skae.onnx: every decoder on every row.
            outputs = torch.stack([decoder(z) for decoder in self.decoders])
            pick = choice.view(1, -1, *([1] * (outputs.dim() - 2))).expand_as(outputs[:1])
            return outputs.gather(0, pick)[0]
        out = None
        for index, decoder in enumerate(self.decoders):
            rows = (choice == index).nonzero().squeeze(1)
            if len(rows) == 0:
                continue
            part = decoder(z[rows])
            if out is None:
                out = part.new_empty((len(z), *part.shape[1:]))
            out[rows] = part
        return out


def nested_prefix(code, low, width):
    """Prefixes of a batch of codes for training the decoder of ``width``
    units: half the rows (drawn at random) keep ``width`` units, the others
    a width drawn uniformly from ``low + 1 .. width`` (nested dropout,
    Rippel et al. 2014, within the widths that decoder serves); units after
    a row's width are set to zero.

    Parameters
    ----------
    code : torch.Tensor of shape (batch, n_components)
    low, width : int
        ``0 <= low < width <= n_components``.

    Returns
    -------
    prefix : torch.Tensor of shape (batch, n_components)
    """
    n_rows = code.shape[0]
    drawn = torch.randint(low + 1, width + 1, (n_rows,), device=code.device)
    whole = torch.rand(n_rows, device=code.device) < 0.5
    row_widths = torch.where(whole, width, drawn)
    units = torch.arange(code.shape[1], device=code.device)
    return code * (units < row_widths[:, None]).to(code.dtype)


def prefix_codes(code, widths):
    """The prefixes of a batch of codes: for each width ``k`` in ``widths``,
    ``code`` with its units after the first ``k`` set to zero.

    Parameters
    ----------
    code : torch.Tensor of shape (batch, n_components)
    widths : sequence of int
        Each in ``1 .. n_components``.

    Returns
    -------
    prefixes : torch.Tensor of shape (len(widths), batch, n_components)
    """
    units = torch.arange(code.shape[1], device=code.device)
    kept = units < torch.as_tensor(widths, device=code.device)[:, None]
    return code.unsqueeze(0) * kept.unsqueeze(1).to(code.dtype)


_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_POOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d}
_CONV_T = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d}


def pyramid_sizes(spatial_shape, n_stages):
    """Spatial sizes after each 2x max-pooling (ceil mode), input first.

    ``(28, 28)`` with two stages gives ``[(28, 28), (14, 14), (7, 7)]``;
    ``(7,)`` gives ``[(7,), (4,), (2,)]``. A size of 1 stays 1.
    """
    sizes = [tuple(spatial_shape)]
    for _ in range(n_stages):
        sizes.append(tuple(-(-s // 2) for s in sizes[-1]))
    return sizes


class ChannelsFirst(nn.Module):
    """Flat rows ``(batch, prod(spatial) * channels)`` to a channels-first
    tensor ``(batch, channels, *spatial)``.

    Rows hold one sample flattened in channels-last order (as a numpy image
    ``(height, width, channels)`` flattened), or, with
    ``channels_first=True``, in channels-first order (``(channels, height,
    width)`` flattened, as torch lays images out).
    """

    def __init__(self, spatial, channels, channels_first=False):
        super().__init__()
        self.spatial, self.channels = tuple(spatial), channels
        self.channels_first = channels_first

    def forward(self, x):
        if self.channels_first:
            return x.reshape(x.shape[0], self.channels, *self.spatial)
        x = x.reshape(x.shape[0], *self.spatial, self.channels)
        return x.movedim(-1, 1)


class FlatRows(nn.Module):
    """The inverse of :class:`ChannelsFirst`: ``(batch, channels, *spatial)`` to
    flat rows in channels-last (default) or channels-first order."""

    def __init__(self, channels_first=False):
        super().__init__()
        self.channels_first = channels_first

    def forward(self, x):
        return x.flatten(1) if self.channels_first else x.movedim(1, -1).flatten(1)


class ConvEncoder(nn.Sequential):
    """Convolutional pyramid, then a dense layer to ``n_outputs``.

    Each stage is a ``kernel_size`` convolution ("same" padding), the
    activation, and 2x max-pooling (ceil mode, so odd sizes work). 1-D
    (signals, spectra) or 2-D (images) by the length of ``spatial``.
    """

    def __init__(
        self,
        spatial,
        in_channels,
        channels,
        kernel_size,
        n_outputs,
        activation,
        channels_first=False,
    ):
        ndim = len(spatial)
        layers = [ChannelsFirst(spatial, in_channels, channels_first)]
        sizes = pyramid_sizes(spatial, len(channels))
        c_in = in_channels
        for size, c_out in zip(sizes[:-1], channels, strict=True):
            pool = tuple(2 if s > 1 else 1 for s in size)
            layers += [
                _CONV[ndim](c_in, c_out, kernel_size, padding=kernel_size // 2),
                ACTIVATIONS[activation](),
                _POOL[ndim](pool, ceil_mode=True),
            ]
            c_in = c_out
        n_flat = c_in * math.prod(sizes[-1])
        layers += [nn.Flatten(), nn.Linear(n_flat, n_outputs)]
        super().__init__(*layers)
        _channels_last(self)


class ConvDecoder(nn.Sequential):
    """The mirror of :class:`ConvEncoder`: dense layer, then upsampling stages.

    ``upsampling="nearest"``: nearest-neighbour upsampling to the exact size of
    the matching encoder stage, then a convolution; this avoids the
    checkerboard artifacts of transposed convolutions (Odena et al., 2016).
    ``upsampling="transposed"``: a stride-2 transposed convolution. A last
    convolution maps to the input's channels; the output is pre-activation
    and flattened back to rows in the input's order (``channels_first``).
    """

    def __init__(
        self,
        n_components,
        spatial,
        out_channels,
        channels,
        kernel_size,
        activation,
        upsampling,
        channels_first=False,
    ):
        ndim = len(spatial)
        sizes = pyramid_sizes(spatial, len(channels))
        n = len(channels)
        layers = [
            nn.Linear(n_components, channels[-1] * math.prod(sizes[-1])),
            ACTIVATIONS[activation](),
            nn.Unflatten(1, (channels[-1], *sizes[-1])),
        ]
        c_in = channels[-1]
        # Stage i mirrors encoder stage i: back to that stage's resolution and
        # to the channels that stage took in (the first stage keeps its own).
        for i in reversed(range(n)):
            small, target = sizes[i + 1], sizes[i]
            c_out = channels[i - 1] if i > 0 else channels[0]
            if upsampling == "nearest":
                layers += [
                    nn.Upsample(size=target, mode="nearest"),
                    _CONV[ndim](c_in, c_out, kernel_size, padding=kernel_size // 2),
                ]
            else:
                stride = tuple(2 if t > s else 1 for s, t in zip(small, target, strict=True))
                extra = tuple(
                    t - ((s - 1) * st + 1) for s, t, st in zip(small, target, stride, strict=True)
                )
                layers.append(
                    _CONV_T[ndim](c_in, c_out, 3, stride=stride, padding=1, output_padding=extra)
                )
            layers.append(ACTIVATIONS[activation]())
            c_in = c_out
        layers += [
            _CONV[ndim](c_in, out_channels, kernel_size, padding=kernel_size // 2),
            FlatRows(channels_first),
        ]
        super().__init__(*layers)
        _channels_last(self)


def _channels_last(module):
    """Store 2-D convolution kernels channels-last (NHWC).

    oneDNN's CPU convolutions run 1.2-1.3x faster on channels-last tensors
    (``benchmarks/bench_conv_layout.py``); the feature maps follow the
    kernels' layout, and :class:`ChannelsFirst` hands images over as
    channels-last views. The weights are unchanged (only their strides
    differ), but oneDNN sums in another order, so outputs agree with the
    contiguous layout's to float32 rounding, not bit for bit. 1-D kernels
    are left as they are.
    """
    module.to(memory_format=torch.channels_last)


class VariationalModule(AutoencoderModule):
    """Gaussian encoder, reparameterization, decoder (Kingma & Welling, 2014).

    The encoder outputs ``2 * n_components`` values: the posterior mean and
    log-variance. In training, ``z = mean + exp(logvar / 2) * eps`` with
    ``eps ~ N(0, I)``; in evaluation ``z = mean``. ``encode`` returns the mean.
    The code is the Gaussian's mean: ``code_activation`` must stay
    ``"identity"``.
    """

    def split(self, x):
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)

    def encode(self, x):
        return self.split(x)[0]

    def forward(self, x):
        mean, logvar = self.split(x)
        z = mean
        if self.training:
            z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        return {
            "code": mean,
            "mean": mean,
            "logvar": logvar,
            "reconstruction": self.decode(z),
        }
