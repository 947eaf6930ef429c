"""The variational autoencoder: a generative model with a smooth latent space."""

from __future__ import annotations

import numbers
from typing import Literal

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._architectures import IMAGE_ATTRIBUTES, NETWORK_CHOICE_PARAMS, ArchitectureChoice
from ._base import BaseAutoencoder
from ._common_params import (
    COMMON_ATTRIBUTES,
    COMMON_PARAMS,
    N_COMPONENTS,
    N_COMPONENTS_DEFAULT_DOC,
)
from ._losses import GaussianKL, elbo
from ._nn import VariationalModule
from ._parameters import Param, declare

__all__ = ["VariationalAutoencoder"]

# Draws of the code per sample in the Monte-Carlo estimate of the ELBO that
# score_samples returns (the standard error shrinks as 1 / sqrt(ELBO_DRAWS)).
ELBO_DRAWS = 32

BETA = Param(
    "beta",
    1.0,
    (Interval(numbers.Real, 0, None, closed="left"),),
    "float",
    "Weight of the KL divergence in the training loss.",
)


@declare(
    N_COMPONENTS.replace(
        description=f"""Dimension of the latent space. May exceed
        ``n_features``, which is unusual (the KL term then leaves the extra
        dimensions at the prior): ``fit`` warns.
        {N_COMPONENTS_DEFAULT_DOC}"""
    ),
    BETA,
    *NETWORK_CHOICE_PARAMS,
    *COMMON_PARAMS,
    attributes=(*IMAGE_ATTRIBUTES, *COMMON_ATTRIBUTES),
)
class VariationalAutoencoder(ArchitectureChoice, BaseAutoencoder):
    """Variational autoencoder (VAE): a generative model with a smooth latent space.

    The encoder gives a Gaussian posterior over the code (mean and
    log-variance), a code is drawn by reparameterization, and the loss is the
    negative evidence lower bound (ELBO) with a weight ``beta`` on the KL
    divergence: reconstruction negative log-likelihood (summed over features:
    Bernoulli for data in [0, 1], unit-variance Gaussian otherwise) plus
    ``beta * KL(q(z|x) || N(0, I))`` (Kingma & Welling, 2014; ``beta != 1``
    is the beta-VAE of Higgins et al., 2017). :meth:`transform` returns the
    posterior mean, deterministically; :meth:`sample` decodes draws from the
    prior; :meth:`score_samples` returns each sample's ELBO (a Monte-Carlo
    estimate).

    <parameters and attributes>

    See Also
    --------
    AutoencoderTransformer : A deterministic code.

    Notes
    -----
    The VAE takes no ``target_weight`` (the supervised bottleneck of the
    other estimators; ``y`` is ignored here): its code is a posterior whose
    prior the KL term matches, so that :meth:`sample` draws from the model.
    Training its mean to predict ``y`` as well would change that generative
    model without saying what it then is. The principled supervised VAE
    models the label as a latent variable of its own: the M2 model of
    Kingma et al. (2014) [3]_, a different estimator.

    References
    ----------
    .. [1] D. P. Kingma and M. Welling, "Auto-encoding variational Bayes",
       ICLR 2014.
    .. [2] I. Higgins et al., "beta-VAE: Learning basic visual concepts with
       a constrained variational framework", ICLR 2017.
    .. [3] D. P. Kingma, D. J. Rezende, S. Mohamed and M. Welling,
       "Semi-supervised learning with deep generative models", NeurIPS 2014.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import VariationalAutoencoder
    >>> X = load_digits().data / 16.0
    >>> vae = VariationalAutoencoder(n_components=4, max_epochs=3, random_state=0).fit(X)
    >>> vae.sample(5, random_state=0).shape
    (5, 64)
    """

    _module_class = VariationalModule
    _feature_reduction = "sum"

    _overcomplete = "warn"

    def __init__(
        self,
        n_components=2,
        *,
        beta=1.0,
        architecture="dense",
        hidden_layer_sizes=(256, 128),
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
        self.beta = beta
        self.architecture = architecture
        self.hidden_layer_sizes = hidden_layer_sizes
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
        Z = rng.standard_normal((n_samples, self.n_components_)).astype(np.float32)
        return self._decode(torch.from_numpy(Z))

    def score_samples(self, X):
        """Evidence lower bound (ELBO) of each sample: a lower bound of ``log p(x)``, in nats.

        ``E_q(z|x)[log p(x | z)] - KL(q(z | x) || N(0, I))``: the KL
        divergence in closed form, the expected log-likelihood estimated
        from ``ELBO_DRAWS`` (32) draws of the code per sample. The draws are
        seeded from ``random_state`` (an int gives the same scores every
        call) and shared by all samples, so a sample's score does not depend
        on the other rows passed with it. The likelihood is the decoder's
        Bernoulli (data in [0, 1]) or unit-variance Gaussian in the
        network's units (``(X - mean_) / scale_``), converted to a density
        in the units of ``X`` (``- n_features * log(scale_)``). Higher is
        better; low values flag anomalies. Computed chunk by chunk: the
        memory used beyond the scores is a few batches.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame, memmap} of shape (n_samples, n_features)
            A memmap, h5py or zarr array is read and validated chunk by
            chunk, as in :meth:`transform`.

        Returns
        -------
        elbo : ndarray of shape (n_samples,), dtype float64
            In nats.

        Raises
        ------
        sklearn.exceptions.NotFittedError, ValueError
            As :meth:`transform`.
        """
        X = self._check_rows(X)[0]
        rng = check_random_state(self.random_state)
        draws = rng.standard_normal((ELBO_DRAWS, self.n_components_)).astype(np.float32)
        eps = torch.from_numpy(draws).to(self.net_.device)
        module = self.net_.module_
        offset = self.n_features_in_ * np.log(self.scale_)

        def scores(rows):
            Xn = torch.from_numpy(self._normalize(rows))
            values = self.net_.apply_batched(
                lambda x: elbo(module, x, eps, self.reconstruction_loss_), Xn
            )
            return values.double().numpy() - offset

        return self._by_chunks(scores, X, np.empty(len(X)), "ELBO")

    def score(self, X, y=None):
        """Mean ELBO per sample of ``X``, in nats (higher is better).

        The average of :meth:`score_samples`: a lower bound of the average
        log-likelihood, so that :class:`~sklearn.model_selection.GridSearchCV`
        can choose ``n_components`` or ``beta`` without labels. To compare a
        VAE with other reducers on one scale, score them all with
        :func:`skae.metrics.neg_mean_squared_reconstruction_error`.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        score : float
            ``score_samples(X).mean()``, in nats.
        """
        return float(np.mean(self.score_samples(X)))
