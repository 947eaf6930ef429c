"""
The activity of a sparse code
=============================

Fit :class:`skae.SparseAutoencoder` with 64 ReLU code units on MNIST, once
without penalty and once with an L1 activity penalty, and compare how many
code units each digit uses. The penalty trades a little reconstruction error
for a code where most units are silent for any one input.

**How much data.** The documentation's build runs it small (``SMALL_RUNS``
in ``examples/_data.py``): the first 2 000 of MNIST's 60 000 training
images, 333 test images, 50 epochs. Run as a script it trains on 20 000
training images with ``max_epochs="auto"`` (``SKAE_EXAMPLE_N_TRAIN`` and
``SKAE_EXAMPLE_MAX_EPOCHS`` change both; ``SKAE_DATA_HOME`` names a folder
holding MNIST's four IDX files, else they are downloaded from OpenML). The
line ``Data: ...`` it prints says what the run had.
"""

import matplotlib.pyplot as plt
import numpy as np
from _data import MAX_EPOCHS, mnist

from skae import SparseAutoencoder

X_train, _, X_test, _ = mnist()
print(
    f"Data: {len(X_train)} MNIST training images, {len(X_test)} test images; "
    f"max_epochs={MAX_EPOCHS}"
)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
for ax, weight in zip(axes, [0.0, 1e-3], strict=True):
    sae = SparseAutoencoder(
        n_components=64,
        sparsity="l1",
        sparsity_weight=weight,
        max_epochs=MAX_EPOCHS,
        random_state=0,
    ).fit(X_train)
    codes = sae.transform(X_test)
    active = (codes > 0.01 * codes.max()).sum(axis=1)
    mse = -sae.score(X_test)
    print(
        f"sparsity_weight={weight:g}: sparsity_ {sae.sparsity_:.2f}, "
        f"{active.mean():.1f} of 64 units active per digit, test MSE {mse:.4f}"
    )
    ax.hist(active, bins=np.arange(66) - 0.5)
    ax.set_title(f"L1 weight {weight:g}: test MSE {mse:.4f}")
    ax.set_xlabel("active code units per test digit")
axes[0].set_ylabel("test digits")
fig.tight_layout()
plt.show()
