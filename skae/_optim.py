"""The optimizer and its learning rate: ``optimizer``, ``optimizer_params`` and
``lr="auto"`` resolved for a training run."""

from __future__ import annotations

import inspect

import torch

__all__ = ["OPTIMIZERS", "resolve_lr", "resolve_optimizer"]

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# Optimizers whose fused kernel (one pass over all parameters a step, instead
# of a loop of small tensor ops) skae turns on where torch has it: the same
# update up to float rounding, in less time (docs/results.md).
FUSED_OPTIMIZERS = (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD)
FUSED_DEVICE_TYPES = ("cpu", "cuda")

# lr="auto": AUTO_LR up to AUTO_LR_ROWS training rows, growing in proportion
# to the rows beyond them, up to AUTO_LR_MAX (benchmarks/bench_defaults.py).
AUTO_LR = 1e-3
AUTO_LR_MAX = 3e-3
AUTO_LR_ROWS = 5_000


def resolve_lr(lr, n_train=None):
    """The peak learning rate of a training run: ``lr``, or what ``"auto"`` gives.

    ``lr="auto"`` is ``1e-3`` for up to 5 000 training rows and ``1e-3 *
    n_train / 5 000`` beyond, at most ``3e-3`` (from 15 000 rows). On a few
    thousand rows or fewer a higher rate over-fits (the dense network on
    scikit-learn's bundled tables, the convolutional one on 2 000
    photograph patches); on tens of thousands (MNIST, photograph patches) the
    ``max_epochs="auto"`` budget sees each row only 10 to 90 times and a
    higher rate, warmed up, trains a better code in the same steps -- a
    size-dependent default as scikit-learn's ``TSNE(learning_rate="auto")``
    has (measured in ``benchmarks/bench_defaults.py``).

    Parameters
    ----------
    lr : float or "auto"
        The ``lr`` parameter.
    n_train : int or None, default=None
        Rows the run trains on (after an ``early_stopping`` split). None for
        :meth:`partial_fit`, which has no data set size: ``"auto"`` gives
        ``1e-3`` there.

    Returns
    -------
    lr : float
    """
    if isinstance(lr, str):  # "auto", the only string the parameter takes
        if n_train is None:
            return AUTO_LR
        return AUTO_LR * min(max(n_train / AUTO_LR_ROWS, 1.0), AUTO_LR_MAX / AUTO_LR)
    return float(lr)


def resolve_optimizer(optimizer, optimizer_params, device="cpu"):
    """The optimizer class and its keyword arguments, checked against its signature.

    Adam, AdamW and SGD get ``fused=True`` on a CPU or CUDA device unless
    ``optimizer_params`` sets ``fused`` or ``foreach``: torch's fused kernel
    computes the same update (up to float rounding) in fewer passes over the
    parameters.

    Parameters
    ----------
    optimizer : str or type
        A name in ``OPTIMIZERS`` or a ``torch.optim.Optimizer`` subclass.
    optimizer_params : dict or None
        Keyword arguments of the optimizer (``weight_decay``, ``momentum``,
        ``betas``, ...), except ``lr`` (an estimator parameter of its own).
    device : str or torch.device, default="cpu"
        Where the parameters live (a resolved device, not ``"auto"``).

    Returns
    -------
    optimizer_class : type
    kwargs : dict
        ``optimizer_params`` as skorch takes them: ``{"optimizer__<name>": value}``.

    Raises
    ------
    ValueError
        If ``optimizer_params`` names ``lr`` or an argument the optimizer
        does not take.
    """
    cls = OPTIMIZERS[optimizer] if isinstance(optimizer, str) else optimizer
    params = dict(optimizer_params or {})
    if "lr" in params:
        raise ValueError(
            f"optimizer_params sets lr={params['lr']!r}; the learning rate is a parameter "
            f"of its own: pass lr={params['lr']!r} and drop it from optimizer_params."
        )
    try:
        accepted = set(inspect.signature(cls).parameters) - {"params", "self"}
    except (TypeError, ValueError):  # no signature to read: let the optimizer decide
        accepted = set(params)
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(
            f"optimizer_params names {unknown}, which {cls.__name__} does not take; "
            f"it takes {sorted(accepted - {'lr'})}."
        )
    if (
        cls in FUSED_OPTIMIZERS
        and torch.device(device).type in FUSED_DEVICE_TYPES
        and not {"fused", "foreach"} & set(params)
    ):
        params["fused"] = True
    return cls, {f"optimizer__{k}": v for k, v in params.items()}
