"""
Denoising MNIST digits
======================

Train :class:`skae.DenoisingAutoencoder` (convolutional network) on clean
MNIST digits with Gaussian corruption of standard deviation 0.5 applied
afresh to every training batch, then denoise noisy test digits with
``reconstruct``. The figure shows noisy, denoised and clean rows.
"""

import matplotlib.pyplot as plt
import numpy as np
from _data import MAX_EPOCHS, mnist

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
X_denoised = dae.reconstruct(X_noisy)


def psnr(clean, estimate):
    return 10 * np.log10(1.0 / np.mean((clean - estimate) ** 2))


print(f"PSNR noisy {psnr(X_test, X_noisy):.2f} dB, denoised {psnr(X_test, X_denoised):.2f} dB")

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
