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
    autoencoder, ``"relu"`` for L1-sparse ones. ``code_dropout`` (a module,
    e.g. :class:`NestedDropout`) makes ``forward`` in training mode also
    decode the code it truncates, as ``"prefix_reconstruction"`` (the loss
    adds its error, :class:`skae._losses.AutoencoderLoss`); the ``"code"``,
    the ``"reconstruction"`` of the whole code, ``encode`` and ``decode``
    are unaffected. ``pca_path`` (a :class:`PCAPath`, or None) adds a
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
        code_dropout=None,
        pca_path=None,
        target_head=None,
    ):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.code_activation = ACTIVATIONS[code_activation]()
        # A second decoding of the truncated code in training ``forward`` only
        # (the training loss), never in ``encode`` / ``decode``.
        self.code_dropout = code_dropout
        self.pca_path = pca_path
        self.target_head = target_head

    def encode(self, x):
        h = self.encoder(x)
        if self.pca_path is not None:
            h = h + self.pca_path.encode(x)
        return self.code_activation(h)

    def decode(self, z):
        out = self.decoder(z)
        if self.pca_path is not None:
            out = out + self.pca_path.decode(z)
        return out

    def forward(self, x):
        code = self.encode(x)
        output = {"code": code, "reconstruction": self.decode(code)}
        if self.training and self.code_dropout is not None:
            output["prefix_reconstruction"] = self.decode(self.code_dropout(code))
        if self.target_head is not None:
            output["target"] = self.target_head(code)
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


class NestedDropout(nn.Module):
    """Nested dropout of a code (Rippel, Gelbart & Adams, 2014).

    In training mode, each sample of a batch draws a width ``k`` from
    ``width_probs`` and its code units after the first ``k`` are set to
    zero; in evaluation mode the code passes unchanged. Trained on the
    reconstruction from this truncated code (beside the whole code's, see
    :class:`AutoencoderModule`), a decoder learns to reconstruct from every
    prefix of the code, and the encoder to put the most useful information
    first: the first ``k`` units are a code of width ``k``, zero-padded.

    Parameters
    ----------
    width_probs : sequence of float, length n_components
        ``width_probs[k - 1]`` is the probability of keeping the first ``k``
        units; non-negative, summing to 1.
    """

    def __init__(self, width_probs):
        super().__init__()
        probs = torch.as_tensor(width_probs, dtype=torch.float64)
        # Not a parameter, nor in the state dict: a model file does not hold it.
        self.register_buffer("width_probs", probs / probs.sum(), persistent=False)

    def forward(self, z):
        if not self.training:
            return z
        widths = torch.multinomial(self.width_probs, len(z), replacement=True) + 1
        units = torch.arange(z.shape[1], device=z.device)
        return z * (units < widths.to(z.device)[:, None]).to(z.dtype)


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
