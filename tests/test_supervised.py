"""Supervised and semi-supervised bottlenecks: ``target_weight`` (issue 39).

With ``target_weight > 0`` the four estimators that take it train a linear
head on the code to predict ``y`` beside the reconstruction; rows labelled
-1 (classes) or NaN (numbers) train the reconstruction only. Off (the
default) ``y`` is ignored and the fit is the unsupervised one, bit for bit.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

import skae
from skae import (
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from skae._batches import BlockBatches, BlockData, IndexBatches, TensorData
from skae._losses import TargetTerm

torch.set_num_threads(1)

FAST = {"max_epochs": 3, "random_state": 0, "hidden_layer_sizes": (16,)}
ON = {**FAST, "target_weight": 1.0}
SUPERVISED_CLASSES = [
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


def _small(cls, **params):
    """A small, fast instance of ``cls`` (the conv network without dense layers)."""
    kw = {**ON, **params}
    if cls is ConvolutionalAutoencoder:
        kw.pop("hidden_layer_sizes")
        kw.setdefault("channels", (4,))
    return cls(4, **kw)


# ------------------------------------------------------------- off by default
def test_off_by_default_y_is_ignored_bit_for_bit(digits):
    X, y = digits
    plain = AutoencoderTransformer(2, **FAST).fit(X)
    pipe = make_pipeline(AutoencoderTransformer(2, **FAST), LogisticRegression(max_iter=200))
    pipe.fit(X, y)  # the Pipeline passes y to the autoencoder
    step = pipe[0]
    assert np.array_equal(step.transform(X), plain.transform(X))
    assert step.loss_curve_ == plain.loss_curve_
    for name, value in plain.net_.module_.state_dict().items():
        assert torch.equal(step.net_.module_.state_dict()[name], value), name
    # No head, no predict, no target attributes; a y it could not use is ignored.
    assert not hasattr(step, "predict") and not hasattr(step, "target_type_")
    assert step.net_.module_.target_head is None
    AutoencoderTransformer(2, **FAST).fit(X, y=["not", "a", "target"])
    with pytest.raises(AttributeError, match="without a target"):
        step.target_head_  # noqa: B018


def test_the_variational_autoencoder_takes_no_target(digits):
    X, y = digits
    assert "target_weight" not in VariationalAutoencoder().get_params()
    vae = VariationalAutoencoder(2, **FAST).fit(X, y)
    assert not hasattr(vae, "predict")


# ----------------------------------------------------------------- it works
def test_supervision_improves_a_classifier_on_2d_codes():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, train_size=800, test_size=500, random_state=0
    )
    params = {"hidden_layer_sizes": (128,), "max_epochs": 60, "lr": 1e-2, "batch_size": 64}
    scores = {}
    for weight in (0.0, 1.0):
        ae = AutoencoderTransformer(2, target_weight=weight, random_state=0, **params)
        codes = ae.fit(X_train, y_train).transform(X_train)
        clf = LogisticRegression(max_iter=1000).fit(codes, y_train)
        scores[weight] = clf.score(ae.transform(X_test), y_test)
    assert scores[1.0] > scores[0.0] + 0.1, scores
    # The head's own prediction is a by-product, but it learned something.
    assert np.mean(ae.predict(X_test) == y_test) > 0.5
    assert ae.target_head_.weight.shape == (10, 2)
    assert ae.net_.criterion_.describe() == "binary cross-entropy + target cross-entropy"


def test_classes_and_normalisation(digits):
    X, y = digits
    y = np.where(np.arange(len(y)) % 3 == 0, -1, y % 4)  # a third unlabelled
    est = AutoencoderTransformer(2, **ON).fit(X, y)
    assert est.target_type_ == "multiclass"
    np.testing.assert_array_equal(est.classes_, [0, 1, 2, 3])  # -1 is not a class
    freq = np.bincount(y[y >= 0]) / np.sum(y >= 0)
    entropy = -(freq * np.log(freq)).sum()
    p = np.clip(X.mean(axis=0), 1e-7, 1 - 1e-7)  # sigmoid outputs: R0 is the BCE at the mean
    recon = np.mean(-(p * np.log(p) + (1 - p) * np.log(1 - p)))
    assert est.target_loss_weight_ == pytest.approx(recon / entropy, rel=1e-6)
    # Scaled data (squared error): R0 is 1, whatever the number of features.
    Xs = X * 7.0 + 3.0
    est = AutoencoderTransformer(2, **{**ON, "target_weight": 2.0}).fit(Xs, y)
    assert est.target_loss_weight_ == pytest.approx(2.0 / entropy, rel=1e-4)
    assert set(est.predict(Xs)) <= {0, 1, 2, 3}


def test_string_classes_and_numbers(digits, tmp_path):
    X, y = digits
    names = np.array(["cat", "dog", "eel"])[y % 3]
    est = AutoencoderTransformer(2, **ON).fit(X, names)
    assert list(est.classes_) == ["cat", "dog", "eel"]
    assert set(est.predict(X)) <= {"cat", "dog", "eel"}
    loaded = skae.load(est.save(tmp_path / "strings.safetensors"))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))

    # Numbers: standardised on the labelled rows, predicted in y's units and shape.
    target = X[:, [20, 36]] * 10.0 + 5.0
    target[::4] = np.nan  # unlabelled rows
    trained = {**ON, "max_epochs": 40, "batch_size": 32, "lr": 1e-2}
    est = AutoencoderTransformer(2, **trained).fit(X, target)
    assert est.target_type_ == "continuous-multioutput"
    np.testing.assert_allclose(est.target_mean_, np.nanmean(target, axis=0))
    np.testing.assert_allclose(est.target_scale_, np.nanstd(target, axis=0))
    pred = est.predict(X)
    assert pred.shape == (len(X), 2) and pred.dtype == np.float64
    labelled = ~np.isnan(target[:, 0])
    mse = np.mean((pred[labelled] - target[labelled]) ** 2, axis=0)
    assert np.all(mse < 0.2 * np.nanvar(target, axis=0))  # far better than the mean
    one = AutoencoderTransformer(2, **ON).fit(X, target[:, 0])
    assert one.target_type_ == "continuous" and one.predict(X).shape == (len(X),)
    assert isinstance(one.target_mean_, float)


# -------------------------------------------------------- semi-supervised
def test_target_term_averages_over_labelled_rows_only():
    logits = torch.randn(6, 3)
    labels = torch.tensor([0, -1, 2, -1, 1, -1])
    term = TargetTerm("classes", weight=2.0)
    per_row = term({"target": logits}, labels)
    labelled = labels >= 0
    expected = torch.nn.functional.cross_entropy(logits[labelled], labels[labelled])
    assert torch.allclose(per_row.mean(), 2.0 * expected)
    assert torch.all(per_row[~labelled] == 0)
    # An unlabelled row's prediction has no effect, and gets no gradient.
    logits.requires_grad_(True)
    term({"target": logits}, labels).mean().backward()
    assert torch.all(logits.grad[~labelled] == 0) and torch.any(logits.grad[labelled] != 0)
    # A batch without a labelled row contributes 0.
    assert torch.all(term({"target": logits}, torch.full((6,), -1)) == 0)
    numbers = torch.tensor([[1.0], [float("nan")], [3.0]])
    pred = torch.tensor([[0.0], [100.0], [1.0]])
    assert TargetTerm("numbers", 1.0)({"target": pred}, numbers).mean() == pytest.approx(2.5)


def test_unlabelled_rows_minus_one_and_nan_are_the_same_fit(digits):
    X, y = digits
    semi = np.where(np.arange(len(y)) % 2 == 0, -1, y % 3)
    as_float = np.where(semi == -1, np.nan, semi.astype(float))
    # Without the PCA start, whose untrained epoch 0 three epochs may not beat.
    on = {**ON, "pca_start": False}
    a = AutoencoderTransformer(2, **on).fit(X, semi)
    b = AutoencoderTransformer(2, **on).fit(X, as_float)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.target_loss_weight_ == b.target_loss_weight_
    # The labels of the labelled rows do matter: other labels, another fit.
    c = AutoencoderTransformer(2, **on).fit(X, np.where(semi == -1, -1, (semi + 1) % 3))
    assert not np.array_equal(a.transform(X), c.transform(X))
    # And so does the supervision: the same rows without it give another code.
    d = AutoencoderTransformer(2, **{**FAST, "pca_start": False}).fit(X, semi)
    assert not np.array_equal(a.transform(X), d.transform(X))


def test_batches_carry_each_rows_label():
    """Labels stay with their rows: in memory, by index, and read from disk in
    shuffled buffers, each batch's labels are those of its rows."""
    n = 103
    rows = np.arange(n, dtype=np.float32)[:, None].repeat(3, axis=1)
    labels = torch.arange(n)
    torch.manual_seed(0)
    data = TensorData(rows, np.arange(5, n), y=labels)
    seen = []
    for x, (target, y) in IndexBatches(data, 16, shuffle=True):
        assert torch.equal(x, target) and torch.equal(x[:, 0].long(), y)
        seen += y.tolist()
    assert sorted(seen) == list(range(5, n))

    def read(start, stop):
        return rows[start:stop]

    blocks = [[0, 20], [20, 45], [60, 90], [90, 103]]
    disk = BlockData(read, blocks, read_rows=7, buffer_rows=30, y=labels)
    for shuffle in (True, False):
        seen = []
        for x, (_, y) in BlockBatches(disk, 8, shuffle=shuffle):
            assert torch.equal(x[:, 0].long(), y)
            seen += y.tolist()
        assert sorted(seen) == [*range(0, 45), *range(60, 103)]
        assert shuffle or seen == sorted(seen)


# ----------------------------------------------------------------- inputs
@pytest.mark.parametrize(
    "y, match",
    [
        (None, "requires y to be passed, but the target y is None.*target_weight=0"),
        (np.zeros(10), "y has 10 rows but X has 300"),
        (np.full(300, -1), "no labelled row"),
        (np.full(300, np.nan), "no labelled row"),
        (np.r_[np.ones(150), -np.ones(150)], "1 class"),
        (np.full(300, 2.5), "one value"),
        (np.array(["a", "b", "-1"] * 100), "string class labels"),
        (np.array(["a", "b", -1] * 100, dtype=object), "string class labels"),
        (np.eye(3, dtype=int)[np.arange(300) % 3], "multi-output class labels"),
        (np.c_[np.arange(300.0), np.r_[np.nan, np.ones(299)]], "partly NaN"),
        (np.r_[np.inf, np.arange(299.0)], "infinity"),
    ],
    ids=[
        "none",
        "length",
        "all -1",
        "all NaN",
        "one class",
        "one value",
        "'-1' string",
        "-1 among strings",
        "multilabel",
        "partly NaN",
        "inf",
    ],
)
def test_bad_targets_are_refused(digits, y, match):
    X, _ = digits
    est = AutoencoderTransformer(2, **ON)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)
    assert not hasattr(est, "net_") and not hasattr(est, "target_type_")


def test_negative_weight_is_refused(digits):
    X, y = digits
    with pytest.raises(ValueError, match="target_weight"):
        AutoencoderTransformer(2, target_weight=-1.0).fit(X, y)


# ------------------------------------------- continued training, files, copies
def test_partial_fit_continues_the_supervised_network(digits):
    X, y = digits
    est = AutoencoderTransformer(2, **ON)
    est.partial_fit(X[:150], y[:150])
    head = est.target_head_.weight.detach().clone()
    est.partial_fit(X[150:], np.where(np.arange(150) % 2, -1, y[150:]))
    assert est.n_iter_ == 2 and not torch.equal(head, est.target_head_.weight)
    assert len(est.classes_) == 10
    with pytest.raises(ValueError, match="requires y"):
        est.partial_fit(X[:10])
    with pytest.raises(ValueError, match="not in classes_"):
        est.partial_fit(X[:3], np.array([0, 1, 42]))
    est.set_params(target_weight=2.0)
    with pytest.raises(ValueError, match="target_weight=2.0"):
        est.partial_fit(X[:10], y[:10])
    assert est.n_iter_ == 2  # the failed calls left it as it was
    # A warm start continues it too.
    est.set_params(target_weight=1.0, warm_start=True, max_epochs=1).fit(X, y)
    assert est.n_iter_ == 3


def test_save_load_clone_pickle(digits, tmp_path):
    X, y = digits
    est = AutoencoderTransformer(2, **ON).fit(X, y)
    loaded = skae.load(est.save(tmp_path / "sup.safetensors"))
    for copy in (loaded, pickle.loads(pickle.dumps(est))):
        np.testing.assert_array_equal(copy.predict(X), est.predict(X))
        np.testing.assert_array_equal(copy.transform(X), est.transform(X))
        assert torch.equal(copy.target_head_.weight, est.target_head_.weight)
        np.testing.assert_array_equal(copy.classes_, est.classes_)
        assert copy.target_loss_weight_ == est.target_loss_weight_
    loaded.partial_fit(X, y)  # a loaded model trains on with its head and term
    assert clone(est).get_params()["target_weight"] == 1.0
    assert not hasattr(clone(est), "predict")


@pytest.mark.parametrize("cls", SUPERVISED_CLASSES, ids=lambda c: c.__name__)
def test_each_estimator_trains_its_head(cls, digits):
    X, y = digits
    est = _small(cls, max_epochs=60).fit(X, y % 3)
    assert est.predict(X).shape == (len(X),)
    assert est.target_head_.in_features == 4
    assert est.net_.criterion_.describe().endswith("+ target cross-entropy")
    # A trained head, well above the majority class (0.40 of these rows);
    # an untrained one predicts at about chance.
    assert np.mean(est.predict(X) == y % 3) >= 0.5


def test_sparse_input_is_the_dense_fit(digits):
    X, y = digits
    dense = AutoencoderTransformer(2, **ON).fit(X, y)
    sparse = AutoencoderTransformer(2, **ON).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.transform(X), dense.transform(X), atol=1e-5)
    np.testing.assert_array_equal(sparse.predict(sp.csr_matrix(X)), sparse.predict(X))


def test_on_disk_input_with_early_stopping(digits, tmp_path):
    X, y = digits
    path = tmp_path / "X.npy"
    np.save(path, X)
    on_disk = np.load(path, mmap_mode="r")
    est = AutoencoderTransformer(2, early_stopping=True, **{**ON, "max_epochs": 5})
    est.fit(on_disk, y % 2)
    assert est.best_epoch_ is not None and len(est.validation_loss_curve_) == est.n_iter_ + 1
    np.testing.assert_array_equal(est.predict(on_disk), est.predict(X))
    est.partial_fit(on_disk, np.where(np.arange(len(y)) % 2, -1, y % 2))  # y in memory
    assert est.n_iter_ == len(est.loss_curve_) and est.best_epoch_ is None


def test_validation_loss_counts_the_target_term(digits):
    X, y = digits
    est = AutoencoderTransformer(2, **ON).fit(X, y)
    Xn = est._normalize(X)
    with_labels = est.net_.validation_losses(TensorData(Xn, y=torch.as_tensor(y)))
    without = est.net_.validation_losses(TensorData(Xn))
    logits = torch.from_numpy(Xn)
    with torch.no_grad():
        logits = est.net_.module_.predict_target(logits)
    ce = torch.nn.functional.cross_entropy(logits, torch.as_tensor(y), reduction="none")
    np.testing.assert_allclose(
        with_labels - without, est.target_loss_weight_ * ce.double().numpy(), rtol=1e-4, atol=1e-6
    )


def test_grid_search_over_weight_and_width(digits):
    X, y = digits
    pipe = make_pipeline(AutoencoderTransformer(**ON), LogisticRegression(max_iter=200))
    grid = {
        "autoencodertransformer__target_weight": [0.0, 1.0],
        "autoencodertransformer__n_components": [2, 4],
    }
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_onnx_transform_of_a_supervised_estimator(digits):
    pytest.importorskip("onnxruntime", reason="ONNX export tests need skae[onnx]")
    ort = pytest.importorskip("onnxruntime")
    skae_onnx = pytest.importorskip("skae.onnx", reason="ONNX export tests need skae[onnx]")
    X, y = digits
    est = AutoencoderTransformer(2, **ON).fit(X, y)
    model = skae_onnx.to_onnx(est, X[:1].astype(np.float32))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    codes = session.run(None, {name: X.astype(np.float32)})[0]
    np.testing.assert_allclose(codes, est.transform(X), atol=1e-5)


# ------------------------------------------------ scikit-learn's estimator checks
CHECKED = [
    AutoencoderTransformer(target_weight=1.0, **FAST),
    ConvolutionalAutoencoder(target_weight=1.0, max_epochs=3, random_state=0),
    DenoisingAutoencoder(target_weight=1.0, **FAST),
    SparseAutoencoder(target_weight=1.0, **FAST),
]


@parametrize_with_checks(CHECKED)
def test_sklearn_compatible_with_a_target(estimator, check):
    check(estimator)
