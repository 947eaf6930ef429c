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
from ._parameters import Attr, Param
from ._runtime import LR_SCHEDULES, OPTIMIZERS

# Why every estimator's n_components defaults to 2 (one sentence, shared).
N_COMPONENTS_DEFAULT_DOC = (  # one line: it goes into descriptions of any indentation
    "The default, 2, is every skae estimator's, as for scikit-learn's nonlinear "
    "embeddings (:class:`~sklearn.manifold.Isomap`, :class:`~sklearn.manifold.TSNE`) "
    "and :class:`~sklearn.decomposition.TruncatedSVD`: a code that can be plotted "
    "and that any data of two or more features admits; choose the width for your "
    "data (e.g. by a grid search)."
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
    description=f"""Width of the code. May exceed ``n_features`` (an
    overcomplete code): the corruption or the penalty, not the width, keeps
    the network from learning the identity. {N_COMPONENTS_DEFAULT_DOC}""",
)

TRAINING_PARAMS = (
    Param(
        "output_activation",
        "auto",
        (StrOptions({"auto", "sigmoid", "identity"}),),
        '{"auto", "sigmoid", "identity"}',
        """``"sigmoid"``: outputs in [0, 1], trained with binary cross-entropy
        (needs ``X`` in [0, 1], e.g. pixel intensities). ``"identity"``:
        unbounded outputs trained with the squared error; inside the
        estimator each feature is centred (``mean_``) and all are divided by
        one global scale (``scale_``), so that the network sees values of
        order 1 whatever the units while the loss stays the squared error in
        the units of ``X`` (what PCA minimises). As with PCA, features of
        very different scales count by their variance: put a
        :class:`~sklearn.preprocessing.StandardScaler` first to weigh them
        equally. ``"auto"``: ``"sigmoid"`` when the training data lies in
        [0, 1], else ``"identity"``. The choice made is in
        ``output_activation_``.""",
    ),
    Param(
        "max_epochs",
        "auto",
        (Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})),
        'int or "auto"',
        """Maximum number of passes over the training data. ``"auto"`` sets a
        budget of mini-batch updates -- about 10 000 for a dense network,
        5 000 for a convolutional one (the built-in network's, also with your
        own modules) -- as epochs: ``ceil(steps / ceil(n_train /
        batch_size))`` clipped to [10, 200] for a dense network, [10, 400]
        for a convolutional one (which over-fits a small data set less). A
        large data set needs fewer passes than a small one; training can
        stop earlier on ``tol`` (see ``n_iter_no_change``).""",
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
        """Learning rate of the optimizer: the peak of the ``lr_schedule`` in
        ``fit``, the constant rate of :meth:`partial_fit`. ``"auto"``:
        ``1e-3`` for up to 5 000 training rows, then in proportion to the
        rows (``1e-3 * n_train / 5 000``) up to ``3e-3`` from 15 000 rows --
        small data sets over-fit at a higher rate, large ones (seen only a
        few dozen times in the ``max_epochs="auto"`` budget) train better
        codes with it; ``1e-3`` in :meth:`partial_fit`. The rate used is in
        ``lr_``.""",
    ),
    Param(
        "lr_schedule",
        "cooldown",
        (StrOptions(set(LR_SCHEDULES)),),
        '{"cooldown", "onecycle", "cosine", "constant"}',
        """How the learning rate changes over a ``fit``: skorch's
        ``LRScheduler`` callback, stepped after every mini-batch over the
        ``max_epochs`` the fit plans. ``"cooldown"``: a linear warm-up
        from ``lr / 25`` over the first 5 % of the steps, ``lr`` until 70 %,
        then a cosine anneal to 0 (the warmup-stable-decay
        schedule, "constant rate with cooldown", of Hägele et al., NeurIPS
        2024). ``"onecycle"``: Smith &
        Topin's one-cycle policy ("Super-convergence", 2019), from ``lr /
        25`` up to ``lr`` over the first 30 % of the steps, then a cosine
        anneal to ``lr / 250 000``; it favours a higher ``lr`` (e.g. 3e-3).
        ``"cosine"``: cosine annealing from ``lr`` to 0 (Loshchilov &
        Hutter, "SGDR", 2017). ``"constant"``: ``lr`` throughout (skae
        0.1's training). Under ``"cooldown"`` a fit whose loss plateaus
        (``tol``, ``n_iter_no_change``) before 70 % of its steps anneals
        from there before it stops. An annealed fit ends at a low rate, where the last
        bit of quality is gained: to train longer, raise ``max_epochs``
        rather than continuing with ``warm_start`` (which runs a new
        schedule). :meth:`partial_fit` knows no horizon and trains at the
        constant ``lr`` (1e-3 for ``"auto"``).""",
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
        ``{"weight_decay": 1e-4}``, ``{"momentum": 0.9}`` (SGD) or
        ``{"betas": (0.9, 0.99)}``; ``lr`` is a parameter of its own. A key
        the optimizer does not take is a ``ValueError`` at ``fit``.
        ``"adam"``, ``"adamw"`` and ``"sgd"`` run torch's fused kernel on a
        CPU or CUDA device unless this sets ``fused`` or ``foreach``.""",
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
        ``n_iter_no_change`` epochs; the weights of the best epoch are kept
        (``best_epoch_``). The split indexes the training data: no copy.
        For data read by chunks (a memmap, an h5py or zarr array) it holds
        out whole blocks of consecutive rows, not single rows (see
        ``fit``). If False, stop when the *training* loss has not improved by ``tol``
        for ``n_iter_no_change`` epochs (as MLPRegressor).""",
    ),
    Param(
        "validation_fraction",
        0.1,
        (Interval(numbers.Real, 0, 1, closed="neither"),),
        "float",
        "Fraction of the training data held out when ``early_stopping=True``.",
    ),
    Param(
        "n_iter_no_change",
        10,
        (Interval(numbers.Integral, 1, None, closed="left"),),
        "int",
        """Number of epochs without an improvement of at least ``tol`` before
        training stops. Under ``lr_schedule="cooldown"``, a plateau before
        the anneal does not stop training at once: the anneal starts there,
        over 3/7 of the epochs trained so far (the schedule's own share),
        and training stops when it ends.""",
    ),
    Param(
        "tol",
        1e-4,
        (Interval(numbers.Real, 0, None, closed="left"),),
        "float",
        """Smallest decrease of the monitored loss, per feature, that counts as
        an improvement. The loss is in the network's units, so ``tol`` means
        the same for data of any scale: the mean squared error of ``(X -
        mean_) / scale_`` (relative to the data's variance) for
        ``output_activation_="identity"``, the mean binary cross-entropy for
        ``"sigmoid"``. A loss summed over features (the variational
        autoencoder's) is compared with ``tol * n_features``.""",
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
        """0 prints nothing. 1 prints one log line per epoch (skorch's
        ``PrintLog``), a tqdm progress bar over each epoch's batches
        (skorch's ``ProgressBar``) and the reason training stopped; then
        ``transform`` and the other inference methods show a progress bar on
        inputs of 10 000 rows or more.""",
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
        network -- its weights and the optimizer's state (fresh for a model
        read by :func:`skae.load`, whose file holds no optimizer state) -- for up to
        ``max_epochs`` more epochs instead of starting over, as
        :class:`~sklearn.neural_network.MLPRegressor` does: ``n_iter_`` adds
        up and ``loss_curve_`` grows. ``mean_``, ``scale_`` and
        ``output_activation_`` (and a denoising autoencoder's clipping range)
        stay those of the first fit, so ``X`` must have the same features
        and, for ``output_activation_="sigmoid"``, lie in [0, 1]; a
        ``ValueError`` otherwise. Only ``max_epochs``, ``batch_size``,
        ``lr``, ``lr_schedule``, ``early_stopping``, ``validation_fraction``,
        ``n_iter_no_change``, ``tol``, ``random_state``, ``verbose`` and
        ``callbacks`` may change between the fits; a change of any other
        parameter (``n_components``, the network's, ...) is a
        ``ValueError``: set ``warm_start=False`` to train a new model.
        Each continued fit stops on its own ``tol`` / ``n_iter_no_change``
        criterion, counted from its first epoch. On an estimator not yet
        fitted, ``fit`` is an ordinary fit. See also :meth:`partial_fit`,
        which always continues.""",
    ),
)

# Whether a new fit starts from PCA's solution and keeps it unless held-out
# rows prefer the network (skae._pca_start); the plain, convolutional and
# denoising autoencoders take it.
PCA_START = Param(
    "pca_start",
    True,
    ("boolean",),
    "bool",
    """Start from PCA's solution and keep it unless held-out rows say the
    network does better. With output_activation_="identity", the network
    holds PCA's principal axes (fitted on the training rows at ``fit``, on
    the first batch at :meth:`partial_fit`) as a fixed linear path beside
    the encoder and the decoder, whose last layers start at zero: before
    training it reconstructs exactly as :class:`~sklearn.decomposition.PCA`
    does, and training learns what PCA misses. ``fit`` holds out rows (the
    ``early_stopping`` split, else ``validation_fraction`` of the rows, at
    most 2 000, or of the blocks for data read by chunks), keeps the epoch
    with the lowest loss on them, and returns PCA's solution instead where
    PCA's squared error on them is not higher (``pca_start_ == "pca"``). For
    data in [0, 1] (``output_activation_="sigmoid"``) the network trains as
    without the start and, where PCA wins on the held-out rows, the
    estimator becomes PCA (``output_activation_`` turns ``"identity"``);
    a denoising autoencoder keeps its sigmoid network. Not with your own
    ``encoder`` / ``decoder``. False: the network alone, trained on all the
    rows (as before 0.3; model files without this parameter load so).""",
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
        entry per epoch of ``n_iter_``.""",
    ),
    Attr(
        "validation_loss_curve_",
        "list of float or None",
        """Validation loss after each epoch when the last ``fit`` had
        ``early_stopping=True`` (NaN for earlier epochs trained without a
        validation split, after ``warm_start``); None otherwise and after
        :meth:`partial_fit`.""",
    ),
    Attr(
        "best_epoch_",
        "int or None",
        """With ``early_stopping=True``, the epoch (from 1, counted over all
        of ``n_iter_``) whose weights the estimator holds: the last one of
        the last ``fit`` that improved the validation loss by at least
        ``tol``. None otherwise and after :meth:`partial_fit`.""",
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
        """The validation loss of ``best_epoch_`` (``early_stopping=True``),
        else None.""",
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
