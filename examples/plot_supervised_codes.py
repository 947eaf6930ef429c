"""
Supervised codes: two numbers that tell the digits apart
========================================================

An autoencoder trained only to reconstruct keeps in its code what
reconstruction needs; whether a classifier finds the classes in it is
chance. With ``target_weight=1.0``, ``fit(X, y)`` also trains a linear head
on the code to predict ``y`` (the supervised autoencoder of Le, Patterson &
White, 2018), so the code keeps what predicts the class as well as what
reconstructs the image. Here both fit 2-D codes of scikit-learn's 8 x 8
digits, in the same Pipeline: a logistic regression on the codes.

**How much data.** All of scikit-learn's 1 797 digits: 1 347 to train, 450
to test, ``max_epochs="auto"`` as the documentation's build runs it
(``SKAE_EXAMPLE_MAX_EPOCHS`` changes it).
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
from skae.plotting import LatentSpaceDisplay

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixel intensities in [0, 1]
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

models = {
    "PCA": PCA(n_components=2),
    "unsupervised": AutoencoderTransformer(2, max_epochs=MAX_EPOCHS, random_state=0),
    "target_weight=1.0": AutoencoderTransformer(
        2, target_weight=1.0, max_epochs=MAX_EPOCHS, random_state=0
    ),
}
for name, model in models.items():
    # The Pipeline hands y to every step's fit: the unsupervised autoencoder
    # (target_weight=0.0, the default) and PCA ignore it.
    clf = make_pipeline(model, StandardScaler(), LogisticRegression(max_iter=1000))
    accuracy = clf.fit(X_train, y_train).score(X_test, y_test)
    mse = np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2)
    print(f"{name:>17}: test accuracy {accuracy:.3f}, test reconstruction MSE {mse:.4f}")
print(f"Data: {len(X_train)} training and {len(X_test)} test digits, 2 codes")

# %%
# The test digits' codes, coloured by digit. Unsupervised, the ten digits
# overlap where reconstruction does not need them apart; supervised, each
# digit has its own region. The code still reconstructs the images, better
# than PCA's though less well than the unsupervised one (the MSE above: the
# price of supervision).
fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
for ax, name in zip(axes, ["unsupervised", "target_weight=1.0"], strict=True):
    LatentSpaceDisplay.from_estimator(models[name], X_test, y_test, ax=ax, s=8)
    ax.set_title(f"AutoencoderTransformer, {name}")
fig.tight_layout()
plt.show()

# %%
# The head is a fitted attribute (``target_head_``), and ``predict`` gives
# its classes: a by-product, not a classifier to rival the Pipeline's. Rows
# labelled ``-1`` train the reconstruction only (semi-supervised): with a few
# labels, all rows still shape the code.
supervised = models["target_weight=1.0"]
print(f"head: {supervised.target_head_}")
print(f"predict on the test digits: accuracy {np.mean(supervised.predict(X_test) == y_test):.3f}")
