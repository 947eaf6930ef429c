"""Plain autoencoders: the dense one (PCA's drop-in) and the convolutional one."""

from __future__ import annotations

from typing import Literal

import torch

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
from ._pca_start import PCA_START_ATTRIBUTES
from ._target import TARGET_ATTRIBUTES, TARGET_WEIGHT, SupervisedBottleneck

__all__ = ["AutoencoderTransformer", "ConvolutionalAutoencoder"]


@declare(
    N_COMPONENTS,
    ORDERED,
    PCA_START,
    TARGET_WEIGHT,
    *DENSE_PARAMS,
    *COMMON_PARAMS,
    attributes=(
        EXPLAINED_VARIANCE_RATIO,
        *PCA_START_ATTRIBUTES,
        *TARGET_ATTRIBUTES,
        *COMMON_ATTRIBUTES,
    ),
)
class AutoencoderTransformer(SupervisedBottleneck, OrderedCodes, BaseAutoencoder):
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
    With ``ordered=True`` the code is ordered as PCA's is (a decoder per
    prefix width, every width trained on every batch: Kusupati et al. 2022,
    after Rippel et al. 2014): its first ``k`` units are a code of width
    ``k``.
    With ``target_weight > 0``, ``fit(X, y)`` also trains a linear head on
    the code to predict ``y`` (class labels or numbers, some rows possibly
    unlabelled), so that the code keeps what predicts ``y`` as well as what
    reconstructs ``X``: the supervised autoencoder of Le et al. (2018).
    :meth:`predict` gives the head's prediction, a by-product.

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
    .. [3] L. Le, A. Patterson and M. White, "Supervised autoencoders:
       improving generalization performance with unsupervised regularizers",
       NeurIPS 2018 (``target_weight``).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> ae = AutoencoderTransformer(n_components=8, max_epochs=5, random_state=0)
    >>> Z = ae.fit_transform(X)
    >>> Z.shape
    (1797, 8)
    >>> ae.inverse_transform(Z).shape
    (1797, 64)
    >>> ae.pca_start_  # started as PCA; a trained epoch did better on held-out rows
    'network'

    Supervised, the code trained to predict the digit as well:

    >>> sup = AutoencoderTransformer(2, target_weight=1.0, max_epochs=5, random_state=0)
    >>> sup.fit(X, y).transform(X).shape
    (1797, 2)
    >>> sup.classes_
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """

    def __init__(
        self,
        n_components=2,
        *,
        ordered=False,
        pca_start=True,
        target_weight=0.0,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        encoder=None,
        encoder_params=None,
        decoder=None,
        decoder_params=None,
        output_activation="auto",
        max_epochs: int | Literal["auto"] = "auto",
        batch_size=128,
        lr: float | Literal["auto"] = "auto",
        lr_schedule="cooldown",
        optimizer: str | type = "adam",
        optimizer_params=None,
        device: str | torch.device = "auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        verbose=0,
        callbacks=None,
        warm_start=False,
    ):
        self.n_components = n_components
        self.ordered = ordered
        self.pca_start = pca_start
        self.target_weight = target_weight
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.encoder = encoder
        self.encoder_params = encoder_params
        self.decoder = decoder
        self.decoder_params = decoder_params
        self.output_activation = output_activation
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.device = device
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start

    _takes_pca_start = True

    def _architecture(self):
        return DENSE


@declare(
    N_COMPONENTS,
    ORDERED,
    PCA_START,
    TARGET_WEIGHT,
    *CONV_PARAMS,
    *COMMON_PARAMS,
    attributes=(
        EXPLAINED_VARIANCE_RATIO,
        *PCA_START_ATTRIBUTES,
        *IMAGE_ATTRIBUTES,
        *TARGET_ATTRIBUTES,
        *COMMON_ATTRIBUTES,
    ),
)
class ConvolutionalAutoencoder(SupervisedBottleneck, OrderedCodes, BaseAutoencoder):
    """Convolutional autoencoder for images (and 1-D signals) given as rows.

    Each row of ``X`` is one image flattened, ``(n_samples, height * width *
    channels)``, as scikit-learn holds images. The encoder is a convolutional
    pyramid, each convolution followed by 2x max-pooling, then a dense layer
    to ``n_components``; the decoder mirrors it with nearest-neighbour
    upsampling followed by convolution (no checkerboard artifacts, Odena et
    al. 2016) or transposed convolutions. Any image size works (odd sizes
    too); rows that are not square images are treated as 1-D signals.
    With ``target_weight > 0``, ``fit(X, y)`` also trains a linear head on
    the code to predict ``y`` (class labels or numbers, some rows possibly
    unlabelled), so that the code keeps what predicts ``y`` as well as what
    reconstructs ``X``: the supervised autoencoder of Le et al. (2018).
    :meth:`predict` gives the head's prediction, a by-product.

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
    .. [4] L. Le, A. Patterson and M. White, "Supervised autoencoders:
       improving generalization performance with unsupervised regularizers",
       NeurIPS 2018 (``target_weight``).

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

    def __init__(
        self,
        n_components=2,
        *,
        ordered=False,
        pca_start=True,
        target_weight=0.0,
        image_shape=None,
        image_layout="auto",
        channels=(16, 32),
        kernel_size=3,
        upsampling="nearest",
        activation="relu",
        encoder=None,
        encoder_params=None,
        decoder=None,
        decoder_params=None,
        output_activation="auto",
        max_epochs: int | Literal["auto"] = "auto",
        batch_size=128,
        lr: float | Literal["auto"] = "auto",
        lr_schedule="cooldown",
        optimizer: str | type = "adam",
        optimizer_params=None,
        device: str | torch.device = "auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        verbose=0,
        callbacks=None,
        warm_start=False,
    ):
        self.n_components = n_components
        self.ordered = ordered
        self.pca_start = pca_start
        self.target_weight = target_weight
        self.image_shape = image_shape
        self.image_layout = image_layout
        self.channels = channels
        self.kernel_size = kernel_size
        self.upsampling = upsampling
        self.activation = activation
        self.encoder = encoder
        self.encoder_params = encoder_params
        self.decoder = decoder
        self.decoder_params = decoder_params
        self.output_activation = output_activation
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.device = device
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start

    _takes_pca_start = True

    def _architecture(self):
        return CONVOLUTIONAL
