"""Denoising MNIST: PSNR of skae's denoisers against classical baselines.

Gaussian noise of standard deviation ``--sigma`` (default 0.5), clipped to
[0, 1], is added to the MNIST test images (fixed seed). Each method sees the
noisy test images and returns denoised ones; the table gives the peak
signal-to-noise ratio against the clean images,
``PSNR = 10 log10(1 / MSE)`` in dB (pixels in [0, 1], MSE over all test
pixels), and fit seconds. Baselines, all from the same run:

* the noisy input itself;
* PCA (``n_components=32``) fitted on the clean training images:
  reconstruction of the noisy image;
* KernelPCA denoising as in scikit-learn's example "Image denoising using
  kernel PCA" (RBF kernel, ``n_components=400``, ``gamma=1e-3``,
  ``alpha=5e-3``, ``fit_inverse_transform=True``), fitted on
  ``--kpca-train`` clean training images (its cost grows with the cube of
  that number);
* a 3 x 3 median filter (``scipy.ndimage.median_filter``);
* skae's ``DenoisingAutoencoder`` with the dense and the convolutional
  network, trained on the clean training images with Gaussian corruption
  ``noise_level=sigma``, ``n_components=32``, otherwise default parameters.

Run from the repository root::

    python benchmarks/bench_denoising.py --data-home ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy.ndimage import median_filter
from sklearn.decomposition import PCA, KernelPCA

from skae import DenoisingAutoencoder
from skae.datasets import load_mnist

ROOT = Path(__file__).resolve().parents[1]


def psnr(clean, estimate):
    """PSNR in dB of ``estimate`` against ``clean`` (both in [0, 1])."""
    mse = np.mean((np.asarray(clean, np.float64) - np.clip(estimate, 0, 1)) ** 2)
    return 10 * np.log10(1.0 / mse)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--sigma", type=float, default=0.5)
    parser.add_argument("--n-train", type=int, default=None, help="training images (all)")
    parser.add_argument("--n-test", type=int, default=None, help="test images (all)")
    parser.add_argument("--kpca-train", type=int, default=1000)
    parser.add_argument(
        "--methods", default="pca,kpca,median,dense,conv", help="comma-separated subset"
    )
    parser.add_argument("--max-epochs", default="auto", help="denoisers' max_epochs")
    args = parser.parse_args(argv)
    methods = args.methods.split(",")
    max_epochs = args.max_epochs if args.max_epochs == "auto" else int(args.max_epochs)

    X_train, _ = load_mnist(args.data_home, subset="train", return_X_y=True)
    X_test, _ = load_mnist(args.data_home, subset="test", return_X_y=True)
    X_train, X_test = X_train[: args.n_train], X_test[: args.n_test]
    rng = np.random.default_rng(0)
    noisy = np.clip(X_test + rng.normal(0, args.sigma, X_test.shape), 0, 1).astype(np.float32)
    print(
        f"MNIST: {len(X_train)} clean training images, {len(X_test)} test images with "
        f"Gaussian noise sigma={args.sigma} clipped to [0, 1]"
    )

    rows = [("noisy input", psnr(X_test, noisy), 0.0)]

    def run(name, fit, denoise):
        start = time.perf_counter()
        fit()
        seconds = time.perf_counter() - start
        rows.append((name, psnr(X_test, denoise(noisy)), seconds))
        print(f"  done: {name} ({seconds:.1f} s)", flush=True)

    if "pca" in methods:
        pca = PCA(n_components=32, random_state=0)
        run("PCA (32)", lambda: pca.fit(X_train), lambda X: pca.inverse_transform(pca.transform(X)))
    if "kpca" in methods:
        kpca = KernelPCA(
            n_components=400,
            kernel="rbf",
            gamma=1e-3,
            alpha=5e-3,
            fit_inverse_transform=True,
            random_state=0,
        )
        run(
            f"KernelPCA ({args.kpca_train} train)",
            lambda: kpca.fit(X_train[: args.kpca_train]),
            lambda X: kpca.inverse_transform(kpca.transform(X)),
        )
    if "median" in methods:
        run(
            "median filter 3x3",
            lambda: None,
            lambda X: median_filter(X.reshape(-1, 28, 28), size=(1, 3, 3)).reshape(len(X), -1),
        )
    for arch in ("dense", "conv"):
        if arch in methods:
            dae = DenoisingAutoencoder(
                32,  # the default before skae 0.3 unified it at 2
                noise="gaussian",
                noise_level=args.sigma,
                architecture=arch,
                max_epochs=max_epochs,
                random_state=0,
            )
            run(f"DenoisingAutoencoder ({arch})", lambda dae=dae: dae.fit(X_train), dae.reconstruct)

    baseline = max(
        (p for name, p, _ in rows if name != "noisy input" and "Denoising" not in name),
        default=rows[0][1],
    )
    print(f"\n{'method':<34}{'PSNR (dB)':>10}{'vs best baseline':>18}{'fit s':>9}")
    for name, value, seconds in rows:
        print(f"{name:<34}{value:>10.2f}{value - baseline:>+18.2f}{seconds:>9.1f}")


if __name__ == "__main__":
    main()
