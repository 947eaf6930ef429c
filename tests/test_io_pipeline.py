"""skae.save / skae.load of whole Pipelines, ColumnTransformers and FeatureUnions;
the set_output configuration; errors about the path, checked before any work."""

from __future__ import annotations

import json
import operator
import os
import pickle
import re
import sys
from functools import cache

import numpy as np
import pandas as pd
import pytest
from safetensors import safe_open
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_wine
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import skae
from skae import AutoencoderTransformer, CodePrefix, SparseAutoencoder
from skae._io import UntrustedTypeError

FAST = {"max_epochs": 2, "random_state": 0, "device": "cpu"}

# Audit hooks cannot be removed: one hook for the whole session, recording
# the classes pickle looks up while ``_unpickled["on"]`` is set.
_unpickled = {"on": False, "classes": []}


def _audit(event, args):
    if event == "pickle.find_class" and _unpickled["on"]:
        _unpickled["classes"].append(args)


sys.addaudithook(_audit)


def _load_recording_unpickling(path, **kwargs):
    """``skae.load(path, **kwargs)``, and the classes pickle looked up meanwhile."""
    _unpickled.update(on=True, classes=[])
    try:
        return skae.load(path, **kwargs), list(_unpickled["classes"])
    finally:
        _unpickled["on"] = False


@cache
def _wine():
    X, y = load_wine(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture
def wine():
    X, y = _wine()
    return X.copy(), y.copy()


def _proba_pipeline():
    return make_pipeline(
        StandardScaler(), AutoencoderTransformer(3, **FAST), LogisticRegression(max_iter=500)
    )


def test_pipeline_round_trip_is_identical_and_never_unpickles(wine, tmp_path):
    X, y = wine
    pipe = _proba_pipeline().fit(X, y)
    path = skae.save(pipe, tmp_path / "pipe.skae")
    assert path == tmp_path / "pipe.skae"

    loaded, unpickled = _load_recording_unpickling(path)

    assert unpickled == []
    assert np.array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    assert [name for name, _ in loaded.steps] == [name for name, _ in pipe.steps]
    assert type(loaded[1]) is AutoencoderTransformer
    assert loaded[1].get_params() == pipe[1].get_params()
    # The hook sees unpickling: the same pipeline through pickle is recorded.
    _unpickled.update(on=True, classes=[])
    try:
        pickle.loads(pickle.dumps(pipe))
    finally:
        _unpickled["on"] = False
    assert any(cls == "Pipeline" for _, cls in _unpickled["classes"])


def test_save_leaves_the_pipeline_as_it_was(wine, tmp_path):
    X, y = wine
    pipe = _proba_pipeline().fit(X, y)
    steps = list(pipe.steps)
    expected = pipe.predict_proba(X)
    skae.save(pipe, tmp_path / "pipe.skae")
    assert all(a is b for a, b in zip(pipe.steps, steps, strict=True))
    assert np.array_equal(pipe.predict_proba(X), expected)
    with safe_open(str(tmp_path / "pipe.skae"), framework="pt") as f:
        header = f.metadata()
    assert header["composite"] == "sklearn.pipeline.Pipeline"
    assert header["format_version"] == "3"


def test_column_transformer_and_feature_union_round_trip(wine, tmp_path):
    X, y = wine
    columns = list(X.columns)
    pipe = make_pipeline(
        make_column_transformer(
            (AutoencoderTransformer(2, **FAST), columns[:6]),
            (make_union(SparseAutoencoder(4, **FAST), PCA(2)), columns[6:]),
            remainder="drop",
        ),
        StandardScaler(),
        LogisticRegression(max_iter=500),
    ).fit(X, y)
    loaded, unpickled = _load_recording_unpickling(skae.save(pipe, tmp_path / "ct.skae"))
    assert unpickled == []
    assert np.array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    ct, ct_loaded = pipe[0], loaded[0]
    assert type(ct_loaded.named_transformers_["featureunion"].transformer_list[0][1]) is (
        SparseAutoencoder
    )
    # ``transformers`` holds the unfitted originals, ``transformers_`` their
    # fitted clones: both come back as they were.
    original = ct_loaded.transformers[0][1]
    assert type(original) is AutoencoderTransformer and not hasattr(original, "net_")
    assert original.get_params() == ct.transformers[0][1].get_params()
    assert hasattr(ct_loaded.transformers_[0][1], "net_")


def test_a_skae_estimator_met_twice_loads_as_one(wine, tmp_path):
    X, y = wine
    ae = AutoencoderTransformer(2, **FAST).fit(X)
    union = make_union(ae, ae).fit(X)  # FeatureUnion.fit refits ae itself
    loaded = skae.load(skae.save(union, tmp_path / "u.skae"))
    first, second = (step for _, step in loaded.transformer_list)
    assert first is second
    assert np.array_equal(loaded.transform(X), union.transform(X))


def test_skae_code_prefix_needs_no_trusted(wine, tmp_path):
    X, y = wine
    pipe = make_pipeline(
        StandardScaler(),
        AutoencoderTransformer(4, ordered=True, **FAST),
        CodePrefix(2),
        LogisticRegression(max_iter=500),
    ).fit(X, y)
    loaded = skae.load(skae.save(pipe, tmp_path / "prefix.skae"))
    assert np.array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_set_output_is_kept_for_an_estimator(wine, tmp_path):
    X, _ = wine
    ae = AutoencoderTransformer(2, **FAST).set_output(transform="pandas").fit(X)
    for path in (ae.save(tmp_path / "ae.safetensors"), skae.save(ae, tmp_path / "ae2.st")):
        loaded = skae.load(path)
        Z = loaded.transform(X)
        assert isinstance(Z, pd.DataFrame)
        pd.testing.assert_frame_equal(Z, ae.transform(X))


def test_set_output_is_kept_for_a_pipeline(wine, tmp_path):
    X, y = wine
    pipe = _proba_pipeline().set_output(transform="pandas").fit(X, y)
    loaded = skae.load(skae.save(pipe, tmp_path / "pipe.skae"))
    Z = loaded[:-1].transform(X)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == list(pipe[:-1].get_feature_names_out())
    pd.testing.assert_frame_equal(Z, pipe[:-1].transform(X))
    assert np.array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_a_type_skops_does_not_trust_is_refused_until_trusted(wine, tmp_path):
    X, y = wine
    pipe = make_pipeline(
        FunctionTransformer(operator.neg),
        AutoencoderTransformer(2, **FAST),
        LogisticRegression(max_iter=500),
    ).fit(X, y)
    path = skae.save(pipe, tmp_path / "pipe.skae")
    with pytest.raises(UntrustedTypeError, match=r"\['_operator.neg'\].*trusted=\["):
        skae.load(path)
    loaded, unpickled = _load_recording_unpickling(path, trusted=["_operator.neg"])
    assert unpickled == []
    assert np.array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


@pytest.mark.parametrize("kind", ["estimator", "pipeline"])
def test_a_missing_folder_is_named_before_any_work(kind, wine, tmp_path, monkeypatch):
    X, y = wine
    fitted = _proba_pipeline().fit(X, y)
    obj = fitted[1] if kind == "estimator" else fitted
    folder = tmp_path / "no" / "such"
    monkeypatch.setattr(skae._io, "_estimator_record", _no_work)
    saves = [lambda p: skae.save(obj, p)]
    if kind == "estimator":
        saves.append(obj.save)
    named = re.escape(str(folder))
    for save in saves:
        with pytest.raises(FileNotFoundError, match=rf"folder '{named}' does not exist.*makedirs"):
            save(folder / "model.skae")
    assert not (tmp_path / "no").exists()


def _no_work(*args, **kwargs):
    raise AssertionError("save must check the path before any work")


def test_a_file_where_the_folder_should_be_is_named(wine, tmp_path):
    X, _ = wine
    ae = AutoencoderTransformer(2, **FAST).fit(X)
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="'.*file' is a file, not a folder"):
        skae.save(ae, tmp_path / "file" / "m.safetensors")
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        skae.save(ae, tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in read-only folders")
def test_an_unwritable_folder_is_named(wine, tmp_path):
    X, y = wine
    pipe = _proba_pipeline().fit(X, y)
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    named = re.escape(str(folder))
    try:
        for obj in (pipe, pipe[1]):
            with pytest.raises(PermissionError, match=rf"may not write in folder '{named}'"):
                skae.save(obj, folder / "pipe.skae")
    finally:
        folder.chmod(0o700)
    assert list(folder.iterdir()) == []


def test_an_unwritable_folder_is_named_where_os_access_says_so(wine, tmp_path, monkeypatch):
    # What the test above checks, where it cannot run (as root, who may
    # write anywhere): save asks os.access, and names the folder.
    X, _ = wine
    ae = AutoencoderTransformer(2, **FAST).fit(X)
    monkeypatch.setattr(os, "access", lambda path, mode: os.fspath(path) != str(tmp_path))
    named = re.escape(str(tmp_path))
    with pytest.raises(PermissionError, match=rf"may not write in folder '{named}'"):
        skae.save(ae, tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_what_is_not_an_estimator(tmp_path):
    with pytest.raises(TypeError, match="save expects a fitted skae estimator.*got dict"):
        skae.save({}, tmp_path / "m.skae")


def test_what_skops_cannot_store_is_a_clear_error(wine, tmp_path):
    # A FeatureUnion that transformed data under set_output("pandas") keeps
    # pandas Index objects (scikit-learn 1.9), which skops.io cannot store.
    X, _ = wine
    union = make_union(AutoencoderTransformer(2, **FAST), PCA(2)).set_output(transform="pandas")
    union.fit_transform(X)
    kept = getattr(union, "_transformers_feature_names_out", [])
    if not any(isinstance(names, pd.Index) for names in kept):
        pytest.skip("this scikit-learn's FeatureUnion keeps no pandas Index")
    with pytest.raises(TypeError, match="skops.io cannot store this FeatureUnion"):
        skae.save(union, tmp_path / "u.skae")
    assert not (tmp_path / "u.skae").exists()


def test_a_string_like_a_placeholder_is_refused(wine, tmp_path):
    X, _ = wine
    pipe = make_pipeline(
        FunctionTransformer(kw_args={"note": "skae.estimator:0"}),
        AutoencoderTransformer(2, **FAST).fit(X),
    )
    with pytest.raises(ValueError, match="'skae.estimator:0'.*rename it"):
        skae.save(pipe, tmp_path / "p.skae")


def test_a_damaged_or_forged_pipeline_file_is_refused(wine, tmp_path, rewrite_model_file):
    X, y = wine
    path = skae.save(_proba_pipeline().fit(X, y), tmp_path / "pipe.skae")
    data = bytearray(path.read_bytes())
    damaged = tmp_path / "damaged.skae"
    data[-10] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256 digest does not match"):
        skae.load(damaged)

    def claim_another_estimator(header, tensors):
        records = json.loads(header["estimators"])
        records["skae.estimator:0"]["estimator"] = "os.system"
        header["estimators"] = json.dumps(records)

    rewrite_model_file(path, claim_another_estimator)
    with pytest.raises(ValueError, match=r"\(skae.estimator:0\) is not a valid.*'os.system'"):
        skae.load(path)
