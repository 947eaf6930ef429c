"""skae: autoencoders as scikit-learn transformers, built on PyTorch and skorch."""

from ._autoencoder import AutoencoderTransformer, ConvolutionalAutoencoder
from ._denoising import DenoisingAutoencoder
from ._io import load, save
from ._ordered import CodePrefix
from ._schedules import learning_rates
from ._sparse import SparseAutoencoder
from ._variational import VariationalAutoencoder
from ._version import __version__ as __version__
from .outliers import AutoencoderOutlierDetector

__all__ = [
    "AutoencoderOutlierDetector",
    "AutoencoderTransformer",
    "CodePrefix",
    "ConvolutionalAutoencoder",
    "DenoisingAutoencoder",
    "SparseAutoencoder",
    "VariationalAutoencoder",
    "learning_rates",
    "load",
    "save",
]
