"""Network layer: encoders, decoders and the autoencoder module (torch only).

Nothing in this file knows about scikit-learn, numpy or how the networks are
trained. A module returns what the loss needs; the training layer
(:mod:`skae._net`) decides what to do with it.
"""

from __future__ import annotations

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
    """An encoder and a decoder.

    ``forward(x)`` returns a dict with the ``"code"`` of shape
    ``(batch, n_components)`` and the ``"reconstruction"`` (pre-activation) of
    the input's shape; loss terms read what they need from it.
    """

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        code = self.encode(x)
        return {"code": code, "reconstruction": self.decode(code)}
