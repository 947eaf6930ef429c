"""
Anomaly scores from the reconstruction error
============================================

An autoencoder trained on normal data reconstructs normal samples well and
unusual ones badly, so minus its ``score_samples`` (the per-sample mean
squared reconstruction error) is an anomaly score; a
:class:`skae.VariationalAutoencoder`'s ``score_samples`` is the ELBO, a
lower bound of the log-likelihood.

Here "normal" is every MNIST digit but the 7s: the estimators are fitted on
training images of the other nine digits, then score test images of all
ten. The 7s play the anomalies; the ROC AUC measures how well each score
ranks them above the normal digits (0.5: chance, 1: perfect), with PCA's
reconstruction error at the same width as the baseline. The threshold that
flags 1 % of the training images shows how a score becomes a detector.

The autoencoder starts as PCA's solution (``pca_start=True``, the default)
and keeps the epoch that reconstructs held-out training images best, the
start counted, unless it beats the start by less than a standard error; the
line ``Data: ...`` says which it kept (``pca_start_``). Where it keeps the
start, its score is PCA's.

**How much data.** The documentation's build runs it small (``SMALL_RUNS``
in ``examples/_data.py``): the first 3 000 of MNIST's 60 000 training images
(the 2 700 or so that are not 7s), 500 test images, 100 epochs. Run as a
script it trains on 20 000 training images with ``max_epochs="auto"``
(``SKAE_EXAMPLE_N_TRAIN`` and ``SKAE_EXAMPLE_MAX_EPOCHS`` change both;
``SKAE_DATA_HOME`` names a folder holding MNIST's four IDX files, else they
are downloaded from OpenML). The line ``Data: ...`` it prints says what the
run had.
"""

import matplotlib.pyplot as plt
import numpy as np
from _data import MAX_EPOCHS, mnist
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score

from skae import AutoencoderTransformer, VariationalAutoencoder

ANOMALY = 7
X_train, y_train, X_test, y_test = mnist()
X_normal = X_train[y_train != ANOMALY]
is_anomaly = y_test == ANOMALY

pca = PCA(n_components=16, random_state=0).fit(X_normal)
ae = AutoencoderTransformer(16, max_epochs=MAX_EPOCHS, random_state=0).fit(X_normal)
vae = VariationalAutoencoder(16, max_epochs=MAX_EPOCHS, random_state=0).fit(X_normal)
print(
    f"Data: fitted on {len(X_normal)} MNIST training images (no 7s), {ae.n_iter_} epochs; "
    f"scored on {len(X_test)} test images; autoencoder pca_start_={ae.pca_start_!r}"
)


def pca_error(X):
    return np.mean((X - pca.inverse_transform(pca.transform(X))) ** 2, axis=1)


scores = {  # higher = more anomalous
    "PCA reconstruction error": pca_error(X_test),
    "autoencoder reconstruction error": -ae.score_samples(X_test),
    "VAE negative ELBO": -vae.score_samples(X_test),
}
for name, score in scores.items():
    print(f"{name:>33}: ROC AUC {roc_auc_score(is_anomaly, score):.3f}")

# A detector: flag what scores above the 99th percentile of the training data.
# The network reconstructs the images it was trained on better than unseen ones,
# so more than 1 % of unseen normal digits score above this threshold; a
# threshold taken on held-out normal images would come closer to its target.
threshold = np.quantile(-ae.score_samples(X_normal), 0.99)
flagged = scores["autoencoder reconstruction error"] > threshold
print(
    f"autoencoder, threshold at 1% of training images flagged: {flagged[is_anomaly].mean():.1%} "
    f"of the 7s and {flagged[~is_anomaly].mean():.1%} of the other test digits flagged"
)

# %%
# The score distributions of normal and anomalous test digits.
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
for ax, (name, score) in zip(axes, scores.items(), strict=True):
    bins = np.histogram_bin_edges(score, bins=40)
    ax.hist(score[~is_anomaly], bins=bins, alpha=0.6, density=True, label="other digits")
    ax.hist(score[is_anomaly], bins=bins, alpha=0.6, density=True, label=f"{ANOMALY}s")
    ax.set_title(f"{name}\nAUC {roc_auc_score(is_anomaly, score):.3f}", fontsize=9)
    ax.set_xlabel("anomaly score")
axes[0].legend()
axes[1].axvline(threshold, color="k", linestyle="--", linewidth=1)
fig.tight_layout()
plt.show()
