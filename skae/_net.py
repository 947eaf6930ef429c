"""Training layer: one skorch ``NeuralNet`` subclass and its batching.

skorch owns the training loop, the callbacks, the history and the device
handling. This module changes it only through skorch's documented hooks:

* ``get_dataset`` / ``get_iterator`` -- the data is held as *one* float32
  tensor and mini-batches are cut from it by index, instead of skorch's
  default ``DataLoader`` that collates one sample at a time;
  ``benchmarks/bench_fit_time.py`` times both against a plain PyTorch loop;
* ``train_step_single`` -- an optional corruption of the training batch
  (denoising) and a check that the loss stays finite;
* ``get_loss`` -- the criterion receives the module's whole output dict, so
  that loss terms (reconstruction, penalties) read what they need.
"""

from __future__ import annotations

import math

import torch
from skorch import NeuralNet
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm


class TensorData(torch.utils.data.Dataset):
    """A data set held as one 2-D float32 tensor ``(n_samples, n_features)``.

    The target of an autoencoder is its input, so there is no ``y``.
    """

    def __init__(self, X):
        self.X = X

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.X[i]


class IndexBatches:
    """Mini-batches of a :class:`TensorData`, cut from its tensor by index.

    Each pass draws a fresh permutation from torch's global generator when
    ``shuffle`` is true (the estimator seeds it from ``random_state``). A batch
    is ``(X_batch, X_batch)``: input and target are the same tensor. Batches
    stay on the host; skorch moves each one to ``net.device`` in ``infer``.
    """

    def __init__(self, dataset, batch_size, shuffle=False):
        self.X = dataset.X
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)

    def __iter__(self):
        n = len(self.X)
        if self.shuffle:
            order = torch.randperm(n)
            for start in range(0, n, self.batch_size):
                batch = self.X[order[start : start + self.batch_size]]
                yield batch, batch
        else:
            for start in range(0, n, self.batch_size):
                batch = self.X[start : start + self.batch_size]
                yield batch, batch


class AutoencoderLoss(nn.Module):
    """Reconstruction error plus optional penalty terms, per sample or mean.

    Parameters
    ----------
    reconstruction : {"squared_error", "binary_crossentropy"}
        ``"squared_error"``: mean over features of the squared error, the
        Gaussian likelihood up to constants. ``"binary_crossentropy"``: mean
        over features of the cross-entropy between the target in [0, 1] and
        the sigmoid of the decoder's output (computed from logits).
    penalties : sequence of callables, default=()
        Each maps the module's output dict to a per-sample penalty of shape
        ``(batch,)`` that is added to the reconstruction error.
    """

    def __init__(self, reconstruction="squared_error", penalties=(), feature_reduction="mean"):
        super().__init__()
        self.reconstruction = reconstruction
        self.penalties = list(penalties)
        self.feature_reduction = feature_reduction

    def reconstruction_error(self, output, target):
        recon = output["reconstruction"]
        if self.reconstruction == "binary_crossentropy":
            err = F.binary_cross_entropy_with_logits(recon, target, reduction="none")
        else:
            err = F.mse_loss(recon, target, reduction="none")
        if self.feature_reduction == "mean":
            return err.flatten(1).mean(dim=1)
        # "sum": a negative log-likelihood in nats, as the ELBO needs it; the
        # squared error becomes a unit-variance Gaussian's.
        nll = err.flatten(1).sum(dim=1)
        if self.reconstruction == "squared_error":
            nll = 0.5 * nll + 0.5 * err[0].numel() * math.log(2 * math.pi)
        return nll

    def per_sample(self, output, target):
        loss = self.reconstruction_error(output, target)
        for penalty in self.penalties:
            loss = loss + penalty(output)
        return loss

    def forward(self, output, target):
        return self.per_sample(output, target).mean()


class L1Activity(nn.Module):
    """``weight * sum_j |code_j|`` per sample: an L1 activity penalty."""

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

    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, output):
        mean, logvar = output["mean"], output["logvar"]
        kl = -0.5 * torch.sum(1 + logvar - mean.pow(2) - logvar.exp(), dim=1)
        return self.beta * kl


class AutoencoderNet(NeuralNet):
    """skorch ``NeuralNet`` for autoencoders: index batching and input = target.

    Parameters
    ----------
    *args, **kwargs
        As :class:`skorch.NeuralNet`.
    corruption : callable or None, default=None
        Maps a clean training batch to a corrupted one (denoising
        autoencoders). Applied to training batches only, never to validation
        or inference.
    """

    def __init__(self, *args, corruption=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.corruption = corruption

    def get_dataset(self, X, y=None):
        if isinstance(X, TensorData):
            return X
        return TensorData(X)

    def get_iterator(self, dataset, training=False):
        batch_size = self.batch_size if self.batch_size != -1 else len(dataset)
        return IndexBatches(dataset, batch_size, shuffle=training)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = batch
        Xi = Xi.to(self.device)
        if self.corruption is not None:
            Xi = self.corruption(Xi)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        if not torch.isfinite(loss):
            epoch = len(self.history)
            raise ValueError(
                f"The training loss became {loss.item()} in epoch {epoch}: "
                "the optimisation diverged. Scale the inputs (for example "
                "with sklearn.preprocessing.StandardScaler) or lower `lr`."
            )
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    @torch.no_grad()
    def apply_batched(self, fn, X, chunk=256, progress=False, desc=None):
        """Apply ``fn`` (e.g. ``module_.encode``) to ``X`` in chunks of ``chunk`` rows.

        Each chunk moves to ``self.device`` and its result returns to the
        host, so large inputs never sit on the accelerator at once. The last
        chunk is padded with zeros to ``chunk`` rows: every row then goes
        through kernels of the same shape, so a row's result does not depend,
        even in the last bit, on how many rows came with it (scikit-learn's
        subset-invariance contract). ``progress=True`` shows a tqdm bar over
        the chunks (on stderr), labelled ``desc``.
        """
        self.module_.eval()
        outputs = []
        starts = range(0, len(X), chunk)
        for start in tqdm(starts, desc=desc, unit="batch", leave=False, disable=not progress):
            Xb = X[start : start + chunk]
            n = len(Xb)
            if n < chunk:
                Xb = torch.cat([Xb, Xb.new_zeros((chunk - n, *Xb.shape[1:]))])
            outputs.append(fn(Xb.to(self.device))[:n].cpu())
        if not outputs:
            return X.new_empty((0,))
        return torch.cat(outputs)
