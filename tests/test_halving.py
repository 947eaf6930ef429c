"""Successive halving over training epochs: ``HalvingGridSearchCV`` with
``resource="max_epochs"`` (docs/user_guide.rst, "Choosing ``n_components``
by grid search").

The search sets the integer ``max_epochs`` of each candidate for each round
(the parameter's default is ``"auto"``), trains the survivors longer and
refits the best with the last round's epochs. Tiny data and network, so
that the file runs in seconds.
"""

from __future__ import annotations

import numpy as np
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingGridSearchCV
from sklearn.pipeline import Pipeline

from skae import AutoencoderTransformer


def make_ae():
    return AutoencoderTransformer(hidden_layer_sizes=(8,), random_state=0, device="cpu")


def test_halving_over_max_epochs():
    X = np.random.default_rng(0).random((120, 16))
    grid = {"n_components": [2, 4, 6, 8]}
    search = HalvingGridSearchCV(
        make_ae(),
        grid,
        resource="max_epochs",
        min_resources=1,
        max_resources=4,
        factor=2,
        cv=2,
        random_state=0,
    ).fit(X)

    # 4 candidates for 1 epoch, the best 2 for 2 epochs, the best one for 4.
    assert search.n_resources_ == [1, 2, 4]
    assert search.n_candidates_ == [4, 2, 1]
    assert search.best_params_["n_components"] in grid["n_components"]
    assert search.best_params_["max_epochs"] == 4
    # Each candidate trained for exactly the epochs its round gave it; the
    # estimator under search keeps its "auto" default.
    results = search.cv_results_
    assert [p["max_epochs"] for p in results["params"]] == list(results["n_resources"])
    assert search.estimator.max_epochs == "auto"
    best = search.best_estimator_
    assert best.max_epochs == best.n_iter_ == 4
    assert best.transform(X).shape == (len(X), search.best_params_["n_components"])


def test_halving_over_max_epochs_of_a_pipeline_step():
    X = np.random.default_rng(1).random((120, 16))
    pipe = Pipeline([("ae", make_ae())])
    search = HalvingGridSearchCV(
        pipe,
        {"ae__n_components": [2, 4]},
        resource="ae__max_epochs",
        min_resources=1,
        max_resources=2,
        factor=2,
        cv=2,
    ).fit(X)
    assert search.n_resources_ == [1, 2]
    assert search.best_estimator_["ae"].n_iter_ == 2
