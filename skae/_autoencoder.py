"""Plain autoencoders: the dense one (PCA's drop-in) and the convolutional one."""

from __future__ import annotations

from ._architectures import (
    CONV_PARAMS,
    CONVOLUTIONAL,
    DENSE,
    DENSE_PARAMS,
    IMAGE_ATTRIBUTES,
)
from ._base import BaseAutoencoder
from ._common_params import COMMON_ATTRIBUTES, COMMON_PARAMS, N_COMPONENTS, PCA_START
from ._ordered import EXPLAINED_VARIANCE_RATIO, ORDERED, OrderedCodes
from ._parameters import declare
from ._pca_start import PCA_START_ATTRIBUTES  # [pca-start]

__all__ = ["AutoencoderTransformer", "ConvolutionalAutoencoder"]


@declare(
    N_COMPONENTS,
    ORDERED,
    PCA_START,  # [pca-start]
    *DENSE_PARAMS,
    *COMMON_PARAMS,
    attributes=(EXPLAINED_VARIANCE_RATIO, *PCA_START_ATTRIBUTES, *COMMON_ATTRIBUTES),
)
class AutoencoderTransformer(OrderedCodes, BaseAutoencoder):
    """Dense (MLP) autoencoder for nonlinear dimensionality reduction.

    An encoder network maps each sample to a code of ``n_components``
    values (the bottleneck), a decoder network maps the code back to the
    input space, and both are trained together to minimise the
    reconstruction error (Hinton & Salakhutdinov, 2006). Used like
    :class:`~sklearn.decomposition.PCA`: :meth:`transform` returns the code,
    :meth:`inverse_transform` the reconstruction from a code; unlike PCA the
    maps are nonlinear.

    The network is a PyTorch module trained by a skorch ``NeuralNet``
    (kept as ``net_``), with the data held as one float32 tensor. Pass
    ``encoder=`` / ``decoder=`` to train networks of your own instead.
    With ``ordered=True`` the code is ordered as PCA's is (nested dropout,
    Rippel et al. 2014): its first ``k`` units are a code of width ``k``.

    <parameters and attributes>

    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    sklearn.neural_network.MLPRegressor : Multi-layer perceptron regressor.
    ConvolutionalAutoencoder : For images and signals.
    CodePrefix : The first ``k`` units of an ordered code, in a pipeline.

    References
    ----------
    .. [1] G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality
       of data with neural networks", Science 313(5786), 504-507, 2006.
    .. [2] O. Rippel, M. A. Gelbart and R. P. Adams, "Learning ordered
       representations with nested dropout", ICML 2014.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> ae = AutoencoderTransformer(n_components=8, max_epochs=5, random_state=0)
    >>> Z = ae.fit_transform(X)
    >>> Z.shape
    (1797, 8)
    >>> ae.inverse_transform(Z).shape
    (1797, 64)
    >>> ae.pca_start_  # [pca-start] 5 epochs: held-out rows prefer PCA's solution
    'pca'
    """

    def _architecture(self):
        return DENSE


@declare(
    N_COMPONENTS,
    ORDERED,
    PCA_START,  # [pca-start]
    *CONV_PARAMS,
    *COMMON_PARAMS,
    attributes=(
        EXPLAINED_VARIANCE_RATIO,
        *PCA_START_ATTRIBUTES,  # [pca-start]
        *IMAGE_ATTRIBUTES,
        *COMMON_ATTRIBUTES,
    ),
)
class ConvolutionalAutoencoder(OrderedCodes, BaseAutoencoder):
    """Convolutional autoencoder for images (and 1-D signals) given as rows.

    Each row of ``X`` is one image flattened, ``(n_samples, height * width *
    channels)``, as scikit-learn holds images. The encoder is a convolutional
    pyramid, each convolution followed by 2x max-pooling, then a dense layer
    to ``n_components``; the decoder mirrors it with nearest-neighbour
    upsampling followed by convolution (no checkerboard artifacts, Odena et
    al. 2016) or transposed convolutions. Any image size works (odd sizes
    too); rows that are not square images are treated as 1-D signals.

    <parameters and attributes>

    See Also
    --------
    AutoencoderTransformer : Dense autoencoder.
    DenoisingAutoencoder : With ``architecture="conv"``, an image denoiser.

    References
    ----------
    .. [1] J. Masci, U. Meier, D. Ciresan and J. Schmidhuber, "Stacked
       convolutional auto-encoders for hierarchical feature extraction",
       ICANN 2011.
    .. [2] A. Odena, V. Dumoulin and C. Olah, "Deconvolution and checkerboard
       artifacts", Distill, 2016.
    .. [3] O. Rippel, M. A. Gelbart and R. P. Adams, "Learning ordered
       representations with nested dropout", ICML 2014 (``ordered=True``).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import ConvolutionalAutoencoder
    >>> X = load_digits().data / 16.0
    >>> cae = ConvolutionalAutoencoder(n_components=8, max_epochs=2, random_state=0)
    >>> cae.fit_transform(X).shape
    (1797, 8)
    >>> cae.image_shape_
    (8, 8, 1)
    """

    def _architecture(self):
        return CONVOLUTIONAL
