"""Export to ONNX: skae.onnx.to_onnx, the estimators' to_onnx, and skl2onnx pipelines."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import (
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)

ort = pytest.importorskip("onnxruntime", reason="ONNX export tests need skae[onnx]")
skl2onnx = pytest.importorskip("skl2onnx", reason="ONNX export tests need skae[onnx]")
onnx = pytest.importorskip("onnx", reason="ONNX export tests need skae[onnx]")
skae_onnx = pytest.importorskip("skae.onnx", reason="ONNX export tests need skae[onnx]")

ATOL = 1e-5


def run(model, X=None, inputs=None):
    """The first output of ``model`` run by onnxruntime on ``X`` (as float32), or on
    the dict of ``inputs``."""
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    if inputs is None:
        inputs = {session.get_inputs()[0].name: np.asarray(X, dtype=np.float32)}
    return session.run(None, inputs)[0]


@pytest.fixture(scope="module")
def digits300():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300]


@pytest.fixture(scope="module")
def conv(digits300):
    """A small convolutional autoencoder fitted on 8x8 digit images (3-D X)."""
    X, _ = digits300
    images = X.reshape(-1, 8, 8)
    est = ConvolutionalAutoencoder(n_components=4, channels=(4, 8), max_epochs=2, random_state=0)
    return est.fit(images), images


def test_pipeline_with_a_skae_step_converts_with_skl2onnx(digits300):
    X, y = digits300
    pipe = make_pipeline(
        StandardScaler(),
        AutoencoderTransformer(n_components=4, max_epochs=3, random_state=0),
        LogisticRegression(max_iter=200),
    ).fit(X, y)
    model = skl2onnx.to_onnx(
        pipe, X[:1].astype(np.float32), options={LogisticRegression: {"zipmap": False}}
    )
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    labels, proba = session.run(None, {"X": X.astype(np.float32)})
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=0, atol=ATOL)
    np.testing.assert_array_equal(labels, pipe.predict(X))


def test_two_skae_steps_and_float64_inputs(digits300):
    X, _ = digits300
    small = dict(max_epochs=2, random_state=0)
    pipe = make_pipeline(
        SparseAutoencoder(n_components=8, hidden_layer_sizes=(16,), **small),
        VariationalAutoencoder(n_components=2, hidden_layer_sizes=(8,), **small),
    ).fit(X)
    model = skl2onnx.to_onnx(pipe, X[:1])  # float64: cast in, codes cast back
    (output,) = model.graph.output
    assert output.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    np.testing.assert_allclose(run(model, inputs={"X": X}), pipe.transform(X), rtol=0, atol=ATOL)


def test_dataframe_columns_are_concatenated(digits300):
    pd = pytest.importorskip("pandas")
    X, _ = digits300
    df = pd.DataFrame(X[:, 20:30], columns=[f"pixel{i}" for i in range(20, 30)])
    est = AutoencoderTransformer(n_components=3, max_epochs=2, random_state=0).fit(df)
    # skl2onnx gives each DataFrame column its own input.
    model = skl2onnx.to_onnx(make_pipeline(est), df[:1].astype(np.float32))
    feeds = {c: df[[c]].to_numpy(np.float32) for c in df.columns}
    np.testing.assert_allclose(run(model, inputs=feeds), est.transform(df), rtol=0, atol=ATOL)
    # to_onnx takes the DataFrame's rows as one matrix.
    codes = run(skae_onnx.to_onnx(est, df), df)
    np.testing.assert_allclose(codes, est.transform(df), rtol=0, atol=ATOL)


def test_conv_methods_match_the_estimator(conv, capfd, caplog):
    est, images = conv
    rows = images.reshape(len(images), -1)
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        models = {m: skae_onnx.to_onnx(est, method=m) for m in skae_onnx.METHODS}
        models["transform"] = skae_onnx.to_onnx(est, images[:3])  # traced on images, takes rows
    # No warnings, log lines or progress output of the exporter reach the user.
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert capfd.readouterr() == ("", "")

    Z = est.transform(images)
    np.testing.assert_allclose(run(models["transform"], rows), Z, rtol=0, atol=ATOL)
    decoded = run(models["inverse_transform"], Z)
    np.testing.assert_allclose(decoded, est.inverse_transform(Z).reshape(rows.shape), atol=ATOL)
    rebuilt = run(models["reconstruct"], rows)
    np.testing.assert_allclose(rebuilt, est.reconstruct(rows), rtol=0, atol=ATOL)
    assert run(models["transform"], rows[:1]).shape == (1, 4)

    model = models["transform"]
    onnx.checker.check_model(model, full_check=True)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", skae_onnx.MIN_OPSET)]
    (inp,), (out,) = model.graph.input, model.graph.output
    assert (inp.name, out.name) == ("X", "codes")
    for value, width in ((inp, 64), (out, 4)):
        assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        dims = value.type.tensor_type.shape.dim
        assert (dims[0].dim_param, dims[1].dim_value) == ("N", width)
    props = {p.key: p.value for p in model.metadata_props}
    assert props["skae.estimator"] == "ConvolutionalAutoencoder"
    assert props["skae.method"] == "transform"


def test_channels_first_images(digits300):
    X, _ = digits300
    images = np.stack([X, X[::-1]], axis=1).reshape(-1, 2, 8, 8) / 16.0
    est = ConvolutionalAutoencoder(
        n_components=3, channels=(4,), image_layout="CHW", max_epochs=2, random_state=0
    ).fit(images)
    rows = images.reshape(len(images), -1)
    model = skae_onnx.to_onnx(est, method="reconstruct")
    np.testing.assert_allclose(run(model, rows), est.reconstruct(rows), rtol=0, atol=ATOL)


def test_vae_transform_is_the_posterior_mean(digits300):
    X, _ = digits300
    vae = VariationalAutoencoder(
        n_components=2, hidden_layer_sizes=(16,), max_epochs=2, random_state=0
    ).fit(X / 16.0)
    assert vae.output_activation_ == "sigmoid"
    model = skae_onnx.to_onnx(vae, X[:5] / 16.0, opset=20)
    assert [o.version for o in model.opset_import if o.domain == ""] == [20]
    np.testing.assert_allclose(run(model, X / 16.0), vae.transform(X / 16.0), rtol=0, atol=ATOL)


def test_errors(digits300):
    X, _ = digits300
    with pytest.raises(NotFittedError):
        skae_onnx.to_onnx(AutoencoderTransformer())
    with pytest.raises(NotFittedError):
        skae_onnx.to_onnx(ConvolutionalAutoencoder(), method="reconstruct")
    est = AutoencoderTransformer(n_components=2, max_epochs=1, random_state=0).fit(X[:50])
    with pytest.raises(ValueError, match="method must be one of"):
        skae_onnx.to_onnx(est, method="predict")
    with pytest.raises(ValueError, match="opset must be an integer of at least 18"):
        skae_onnx.to_onnx(est, opset=17)
    with pytest.raises(ValueError, match="features"):
        skae_onnx.to_onnx(est, X[:2, :10])
    with pytest.raises(ValueError, match="n_components_=2"):
        skae_onnx.to_onnx(est, X[:2], method="inverse_transform")
    with pytest.raises(TypeError, match="skl2onnx.to_onnx"):
        skae_onnx.to_onnx(StandardScaler().fit(X))
    with pytest.raises(ValueError, match="target_opset of at least 18"):
        skl2onnx.to_onnx(est, X[:1].astype(np.float32), target_opset=15)


def test_register_converters_is_idempotent_and_takes_subclasses():
    class MyAutoencoder(AutoencoderTransformer):
        pass

    first = skae_onnx.register_converters()
    assert MyAutoencoder in first
    assert set(first) == set(skae_onnx.register_converters())
    assert {ConvolutionalAutoencoder, VariationalAutoencoder, SparseAutoencoder} <= set(first)


def test_ordered_codes_decode_their_prefixes(digits300):
    # The ordered decoder picks each row's decoder from its last nonzero unit;
    # the exported graph runs every decoder and keeps the same one.
    X, _ = digits300
    X = X / 16.0
    est = AutoencoderTransformer(
        6, ordered=True, hidden_layer_sizes=(16,), max_epochs=2, random_state=0
    ).fit(X)
    Z = est.transform(X).astype(np.float32)
    for width in (1, 3, 6):
        Z[width::3, width:] = 0.0  # rows of three prefix widths in one batch
    model = skae_onnx.to_onnx(est, Z, method="inverse_transform")
    np.testing.assert_allclose(run(model, Z), est.inverse_transform(Z), atol=ATOL)
