"""skae: autoencoders as scikit-learn transformers, built on PyTorch and skorch."""

from ._dense import AutoencoderTransformer
from ._family import (
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from ._persistence import load

__all__ = [
    "AutoencoderTransformer",
    "ConvolutionalAutoencoder",
    "DenoisingAutoencoder",
    "SparseAutoencoder",
    "VariationalAutoencoder",
    "load",
]
__version__ = "0.1.0"
