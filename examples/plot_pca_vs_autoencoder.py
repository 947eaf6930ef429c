"""
PCA against an autoencoder on digits
====================================

Fit :class:`~sklearn.decomposition.PCA` and
:class:`skae.AutoencoderTransformer` with the same number of components on
scikit-learn's bundled 8 x 8 digits, compare their test reconstruction
errors, and use each code as features for a logistic regression. The
figures come from :mod:`skae.plotting`.

**How much data.** All of scikit-learn's 1 797 digits: 1 347 to train, 450
to test. The documentation's build runs it for 60 epochs (``SMALL_RUNS`` in
``examples/_data.py``); run as a script it trains for ``max_epochs="auto"``
epochs (``SKAE_EXAMPLE_MAX_EPOCHS`` changes it). The line ``Data: ...`` it
prints says what the run had.
"""

import matplotlib.pyplot as plt
import numpy as np
from _data import MAX_EPOCHS
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer
from skae.plotting import LatentSpaceDisplay, ReconstructionDisplay

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixel intensities in [0, 1]
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

models = {
    "PCA": PCA(n_components=8, random_state=0),
    "autoencoder": AutoencoderTransformer(n_components=8, max_epochs=MAX_EPOCHS, random_state=0),
}
reconstructions = {}
for name, model in models.items():
    model.fit(X_train)
    reconstructions[name] = model.inverse_transform(model.transform(X_test))
    mse = np.mean((X_test - reconstructions[name]) ** 2)
    clf = make_pipeline(model, StandardScaler(), LogisticRegression(max_iter=1000))
    accuracy = clf.fit(X_train, y_train).score(X_test, y_test)
    print(f"{name:>12}: test reconstruction MSE {mse:.4f}, accuracy on codes {accuracy:.3f}")
print(
    f"Data: {len(X_train)} training and {len(X_test)} test digits; "
    f"{models['autoencoder'].n_iter_} epochs"
)

# %%
# Reconstructions of the first test digits, and each 8-D code projected on
# its first two principal components, coloured by digit: skae's Display
# objects draw each in one call.
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), width_ratios=[2, 1, 1])
ReconstructionDisplay.from_estimator(models, X_test, n_images=8, ax=axes[0])
for ax, (name, model) in zip(axes[1:], models.items(), strict=True):
    LatentSpaceDisplay.from_estimator(model, X_test, y_test, ax=ax, s=6)
    ax.set_title(name)
fig.tight_layout()
plt.show()
