"""
Choosing n_components by grid search
====================================

The bottleneck width ``n_components`` is the autoencoder's main parameter.
:class:`~sklearn.model_selection.GridSearchCV` chooses it as it chooses
PCA's, in two ways:

* **with labels**: put the autoencoder before a classifier in a
  :class:`~sklearn.pipeline.Pipeline` and let cross-validated accuracy pick
  the width;
* **without labels**: search the autoencoder alone; GridSearchCV then uses
  its ``score``, minus the mean squared reconstruction error on the held-out
  fold. That score only improves as the code widens, so take the smallest
  width whose error is close to the best (here: within 10 %), as one reads
  the "elbow" of PCA's explained variance.

Data: scikit-learn's bundled 8 x 8 digits, pixel intensities scaled to [0, 1].

**How much data.** All of scikit-learn's 1 797 digits, in 3 folds (1 198
rows fit each candidate). The documentation's build runs it for 40 epochs
(``SMALL_RUNS`` in ``examples/_data.py``); run as a script it trains for
``max_epochs="auto"`` epochs (``SKAE_EXAMPLE_MAX_EPOCHS`` changes it). The
line ``Data: ...`` it prints says what the run had.
"""

import matplotlib.pyplot as plt
import numpy as np
from _data import MAX_EPOCHS
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skae import AutoencoderTransformer

X, y = load_digits(return_X_y=True)
X = X / 16.0
widths = [2, 4, 8, 16]
ae = AutoencoderTransformer(max_epochs=MAX_EPOCHS, random_state=0)

# %%
# With labels: the width that gives the best classifier.
pipe = Pipeline([("ae", ae), ("clf", LogisticRegression(max_iter=2000))])
supervised = GridSearchCV(pipe, {"ae__n_components": widths}, cv=3).fit(X, y)
print(
    f"Data: {len(X)} digits in 3 folds; the refit trained "
    f"{supervised.best_estimator_['ae'].n_iter_} epochs"
)
accuracy = supervised.cv_results_["mean_test_score"]
print(f"with labels: best n_components={supervised.best_params_['ae__n_components']}")
for k, acc in zip(widths, accuracy, strict=True):
    print(f"  n_components={k:>2}: cross-validated accuracy {acc:.3f}")

# %%
# Without labels: the reconstruction error on held-out folds.
unsupervised = GridSearchCV(ae, {"n_components": widths}, cv=3).fit(X)
mse = -unsupervised.cv_results_["mean_test_score"]
chosen = widths[int(np.flatnonzero(mse <= 1.1 * mse.min())[0])]
lowest = unsupervised.best_params_["n_components"]
print(f"without labels: best_params_ (lowest error) n_components={lowest}")
print(f"without labels: smallest n_components within 10% of the best error: {chosen}")
for k, err in zip(widths, mse, strict=True):
    print(f"  n_components={k:>2}: cross-validated reconstruction MSE {err:.4f}")

fig, (ax_a, ax_m) = plt.subplots(1, 2, figsize=(9, 3.5))
ax_a.plot(widths, accuracy, marker="o")
ax_a.set(xscale="log", xlabel="n_components", ylabel="accuracy", title="with labels")
ax_m.plot(widths, mse, marker="o")
ax_m.axvline(chosen, color="grey", linestyle="--", label=f"chosen: {chosen}")
ax_m.set(xscale="log", xlabel="n_components", ylabel="reconstruction MSE")
ax_m.set_title("without labels")
ax_m.legend()
for ax in (ax_a, ax_m):
    ax.set_xticks(widths, [str(k) for k in widths])
    ax.minorticks_off()
fig.tight_layout()
plt.show()
