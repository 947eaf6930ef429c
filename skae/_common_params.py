"""The parameters and fitted attributes every skae estimator declares.

Each is a :class:`skae._parameters.Param` (or ``Attr``): its default,
constraints and numpydoc entry, written once. :mod:`skae._base` reads
them; each public estimator lists them in its ``declare(...)``, after its
own parameters and those of its network (:mod:`skae._architectures`).
"""

from __future__ import annotations

import numbers

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._architectures import CUSTOM_MODULE_PARAMS
from ._optim import OPTIMIZERS
from ._parameters import Attr, Param
from ._schedules import LR_SCHEDULES

# Why every estimator's n_components defaults to 2 (one sentence, shared).
N_COMPONENTS_DEFAULT_DOC = (  # one line: it goes into descriptions of any indentation
    "The default, 2, gives a code that can be plotted, as for scikit-learn's "
    "nonlinear embeddings: choose the width for your data "
    "(:ref:`choosing-n-components`)."
)

N_COMPONENTS = Param(
    "n_components",
    2,
    (Interval(numbers.Integral, 1, None, closed="left"),),
    "int",
    f"""Width of the bottleneck: the number of values in each code. Must be
    at most ``n_features``: a wider code could copy its input.
    {N_COMPONENTS_DEFAULT_DOC}""",
    positional=True,
)
# A denoising or sparse code may be overcomplete: the noise or the penalty,
# not the width, keeps the network from learning the identity.
OVERCOMPLETE_N_COMPONENTS = N_COMPONENTS.replace(
    description=f"""Width of the code. It may exceed ``n_features`` (an
    overcomplete code): the corruption or the penalty, not the width, keeps
    the network from learning the identity. {N_COMPONENTS_DEFAULT_DOC}""",
)

TRAINING_PARAMS = (
    Param(
        "output_activation",
        "auto",
        (StrOptions({"auto", "sigmoid", "identity"}),),
        '{"auto", "sigmoid", "identity"}',
        """``"sigmoid"``: outputs in [0, 1] trained with binary cross-entropy
        (needs ``X`` in [0, 1]); ``"identity"``: unbounded outputs trained
        with the squared error on centred and scaled inputs (``mean_``,
        ``scale_``). ``"auto"`` picks ``"sigmoid"`` when the training data
        lies in [0, 1], else ``"identity"``, and ``output_activation_`` holds
        the choice. See :ref:`scaling-inputs`.""",
    ),
    Param(
        "max_epochs",
        "auto",
        (Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})),
        'int or "auto"',
        """Maximum number of passes over the training data; training can stop
        earlier on ``tol`` (see ``n_iter_no_change``). ``"auto"`` turns a
        budget of about 10 000 mini-batch updates (5 000 for a convolutional
        network) into 10 to 200 epochs (10 to 400 for a convolutional one).
        See :ref:`training-length`.""",
    ),
    Param(
        "batch_size",
        128,
        (Interval(numbers.Integral, 1, None, closed="left"),),
        "int",
        "Number of samples per mini-batch.",
    ),
    Param(
        "lr",
        "auto",
        (Interval(numbers.Real, 0, None, closed="neither"), StrOptions({"auto"})),
        'float or "auto"',
        """Learning rate of the optimizer: the peak of ``lr_schedule`` in
        ``fit``, the constant rate of :meth:`partial_fit`. ``"auto"`` chooses
        it from the number of training rows (``1e-3`` up to 5 000, rising to
        ``3e-3`` from 15 000; ``1e-3`` in :meth:`partial_fit`), and ``lr_``
        holds the rate used. See :ref:`lr-schedule`.""",
    ),
    Param(
        "lr_schedule",
        "cooldown",
        (StrOptions(set(LR_SCHEDULES)),),
        '{"cooldown", "onecycle", "cosine", "constant"}',
        """How the learning rate changes over a ``fit``, stepped after every
        mini-batch: ``"cooldown"`` warms up over the first 5 % of the planned
        steps, holds ``lr`` until 70 % and anneals it to 0; ``"onecycle"``,
        ``"cosine"`` and ``"constant"`` (skae 0.1's training) are the others.
        :meth:`partial_fit` trains at the constant ``lr``. See
        :ref:`lr-schedule`.""",
    ),
    Param(
        "optimizer",
        "adam",
        (StrOptions(set(OPTIMIZERS)), type),
        '{"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class',
        "The optimizer, by name or as a ``torch.optim.Optimizer`` subclass.",
    ),
    Param(
        "optimizer_params",
        None,
        (dict, None),
        "dict or None",
        """Further keyword arguments of the optimizer, e.g.
        ``{"weight_decay": 1e-4}`` (``lr`` is a parameter of its own); a key
        the optimizer does not take is a ``ValueError`` at ``fit``.
        ``"adam"``, ``"adamw"`` and ``"sgd"`` run torch's fused kernel unless
        this sets ``fused`` or ``foreach``. See :ref:`optimizer`.""",
    ),
    Param(
        "device",
        "auto",
        (str, torch.device),
        "str or torch.device",
        """Where the network trains and runs: ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ... ``"auto"`` picks ``"cuda"`` when a GPU is visible,
        else ``"cpu"``. Data moves to the device one mini-batch at a time.""",
    ),
    Param(
        "early_stopping",
        False,
        ("boolean",),
        "bool",
        """If True, hold out ``validation_fraction`` of the training data and
        stop when the validation loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, keeping the weights of the epoch of
        lowest validation loss (``best_epoch_``; under a PCA start, PCA's
        solution counts as epoch 0, a random initialisation never does).
        If False, stop on the training loss, as
        :class:`~sklearn.neural_network.MLPRegressor` does; a PCA start
        (``pca_start``) still holds rows out to keep its best epoch. Data
        read from disk holds out whole blocks of rows. See
        :ref:`training-length`.""",
    ),
    Param(
        "validation_fraction",
        0.1,
        (Interval(numbers.Real, 0, 1, closed="neither"),),
        "float",
        """Fraction of the training data held out when ``early_stopping=True``
        (of the blocks of rows, for data read from disk); a PCA start without
        early stopping holds out as many rows, but at least 250 or a quarter
        of them and at most 2 000.""",
    ),
    Param(
        "n_iter_no_change",
        10,
        (Interval(numbers.Integral, 1, None, closed="left"),),
        "int",
        """Number of epochs without an improvement of at least ``tol`` before
        training stops. Under ``lr_schedule="cooldown"`` a plateau before the
        anneal starts the anneal instead (:ref:`training-length`).""",
    ),
    Param(
        "tol",
        1e-4,
        (Interval(numbers.Real, 0, None, closed="left"),),
        "float",
        """Smallest decrease of the monitored loss, per feature, that counts as
        an improvement. The loss is in the network's units (the scaled data's
        squared error, or the binary cross-entropy for ``"sigmoid"``), so
        ``tol`` means the same for data of any scale; see
        :ref:`training-length`.""",
    ),
    Param(
        "random_state",
        None,
        ("random_state",),
        "int, RandomState instance or None",
        """Seeds weight initialisation, mini-batch order, corruption and the
        validation split. An int gives the same codes, bit for bit, on CPU.
        Torch's global random state is left as it was.""",
    ),
    Param(
        "verbose",
        0,
        ("verbose",),
        "int",
        """0 prints nothing. 1 prints a log line and a progress bar per epoch
        and why training stopped, and progress bars in the inference methods
        on inputs of 10 000 rows or more. See :ref:`progress-and-logging`.""",
    ),
    Param(
        "callbacks",
        None,
        (list, None),
        "list of skorch callbacks or (name, callback) tuples, or None",
        """Extra skorch callbacks for the training loop (for example
        ``skorch.callbacks.LRScheduler``). A model with callbacks cannot be
        saved with ``save``; pickle it, or drop them with ``set_params``.""",
    ),
    Param(
        "warm_start",
        False,
        ("boolean",),
        "bool",
        """If True, ``fit`` on a fitted estimator continues training its
        network (weights and optimizer state) for up to ``max_epochs`` more
        epochs instead of starting over, as
        :class:`~sklearn.neural_network.MLPRegressor` does; only the training
        parameters may change between the fits, any other change is a
        ``ValueError``. On an estimator not yet fitted, ``fit`` is an ordinary
        fit. See :ref:`warm-start`.""",
    ),
)

# Whether a new fit starts as PCA's solution (skae._pca_start); the estimators
# that take it say so (BaseAutoencoder._takes_pca_start).
PCA_START = Param(
    "pca_start",
    True,
    ("boolean",),
    "bool",
    """Start the network as PCA's solution: a fixed path holding PCA's
    mean and axes (fitted on the training rows) beside the encoder and the
    decoder, whose output layers start at zero, so that the untrained
    network (epoch 0) encodes and reconstructs as
    :class:`~sklearn.decomposition.PCA` does (clipped to [0, 1] for
    sigmoid outputs) and training learns what PCA misses. A fit holds rows
    out (early stopping's split; without early stopping,
    ``validation_fraction`` of the rows but at least 250 or a quarter of
    them, at most 2 000) and keeps the epoch of lowest loss on them, epoch
    0 (PCA) counted and kept unless a trained epoch beats it by more than
    one standard error (``best_epoch_``; ``pca_start_`` says which). Not for your own
    ``encoder`` / ``decoder``. False: the network alone, trained on all the
    rows (as in skae 0.2). See :ref:`pca-start`.""",
)

# The parameters of one training run rather than of the model: a fit with
# warm_start=True or a partial_fit that continues a fitted network uses their
# current values. Every other parameter must keep the value the network was
# built with (BaseAutoencoder._check_unchanged_params).
RUN_PARAMS = frozenset(
    {
        "max_epochs",
        "batch_size",
        "lr",
        "lr_schedule",
        "early_stopping",
        "validation_fraction",
        "n_iter_no_change",
        "tol",
        "random_state",
        "verbose",
        "callbacks",
        "warm_start",
    }
)

# The trailing parameters of every estimator: its network halves, then training.
COMMON_PARAMS = (*CUSTOM_MODULE_PARAMS, *TRAINING_PARAMS)

COMMON_ATTRIBUTES = (
    Attr(
        "net_",
        "skorch.NeuralNet",
        """The trained skorch net; ``net_.module_`` is the torch module with
        ``encode`` and ``decode``, ``net_.history`` the training history.""",
    ),
    Attr(
        "n_components_",
        "int",
        """Width of the fitted code: ``n_components`` at the last ``fit``.
        ``transform``, ``inverse_transform`` and the other fitted methods
        read it, so ``set_params(n_components=...)`` changes nothing until
        the next ``fit``.""",
    ),
    Attr("n_features_in_", "int", "Number of features seen during fit."),
    Attr(
        "input_shape_",
        "tuple of int",
        """Shape of one sample as ``fit`` received it: ``(n_features,)`` for
        rows, ``(height, width)``... for images given in their own shape;
        ``inverse_transform`` returns this shape.""",
    ),
    Attr(
        "feature_names_in_",
        "ndarray of shape (n_features,)",
        "Names of features seen during fit, when ``X`` has string column names.",
    ),
    Attr(
        "n_iter_",
        "int",
        """Number of epochs run (completed epochs, if ``fit`` was
        interrupted with Ctrl-C). Adds up over ``fit`` calls with
        ``warm_start=True`` and over :meth:`partial_fit` calls (one each).""",
    ),
    Attr(
        "lr_",
        "float",
        """The peak learning rate of the last training run: ``lr``, or what
        ``lr="auto"`` chose for its number of training rows.""",
    ),
    Attr(
        "loss_curve_",
        "list of float",
        """Training loss after each epoch (the loss being minimised), one
        entry per epoch of ``n_iter_``: with ``target_weight > 0``, the total
        of the reconstruction and the weighted target term, as is every loss
        below (the validation losses, the ``best_epoch_`` chosen by them).""",
    ),
    Attr(
        "validation_loss_curve_",
        "list of float or None",
        """Validation loss of each epoch, in the units of ``loss_curve_``,
        when the last ``fit`` held rows out (``early_stopping=True``, or a PCA
        start): ``n_iter_ + 1`` entries, entry ``e`` for epoch ``e`` and entry
        0 for the network before training (the start; one more entry than
        ``loss_curve_``), so that ``validation_loss_curve_[best_epoch_] ==
        best_validation_loss_``. NaN for earlier epochs trained without a
        validation split (after ``warm_start``); None otherwise and after
        :meth:`partial_fit`.""",
    ),
    Attr(
        "best_epoch_",
        "int or None",
        """Where the last ``fit`` held rows out (``early_stopping=True``, or a
        PCA start), the epoch whose weights the estimator holds: the one of
        lowest validation loss among this fit's epochs, counted over all of
        ``n_iter_``. 0 only under a PCA start: PCA's solution, a candidate
        kept unless a trained epoch beats it by more than one standard error
        (:ref:`pca-start`), and then refit on all the rows (with a target
        head fitted on its codes). A random initialisation, or the model a
        ``warm_start`` continues, is never kept. None otherwise and after
        :meth:`partial_fit`.""",
    ),
    Attr(
        "stopped_early_",
        "bool",
        """Whether the last ``fit`` ended before ``max_epochs`` because the
        monitored loss stopped improving by ``tol`` (see
        ``n_iter_no_change``). False after :meth:`partial_fit`. A fit that
        reaches ``max_epochs`` while that loss still falls by more than
        ``tol`` an epoch warns (``ConvergenceWarning``), as
        :class:`~sklearn.neural_network.MLPRegressor` does.""",
    ),
    Attr(
        "best_validation_loss_",
        "float or None",
        """The loss the selection saw: ``validation_loss_curve_[best_epoch_]``,
        the held-out loss of the epoch kept, in the units of ``loss_curve_``
        (the network's: ``X`` centred and divided by ``scale_``). For a
        trained epoch it is the returned model's loss on the held-out rows;
        for the PCA start (``best_epoch_ == 0``) it is the loss of the start
        fitted on the training rows (with its target head), before
        the refit on all rows gives the model returned. None where
        ``best_epoch_`` is None.""",
    ),
    Attr("output_activation_", '{"sigmoid", "identity"}', "The output activation used."),
    Attr(
        "reconstruction_loss_",
        '{"binary_crossentropy", "squared_error"}',
        "The reconstruction loss the network was trained with.",
    ),
    Attr(
        "mean_",
        "ndarray of shape (n_features,), dtype float64",
        """Per-feature mean subtracted before encoding (zeros when
        ``output_activation_ == "sigmoid"``). Computed by the fit that built
        the network (for :meth:`partial_fit`, from the first batch) and kept
        by later ``partial_fit`` calls and ``warm_start`` fits.""",
    ),
    Attr(
        "scale_",
        "float",
        """Global scale the centred data is divided by before encoding: the
        root of the mean feature variance (1.0 for ``"sigmoid"``). Set and
        kept as ``mean_``.""",
    ),
)
