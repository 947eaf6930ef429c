"""
Denoising MNIST digits
======================

Train :class:`skae.DenoisingAutoencoder` (convolutional network) on clean
MNIST digits with Gaussian corruption of standard deviation 0.5 applied
afresh to every training batch, then denoise noisy test digits with
``reconstruct``. Two baselines denoise the same digits: PCA at the same
width, fitted on the same clean digits, and a 3 x 3 median filter (the
benchmarks page compares more, on all of MNIST). The figure shows noisy,
denoised and clean rows.

**How much data.** The documentation's build runs it small (``SMALL_RUNS``
in ``examples/_data.py``): the first 6 000 of MNIST's 60 000 training
images, the first 1 000 of its 10 000 test images, 12 epochs. Run as a
script it trains on 20 000 training images with ``max_epochs="auto"``
(``SKAE_EXAMPLE_N_TRAIN`` and ``SKAE_EXAMPLE_MAX_EPOCHS`` change both;
``SKAE_DATA_HOME`` names a folder holding MNIST's four IDX files, else they
are downloaded from OpenML). The line ``Data: ...`` it prints says what the
run had.
"""

import matplotlib.pyplot as plt
import numpy as np
from _data import MAX_EPOCHS, mnist
from scipy.ndimage import median_filter
from sklearn.decomposition import PCA

from skae import DenoisingAutoencoder

X_train, _, X_test, _ = mnist()
rng = np.random.default_rng(0)
X_noisy = np.clip(X_test + rng.normal(0, 0.5, X_test.shape), 0, 1)

dae = DenoisingAutoencoder(
    32,
    noise="gaussian",
    noise_level=0.5,
    architecture="conv",
    max_epochs=MAX_EPOCHS,
    random_state=0,
)
dae.fit(X_train)
print(
    f"Data: fitted on {len(X_train)} MNIST training images, {dae.n_iter_} epochs; "
    f"{len(X_test)} noisy test images"
)
X_denoised = dae.reconstruct(X_noisy)


def psnr(clean, estimate):
    return 10 * np.log10(1.0 / np.mean((clean - estimate) ** 2))


print(f"PSNR noisy {psnr(X_test, X_noisy):.2f} dB, denoised {psnr(X_test, X_denoised):.2f} dB")

# %%
# Two baselines on the same noisy digits: PCA with as many components as the
# autoencoder has codes, fitted on the same clean training digits (the noisy
# digit's reconstruction), and a 3 x 3 median filter on each image.

pca = PCA(32, random_state=0).fit(X_train)
X_pca = np.clip(pca.inverse_transform(pca.transform(X_noisy)), 0, 1)
X_median = median_filter(X_noisy.reshape(-1, 28, 28), size=(1, 3, 3)).reshape(X_noisy.shape)
print(
    f"PSNR PCA (32 components) {psnr(X_test, X_pca):.2f} dB, "
    f"median filter 3x3 {psnr(X_test, X_median):.2f} dB"
)

fig, axes = plt.subplots(3, 10, figsize=(10, 3.3))
for col in range(10):
    for row, (label, images) in enumerate(
        [("noisy", X_noisy), ("denoised", X_denoised), ("clean", X_test)]
    ):
        axes[row, col].imshow(images[col].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        axes[row, col].set_axis_off()
        if col == 0:
            axes[row, col].set_title(label, loc="left", fontsize=9)
fig.tight_layout()
plt.show()
