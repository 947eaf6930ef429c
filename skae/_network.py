"""The estimator's network and the skorch net that trains it, from its parameters.

Built by ``fit`` (:meth:`skae._base.BaseAutoencoder._fit`) and again by
:func:`skae.load`, which loads saved weights into it: the built-in encoder
and decoder of the estimator's architecture (:mod:`skae._architectures`) or
the user's own modules, joined by the estimator's ``_module_class`` (with a
linear head from the code to the target for a supervised bottleneck,
:mod:`skae._target`), and an :class:`~skae._net.AutoencoderNet` with the
loss, optimizer and corruption the estimator's hooks choose.
"""

from __future__ import annotations

from torch import nn

from ._architectures import build_custom_module
from ._losses import AutoencoderLoss
from ._net import AutoencoderNet
from ._nn import NestedDecoders
from ._optim import resolve_lr, resolve_optimizer

__all__ = ["build_module", "make_net"]


def build_module(estimator, n_features):
    """The torch module: the built-in encoder and decoder, or the user's.

    Raises
    ------
    ValueError
        If ``encoder_params`` / ``decoder_params`` come without a module of
        the user's to take them, or the user's module cannot be built.
    """
    architecture = estimator._architecture()
    n_outputs = estimator._n_encoder_outputs()
    n_components = estimator.n_components
    for what in ("encoder", "decoder"):
        if getattr(estimator, what) is None and getattr(estimator, f"{what}_params"):
            raise ValueError(
                f"{what}_params is given but {what} is None: the built-in {what} "
                f"takes no {what}_params. Pass your module class as {what}=, or drop "
                f"{what}_params."
            )
    if estimator.encoder is None:
        encoder = architecture.build_encoder(estimator, n_features, n_outputs)
    else:
        encoder = build_custom_module(
            estimator.encoder, estimator.encoder_params, (n_features, n_outputs), "encoder"
        )
    prefix_widths = estimator._prefix_widths()
    decoders = [
        _build_decoder(estimator, architecture, n_components, n_features)
        for _ in range(1 + len(prefix_widths or ()))
    ]
    if prefix_widths:  # ordered codes: a decoder for each prefix width and the whole code
        decoder = NestedDecoders((*prefix_widths, n_components), decoders)
    else:
        decoder = decoders[0]
    n_targets = estimator._n_target_outputs()
    return estimator._module_class(
        encoder,
        decoder,
        estimator._code_activation(),
        prefix_widths=prefix_widths,
        # Built last: an estimator without a head draws the same weights as before.
        **({} if n_targets is None else {"target_head": nn.Linear(n_components, n_targets)}),
    )


def _build_decoder(estimator, architecture, n_components, n_features):
    """The built-in decoder of the architecture, or the user's."""
    if estimator.decoder is None:
        return architecture.build_decoder(estimator, n_components, n_features)
    return build_custom_module(
        estimator.decoder, estimator.decoder_params, (n_components, n_features), "decoder"
    )


def make_net(estimator, module, loss_name, device, *, corruption=None):
    """The skorch net that trains ``module``.

    Its training settings (epochs, batch size, rate, split, callbacks) are
    set by each training call (:meth:`skae._net.AutoencoderNet.train_run`).

    Raises
    ------
    ValueError
        If ``optimizer_params`` names ``lr`` or an argument the optimizer
        does not take.
    """
    optimizer, optimizer_kwargs = resolve_optimizer(
        estimator.optimizer, estimator.optimizer_params, device
    )
    return AutoencoderNet(
        module=module,
        criterion=AutoencoderLoss,
        criterion__reconstruction=loss_name,
        criterion__penalties=estimator._loss_penalties(),
        criterion__feature_reduction=estimator._feature_reduction,
        criterion__target=estimator._target_term(),
        corruption=corruption,
        optimizer=optimizer,
        lr=resolve_lr(estimator.lr),  # each training call sets its run's rate
        batch_size=estimator.batch_size,
        train_split=None,
        device=device,
        verbose=estimator.verbose,
        **optimizer_kwargs,
    )
