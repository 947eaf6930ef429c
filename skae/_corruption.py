"""Noise models for denoising autoencoders (Vincent et al., 2008).

Each corruption maps a clean training batch, in the network's input space,
to a corrupted copy; it never modifies its input. The estimator builds it
with the data's per-feature bounds mapped into that space, so that the noise
level is in the units of the user's data.
"""

from __future__ import annotations

import torch


class Corruption:
    """Base class (a plain callable, not a module: it has no weights).

    ``low``, ``high`` and ``zero`` are per-feature tensors of
    shape ``(n_features,)`` in the network's input space: bounds taken from
    the training data (see each subclass), and the value standing for 0 in
    the user's units."""

    def __init__(self, low, high, zero):
        self.low = torch.as_tensor(low, dtype=torch.float32)
        self.high = torch.as_tensor(high, dtype=torch.float32)
        self.zero = torch.as_tensor(zero, dtype=torch.float32)


class GaussianNoise(Corruption):
    """Additive Gaussian noise of standard deviation ``std`` (network units),
    clipped to ``[low, high]``.

    :class:`~skae.DenoisingAutoencoder` passes ``std = noise_level / scale_``
    (``noise_level`` in the user's units) and, as ``low`` and ``high``, the
    smallest and largest value of the whole training set mapped into each
    feature's network units: one range in the user's units for every
    feature."""

    def __init__(self, std, low, high, zero):
        super().__init__(low, high, zero)
        self.std = std

    def __call__(self, x):
        noisy = x + self.std * torch.randn_like(x)
        return torch.clamp(noisy, self.low.to(x.device), self.high.to(x.device))


class MaskingNoise(Corruption):
    """Each input set to zero (in the user's units) with probability ``fraction``."""

    def __init__(self, fraction, low, high, zero):
        super().__init__(low, high, zero)
        self.fraction = fraction

    def __call__(self, x):
        mask = torch.rand_like(x) < self.fraction
        return torch.where(mask, self.zero.to(x.device).expand_as(x), x)


class SaltAndPepperNoise(Corruption):
    """Each input set, with probability ``fraction``, to its feature's minimum
    or maximum in the training data, ``low`` or ``high`` (equally likely)."""

    def __init__(self, fraction, low, high, zero):
        super().__init__(low, high, zero)
        self.fraction = fraction

    def __call__(self, x):
        u = torch.rand_like(x)
        x = torch.where(u < self.fraction / 2, self.low.to(x.device).expand_as(x), x)
        return torch.where(
            (u >= self.fraction / 2) & (u < self.fraction), self.high.to(x.device).expand_as(x), x
        )


NOISES = {"gaussian": GaussianNoise, "masking": MaskingNoise, "salt_and_pepper": SaltAndPepperNoise}
