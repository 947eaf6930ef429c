"""scikit-learn's estimator checks on every public skae estimator.

To cover a new estimator, add an instance to ``ESTIMATORS``. A check that is
known to fail must be listed in ``EXPECTED_FAILED_CHECKS`` under the
estimator's class name with a written reason; it then runs as a strict xfail
(so that it is noticed when it starts passing).
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import (
    AutoencoderTransformer,
    CodePrefix,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from skae.compression import CodeQuantizer

ESTIMATORS = [
    # Default parameters: what a user gets from ``AutoencoderTransformer()``.
    AutoencoderTransformer(),
    # A small, short-trained network: a different code path through
    # ``max_epochs`` (int instead of "auto") and ``hidden_layer_sizes``.
    AutoencoderTransformer(max_epochs=3, hidden_layer_sizes=(16,)),
    # The family, with default parameters: the checks' plain tabular arrays
    # (2 to 10 features) must work with defaults, so the convolutional ones
    # run as 1-D signals or small square images.
    ConvolutionalAutoencoder(),
    DenoisingAutoencoder(),
    SparseAutoencoder(),
    VariationalAutoencoder(),
    # The other network, corruption and penalty choices.
    ConvolutionalAutoencoder(upsampling="transposed", max_epochs=3),
    DenoisingAutoencoder(architecture="conv", noise="salt_and_pepper", max_epochs=3),
    SparseAutoencoder(sparsity="kl", max_epochs=3),
    VariationalAutoencoder(architecture="conv", max_epochs=3),
    # Ordered codes (nested dropout) and the step that keeps a prefix of them.
    AutoencoderTransformer(ordered=True, max_epochs=3),
    CodePrefix(),
    CodePrefix(n_components=1),
    # Codes as bytes.
    CodeQuantizer(),
    CodeQuantizer(n_bits=12, entropy_coder="zlib"),
]

# {estimator class name: {check name: reason it is expected to fail}}.
# Currently every check passes for every estimator.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=_expected_failed_checks, xfail_strict=True
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
