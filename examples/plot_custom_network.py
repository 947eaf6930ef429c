"""
A custom convolutional encoder on digits
========================================

Every skae estimator takes ``encoder=`` and ``decoder=``: your own
``torch.nn.Module`` in place of either half of the built-in network. Here a
small convolutional encoder, a class of a few lines, replaces the dense
encoder of :class:`skae.AutoencoderTransformer` on scikit-learn's bundled
8 x 8 digits, while the decoder stays the built-in dense one. Its test
reconstruction error is compared with :class:`~sklearn.decomposition.PCA`'s
and with the all-built-in autoencoder's at the same ``n_components``, and
the fitted model goes through a model file and back. See
:ref:`custom-networks` for the contract.

**How much data.** All of scikit-learn's 1 797 digits: 1 347 to train, 450
to test. The documentation's build runs it for 80 epochs (``SMALL_RUNS`` in
``examples/_data.py``); run as a script it trains for ``max_epochs="auto"``
epochs (``SKAE_EXAMPLE_MAX_EPOCHS`` changes it). The line ``Data: ...`` it
prints says what the run had.
"""

import math
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from _data import MAX_EPOCHS
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from torch import nn

import skae
from skae import AutoencoderTransformer
from skae.plotting import ReconstructionDisplay

# %%
# The encoder
# -----------
#
# skae builds the class at ``fit`` as ``SmallConvEncoder(n_features,
# n_outputs, **encoder_params)``. It receives flat rows of shape ``(batch,
# n_features)``, float32 (here the pixel intensities in [0, 1], as given),
# and returns ``(batch, n_outputs)``: the code. The images are rebuilt
# inside ``forward``.


class SmallConvEncoder(nn.Module):
    """Two 3 x 3 convolution stages, each halving the image, then a linear code layer."""

    def __init__(self, n_features, n_outputs, channels=16):
        super().__init__()
        self.side = math.isqrt(n_features)  # 8 for the 64 pixels of a digit
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 8 x 8 -> 4 x 4
            nn.Conv2d(channels, 2 * channels, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 4 x 4 -> 2 x 2
        )
        self.code = nn.Linear(2 * channels * (self.side // 4) ** 2, n_outputs)

    def forward(self, x):
        images = x.reshape(-1, 1, self.side, self.side)
        return self.code(self.features(images).flatten(start_dim=1))


# %%
# Three models with an 8-value code
# ---------------------------------
#
# The same estimator, once with its built-in dense encoder and once with the
# convolutional one; both use the built-in dense decoder, whose logits skae
# passes through a sigmoid for this [0, 1] data.

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixel intensities in [0, 1]
X_train, X_test = train_test_split(X, stratify=y, random_state=0)

n_components = 8
models = {
    "PCA": PCA(n_components=n_components, random_state=0),
    "built-in dense": AutoencoderTransformer(
        n_components=n_components, max_epochs=MAX_EPOCHS, random_state=0
    ),
    "custom conv encoder": AutoencoderTransformer(
        n_components=n_components,
        encoder=SmallConvEncoder,
        encoder_params={"channels": 16},
        max_epochs=MAX_EPOCHS,
        random_state=0,
    ),
}
for name, model in models.items():
    model.fit(X_train)
    mse = np.mean((X_test - model.inverse_transform(model.transform(X_test))) ** 2)
    print(f"{name}: test reconstruction MSE {mse:.4f}")
print(
    f"Data: {len(X_train)} training and {len(X_test)} test digits; "
    f"{models['built-in dense'].n_iter_} epochs"
)

# %%
# A model file and back
# ---------------------
#
# ``save`` stores the encoder's weights and its class name, never its code;
# :func:`skae.load` rebuilds it only from the classes you name in
# ``modules``.

conv_ae = models["custom conv encoder"]
with tempfile.TemporaryDirectory() as folder:
    path = conv_ae.save(Path(folder) / "digits-conv-encoder.safetensors")
    loaded = skae.load(path, modules={"SmallConvEncoder": SmallConvEncoder})
same = np.array_equal(loaded.transform(X_test), conv_ae.transform(X_test))
print(f"loaded from the model file: same codes {same}")

# %%
# Reconstructions of the first test digits
# ----------------------------------------

fig, ax = plt.subplots(figsize=(7, 3.6))
ReconstructionDisplay.from_estimator(models, X_test, n_images=8, ax=ax)
fig.tight_layout()
plt.show()
