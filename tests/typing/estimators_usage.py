"""A user's script: pyright (Pylance) must accept it without an error.

Every estimator built with keyword arguments, including the values whose
type differs from the default's (an int for ``max_epochs="auto"``, a torch
optimizer class, a ``torch.device``, a list of layer widths...).
"""

import numpy as np
import torch
from sklearn.decomposition import PCA
from skorch.callbacks import EpochTimer

from skae import (
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from skae.outliers import AutoencoderOutlierDetector

X = np.random.default_rng(0).random((40, 16))

ae = AutoencoderTransformer(n_components=4, hidden_layer_sizes=(8,), max_epochs=2, random_state=0)
cae = ConvolutionalAutoencoder(4, channels=[4, 8], image_shape=(4, 4), device=torch.device("cpu"))
dae = DenoisingAutoencoder(n_components=8, noise="masking", hidden_layer_sizes=16, lr=1e-3)
sae = SparseAutoencoder(
    n_components=16, sparsity="l1", sparsity_weight=1e-4, callbacks=[EpochTimer()]
)
vae = VariationalAutoencoder(
    2, beta=0.5, optimizer=torch.optim.SGD, optimizer_params={"momentum": 0.9}
)

ae.fit(X)
width: int = ae.n_components
Z = ae.transform(X)
X_back = ae.inverse_transform(Z)
print(width, Z.shape, X_back.shape, cae.channels, dae.noise, sae.sparsity, vae.beta)

# The detector's contamination is "auto" or a float: both type-check.
detector = AutoencoderOutlierDetector(contamination=0.05)
auto_detector = AutoencoderOutlierDetector(PCA(2), contamination="auto", random_state=0)
print(detector.contamination, auto_detector.contamination)
