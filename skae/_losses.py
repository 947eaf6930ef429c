"""Loss terms: reconstruction error, sparsity penalties, the Gaussian KL divergence.

Torch only. Each term reads what it needs from the dict an autoencoder
module returns (:mod:`skae._nn`: ``"code"``, ``"reconstruction"``, and
``"mean"`` / ``"logvar"`` for a VAE) and gives one value per sample, so that
the training loss (their batch mean) and per-sample scores (the VAE's ELBO)
come from the same code.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

RECONSTRUCTION_NAMES = {
    "binary_crossentropy": "binary cross-entropy",
    "squared_error": "squared error",
}


def reconstruction_error(output, target, kind, feature_reduction="mean"):
    """Per-sample reconstruction error of ``output["reconstruction"]`` against ``target``.

    Parameters
    ----------
    output : dict of str to torch.Tensor
        The module's output; ``output["reconstruction"]`` has the target's
        shape and is pre-activation (logits for ``"binary_crossentropy"``).
    target : torch.Tensor of shape (batch, n_features)
    kind : {"squared_error", "binary_crossentropy"}
        ``"squared_error"``: the squared difference. ``"binary_crossentropy"``:
        the cross-entropy between the target in [0, 1] and the sigmoid of
        the reconstruction, computed from logits.
    feature_reduction : {"mean", "sum"}, default="mean"
        ``"mean"`` over features, or ``"sum"``: a negative log-likelihood in
        nats, as the ELBO needs it (for the squared error, a unit-variance
        Gaussian's, constants included).

    Returns
    -------
    error : torch.Tensor of shape (batch,)
    """
    recon = output["reconstruction"]
    if kind == "binary_crossentropy":
        err = F.binary_cross_entropy_with_logits(recon, target, reduction="none")
    else:
        err = F.mse_loss(recon, target, reduction="none")
    if feature_reduction == "mean":
        return err.flatten(1).mean(dim=1)
    nll = err.flatten(1).sum(dim=1)
    if kind == "squared_error":
        nll = 0.5 * nll + 0.5 * err[0].numel() * math.log(2 * math.pi)
    return nll


def gaussian_kl(output):
    """``KL(N(mean, exp(logvar)) || N(0, I))`` per sample, in nats.

    Parameters
    ----------
    output : dict of str to torch.Tensor
        Holds ``"mean"`` and ``"logvar"``, each of shape (batch, n_components).

    Returns
    -------
    kl : torch.Tensor of shape (batch,)
    """
    mean, logvar = output["mean"], output["logvar"]
    return -0.5 * torch.sum(1 + logvar - mean.pow(2) - logvar.exp(), dim=1)


def elbo(module, x, eps, kind):
    """Monte-Carlo estimate of the evidence lower bound per sample, in nats.

    ``ELBO(x) = E_q(z|x)[log p(x | z)] - KL(q(z | x) || N(0, I))`` (Kingma &
    Welling, 2014): the KL divergence in closed form (:func:`gaussian_kl`),
    the expected log-likelihood averaged over the draws
    ``z_d = mean + exp(logvar / 2) * eps[d]``. Every row uses the same
    standard-normal draws ``eps`` (common random numbers): a row's estimate
    does not depend on which rows come with it, and differences between
    rows are not blurred by independent noise.

    Parameters
    ----------
    module : skae._nn.VariationalModule
        Gives ``split(x) -> (mean, logvar)`` and ``decode(z)``.
    x : torch.Tensor of shape (batch, n_features)
        Inputs in the network's units.
    eps : torch.Tensor of shape (n_draws, n_components)
        Standard-normal draws, on ``x``'s device.
    kind : {"squared_error", "binary_crossentropy"}
        The likelihood: unit-variance Gaussian or Bernoulli (see
        :func:`reconstruction_error`).

    Returns
    -------
    elbo : torch.Tensor of shape (batch,)
        In nats, for the network's units.
    """
    mean, logvar = module.split(x)
    std = torch.exp(0.5 * logvar)
    nll = torch.zeros(len(x), dtype=x.dtype, device=x.device)
    for draw in eps:
        output = {"reconstruction": module.decode(mean + std * draw)}
        nll += reconstruction_error(output, x, kind, "sum")
    return -nll / len(eps) - gaussian_kl({"mean": mean, "logvar": logvar})


class L1Activity(nn.Module):
    """``weight * sum_j |code_j|`` per sample: an L1 activity penalty."""

    name = "L1 activity penalty"

    def __init__(self, weight):
        super().__init__()
        self.weight = weight

    def forward(self, output):
        return self.weight * output["code"].abs().sum(dim=1)


class KLSparsity(nn.Module):
    """``weight * sum_j KL(target || mean activation of unit j in the batch)``.

    The sparsity penalty of Ng's notes; the code must lie in (0, 1) (sigmoid
    code units). A batch-level term: the same value for every sample.
    """

    name = "KL sparsity penalty"

    def __init__(self, weight, target):
        super().__init__()
        self.weight, self.target = weight, target

    def forward(self, output):
        rho = self.target
        rho_hat = output["code"].mean(dim=0).clamp(1e-6, 1 - 1e-6)
        kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
        return self.weight * kl.sum()


class GaussianKL(nn.Module):
    """``beta * KL(N(mean, exp(logvar)) || N(0, I))`` per sample, in nats."""

    name = "KL divergence"

    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, output):
        return self.beta * gaussian_kl(output)


class TargetTerm(nn.Module):
    """``weight * error`` of the head's prediction ``output["target"]``, per
    sample, averaged over the labelled rows of the batch.

    A supervised bottleneck's term (Le, Patterson & White, 2018): for
    ``kind="classes"`` the cross-entropy of the logits against class
    indices, ``-1`` marking an unlabelled row; for ``kind="numbers"`` the
    squared error averaged over the targets, a row of NaN marking an
    unlabelled row. An unlabelled row's own error is 0, and each labelled
    row's is multiplied by ``batch / n_labelled``, so that the batch mean of
    the term is the mean over its labelled rows (0 where it has none).

    Parameters
    ----------
    kind : {"classes", "numbers"}
    weight : float
        The term's weight in the loss (the estimator's ``target_loss_weight_``).
    """

    def __init__(self, kind, weight):
        super().__init__()
        self.kind, self.weight = kind, weight
        self.name = "target " + ("cross-entropy" if kind == "classes" else "squared error")

    def forward(self, output, labels):
        pred = output["target"]
        if self.kind == "classes":
            labelled = labels >= 0
            error = F.cross_entropy(pred, labels.clamp(min=0), reduction="none")
        else:
            labelled = ~labels.isnan().any(dim=1)
            error = F.mse_loss(pred, labels.nan_to_num(), reduction="none").mean(dim=1)
        share = len(labels) / labelled.sum().clamp(min=1)
        return self.weight * share * torch.where(labelled, error, 0.0)


def balanced_mean(errors):
    """Per-sample mean of several errors, each scaled to the same batch mean.

    Term ``j`` is weighted by ``g / c_j``, ``c_j`` its batch mean and ``g``
    the geometric mean of the ``c_j`` (both held constant in the gradient):
    the batch mean of the result is ``g``, and its gradient is ``g`` times
    that of the mean of ``log c_j``, so that each term counts by its
    relative change, however large its error. For ordered codes, whose
    one-unit prefix reconstructs with several times the error of the whole
    code, the widths then count alike in training and in the validation
    loss that chooses the epoch.

    Parameters
    ----------
    errors : torch.Tensor of shape (n_terms, batch)
        Non-negative per-sample errors.

    Returns
    -------
    loss : torch.Tensor of shape (batch,)
    """
    scale = errors.detach().mean(dim=1).clamp_min(torch.finfo(errors.dtype).tiny)
    weights = torch.exp(scale.log().mean()) / scale
    return (errors * weights[:, None]).mean(dim=0)


class AutoencoderLoss(nn.Module):
    """Reconstruction error plus optional penalty terms: the training criterion.

    Parameters
    ----------
    reconstruction : {"squared_error", "binary_crossentropy"}
        See :func:`reconstruction_error`.
    penalties : sequence of callables, default=()
        Each maps the module's output dict to a per-sample penalty of shape
        ``(batch,)`` that is added to the reconstruction error.
    feature_reduction : {"mean", "sum"}, default="mean"
        See :func:`reconstruction_error`; ``"sum"`` with a
        :class:`GaussianKL` penalty is the negative ELBO.
    target : TargetTerm or None, default=None
        A supervised bottleneck's term: the target of a batch is then the
        pair ``(x, labels)``, and the term's error on the labels is added.
    """

    def __init__(
        self, reconstruction="squared_error", penalties=(), feature_reduction="mean", target=None
    ):
        super().__init__()
        self.reconstruction = reconstruction
        self.penalties = list(penalties)
        self.feature_reduction = feature_reduction
        self.target = target

    def per_sample(self, output, target):
        """The loss of each sample, shape ``(batch,)``.

        ``target`` is the input ``x``, or ``(x, labels)`` for a supervised
        bottleneck (:class:`TargetTerm`, added where the loss has one).

        Where the output also holds ``"prefix_reconstructions"`` (ordered
        codes, :class:`skae._nn.NestedDecoders`), the reconstruction term
        is the :func:`balanced_mean` of the whole code's error and each
        prefix's, every nested width in every batch (the Matryoshka
        objective of Kusupati et al. 2022, each width's error scaled to its
        batch mean), and the target term, where there is one, the mean of
        the whole code's and each prefix's.
        """
        labels = None
        if isinstance(target, (list, tuple)):
            target, labels = target
        loss = reconstruction_error(output, target, self.reconstruction, self.feature_reduction)
        if "prefix_reconstructions" in output:
            errors = [loss] + [
                reconstruction_error(
                    {"reconstruction": prefix}, target, self.reconstruction, self.feature_reduction
                )
                for prefix in output["prefix_reconstructions"]
            ]
            loss = balanced_mean(torch.stack(errors))
        for penalty in self.penalties:
            loss = loss + penalty(output)
        if self.target is not None and labels is not None:
            predictions = [output["target"], *output.get("prefix_targets", ())]
            loss = loss + torch.stack(
                [self.target({"target": pred}, labels) for pred in predictions]
            ).mean(dim=0)
        return loss

    def forward(self, output, target):
        return self.per_sample(output, target).mean()

    def describe(self):
        """A label for the loss, e.g. ``"squared error + KL sparsity penalty"``."""
        if self.feature_reduction == "sum" and any(
            isinstance(p, GaussianKL) for p in self.penalties
        ):
            return "negative ELBO"
        names = [RECONSTRUCTION_NAMES.get(self.reconstruction, self.reconstruction)]
        terms = [*self.penalties, *([] if self.target is None else [self.target])]
        return " + ".join(names + [getattr(p, "name", type(p).__name__) for p in terms])
