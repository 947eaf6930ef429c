"""``skae compare --supervised``: supervised rows beside PCA's and the unsupervised ones."""

import numpy as np
import pytest

from skae._compare import SUPERVISED, compare, make_method
from skae.cli import main


def _rows(out):
    """``{(method, k): [test_mse, score, fit_seconds]}`` of the printed table."""
    rows = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) == 5 and words[1].isdigit():
            rows[(words[0], int(words[1]))] = [float(w) for w in words[2:]]
    return rows


def test_supervised_rows_beside_the_others(capsys):
    args = ["compare", "--supervised", "--methods", "pca,dense,vae", "--n-components", "2"]
    assert main([*args, "--max-epochs", "100", "--quiet", "--output", "none"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    # Each method that can learn from labels gets its supervised row right after it.
    assert list(rows) == [("pca", 2), ("dense", 2), ("dense-supervised", 2), ("vae", 2)]
    mse, accuracy, _ = rows[("dense-supervised", 2)]
    # Trained to predict the digit, two codes tell the ten digits apart far
    # better than the unsupervised ones: measured 0.880 against 0.691 (dense)
    # and 0.589 (PCA) with these settings, reconstructing better than PCA
    # still (0.0463 against 0.0530).
    assert accuracy > rows[("dense", 2)][1] + 0.1
    assert accuracy > rows[("pca", 2)][1] + 0.1
    assert 0 < mse < rows[("pca", 2)][0]


def test_supervised_method_by_name(capsys):
    args = ["compare", "--methods", "dense-supervised,conv-supervised", "--n-components", "4"]
    assert main([*args, "--max-epochs", "1", "--quiet", "--output", "none"]) == 0
    assert list(_rows(capsys.readouterr().out)) == [("dense-supervised", 4), ("conv-supervised", 4)]


def test_supervised_methods_are_the_estimators_that_take_target_weight():
    assert set(SUPERVISED.values()) == {"dense", "conv", "denoising", "sparse"}
    assert make_method("dense-supervised", 2, max_epochs=3).get_params()["target_weight"] == 1.0
    assert make_method("dense", 2).get_params()["target_weight"] == 0.0


def test_supervised_on_a_regression_target(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6))
    header = "a,b,c,d,e,f,y"
    y = X[:, 0] * 2 + rng.normal(scale=0.1, size=120)  # numbers: a squared-error head
    np.savetxt(tmp_path / "t.csv", np.c_[X, y], delimiter=",", header=header, comments="")
    args = ["compare", "--data", str(tmp_path / "t.csv"), "--target", "y", "--supervised"]
    assert main([*args, "--n-components", "2", "--max-epochs", "2", "--output", "none"]) == 0
    out = capsys.readouterr().out
    assert "test_r2" in out
    assert list(_rows(out)) == [(m, 2) for m in ("pca", "dense", "dense-supervised")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--methods", "pca,vae"], "--supervised adds supervised versions of dense, conv"),
        (["--data", "{table}"], "--supervised fits on labels, and the data has none: pass"),
    ],
)
def test_supervised_usage_errors(tmp_path, capsys, args, message):
    table = tmp_path / "t.csv"
    table.write_text("a,b,c\n" + "".join(f"{i * 0.5},{i % 3},{i % 5}\n" for i in range(20)))
    args = [a.format(table=table) for a in args]
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--supervised", *args, "--output", "none"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skae compare: error: {message}") and "Traceback" not in err


def test_compare_refuses_a_supervised_method_without_labels():
    X = np.random.default_rng(0).random((20, 4))
    with pytest.raises(ValueError, match="dense-supervised fit"):
        compare(X, X, None, None, methods=["dense-supervised"], n_components=[2])
