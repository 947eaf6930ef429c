"""The denoising autoencoder: trained to undo a corruption of its input."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._architectures import IMAGE_ATTRIBUTES, NETWORK_CHOICE_PARAMS, ArchitectureChoice
from ._base import BaseAutoencoder
from ._common_params import (
    COMMON_ATTRIBUTES,
    COMMON_PARAMS,
    OVERCOMPLETE_N_COMPONENTS,
    PCA_START,  # [pca-start]
)
from ._corruption import NOISES
from ._ordered import EXPLAINED_VARIANCE_RATIO, ORDERED, OrderedCodes
from ._parameters import Param, declare
from ._pca_start import PCA_START_ATTRIBUTES  # [pca-start]

__all__ = ["DenoisingAutoencoder"]

NOISE = Param(
    "noise",
    "gaussian",
    (StrOptions(set(NOISES)),),
    '{"gaussian", "masking", "salt_and_pepper"}',
    """How each training mini-batch is corrupted (afresh at every step;
    validation batches, :meth:`transform` and :meth:`reconstruct` see
    ``X`` as given).

    - ``"gaussian"``: add independent normal noise of standard deviation
      ``noise_level``, in the units of ``X``, then clip every value to the
      range of the training data: from the smallest to the largest value
      of the ``X`` passed to :meth:`fit`, taken over all features (so
      [0, 1] for pixels that span [0, 1]). The clipping always applies,
      whatever that range. The range is the whole data set's, not each
      feature's, so that a pixel that is 0 in every training image is
      corrupted too.
    - ``"masking"``: set each input, with probability ``noise_level``, to
      0 in the units of ``X``.
    - ``"salt_and_pepper"``: set each input, with probability
      ``noise_level``, to its feature's smallest or largest value in the
      training data (each half of the time).

    These ranges come from the data the network was built on: the first
    batch for :meth:`partial_fit`, the first fit for ``warm_start``; later
    batches and fits keep them.""",
)
NOISE_LEVEL = Param(
    "noise_level",
    0.3,
    (Interval(numbers.Real, 0, None, closed="left"),),
    "float",
    """For ``noise="gaussian"``: the noise's standard deviation in the
    units of ``X``, whatever their range, before the clipping described
    under ``noise``: ``noise_level=0.5`` on pixels in [0, 1] is "sigma =
    0.5"; the same noise on pixels in [0, 255] is ``noise_level=127.5``.
    Any value >= 0. As the noise is in the units of ``X`` and always
    clipped to the training range, training changes continuously with the
    data: with the same ``random_state``, ``c * X`` (``c > 0``) is trained
    on ``c`` times the noisy inputs of ``X``, whether or not ``X`` lies in
    [0, 1].

    For ``"masking"`` and ``"salt_and_pepper"``: the fraction of inputs
    corrupted (the probability of each), in [0, 1]; :meth:`fit` raises a
    ValueError above 1.

    ``noise_level=0`` trains on clean inputs.""",
)


@declare(
    OVERCOMPLETE_N_COMPONENTS,
    NOISE,
    NOISE_LEVEL,
    ORDERED,
    PCA_START,  # [pca-start]
    *NETWORK_CHOICE_PARAMS,
    *COMMON_PARAMS,
    attributes=(
        EXPLAINED_VARIANCE_RATIO,
        *PCA_START_ATTRIBUTES,  # [pca-start]
        *IMAGE_ATTRIBUTES,
        *COMMON_ATTRIBUTES,
    ),
)
class DenoisingAutoencoder(OrderedCodes, ArchitectureChoice, BaseAutoencoder):
    """Denoising autoencoder: trained to recover clean inputs from corrupted ones.

    Each training mini-batch is corrupted afresh (Gaussian, masking or
    salt-and-pepper noise) and the network learns to reconstruct the clean
    batch (Vincent et al., 2008). Validation batches, :meth:`transform` and
    :meth:`reconstruct` see the data as given: ``reconstruct(X_noisy)``
    returns the denoised ``X``. With ``architecture="conv"`` it is the
    standard convolutional image denoiser.

    <parameters and attributes>

    See Also
    --------
    ConvolutionalAutoencoder, AutoencoderTransformer

    References
    ----------
    .. [1] P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol,
       "Extracting and composing robust features with denoising
       autoencoders", ICML 2008.
    .. [2] O. Rippel, M. A. Gelbart and R. P. Adams, "Learning ordered
       representations with nested dropout", ICML 2014 (``ordered=True``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoencoder
    >>> X = load_digits().data / 16.0
    >>> dae = DenoisingAutoencoder(noise_level=0.3, max_epochs=3, random_state=0).fit(X)
    >>> noisy = np.clip(X + np.random.default_rng(0).normal(0, 0.3, X.shape), 0, 1)
    >>> dae.reconstruct(noisy).shape
    (1797, 64)
    """

    _overcomplete = "allow"

    def _corruption(self, Xn):
        if self.noise in ("masking", "salt_and_pepper") and self.noise_level > 1:
            raise ValueError(
                f"noise_level={self.noise_level} is a fraction of inputs for "
                f"noise={self.noise!r}: choose a value in [0, 1]."
            )
        # Xn is the network's input, (X - mean_) / scale_ (float32): a
        # standard deviation of noise_level in X's units is
        # noise_level / scale_ there, whatever X's range or output_activation.
        level = self.noise_level / self.scale_ if self.noise == "gaussian" else self.noise_level
        # Each feature's training range, in the network's units.
        low, high = Xn.min(axis=0), Xn.max(axis=0)
        if self.noise == "gaussian":
            # Clip to the range of the whole training set (in X's units),
            # not of each feature: a pixel that is always 0 in training must
            # still see noise, or the network never learns to ignore it.
            low_x = float(np.min(low * self.scale_ + self.mean_))
            high_x = float(np.max(high * self.scale_ + self.mean_))
            low, high = (low_x - self.mean_) / self.scale_, (high_x - self.mean_) / self.scale_
        zero = (0.0 - self.mean_) / self.scale_
        return NOISES[self.noise](level, low, high, zero)
