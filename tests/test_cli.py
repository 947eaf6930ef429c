"""The main job, ``skae compare``, end to end on small data."""

import re
import subprocess
import sys

import pytest

from skae._compare import METHODS, make_method
from skae._version import __version__
from skae.cli import load_split, main

from .conftest import MNIST_DIR


def test_compare_digits_end_to_end(tmp_path, capsys):
    png = tmp_path / "out.png"
    assert main(["compare", "--max-epochs", "2", "--quiet", "--output", str(png)]) == 0
    out = capsys.readouterr().out
    assert "digits: 1347 training and 450 test images of 8x8 pixels" in out
    assert "labels: classification (--task to change)" not in out  # a named set: no hint
    assert "scaling: none (default for images); test_mse in the data's own units" in out
    header, *rows = [
        line for line in out.splitlines() if line.strip().startswith(("method", "pca", "dense"))
    ]
    assert header.split() == ["method", "n_components", "test_mse", "test_accuracy", "fit_seconds"]
    assert [r.split()[:2] for r in rows] == [
        ["pca", "2"],
        ["pca", "8"],
        ["pca", "32"],
        ["dense", "2"],
        ["dense", "8"],
        ["dense", "32"],
    ]
    for row in rows:
        mse, acc = float(row.split()[2]), float(row.split()[3])
        assert 0 < mse < 0.2 and 0.1 < acc <= 1.0
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"


def test_compare_every_method(tmp_path, capsys):
    methods = ",".join(METHODS)
    main(
        [
            "compare",
            "--methods",
            methods,
            "--n-components",
            "4",
            "--max-epochs",
            "1",
            "--quiet",
            "--output",
            "none",
        ]
    )
    out = capsys.readouterr().out
    for name in METHODS:
        assert any(line.split()[:2] == [name, "4"] for line in out.splitlines() if line.strip())


def test_unknown_method_is_a_clear_error(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--methods", "pca,tsne"])
    assert "unknown method(s) ['tsne']" in capsys.readouterr().err
    with pytest.raises(ValueError, match="Unknown method"):
        make_method("tsne", 2)


def test_python_dash_m_skae_help():
    result = subprocess.run(
        [sys.executable, "-m", "skae", "compare", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0
    assert "--dataset" in result.stdout and "--methods" in result.stdout


@pytest.mark.slow
def test_compare_mnist_end_to_end(tmp_path, capsys):
    if not MNIST_DIR.is_dir():
        pytest.skip(f"MNIST IDX files not found at {MNIST_DIR}")
    X_train, X_test, y_train, y_test, shape = load_split("mnist", MNIST_DIR, n_train=600)
    assert X_train.shape == (600, 784) and X_test.shape == (150, 784) and shape == (28, 28)
    main(
        [
            "compare",
            "--dataset",
            "mnist",
            "--data-home",
            str(MNIST_DIR),
            "--n-train",
            "600",
            "--n-components",
            "2,8",
            "--max-epochs",
            "2",
            "--quiet",
            "--output",
            str(tmp_path / "mnist.png"),
        ]
    )
    out = capsys.readouterr().out
    assert "mnist: 600 training and 150 test images of 28x28 pixels" in out
    assert (tmp_path / "mnist.png").is_file()


def test_compare_rate_distortion_prints_both_tables_and_figures(tmp_path, capsys):
    pytest.importorskip("skimage")
    png = tmp_path / "out.png"
    args = ["compare", "--rate-distortion", "--max-epochs", "1", "--n-components", "4"]
    args += ["--n-bits", "4,8", "--rd-images", "test,photo-patches", "--quiet"]
    args += ["--n-train", "200", "--codecs", "PNG,WebP"]
    assert main([*args, "--output", str(png)]) == 0
    out = capsys.readouterr().out
    assert "rate-distortion on the 50 test images" in out
    assert "rate-distortion on 50 patches of scikit-image's photographs" in out
    lines = [line.split() for line in out.splitlines()]
    headers = [words for words in lines if words[:2] == ["method", "setting"]]
    assert len(headers) == 2
    assert headers[0][:5] == ["method", "setting", "bytes_per_sample", "bits_per_pixel", "psnr"]
    rows = [line for line in out.splitlines() if "codes x 4 bits" in line]
    assert [r.split(",")[0].strip() for r in rows] == ["pca", "dense"] * 2
    assert sum(words[:1] == ["WebP"] for words in lines) == 2 * 7  # 7 qualities, 2 tables
    for which in ("test", "photo-patches"):
        figure = tmp_path / f"out-rate-distortion-{which}.png"
        assert figure.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--n-components", "0"],
            "argument --n-components: '0' is not a whole number of 1 or more",
        ),
        (["--n-components", "2,-8"], "argument --n-components: '-8' is not a whole number of 1"),
        (["--n-components", ","], "argument --n-components: ',': pass comma-separated numbers"),
        (["--max-epochs", "two"], "argument --max-epochs: 'two' is not a whole number of 1"),
        (["--n-train", "0"], "argument --n-train: '0' is not a whole number of 1 or more"),
        (["--random-state", "-1"], "argument --random-state: '-1' is not a whole number of 0"),
        (["--drop", ","], "argument --drop: ',': pass comma-separated column names"),
        (["--decimal", ";"], "argument --decimal: invalid choice: ';'"),
    ],
)
def test_bad_arguments_are_usage_errors(capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", *args, "--output", "none"])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("usage: skae compare [-h]")
    assert message in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "nowhere.csv"], "nowhere.csv does not exist: pass a CSV"),
        (["--n-components", "65"], "--n-components must be at most 64"),
        (["--target", "y", "--drop", "id"], "--target and --drop apply to --data only"),
    ],
)
def test_errors_found_after_parsing_come_without_the_usage_block(capsys, args, message):
    # The 12-line usage block says nothing about a missing file or a bad table.
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", *args, "--output", "none"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skae compare: error: {message}")
    assert err.count("\n") == 1 and "usage:" not in err and "Traceback" not in err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"skae {__version__}\n"


@pytest.mark.parametrize("args", [["--help"], ["compare", "--help"]])
def test_help_is_plain_text(capsys, args):
    with pytest.raises(SystemExit):
        main(args)
    text = capsys.readouterr().out
    assert "--version" in text or "--scale" in text
    # No reStructuredText: ``literals``, `links`_, :roles:`...`.
    assert "`" not in text and not re.search(r":\w+:", text)


def test_no_progress_bar_when_stderr_is_not_a_terminal(capsys):
    # Redirected, tqdm's bar would write a line per update into the log.
    args = ["compare", "--methods", "pca", "--n-components", "2", "--output", "none"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "\x1b" not in captured.out and "\r" not in captured.out
