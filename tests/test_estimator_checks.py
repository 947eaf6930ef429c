"""scikit-learn's estimator checks on every public skae estimator.

The checks test the scikit-learn contract (cloning, parameters, fitted
state, input validation, feature names, pickling, ...), not how well a
network learns: each estimator runs as a small instance (3 epochs, one
small hidden layer), as scikit-learn runs its own MLP at ``max_iter=100``.
The convolutional networks keep their default stages, so that the checks'
plain tabular arrays (2 to 10 features) go through the default
``image_shape=None`` path (1-D signals or small square images). Fits cut
short by ``max_epochs`` warn (``ConvergenceWarning``); the checks tolerate
warnings except the few they look for by message.

The dense and convolutional autoencoders start as PCA (``pca_start=True``,
their default) and keep the epoch of lowest held-out loss, epoch 0
counted: at these settings they end as PCA's solution on the checks' iris
and blobs (``best_epoch_ == 0``). So that the checks also see a trained network, they run
once more on each with the start switched off
(``test_sklearn_compatible_network_without_pca_start``, whose name says so).

To cover a new estimator, add an instance to ``ESTIMATORS``
(``test_every_public_estimator_is_checked`` fails until it is there). A
check that is known to fail must be listed in ``EXPECTED_FAILED_CHECKS``
under the estimator's class name with a written reason; it then runs as a
strict xfail (so that it is noticed when it starts passing).
"""

from __future__ import annotations

from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.utils.estimator_checks import parametrize_with_checks

import skae
import skae.compression
import skae.datasets
import skae.metrics
import skae.onnx
import skae.outliers
import skae.plotting
from skae import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    CodePrefix,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from skae.compression import CodeQuantizer

SMALL = {"max_epochs": 3, "random_state": 0}
DENSE = {**SMALL, "hidden_layer_sizes": (16,)}

ESTIMATORS = [
    # The five networks.
    AutoencoderTransformer(**DENSE),
    ConvolutionalAutoencoder(**SMALL),
    DenoisingAutoencoder(**DENSE),
    SparseAutoencoder(**DENSE),
    VariationalAutoencoder(**DENSE),
    # The other network, corruption and penalty choices.
    ConvolutionalAutoencoder(upsampling="transposed", **SMALL),
    DenoisingAutoencoder(architecture="conv", noise="salt_and_pepper", **SMALL),
    SparseAutoencoder(sparsity="l1", **DENSE),
    VariationalAutoencoder(architecture="conv", **SMALL),
    # Ordered codes (nested dropout) and the step that keeps a prefix of them.
    AutoencoderTransformer(ordered=True, **DENSE),
    CodePrefix(),
    CodePrefix(n_components=1),
    # Codes as bytes.
    CodeQuantizer(),
    CodeQuantizer(n_bits=12, entropy_coder="zlib"),
    # Outlier detection: over a skae network (its ELBO as the score too) and PCA.
    # One code for the checks' 2-feature blobs: two reconstruct them exactly.
    AutoencoderOutlierDetector(AutoencoderTransformer(1, **DENSE), contamination=0.1),
    AutoencoderOutlierDetector(VariationalAutoencoder(1, **DENSE), anomaly_score="estimator"),
    AutoencoderOutlierDetector(PCA(1), contamination=0.1),
]

# {estimator class name: {check name: reason it is expected to fail}}.
# The outlier detector sets offset_ from held-out rows (issue 38), so that
# contamination holds on new rows; two checks hold scikit-learn's
# training-set reading of contamination, which LocalOutlierFactor escapes
# through its novelty parameter.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "AutoencoderOutlierDetector": {
        "check_outliers_train": (
            "fit(X).predict(X) flags fewer than contamination of the training rows: "
            "offset_ is a percentile of held-out scores, and estimator_ fitted X"
        ),
        "check_outliers_fit_predict": (
            "fit_predict labels the training rows by their held-out scores, "
            "fit(X).predict(X) by their in-sample scores: they differ near offset_"
        ),
    },
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=_expected_failed_checks, xfail_strict=True
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# The networks of the two estimators with a PCA start, trained without it:
# the model the checks see is the trained network, never PCA's solution.
NETWORKS_WITHOUT_PCA_START = [
    AutoencoderTransformer(pca_start=False, **DENSE),
    ConvolutionalAutoencoder(pca_start=False, **SMALL),
]


@parametrize_with_checks(
    NETWORKS_WITHOUT_PCA_START, expected_failed_checks=_expected_failed_checks, xfail_strict=True
)
def test_sklearn_compatible_network_without_pca_start(estimator, check):
    check(estimator)


def test_every_public_estimator_is_checked():
    modules = (
        skae,
        skae.compression,
        skae.datasets,
        skae.metrics,
        skae.onnx,
        skae.outliers,
        skae.plotting,
    )
    public = {
        obj
        for module in modules
        for name in module.__all__
        if isinstance(obj := getattr(module, name), type) and issubclass(obj, BaseEstimator)
    }
    assert public == {type(estimator) for estimator in ESTIMATORS}
