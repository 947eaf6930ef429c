"""``skae compare --data``: the user's own tables, arrays and folders of images."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.datasets import load_diabetes, load_iris
from sklearn.decomposition import PCA
from sklearn.metrics import mean_squared_error
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skae._compare import infer_task
from skae._user_data import IndexColumnWarning, load_user_data
from skae.cli import load_data_split, main

QUICK = ["--max-epochs", "2", "--n-components", "2", "--quiet"]


def _run(capsys, tmp_path, data, *extra):
    """Run ``skae compare --data`` quickly; the printed lines and the table's header."""
    png = tmp_path / "f.png"
    assert main(["compare", "--data", str(data), *QUICK, *extra, "--output", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    lines = capsys.readouterr().out.splitlines()
    header = next(line.split() for line in lines if line.split()[:1] == ["method"])
    rows = [line.split() for line in lines if line.split()[:1] in (["pca"], ["dense"])]
    assert [row[:2] for row in rows] == [["pca", "2"], ["dense", "2"]]
    return lines, header


def _iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    names = np.array(["setosa", "versicolor", "virginica"])
    return X.assign(species=names[y])[::3].reset_index(drop=True)  # 50 rows


def _images(folder, n, size=(8, 8), mode="L", seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (size[0], size[1], 3) if mode == "RGB" else size
    for i in range(n):
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        Image.fromarray(pixels).convert(mode).save(folder / f"{i:02d}.png")


def _refused(capsys, path, match, error=ValueError, target=None):
    """The loader raises ``error`` matching ``match``; the command says the same on
    stderr and exits with status 2, no traceback."""
    with pytest.raises(error, match=match):
        load_user_data(path, target=target)
    extra = [] if target is None else ["--target", target]
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--data", str(path), *extra, *QUICK, "--output", "none"])
    assert exit_info.value.code == 2
    assert re.search(match, capsys.readouterr().err)


def test_csv_with_a_target_column_scores_accuracy(tmp_path, capsys):
    path = tmp_path / "iris.csv"
    _iris().to_csv(path, index=False)
    lines, header = _run(capsys, tmp_path, path, "--target", "species")
    assert lines[:2] == [
        f"{path}: 37 training and 13 test rows of 4 features",
        "target 'species': classification (3 distinct non-numeric labels; --task to change); "
        "classes setosa, versicolor, virginica; scored by test_accuracy of a logistic "
        "regression on the codes",
    ]
    assert header == ["method", "n_components", "test_mse", "test_accuracy", "fit_seconds"]


def test_parquet_without_target_has_no_accuracy(tmp_path, capsys):
    path = tmp_path / "iris.parquet"
    _iris().drop(columns="species").to_parquet(path)
    lines, header = _run(capsys, tmp_path, path)
    assert lines[0] == f"{path}: 37 training and 13 test rows of 4 features"
    assert header == ["method", "n_components", "test_mse", "fit_seconds"]


def test_continuous_target_scores_r2(tmp_path, capsys):
    path = tmp_path / "iris.csv"
    _iris().drop(columns="species").to_csv(path, index=False)
    lines, header = _run(capsys, tmp_path, path, "--target", "petal width (cm)")
    assert lines[0].endswith("rows of 3 features")
    assert re.match(
        r"target 'petal width \(cm\)': regression \(\d+ distinct values, not all whole numbers;",
        lines[1],
    )
    assert header == ["method", "n_components", "test_mse", "test_r2", "fit_seconds"]


def test_npy_images_and_npz_labels(tmp_path, capsys):
    images = np.random.default_rng(0).integers(0, 256, (40, 8, 6), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    lines, header = _run(capsys, tmp_path, tmp_path / "images.npy")
    assert lines[0].endswith(": 30 training and 10 test images of 8x6 pixels")
    assert "test_accuracy" not in header

    np.savez(tmp_path / "labelled.npz", X=images, y=np.arange(40) % 2)
    X, y, shape = load_user_data(tmp_path / "labelled.npz")
    assert X.dtype == np.float32 and X.shape == (40, 48) and shape == (8, 6)
    assert X.max() <= 1.0 and np.array_equal(X[3], images[3].ravel() / np.float32(255))
    assert y.tolist() == [0, 1] * 20


def test_folder_with_class_subfolders(tmp_path, capsys):
    _images(tmp_path / "digits" / "cats", 12, seed=1)
    _images(tmp_path / "digits" / "dogs", 12, seed=2)
    lines, header = _run(capsys, tmp_path, tmp_path / "digits")
    assert lines[0].endswith(": 18 training and 6 test images of 8x8 pixels")
    assert "classes cats, dogs; scored by test_accuracy" in lines[1]
    assert header == ["method", "n_components", "test_mse", "test_accuracy", "fit_seconds"]


def test_rgb_folder_resized_with_conv(tmp_path, capsys):
    _images(tmp_path / "photos", 16, size=(10, 12), mode="RGB")
    X, y, shape = load_user_data(tmp_path / "photos", image_size=(6, 8))
    assert X.shape == (16, 6 * 8 * 3) and y is None and shape == (6, 8, 3)
    assert 0.0 <= X.min() and X.max() <= 1.0
    lines, header = _run(
        capsys, tmp_path, tmp_path / "photos", "--image-size", "6x8", "--methods", "pca,dense,conv"
    )
    assert lines[0].endswith(": 12 training and 4 test images of 6x8 pixels, RGB")
    assert header == ["method", "n_components", "test_mse", "fit_seconds"]
    assert any(line.split()[:2] == ["conv", "2"] for line in lines)


def test_non_numeric_column(tmp_path, capsys):
    path = tmp_path / "iris.csv"
    _iris().to_csv(path, index=False)
    _refused(
        capsys,
        path,
        r"iris\.csv: non-numeric feature column\(s\) 'species'\. 'species' holds categories: "
        r"encode them as numbers \(e\.g\. one-hot",
    )


def test_missing_values(tmp_path, capsys):
    frame = _iris().drop(columns="species")
    frame.iloc[[1, 5], 2] = np.nan
    path = tmp_path / "holes.csv"
    frame.to_csv(path, index=False)
    _refused(
        capsys,
        path,
        r"holes\.csv: missing values in column\(s\) 'petal length \(cm\)' \(2\)\. Impute",
    )


def test_missing_target_column(tmp_path, capsys):
    path = tmp_path / "iris.parquet"
    _iris().to_parquet(path)
    match = r"iris\.parquet has no column 'label'; its columns are 'sepal length.*'species'"
    _refused(capsys, path, match, target="label")


def test_missing_file(tmp_path, capsys):
    _refused(capsys, tmp_path / "nowhere.csv", r"nowhere\.csv does not exist", FileNotFoundError)


def test_unknown_extension(tmp_path, capsys):
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"not a table")
    _refused(capsys, path, r"data\.xlsx: unknown file type '\.xlsx'\. Pass one of \.csv")


def test_parquet_without_pyarrow(tmp_path, monkeypatch):
    path = tmp_path / "t.parquet"
    _iris().to_parquet(path)

    def no_engine(*args, **kwargs):
        raise ImportError("Unable to find a usable engine")

    monkeypatch.setattr(pd, "read_parquet", no_engine)
    with pytest.raises(
        ImportError, match=r't\.parquet needs pyarrow: pip install "skae\[parquet\]"'
    ):
        load_user_data(path)


def test_empty_folder(tmp_path, capsys):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("no images")
    _refused(capsys, tmp_path / "empty", r"empty holds no images: looked for \.bmp .* \.webp")


def test_mixed_grey_and_colour_images(tmp_path, capsys):
    _images(tmp_path / "mixed", 3, mode="L")
    _images(tmp_path / "mixed", 1, mode="RGB")  # 00.png becomes RGB
    match = r"mixes grey and colour images, e\.g\. .*01\.png \(mode 'L'\) and .*00\.png"
    _refused(capsys, tmp_path / "mixed", match + r".*convert\('RGB'\)")


def test_sizes_differ_without_image_size(tmp_path, capsys):
    _images(tmp_path / "sizes", 3, size=(8, 8))
    _images(tmp_path / "sizes" / "more", 0)
    Image.new("L", (10, 8)).save(tmp_path / "sizes" / "wide.png")
    match = r"different sizes, e\.g\. .*00\.png \(8x8 pixels\) and .*wide\.png \(8x10 pixels\)"
    match += r".*pass an image size.*--image-size 28x28"
    _refused(capsys, tmp_path / "sizes", match)
    X, _, shape = load_user_data(tmp_path / "sizes", image_size=(8, 8))
    assert X.shape == (4, 64) and shape == (8, 8)


def test_unreadable_image(tmp_path, capsys):
    _images(tmp_path / "broken", 4)
    (tmp_path / "broken" / "01.png").write_bytes(b"\x89PNG not really")
    _refused(capsys, tmp_path / "broken", r"Cannot read .*01\.png as an image")


def test_npz_with_several_unnamed_arrays(tmp_path, capsys):
    path = tmp_path / "arrays.npz"
    np.savez(path, np.zeros((10, 3)), np.zeros(10))
    _refused(
        capsys,
        path,
        r"arrays\.npz holds the arrays \['arr_0', 'arr_1'\] and none named 'X'.*X=X, y=y",
    )


def test_rate_distortion_refuses_tables(tmp_path, capsys):
    path = tmp_path / "iris.csv"
    _iris().drop(columns="species").to_csv(path, index=False)
    with pytest.raises(SystemExit):
        main(["compare", "--data", str(path), "--rate-distortion", *QUICK])
    assert "--rate-distortion codes images" in capsys.readouterr().err


def _diabetes(n_rows=150):
    """scikit-learn's diabetes table in its own units: the target holds whole
    numbers (disease progression, 25 to 346), more than 20 distinct."""
    return load_diabetes(scaled=False, as_frame=True).frame[:n_rows]


def test_whole_number_target_with_many_values_is_regression(tmp_path, capsys):
    path = tmp_path / "diabetes.csv"
    _diabetes().to_csv(path, index=False)
    lines, header = _run(capsys, tmp_path, path, "--target", "target")
    assert re.match(
        r"target 'target': regression \(\d\d+ distinct whole numbers, more than 20; --task to "
        r"change\); scored by test_r2 of a ridge regression on the codes",
        lines[1],
    )
    assert header == ["method", "n_components", "test_mse", "test_r2", "fit_seconds"]
    assert infer_task(np.arange(21) % 20)[0] == "classification"  # 20 distinct values
    assert infer_task(np.arange(21))[0] == "regression"


@pytest.mark.filterwarnings("ignore:The number of unique classes:UserWarning")
def test_task_overrides_the_guess(tmp_path, capsys):
    path = tmp_path / "diabetes.csv"
    _diabetes().to_csv(path, index=False)
    lines, header = _run(capsys, tmp_path, path, "--target", "target", "--task", "classification")
    assert lines[1].startswith("target 'target': classification (--task classification); ")
    assert "test_accuracy" in header and "test_r2" not in header

    path = tmp_path / "iris.csv"
    frame = _iris().assign(species=lambda f: f.species.map({"setosa": 0, "versicolor": 1}))
    frame.fillna({"species": 2}).to_csv(path, index=False)
    lines, header = _run(capsys, tmp_path, path, "--target", "species", "--task", "regression")
    assert lines[1].startswith("target 'species': regression (--task regression); ")
    assert "test_r2" in header and "test_accuracy" not in header

    _iris().to_csv(path, index=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--data", str(path), "--target", "species", "--task", "regression"])
    assert exit_info.value.code == 2
    assert "A regression target must be numeric" in capsys.readouterr().err

    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--data", str(tmp_path / "diabetes.csv"), "--task", "classification"])
    assert exit_info.value.code == 2
    assert "--task classification needs labels: pass --target COLUMN" in capsys.readouterr().err


def _pca_row(capsys, path, *extra):
    """The PCA row of ``skae compare --data path`` without its fit time, and the
    printed lines."""
    args = ["compare", "--data", str(path), "--methods", "pca", "--n-components", "2"]
    assert main([*args, "--quiet", "--output", "none", *extra]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = next(line.split() for line in lines if line.split()[:1] == ["pca"])
    return row[:-1], lines


@pytest.mark.parametrize(
    "saved", [{"index": True}, {"sep": ";"}, {"sep": "\t"}, {"sep": ";", "index": True}]
)
def test_index_column_and_delimiter_give_the_plain_csv_row(tmp_path, capsys, saved):
    frame = _diabetes()
    frame.to_csv(tmp_path / "plain.csv", index=False)
    expected, _ = _pca_row(capsys, tmp_path / "plain.csv", "--target", "target")
    path = tmp_path / "saved.csv"
    frame.to_csv(path, **{"index": False, **saved})
    row, lines = _pca_row(capsys, path, "--target", "target")
    assert row == expected
    dropped = [line for line in lines if line.startswith("note: ")]
    assert dropped == (
        [
            f"note: {path}: dropped the first column, an unnamed 0, 1, 2, ... index (as pandas' "
            "to_csv writes by default; save with index=False to leave it out)."
        ]
        if saved.get("index")
        else []
    )
    assert lines[len(dropped)] == f"{path}: 112 training and 38 test rows of 10 features"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X, y, _ = load_user_data(path, target="target")
    assert [w.category for w in caught] == [IndexColumnWarning] * len(dropped)
    assert X.shape == (150, 10) and np.array_equal(y, frame["target"])


def test_unnamed_first_column_that_is_not_an_index_is_kept(tmp_path, capsys):
    path = tmp_path / "shuffled.csv"
    _diabetes().sample(frac=1.0, random_state=0).to_csv(path)  # index 0..n-1 out of order
    _, lines = _pca_row(capsys, path, "--target", "target")
    assert lines[0].endswith("rows of 11 features")
    with warnings.catch_warnings():
        warnings.simplefilter("error", IndexColumnWarning)
        X, _, _ = load_user_data(path, target="target")
    assert X.shape == (150, 11)


@pytest.mark.parametrize(
    ("extra", "scaler", "units"),
    [
        (
            [],
            StandardScaler,
            "standard (default for tables), fitted on the training split; "
            "test_mse in standardised units (each feature to mean 0, variance 1)",
        ),
        (
            ["--scale", "minmax"],
            MinMaxScaler,
            "minmax (--scale), fitted on the training "
            "split; test_mse in min-max units (each feature to [0, 1])",
        ),
        (
            ["--scale", "none"],
            None,
            "none (--scale); test_mse in the data's own units (not scaled)",
        ),
    ],
)
def test_tables_are_standardised_by_default(tmp_path, capsys, extra, scaler, units):
    path = tmp_path / "diabetes.csv"
    _diabetes().to_csv(path, index=False)
    row, lines = _pca_row(capsys, path, "--target", "target", *extra)
    assert lines[2] == f"scaling: {units}"
    X_train, X_test, *_ = load_data_split(path, "target")
    if scaler is not None:
        fitted = scaler().fit(X_train)  # on the training split only
        X_train, X_test = fitted.transform(X_train), fitted.transform(X_test)
    pca = PCA(2, random_state=0).fit(X_train)
    mse = mean_squared_error(X_test, pca.inverse_transform(pca.transform(X_test)))
    assert float(row[2]) == pytest.approx(mse, abs=1e-4)


def test_images_keep_their_pixels_by_default(tmp_path, capsys):
    images = np.random.default_rng(0).integers(0, 256, (40, 8, 6), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    _, lines = _pca_row(capsys, tmp_path / "images.npy")
    assert (
        lines[1] == "scaling: none (default for images); test_mse in the data's own units "
        "(not scaled)"
    )
    _, lines = _pca_row(capsys, tmp_path / "images.npy", "--scale", "standard")
    assert lines[1].startswith("scaling: standard (--scale), fitted on the training split")


def _r_iris():
    """Iris as R has it: rows sorted by species, the label column ``Species``."""
    X, y = load_iris(return_X_y=True, as_frame=True)
    names = np.array(["setosa", "versicolor", "virginica"])
    frame = X.assign(Species=names[y]).sort_values("Species", kind="stable")
    return frame.reset_index(drop=True)


def _write_r_csv(frame, path, header):
    """``frame`` as R's ``write.csv`` writes it: every text quoted, the row names
    1, 2, ..., n first under the header ``header`` ("" in R, "rownames" in the
    Rdatasets collection)."""
    lines = [",".join(f'"{name}"' for name in [header, *frame.columns])]
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        values = [f'"{v}"' if isinstance(v, str) else repr(float(v)) for v in row]
        lines.append(",".join([f'"{i}"', *values]))
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("name", "header", "sep"),
    [("iris.csv", "rownames", ","), ("iris.csv", "", ","), ("iris.tsv", "", "\t")],
)
def test_r_row_numbers_are_dropped_with_a_note(tmp_path, capsys, name, header, sep):
    # Read as a feature, the row number of species-sorted rows gives the species
    # away (test accuracy 1.0 at two components).
    path = tmp_path / name
    if sep == ",":
        _write_r_csv(_r_iris(), path, header)
    else:
        _r_iris().set_axis(np.arange(1, 151)).rename_axis(header).to_csv(path, sep=sep)
    row, lines = _pca_row(capsys, path, "--target", "Species")
    accuracy = float(row[3])
    assert 0.7 < accuracy < 0.95
    label = "without a name" if header == "" else f"'{header}'"
    assert lines[0] == (
        f"note: {path}: dropped the first column {label}: the row numbers 1, 2, 3, ..., as "
        "R's write.csv writes its row names (write.csv(..., row.names = FALSE) leaves them "
        "out); a row number is not a feature."
    )
    assert lines[1] == f"{path}: 112 training and 38 test rows of 4 features"


@pytest.mark.parametrize("header", ["id", "Unnamed: 0", "rownames"])
def test_other_row_labels_are_dropped(tmp_path, header):
    frame = _diabetes(40)
    counted = frame.set_axis(np.arange(40)).rename_axis(header).reset_index()
    counted.to_csv(tmp_path / "counted.csv", index=False)  # a named 0, 1, 2, ... column
    named = frame.set_axis([f"patient {i}" for i in range(40)[::-1]]).rename_axis(header)
    named.to_csv(tmp_path / "named.csv")  # R's row names as text, e.g. mtcars' car models
    counted_note = (
        "an unnamed 0, 1, 2, ... index"
        if header == "Unnamed: 0"
        else f"'{header}': the row numbers 0, 1, 2, ..., a saved index"
    )
    named_note = "a distinct name for each row"
    for path, what in [("counted.csv", counted_note), ("named.csv", named_note)]:
        if path == "named.csv" and header == "id":
            continue  # text under a name: an identifier, reported below
        with pytest.warns(IndexColumnWarning, match=re.escape(what)):
            X, y, _ = load_user_data(tmp_path / path, target="target")
        assert X.shape == (40, 10) and np.array_equal(y, frame["target"])
    if header == "id":
        with pytest.raises(ValueError, match=r"'id' holds a different value in every row"):
            load_user_data(tmp_path / "named.csv", target="target")


def test_a_first_column_that_counts_is_kept_as_the_target(tmp_path):
    frame = _diabetes(40).assign(target=np.arange(1, 41))[["target", "age", "bmi"]]
    frame.to_csv(tmp_path / "t.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", IndexColumnWarning)
        X, y, _ = load_user_data(tmp_path / "t.csv", target="target")
    assert X.shape == (40, 2) and y.tolist() == list(range(1, 41))


def _mixed_table(n=40):
    """Numeric features beside a date, an identifier, decimal-comma numbers and
    categories, as a spreadsheet export has them."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "visit": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "patient": [f"P{i:04d}" for i in rng.permutation(n)],
            "weight": [f"{v:.1f}".replace(".", ",") for v in rng.uniform(50, 90, n)],
            "site": rng.choice(["north", "south", "east"], n),
            "y": rng.normal(size=n),
        }
    )


def test_non_numeric_columns_say_what_they_hold(tmp_path, capsys):
    path = tmp_path / "visits.csv"
    _mixed_table().to_csv(path, index=False)
    message = str(pytest.raises(ValueError, load_user_data, path).value)
    assert message.startswith(
        f"{path}: non-numeric feature column(s) 'visit', 'patient', 'weight', 'site'. "
    )
    assert (
        "'weight' holds numbers written with a decimal comma: pass --decimal , (decimal=',')"
        in message
    )
    assert "'visit' holds dates or times: convert them to numbers" in message
    assert "drop them: --drop visit (drop=['visit'])" in message
    assert (
        "'patient' holds a different value in every row, an identifier rather than a feature: "
        "drop it: --drop patient (drop=['patient'])" in message
    )
    assert "'site' holds categories: encode them as numbers (e.g. one-hot" in message
    assert message.count("one-hot") == 1  # the other kinds are not told to one-hot encode
    _refused(capsys, path, r"'visit' holds dates or times")


def test_drop_and_decimal_read_a_spreadsheet_export(tmp_path, capsys):
    frame = _mixed_table()
    path = tmp_path / "visits.csv"
    frame.to_csv(path, index=False, sep=";", decimal=",")  # a European export
    args = ["--drop", "visit,patient,site", "--decimal", ","]
    row, lines = _pca_row(capsys, path, *args)
    assert lines[0] == f"{path}: 30 training and 10 test rows of 3 features"
    plain = frame.drop(columns=["visit", "patient", "site"])
    plain["weight"] = plain["weight"].str.replace(",", ".").astype(float)
    plain.to_csv(tmp_path / "plain.csv", index=False)
    assert row == _pca_row(capsys, tmp_path / "plain.csv")[0]
    X, _, _ = load_user_data(path, drop=["visit", "patient", "site"], decimal=",")
    assert np.allclose(X[:, 1], plain["weight"])


def test_drop_names_a_column_that_does_not_exist(tmp_path, capsys):
    path = tmp_path / "iris.csv"
    _iris().to_csv(path, index=False)
    match = r"iris\.csv has no column 'sepal_length' to drop; its columns are 'sepal length"
    with pytest.raises(ValueError, match=match):
        load_user_data(path, drop=["sepal_length"])
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--data", str(path), "--drop", "sepal_length,species", *QUICK])
    assert exit_info.value.code == 2
    assert re.search(match, capsys.readouterr().err)
    with pytest.raises(ValueError, match=r"'species' is the target; it cannot also be dropped"):
        load_user_data(path, target="species", drop=["species"])


def test_tsv_is_read_with_tabs(tmp_path, capsys):
    frame = _iris()
    frame.to_csv(tmp_path / "iris.csv", index=False)
    frame.to_csv(tmp_path / "iris.tsv", index=False, sep="\t")
    expected, _ = _pca_row(capsys, tmp_path / "iris.csv", "--target", "species")
    row, lines = _pca_row(capsys, tmp_path / "iris.tsv", "--target", "species")
    assert row == expected and lines[0].endswith("37 training and 13 test rows of 4 features")


def test_missing_values_are_reported_beside_text_columns(tmp_path, capsys):
    frame = _iris()
    frame.iloc[[1, 5], 2] = np.nan
    path = tmp_path / "holes.csv"
    frame.to_csv(path, index=False)
    _refused(
        capsys,
        path,
        r"holes\.csv: non-numeric feature column\(s\) 'species'\..* Also: missing values in "
        r"column\(s\) 'petal length \(cm\)' \(2\)\. Impute",
    )


def test_data_errors_come_without_the_usage_block(tmp_path, capsys):
    path = tmp_path / "iris.csv"
    _iris().to_csv(path, index=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--data", str(path), "--output", "none"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skae compare: error: {path}: non-numeric feature column(s)")
    assert "usage:" not in err and len(err.splitlines()) == 1


def test_small_errors_print_with_their_digits(tmp_path, capsys):
    # Rank-2 data and a little noise: PCA's error at two components is about 5e-5.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2)) @ rng.normal(size=(2, 6)) + 1e-3 * rng.normal(size=(80, 6))
    np.save(tmp_path / "flat.npy", X)
    args = ["compare", "--data", str(tmp_path / "flat.npy"), "--methods", "pca"]
    assert main([*args, "--n-components", "1,2", "--quiet", "--output", "none"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["method"])
    table = lines[header : header + 3]
    mse = [float(line.split()[2]) for line in table[1:]]
    assert 1e-6 < mse[1] < 1e-3 and mse[0] > 1e-2
    end = table[0].index("test_mse") + len("test_mse")  # right-aligned under the header
    assert all(line[end - 1] != " " and line[end] == " " for line in table[1:])


def test_csv_and_parquet_of_one_name_write_two_figures(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = _iris().drop(columns="species")
    frame.to_csv("iris.csv", index=False)
    frame.to_parquet("iris.parquet")
    for name in ("iris.csv", "iris.parquet"):
        args = ["compare", "--data", name, "--methods", "pca", "--n-components", "2"]
        assert main([*args, "--quiet"]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("fig")]
    assert printed == ["figure: skae-compare-iris-csv.png", "figure: skae-compare-iris-parquet.png"]
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "skae-compare-iris-csv.png",
        "skae-compare-iris-parquet.png",
    ]
