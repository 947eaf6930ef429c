"""The autoencoder family: convolutional, denoising, sparse and variational.

Each public class only chooses a network (dense or convolutional), a
corruption and loss terms from the shared parts, and names its parameters.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseAutoencoder
from ._corruption import NOISES
from ._modules import ACTIVATIONS, VariationalModule
from ._net import AutoencoderLoss, GaussianKL, KLSparsity, L1Activity

_NETWORK_CONSTRAINTS = {
    "hidden_layer_sizes": ["array-like"],
    "image_shape": ["array-like", None],
    "channels": ["array-like"],
    "kernel_size": [Interval(numbers.Integral, 1, None, closed="left")],
    "upsampling": [StrOptions({"nearest", "transposed"})],
    "activation": [StrOptions(set(ACTIVATIONS))],
}

_TRAINING_DOC = """output_activation : {"auto", "sigmoid", "identity"}, default="auto"
        ``"sigmoid"`` with binary cross-entropy for data in [0, 1],
        ``"identity"`` with squared error otherwise (data centred and divided
        by one global scale inside); ``"auto"`` picks by the training data.
        See :class:`AutoencoderTransformer`.
    max_epochs : int or "auto", default="auto"
        Maximum passes over the data; ``"auto"``: about 10 000 mini-batch
        updates for a dense network, 5 000 for a convolutional one, as 10 to
        200 epochs.
    batch_size : int, default=128
        Samples per mini-batch.
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, \
default="adam"
        The optimizer.
    device : str or torch.device, default="auto"
        ``"cpu"``, ``"cuda"``, ...; ``"auto"``: a GPU when one is visible.
    early_stopping : bool, default=False
        Stop on a held-out validation loss (True) or on the training loss
        (False), after ``n_iter_no_change`` epochs without an improvement of
        ``tol``.
    validation_fraction : float, default=0.1
        Held-out fraction when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Patience, in epochs.
    tol : float, default=1e-4
        Smallest loss decrease that counts as improvement.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch order, corruption and the validation split.
    verbose : int, default=0
        0 prints nothing. 1 prints a log line per epoch (skorch's
        ``PrintLog``), a tqdm progress bar over each epoch's batches
        (skorch's ``ProgressBar``) and the reason training stopped; then
        ``transform`` and the other inference methods show a progress bar
        on inputs of 10 000 rows or more.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks."""

_NETWORK_DOC = """architecture : {"dense", "conv"}, default="dense"
        The network: an MLP (``hidden_layer_sizes``) or a convolutional
        pyramid (``image_shape``, ``channels``, ``kernel_size``,
        ``upsampling``, as :class:`ConvolutionalAutoencoder`).
    hidden_layer_sizes : tuple of int, default=(256, 128)
        Encoder widths of the dense network; the decoder mirrors them.
    image_shape : tuple of int or None, default=None
        Geometry of one row for the convolutional network.
    channels : tuple of int, default=(16, 32)
        Feature maps per stage of the convolutional network.
    kernel_size : int, default=3
        Convolution kernel size (odd).
    upsampling : {"nearest", "transposed"}, default="nearest"
        Decoder upsampling of the convolutional network.
    activation : str, default="relu"
        Hidden-layer activation."""

_ATTRIBUTES_DOC = """net_ : skorch.NeuralNet
        The trained net; ``net_.module_`` the torch module.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features,)
        Feature names seen during fit, when ``X`` has string column names.
    n_iter_ : int
        Epochs run.
    loss_curve_ : list of float
        Training loss per epoch.
    validation_loss_curve_ : list of float or None
        Validation loss per epoch when ``early_stopping=True``.
    output_activation_ : {"sigmoid", "identity"}
        The output activation used.
    reconstruction_loss_ : {"binary_crossentropy", "squared_error"}
        The reconstruction loss used.
    mean_ : ndarray of shape (n_features,)
        Per-feature mean removed before encoding.
    scale_ : float
        Global scale the centred data is divided by."""


def _doc(cls):
    cls.__doc__ = (
        cls.__doc__.replace("<<training>>", _TRAINING_DOC)
        .replace("<<network>>", _NETWORK_DOC)
        .replace("<<attributes>>", _ATTRIBUTES_DOC)
    )
    return cls


def _training_init(self, kw):
    for name, value in kw.items():
        if name not in ("self", "__class__"):
            setattr(self, name, value)


@_doc
class ConvolutionalAutoencoder(BaseAutoencoder):
    """Convolutional autoencoder for images (and 1-D signals) given as rows.

    Each row of ``X`` is one image flattened, ``(n_samples, height * width *
    channels)``, as scikit-learn holds images. The encoder is a convolutional
    pyramid, each convolution followed by 2x max-pooling, then a dense layer
    to ``n_components``; the decoder mirrors it with nearest-neighbour
    upsampling followed by convolution (no checkerboard artifacts, Odena et
    al. 2016) or transposed convolutions. Any image size works (odd sizes
    too); rows that are not square images are treated as 1-D signals.

    Parameters
    ----------
    n_components : int, default=2
        Width of the bottleneck: values in each code.
    image_shape : tuple of int or None, default=None
        ``(height, width)``, ``(height, width, channels)`` (rows flattened in
        channels-last order) or ``(length,)``. None: a square one-channel
        image when ``n_features`` is a perfect square, else a 1-D signal.
    channels : tuple of int, default=(16, 32)
        Feature maps of each convolution stage, from the input side; each
        stage halves the spatial size.
    kernel_size : int, default=3
        Size of the convolution kernels ("same" padding).
    upsampling : {"nearest", "transposed"}, default="nearest"
        Decoder upsampling: nearest-neighbour then convolution, or a stride-2
        transposed convolution.
    activation : str, default="relu"
        Activation after each convolution.
    <<training>>

    Attributes
    ----------
    image_shape_ : tuple of int
        The geometry used, ``(*spatial, channels)``.
    <<attributes>>

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

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **{k: v for k, v in _NETWORK_CONSTRAINTS.items() if k != "hidden_layer_sizes"},
    }

    def __init__(
        self,
        n_components=2,
        *,
        image_shape=None,
        channels=(16, 32),
        kernel_size=3,
        upsampling="nearest",
        activation="relu",
        output_activation="auto",
        max_epochs="auto",
        batch_size=128,
        lr=1e-3,
        optimizer="adam",
        device="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        _training_init(self, locals())

    def _architecture(self):
        return "conv"


class _NetworkChoiceMixin:
    """Parameters shared by the variants that take either network."""

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **_NETWORK_CONSTRAINTS,
        "architecture": [StrOptions({"dense", "conv"})],
    }


@_doc
class DenoisingAutoencoder(_NetworkChoiceMixin, BaseAutoencoder):
    """Denoising autoencoder: trained to recover clean inputs from corrupted ones.

    Each training mini-batch is corrupted afresh (Gaussian, masking or
    salt-and-pepper noise) and the network learns to reconstruct the clean
    batch (Vincent et al., 2008). Validation batches, :meth:`transform` and
    :meth:`reconstruct` see the data as given: ``reconstruct(X_noisy)``
    returns the denoised ``X``. With ``architecture="conv"`` it is the
    standard convolutional image denoiser.

    Parameters
    ----------
    n_components : int, default=32
        Width of the code. May exceed ``n_features`` (an overcomplete code):
        the corruption, not the width, keeps the network from learning the
        identity.
    noise : {"gaussian", "masking", "salt_and_pepper"}, default="gaussian"
        ``"gaussian"``: add noise of standard deviation ``noise_level``,
        clipped to [0, 1] when the data lies in [0, 1]. ``"masking"``: set a
        fraction ``noise_level`` of the inputs to zero. ``"salt_and_pepper"``:
        set a fraction ``noise_level`` of the inputs to the feature's
        training minimum or maximum.
    noise_level : float, default=0.3
        Standard deviation (Gaussian) or fraction of inputs (masking,
        salt-and-pepper). The standard deviation is in the data's units for
        data in [0, 1], else in units of ``scale_`` (the root mean feature
        variance), so that it means the same for unscaled data.
    <<network>>
    <<training>>

    Attributes
    ----------
    image_shape_ : tuple of int
        The geometry used (``architecture="conv"`` only).
    <<attributes>>

    See Also
    --------
    ConvolutionalAutoencoder, AutoencoderTransformer

    References
    ----------
    .. [1] P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol,
       "Extracting and composing robust features with denoising
       autoencoders", ICML 2008.

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

    _allow_overcomplete = True
    _parameter_constraints: dict = {
        **_NetworkChoiceMixin._parameter_constraints,
        "noise": [StrOptions(set(NOISES))],
        "noise_level": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=32,
        *,
        noise="gaussian",
        noise_level=0.3,
        architecture="dense",
        hidden_layer_sizes=(256, 128),
        image_shape=None,
        channels=(16, 32),
        kernel_size=3,
        upsampling="nearest",
        activation="relu",
        output_activation="auto",
        max_epochs="auto",
        batch_size=128,
        lr=1e-3,
        optimizer="adam",
        device="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        _training_init(self, locals())

    def _corruption(self, Xn):
        if self.noise in ("masking", "salt_and_pepper") and self.noise_level > 1:
            raise ValueError(
                f"noise_level={self.noise_level} is a fraction of inputs for "
                f"noise={self.noise!r}: choose a value in [0, 1]."
            )
        n = Xn.shape[1]
        level = self.noise_level
        if self.noise == "gaussian":
            # Noise in the data's units, clipped to [0, 1], where the data lies
            # in [0, 1]; else in units of scale_ (the network's units), unclipped.
            raw_min = Xn.min(axis=0) * self.scale_ + self.mean_
            raw_max = Xn.max(axis=0) * self.scale_ + self.mean_
            if raw_min.min() >= -1e-6 and raw_max.max() <= 1 + 1e-6:
                level = self.noise_level / self.scale_
                low, high = (0.0 - self.mean_) / self.scale_, (1.0 - self.mean_) / self.scale_
            else:
                low, high = np.full(n, -np.inf), np.full(n, np.inf)
        else:
            low, high = Xn.min(axis=0), Xn.max(axis=0)
        zero = (0.0 - self.mean_) / self.scale_
        return NOISES[self.noise](level, low, high, zero)


@_doc
class SparseAutoencoder(_NetworkChoiceMixin, BaseAutoencoder):
    """Sparse autoencoder: a penalty keeps few code units active.

    ``sparsity="kl"`` (default): sigmoid code units and the penalty
    ``sparsity_weight * sum_j KL(rho || rho_hat_j)`` between a target mean
    activation ``rho = sparsity_target`` and each unit's mean activation in
    the mini-batch, as in Ng's notes. ``sparsity="l1"``: ReLU code units and
    an L1 penalty ``sparsity_weight * sum_j |code_j|`` on each sample's code
    (an activity regularizer), which gives exact zeros. The measured sparsity
    of the training codes is reported after fitting.

    The KL penalty is the default because sigmoid units cannot die: with
    ReLU code units a unit whose input is negative for every sample gets no
    gradient and stays silent for good, and with few code units this loses
    much of the code (on MNIST with 8 code units, half of them were dead
    even without a penalty). When that happens ``fit`` warns.

    Parameters
    ----------
    n_components : int, default=32
        Number of code units; may exceed ``n_features`` (an overcomplete
        code): the penalty, not the width, limits the code.
    sparsity : {"kl", "l1"}, default="kl"
        The penalty.
    sparsity_weight : float or "auto", default="auto"
        Strength of the penalty, relative to the reconstruction error
        (a mean over features). ``"auto"``: 1e-2 for ``"kl"`` and 1e-4 for
        ``"l1"`` (the activity penalty of the Keras autoencoder tutorial).
        Typical: 1e-3 to 1 for ``"kl"``, 1e-6 to 1e-3 for ``"l1"``.
    sparsity_target : float, default=0.05
        Target mean activation ``rho`` of each code unit (``"kl"`` only).
    <<network>>
    <<training>>

    Attributes
    ----------
    mean_activation_ : ndarray of shape (n_components,), dtype float64
        Mean code value of each unit on the data passed to ``fit``.
    sparsity_ : float
        Fraction of the code values of the data passed to ``fit`` that are
        inactive: at most 5 % of the largest code value (exact zeros for ReLU
        codes; for sigmoid codes, at most about 0.05, the default target).
    image_shape_ : tuple of int
        The geometry used (``architecture="conv"`` only).
    <<attributes>>

    References
    ----------
    .. [1] A. Ng, "Sparse autoencoder", CS294A lecture notes, Stanford
       University, 2011.
    .. [2] A. Makhzani and B. Frey, "k-Sparse autoencoders", ICLR 2014
       (on L1 activity penalties as a baseline).
    .. [3] F. Chollet, "Building autoencoders in Keras", The Keras Blog,
       2016 (the L1 activity penalty of 1e-4 per sample).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import SparseAutoencoder
    >>> X = load_digits().data / 16.0
    >>> sae = SparseAutoencoder(n_components=32, max_epochs=3, random_state=0).fit(X)
    >>> 0.0 <= sae.sparsity_ <= 1.0
    True
    """

    _allow_overcomplete = True
    _parameter_constraints: dict = {
        **_NetworkChoiceMixin._parameter_constraints,
        "sparsity": [StrOptions({"l1", "kl"})],
        "sparsity_weight": [
            Interval(numbers.Real, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "sparsity_target": [Interval(numbers.Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        n_components=32,
        *,
        sparsity="kl",
        sparsity_weight="auto",
        sparsity_target=0.05,
        architecture="dense",
        hidden_layer_sizes=(256, 128),
        image_shape=None,
        channels=(16, 32),
        kernel_size=3,
        upsampling="nearest",
        activation="relu",
        output_activation="auto",
        max_epochs="auto",
        batch_size=128,
        lr=1e-3,
        optimizer="adam",
        device="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        _training_init(self, locals())

    def _code_activation(self):
        return "relu" if self.sparsity == "l1" else "logistic"

    def _sparsity_weight(self):
        if self.sparsity_weight == "auto":
            return 1e-4 if self.sparsity == "l1" else 1e-2
        return self.sparsity_weight

    def _loss_penalties(self):
        if self.sparsity == "l1":
            return [L1Activity(self._sparsity_weight())]
        return [KLSparsity(self._sparsity_weight(), self.sparsity_target)]

    def _after_fit(self, Xt):
        codes = self._batched(self.net_.module_.encode, Xt, "encode").double().numpy()
        self.mean_activation_ = codes.mean(axis=0)
        peak = np.abs(codes).max() if codes.size else 0.0
        self.sparsity_ = float(np.mean(np.abs(codes) <= 0.05 * peak)) if peak > 0 else 1.0
        if self.sparsity == "l1":
            n_dead = int(np.sum(codes.max(axis=0) <= 0.0))
            if n_dead:
                warnings.warn(
                    f"{n_dead} of {self.n_components} ReLU code units are zero for every "
                    "training sample (dead units): the code has only "
                    f"{self.n_components - n_dead} informative dimensions. Use "
                    "sparsity='kl' (sigmoid code units do not die), a smaller "
                    "sparsity_weight, or more n_components.",
                    ConvergenceWarning,
                    stacklevel=5,
                )


@_doc
class VariationalAutoencoder(_NetworkChoiceMixin, BaseAutoencoder):
    """Variational autoencoder (VAE): a generative model with a smooth latent space.

    The encoder gives a Gaussian posterior over the code (mean and
    log-variance), a code is drawn by reparameterization, and the loss is the
    negative evidence lower bound (ELBO) with a weight ``beta`` on the KL
    divergence: reconstruction negative log-likelihood (summed over features:
    Bernoulli for data in [0, 1], unit-variance Gaussian otherwise) plus
    ``beta * KL(q(z|x) || N(0, I))`` (Kingma & Welling, 2014; ``beta != 1``
    is the beta-VAE of Higgins et al., 2017). :meth:`transform` returns the
    posterior mean, deterministically; :meth:`sample` decodes draws from the
    prior; :meth:`score_samples` returns each sample's ELBO.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent space.
    beta : float, default=1.0
        Weight of the KL divergence in the training loss.
    <<network>>
    <<training>>

    Attributes
    ----------
    image_shape_ : tuple of int
        The geometry used (``architecture="conv"`` only).
    <<attributes>>

    References
    ----------
    .. [1] D. P. Kingma and M. Welling, "Auto-encoding variational Bayes",
       ICLR 2014.
    .. [2] I. Higgins et al., "beta-VAE: Learning basic visual concepts with
       a constrained variational framework", ICLR 2017.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import VariationalAutoencoder
    >>> X = load_digits().data / 16.0
    >>> vae = VariationalAutoencoder(n_components=4, max_epochs=3, random_state=0).fit(X)
    >>> vae.sample(5, random_state=0).shape
    (5, 64)
    """

    _parameter_constraints: dict = {
        **_NetworkChoiceMixin._parameter_constraints,
        "beta": [Interval(numbers.Real, 0, None, closed="left")],
    }
    _module_class = VariationalModule
    _feature_reduction = "sum"

    def __init__(
        self,
        n_components=2,
        *,
        beta=1.0,
        architecture="dense",
        hidden_layer_sizes=(256, 128),
        image_shape=None,
        channels=(16, 32),
        kernel_size=3,
        upsampling="nearest",
        activation="relu",
        output_activation="auto",
        max_epochs="auto",
        batch_size=128,
        lr=1e-3,
        optimizer="adam",
        device="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        _training_init(self, locals())

    def _n_encoder_outputs(self):
        return 2 * self.n_components

    def _loss_penalties(self):
        return [GaussianKL(self.beta)]

    def sample(self, n_samples=1, random_state=None):
        """Draw new samples: decode codes drawn from the prior ``N(0, I)``.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws; an int gives the same samples every call.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features), dtype float64
            The decoder's mean output for each draw, in the units of ``X``.

        Raises
        ------
        ValueError
            If ``n_samples`` is not a positive integer.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        rng = check_random_state(random_state)
        Z = rng.standard_normal((n_samples, self.n_components)).astype(np.float32)
        return self._decode(torch.from_numpy(Z))

    def score_samples(self, X):
        """Evidence lower bound (ELBO) of each sample, in nats.

        ``log p(x | z = mean) - KL(q(z | x) || N(0, I))``, with the posterior
        mean in place of the expectation over ``q`` (deterministic), and for
        the Gaussian output the change of units from the network's scaled
        space to the units of ``X``. Higher is better; low values flag
        anomalies.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        elbo : ndarray of shape (n_samples,), dtype float64
        """
        _, Xt = self._to_tensor(X)
        module = self.net_.module_
        criterion = AutoencoderLoss(
            self.reconstruction_loss_, [GaussianKL(1.0)], feature_reduction="sum"
        )
        losses = (
            self._batched(lambda xb: criterion.per_sample(module(xb), xb), Xt, "ELBO")
            .double()
            .numpy()
        )
        return -losses - Xt.shape[1] * np.log(self.scale_)
