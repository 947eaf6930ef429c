"""The dense (MLP) autoencoder."""

from __future__ import annotations

from sklearn.utils._param_validation import StrOptions

from ._base import BaseAutoencoder
from ._modules import ACTIVATIONS


class AutoencoderTransformer(BaseAutoencoder):
    """Dense (MLP) autoencoder for nonlinear dimensionality reduction.

    An encoder network maps each sample to a code of ``n_components``
    values (the bottleneck), a decoder network maps the code back to the
    input space, and both are trained together to minimise the
    reconstruction error (Hinton & Salakhutdinov, 2006). Used like
    :class:`~sklearn.decomposition.PCA`: :meth:`transform` returns the code,
    :meth:`inverse_transform` the reconstruction from a code; unlike PCA the
    maps are nonlinear.

    The network is a PyTorch module trained by a skorch ``NeuralNet``
    (kept as ``net_``), with the data held as one float32 tensor.

    Parameters
    ----------
    n_components : int, default=2
        Width of the bottleneck: the number of values in each code. Must be at
        most ``n_features``.
    hidden_layer_sizes : tuple of int, default=(256, 128)
        Widths of the encoder's hidden layers, from the input side. The decoder
        mirrors them (``n_components -> 128 -> 256 -> n_features`` by
        default), as :class:`~sklearn.neural_network.MLPRegressor` names its
        layers. ``()`` gives a linear autoencoder, which learns PCA's
        subspace.
    activation : {"relu", "tanh", "logistic", "elu", "gelu", "leaky_relu", \
            "identity"}, default="relu"
        Activation of the hidden layers. The code layer is linear.
    output_activation : {"auto", "sigmoid", "identity"}, default="auto"
        ``"sigmoid"``: outputs in [0, 1], trained with binary cross-entropy
        (needs ``X`` in [0, 1], e.g. pixel intensities). ``"identity"``:
        unbounded outputs trained with mean squared error; inside the
        estimator each feature is centred (``mean_``) and all are divided by
        one global scale (``scale_``), so that the network sees values of
        order 1 whatever the units while the loss stays the squared error in
        the units of ``X`` (what PCA minimises). As with PCA, features of
        very different scales count by their variance: put a
        :class:`~sklearn.preprocessing.StandardScaler` first to weigh them
        equally. ``"auto"``:
        ``"sigmoid"`` when the training data lies in [0, 1], else
        ``"identity"``. The choice made is in ``output_activation_``.
    max_epochs : int or "auto", default="auto"
        Maximum number of passes over the training data. ``"auto"`` sets a
        budget of about 10 000 mini-batch updates, as 10 to 200 epochs:
        ``ceil(10000 / ceil(n_train / batch_size))`` clipped to [10, 200].
        A large data set needs fewer passes than a small one; training can
        stop earlier on ``tol`` (see ``n_iter_no_change``).
    batch_size : int, default=128
        Number of samples per mini-batch.
    lr : float, default=1e-3
        Learning rate of the optimizer.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, \
            default="adam"
        The optimizer, by name or as a ``torch.optim.Optimizer`` subclass.
    device : str or torch.device, default="auto"
        Where the network trains and runs: ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ... ``"auto"`` picks ``"cuda"`` when a GPU is visible,
        else ``"cpu"``. Data moves to the device one mini-batch at a time.
    early_stopping : bool, default=False
        If True, hold out ``validation_fraction`` of the training data and
        stop when the validation loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; the weights of the best epoch are kept.
        If False, stop when the *training* loss has not improved by ``tol``
        for ``n_iter_no_change`` epochs (as MLPRegressor).
    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Number of epochs without an improvement of at least ``tol`` before
        training stops.
    tol : float, default=1e-4
        Smallest decrease of the monitored loss that counts as improvement.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, mini-batch order and the validation
        split. An int gives the same codes, bit for bit, on CPU. Torch's global
        random state is left as it was.
    verbose : int, default=0
        0 prints nothing. 1 prints one log line per epoch (skorch's
        ``PrintLog``), a tqdm progress bar over each epoch's batches
        (skorch's ``ProgressBar``) and the reason training stopped; then
        ``transform`` and the other inference methods show a progress bar
        on inputs of 10 000 rows or more.
    callbacks : list of skorch callbacks or (name, callback) tuples, \
            default=None
        Extra skorch callbacks for the training loop (for example
        ``skorch.callbacks.ProgressBar()`` or ``LRScheduler``).

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module with
        ``encode`` and ``decode``, ``net_.history`` the training history.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen during fit, when ``X`` has string column names.
    n_iter_ : int
        Number of epochs run.
    loss_curve_ : list of float
        Training loss after each epoch (the loss being minimised).
    validation_loss_curve_ : list of float or None
        Validation loss after each epoch when ``early_stopping=True``.
    output_activation_ : {"sigmoid", "identity"}
        The output activation used.
    reconstruction_loss_ : {"binary_crossentropy", "squared_error"}
        The reconstruction loss the network was trained with.
    mean_ : ndarray of shape (n_features,), dtype float64
        Per-feature mean subtracted before encoding (zeros when
        ``output_activation_ == "sigmoid"``).
    scale_ : float
        Global scale the centred data is divided by before encoding: the
        root of the mean feature variance (1.0 for ``"sigmoid"``).

    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    sklearn.neural_network.MLPRegressor : Multi-layer perceptron regressor.

    References
    ----------
    .. [1] G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality
       of data with neural networks", Science 313(5786), 504-507, 2006.

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
    >>> ae.output_activation_
    'sigmoid'
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(256, 128),
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
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.device = device
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks


__all__ = ["AutoencoderTransformer"]
