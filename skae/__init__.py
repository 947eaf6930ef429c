"""skae: autoencoders as scikit-learn transformers, built on PyTorch and skorch."""

from ._dense import AutoencoderTransformer

__all__ = ["AutoencoderTransformer"]
__version__ = "0.1.0"
