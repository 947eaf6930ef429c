"""
Sampling digits from a variational autoencoder
==============================================

Fit :class:`skae.VariationalAutoencoder` with a two-dimensional latent
space on MNIST, draw new digits with ``sample`` (codes from the prior
N(0, I), decoded), and decode a regular grid of latent points to see how the
smooth latent space morphs one digit into another.

**How much data.** The documentation's build runs it small (``SMALL_RUNS``
in ``examples/_data.py``): the first 3 000 of MNIST's 60 000 training
images, 500 test images, 30 epochs. Run as a script it trains on 20 000
training images with ``max_epochs="auto"`` (``SKAE_EXAMPLE_N_TRAIN`` and
``SKAE_EXAMPLE_MAX_EPOCHS`` change both; ``SKAE_DATA_HOME`` names a folder
holding MNIST's four IDX files, else they are downloaded from OpenML). The
line ``Data: ...`` it prints says what the run had.
"""

import matplotlib.pyplot as plt
import numpy as np
from _data import MAX_EPOCHS, mnist
from scipy.stats import norm

from skae import VariationalAutoencoder
from skae.plotting import SampleGridDisplay

X_train, _, X_test, _ = mnist()
vae = VariationalAutoencoder(n_components=2, max_epochs=MAX_EPOCHS, random_state=0).fit(X_train)
print(
    f"Data: fitted on {len(X_train)} MNIST training images, {vae.n_iter_} epochs; "
    f"{len(X_test)} test images"
)
print(f"mean test ELBO: {vae.score(X_test):.1f} nats per image")

# %%
# New digits: codes drawn from the prior, decoded (``vae.sample``), drawn by
# :class:`skae.plotting.SampleGridDisplay`; and a 10 x 10 grid of latent
# points at evenly spaced quantiles of the prior, decoded with
# ``inverse_transform``: the smooth latent space morphs one digit into another.
q = norm.ppf(np.linspace(0.05, 0.95, 10))
grid = np.array([[a, b] for b in q[::-1] for a in q])
decoded = vae.inverse_transform(grid)  # (100, 784), pixel intensities in [0, 1]

fig, (ax_s, ax_g) = plt.subplots(1, 2, figsize=(10, 5), layout="constrained")
samples = SampleGridDisplay.from_estimator(vae, n_samples=16, random_state=0, ax=ax_s).samples
ax_s.set_title("16 samples from the prior")
SampleGridDisplay(samples=decoded, image_shape=(28, 28, 1), n_cols=10).plot(ax=ax_g)
ax_g.set_title("decoded grid of the 2-D latent space")
print(f"16 samples from the prior: pixel intensities in [{samples.min():.3f}, {samples.max():.3f}]")
# How much the 100 decoded images differ, pixel by pixel (0: one image everywhere).
print(
    f"decoded grid: pixel intensities in [{decoded.min():.3f}, {decoded.max():.3f}], "
    f"mean standard deviation across the grid {decoded.std(axis=0).mean():.3f}"
)
plt.show()
