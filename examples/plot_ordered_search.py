"""
Searching the code width with one autoencoder fit per fold
==========================================================

A grid search over ``n_components`` fits one autoencoder per width and
fold. An *ordered* autoencoder (``ordered=True``) is trained so that the
first ``k`` units of its code are a code of width ``k``, as PCA's first
``k`` components are: one fit serves every width. Put
:class:`~skae.CodePrefix` after it in a :class:`~sklearn.pipeline.Pipeline`
with ``memory=`` set, search over the prefix's ``n_components``, and the
autoencoder is fitted once per fold (the pipeline's cache serves every
candidate), then once more for the refit.

This example runs both searches on the digits, with a logistic regression
on the codes scored by cross-validated accuracy, and prints each search's
choice, its accuracy at every width and its seconds. The user guide's
"Choosing n_components by grid search" gives the figures of
``benchmarks/bench_ordered_search.py`` on the digits and MNIST, and what an
ordered code costs in quality at each width
(``benchmarks/bench_ordered.py``).

Data: scikit-learn's bundled 8 x 8 digits, pixel intensities scaled to [0, 1].

**How much data.** All of scikit-learn's 1 797 digits, in 3 folds (1 198
rows fit each autoencoder). The documentation's build runs it for 40 epochs
(``SMALL_RUNS`` in ``examples/_data.py``); run as a script it trains for
``max_epochs="auto"`` epochs (``SKAE_EXAMPLE_MAX_EPOCHS`` changes it). The
line ``Data: ...`` it prints says what the run had.
"""

import tempfile
import time

import matplotlib.pyplot as plt
from _data import MAX_EPOCHS
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer, CodePrefix

X, y = load_digits(return_X_y=True)
X = X / 16.0
widths = [2, 4, 8, 16]
folds = KFold(3, shuffle=True, random_state=0)
classifier = [("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))]
print(f"Data: {len(X)} digits in 3 folds; max_epochs={MAX_EPOCHS}")

# %%
# One autoencoder per width and fold: 4 widths x 3 folds, and the refit.
start = time.perf_counter()
separate = Pipeline(
    [("ae", AutoencoderTransformer(max_epochs=MAX_EPOCHS, random_state=0)), *classifier]
)
separate = GridSearchCV(separate, {"ae__n_components": widths}, cv=folds).fit(X, y)
separate_seconds = time.perf_counter() - start

# %%
# One ordered autoencoder per fold: 3 fits, and the refit. ``memory=`` lets
# every candidate of a fold reuse that fold's fitted autoencoder.
start = time.perf_counter()
with tempfile.TemporaryDirectory() as cache:
    ordered = Pipeline(
        [
            ("ae", AutoencoderTransformer(16, ordered=True, max_epochs=MAX_EPOCHS, random_state=0)),
            ("prefix", CodePrefix()),
            *classifier,
        ],
        memory=cache,
    )
    ordered = GridSearchCV(ordered, {"prefix__n_components": widths}, cv=folds).fit(X, y)
ordered_seconds = time.perf_counter() - start

for name, search, param, seconds in (
    ("separate fits", separate, "ae__n_components", separate_seconds),
    ("ordered fit", ordered, "prefix__n_components", ordered_seconds),
):
    print(f"{name}: best n_components={search.best_params_[param]} in {seconds:.1f} s")
    for k, acc in zip(widths, search.cv_results_["mean_test_score"], strict=True):
        print(f"  {name} n_components={k:>2}: cross-validated accuracy {acc:.3f}")

fig, ax = plt.subplots(figsize=(5, 3.5))
for name, search, seconds in (
    ("a fit per width", separate, separate_seconds),
    ("one ordered fit", ordered, ordered_seconds),
):
    ax.plot(
        widths, search.cv_results_["mean_test_score"], marker="o", label=f"{name} ({seconds:.0f} s)"
    )
ax.set(xscale="log", xlabel="n_components", ylabel="cross-validated accuracy")
ax.set_xticks(widths, [str(k) for k in widths])
ax.minorticks_off()
ax.legend()
fig.tight_layout()
plt.show()
