"""
PCA against an autoencoder on digits
====================================

Fit :class:`~sklearn.decomposition.PCA` and
:class:`skae.AutoencoderTransformer` with the same number of components on
scikit-learn's bundled 8 x 8 digits, compare their test reconstruction
errors, and use each code as features for a logistic regression.
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

fig, axes = plt.subplots(3, 8, figsize=(8, 3.3))
for col in range(8):
    for row, (label, images) in enumerate([("original", X_test), *reconstructions.items()]):
        axes[row, col].imshow(images[col].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        axes[row, col].set_axis_off()
        if col == 0:
            axes[row, col].set_title(label, loc="left", fontsize=9)
fig.tight_layout()
plt.show()
