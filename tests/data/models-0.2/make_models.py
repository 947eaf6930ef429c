"""Write the model files of skae 0.2 (format 3) that ``tests/test_model_file_compat.py`` loads.

Run once, from the repository root, with the skae of commit 9e4c035 (the
last before the constructors were written by hand and training moved out of
the base class)::

    python tests/data/models-0.2/make_models.py

It fits small networks on the first 200 digits (scaled to [0, 1]) and
writes, for each, ``<name>.safetensors`` and ``<name>.npz`` with the
outputs of the fitted estimator: ``transform``, ``inverse_transform`` of
the first five codes, ``score_samples`` and, for the VAE, ``sample(3,
random_state=1)``; and one Pipeline (``pipeline_scaled``: StandardScaler
then an ordered dense autoencoder, saved with :func:`skae.save`). A later
skae must load each file and give the same arrays.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skae
from skae import (
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)

HERE = Path(__file__).resolve().parent
FAST = {"max_epochs": 2, "random_state": 0, "device": "cpu"}

MODELS = {
    "dense": AutoencoderTransformer(4, hidden_layer_sizes=(16,), **FAST),
    "dense_adamw_frame": AutoencoderTransformer(
        3, hidden_layer_sizes=(16, 8), optimizer="adamw", **FAST
    ),
    "dense_ordered": AutoencoderTransformer(4, ordered=True, hidden_layer_sizes=(16,), **FAST),
    "conv": ConvolutionalAutoencoder(4, channels=(4, 8), **FAST),
    "conv_transposed": ConvolutionalAutoencoder(
        4, image_shape=(8, 8), channels=(4,), upsampling="transposed", **FAST
    ),
    "denoising": DenoisingAutoencoder(4, noise="masking", hidden_layer_sizes=(16,), **FAST),
    "denoising_conv": DenoisingAutoencoder(4, architecture="conv", channels=(4,), **FAST),
    "sparse_kl": SparseAutoencoder(8, hidden_layer_sizes=(16,), **FAST),
    "sparse_l1": SparseAutoencoder(8, sparsity="l1", hidden_layer_sizes=(16,), **FAST),
    "vae": VariationalAutoencoder(2, hidden_layer_sizes=(16,), early_stopping=True, **FAST),
    "vae_conv": VariationalAutoencoder(2, architecture="conv", channels=(4,), **FAST),
}


def main():
    torch.set_num_threads(1)
    X = load_digits().data[:200] / 16.0
    frame = pd.DataFrame(X, columns=[f"pixel_{i}" for i in range(X.shape[1])])
    for name, est in MODELS.items():
        data = frame if name.endswith("_frame") else X
        est.fit(data)
        est.save(HERE / f"{name}.safetensors")
        Z = est.transform(data)
        outputs = {
            "transform": Z,
            "inverse_transform": est.inverse_transform(Z[:5]),
            "score_samples": est.score_samples(data),
        }
        if isinstance(est, VariationalAutoencoder):
            outputs["sample"] = est.sample(3, random_state=1)
        np.savez(HERE / f"{name}.npz", **outputs)
        print(name, skae.__version__, Z.shape)
    pipe = make_pipeline(
        StandardScaler(), AutoencoderTransformer(4, ordered=True, hidden_layer_sizes=(16,), **FAST)
    ).fit(X)
    skae.save(pipe, HERE / "pipeline_scaled.skae")
    Z = pipe.transform(X)
    np.savez(
        HERE / "pipeline_scaled.npz",
        transform=Z,
        inverse_transform=pipe.inverse_transform(Z[:5]),
    )
    print("pipeline_scaled", Z.shape)


if __name__ == "__main__":
    main()
