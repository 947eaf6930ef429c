"""A user's typo: pyright (Pylance) must flag the unknown keyword."""

from skae import AutoencoderTransformer

ae = AutoencoderTransformer(n_componets=8, max_epochs=5)
