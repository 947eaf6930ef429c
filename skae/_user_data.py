"""The user's own data for ``skae compare --data``: tables, arrays, folders of images.

:func:`load_user_data` reads a CSV or Parquet table, a ``.npy`` / ``.npz``
array, or a folder of images into the flat float32 rows the estimators take,
with labels where the data carry them, and says clearly what to change where
the data cannot be used as they are.
"""

from __future__ import annotations

import csv
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
TEXT_SUFFIXES = (".csv", ".tsv")  # the tables read by pandas.read_csv

#: Headers of a first column that holds row names: none (pandas reads an
#: empty header as "Unnamed: 0"; R's write.csv writes ""), or R's and
#: Rdatasets' names for it.
ROW_NAME_HEADERS = ("", "Unnamed: 0", "rownames", "row.names", "row_names")
ARRAY_SUFFIXES = (".npy", ".npz")
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")

# Pillow modes read as grey (converted to "L", or scaled from 16 bits) and as
# colour (converted to "RGB": a palette, transparency or CMYK becomes RGB).
_GREY_8BIT = {"1", "L", "LA", "La"}
_GREY_16BIT = {"I", "I;16", "I;16L", "I;16B", "I;16N"}
_COLOUR = {"RGB", "RGBA", "RGBa", "RGBX", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV"}


def load_user_data(path, *, target=None, image_size=None, drop=None, decimal="."):
    """Read a table, an array file or a folder of images as rows of features.

    Parameters
    ----------
    path : str or path-like
        One of:

        - a CSV (``.csv``), TSV (``.tsv``, tab-separated) or Parquet
          (``.parquet``, ``.pq``) table: one row per sample, numeric columns
          without missing values. A CSV's delimiter (comma, semicolon, tab or
          ``|``) is detected by :class:`csv.Sniffer` (comma where it cannot
          tell). A first column that holds row numbers or row names is
          dropped, with an :class:`IndexColumnWarning`: whole numbers 1, 2,
          ..., n or 0, 1, ..., n - 1 in order, whatever its name (R's
          ``write.csv`` writes the first, pandas' ``to_csv`` the second), or
          a distinct text per row under an empty header or one named
          ``rownames`` (R's row names, e.g. car models);
        - a ``.npy`` file holding one array: ``(n_samples, n_features)``
          rows, or images ``(n_samples, height, width)`` or ``(n_samples,
          height, width, channels)`` with 1 or 3 channels last;
        - a ``.npz`` file with the arrays ``X`` and, optionally, ``y``
          (labels, ``(n_samples,)``); a file holding a single array is read
          as ``X``. Image arrays of dtype uint8 are divided by 255; other
          arrays are kept as they are;
        - a folder of images (.bmp .gif .jpeg .jpg .png .tif .tiff .webp;
          files and folders whose name starts with "." are skipped). Where it has
          sub-folders holding images, each sub-folder is a class, named by
          the sub-folder, and its images are found at any depth below it; a
          single such sub-folder gives no labels. Grey images (Pillow modes
          "1", "L", "LA", 16-bit "I" / "I;16") are read as one channel, colour
          images ("RGB", "RGBA", palette "P", "CMYK", ...) as RGB, transparency
          dropped; an animated image gives its first frame. Pixels are scaled
          to [0, 1].
    target : str, default=None
        Tables only: the column holding the labels (or values) ``y``, removed
        from the features. None: every column is a feature and ``y`` is None.
    image_size : tuple of int, default=None
        Folders of images only: ``(height, width)`` every image is resized to
        (Pillow's bicubic filter). None: the images' common size.
    drop : sequence of str, default=None
        Tables only: columns left out of the features, e.g. identifiers
        (customer numbers, file names) that the row-name rule above does not
        see. None drops none.
    decimal : {".", ","}, default="."
        CSV and TSV tables only: the decimal mark of their numbers; ``","``
        reads ``3,14`` as 3.14 (and a comma is then never taken for the
        delimiter).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float32
        One row per sample; images are flattened in ``(height, width[,
        channels])`` order.
    y : ndarray of shape (n_samples,) or None
        The ``target`` column, the ``y`` array of a ``.npz`` file, or the
        sub-folder name (str) of each image; None where the data have none.
    image_shape : tuple of int or None
        ``(height, width)`` of grey images, ``(height, width, channels)`` of
        colour ones; None for tables and 2-D arrays.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        With a message naming the file and what to change: if the format is
        not one of the above or the file cannot be parsed; if a table has no
        rows, no feature columns, lacks ``target`` or a column of ``drop``,
        or its target holds a single value; if it has non-numeric feature
        columns (the message says of each whether it holds dates, an
        identifier, numbers written with a decimal comma, or categories, and
        what to do), missing or infinite values (every such problem of the
        table in one message); if an array is not numeric, not finite, 1-D,
        of more than 4 dimensions, has no samples, or images with other than
        1 or 3 channels last, or if a ``.npz`` file has no array ``X`` and
        not exactly one array, or a ``y`` of another length; if a folder
        holds no images, images beside class sub-folders, images of
        different sizes and no ``image_size`` is given, grey and colour
        images together, or a file Pillow cannot read; if ``target``,
        ``drop``, ``decimal`` or ``image_size`` is given for data they do
        not apply to.
    ImportError
        If a Parquet file is given and no Parquet engine (pyarrow) is
        installed.

    Warns
    -----
    IndexColumnWarning
        Where a table's first column holds row numbers or row names, dropped.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: pass a CSV, TSV or Parquet table, a .npy or .npz array, "
            "or a folder of images."
        )
    suffix = "" if path.is_dir() else path.suffix.lower()
    if suffix and suffix not in TABLE_SUFFIXES + ARRAY_SUFFIXES:
        raise ValueError(
            f"{path}: unknown file type {path.suffix!r}. Pass one of "
            f"{', '.join(TABLE_SUFFIXES + ARRAY_SUFFIXES)}, or a folder of images "
            f"({' '.join(IMAGE_SUFFIXES)})."
        )
    if (target is not None or drop) and suffix not in TABLE_SUFFIXES:
        raise ValueError(
            f"{path}: target and drop name columns of a CSV, TSV or Parquet table; a .npz "
            "file carries its labels as the array 'y', a folder of images as class "
            "sub-folders."
        )
    if decimal not in (".", ","):
        raise ValueError(f"decimal must be '.' or ',', got {decimal!r}.")
    if decimal != "." and suffix not in TEXT_SUFFIXES:
        raise ValueError(f"{path}: decimal applies to CSV and TSV tables only.")
    if image_size is not None and suffix:
        raise ValueError(f"{path}: image_size applies to a folder of images only.")
    if not suffix:
        return _read_image_folder(path, image_size)
    if suffix in ARRAY_SUFFIXES:
        return _read_arrays(path)
    frame = _drop_columns(_read_table(path, suffix, decimal), drop, path, target)
    X, y = _table_to_arrays(_drop_row_names(frame, path, target), path, target, suffix)
    return X, y, None


class IndexColumnWarning(UserWarning):
    """A table's first column held row numbers or row names, and was dropped.

    The index pandas' ``to_csv`` writes (0, 1, ..., n - 1), the row numbers
    or names R's ``write.csv`` writes: labels of the rows, not features.
    """


def _delimiter(path, decimal="."):
    """The CSV file's delimiter as :class:`csv.Sniffer` reads it from its first
    lines, among comma (unless it is the ``decimal`` mark), semicolon, tab and
    ``|``; the first of those where it cannot tell, e.g. for a single column."""
    delimiters = ";\t|" if decimal == "," else ",;\t|"
    with open(path, newline="", encoding="utf-8", errors="replace") as file:
        sample = file.read(1 << 16)
    if len(sample) == 1 << 16:  # drop the last line, likely cut short
        sample = sample[: sample.rfind("\n") + 1] or sample
    try:
        return csv.Sniffer().sniff(sample, delimiters=delimiters).delimiter
    except csv.Error:
        return delimiters[0]


def _drop_columns(frame, drop, path, target):
    """``frame`` without the columns ``drop`` names; a ``ValueError`` naming a
    column it does not have, or the target."""
    names = list(dict.fromkeys(drop or ()))
    unknown = [name for name in names if name not in frame.columns]
    if unknown:
        raise ValueError(
            f"{path} has no column {_columns(unknown)} to drop; its columns are "
            f"{_columns(frame.columns)}."
        )
    if target is not None and target in names:
        raise ValueError(f"{path}: {target!r} is the target; it cannot also be dropped.")
    return frame.drop(columns=names)


def _drop_row_names(frame, path, target):
    """``frame`` without its first column where that holds row numbers or row
    names (see :func:`load_user_data`), with an :class:`IndexColumnWarning`
    saying what was dropped and why; the target is never dropped."""
    first = frame.columns[0] if frame.shape[1] else None
    if frame.shape[1] < 2 or first == target:
        return frame
    values, n = frame.iloc[:, 0], len(frame)
    unnamed = str(first) in ("", "Unnamed: 0")
    label = "without a name" if unnamed else repr(str(first))
    counts = pd.api.types.is_integer_dtype(values)
    if counts and unnamed and np.array_equal(values, np.arange(n)):
        note = (
            ", an unnamed 0, 1, 2, ... index (as pandas' to_csv writes by default; save with "
            "index=False to leave it out)."
        )
    elif counts and n >= 2 and np.array_equal(values, np.arange(1, n + 1)):
        note = (
            f" {label}: the row numbers 1, 2, 3, ..., as R's write.csv writes its row names "
            "(write.csv(..., row.names = FALSE) leaves them out); a row number is not a feature."
        )
    elif counts and n >= 2 and np.array_equal(values, np.arange(n)):
        note = f" {label}: the row numbers 0, 1, 2, ..., a saved index; not a feature."
    elif (
        str(first) in ROW_NAME_HEADERS
        and n >= 2
        and not pd.api.types.is_numeric_dtype(values)
        and values.notna().all()
        and values.is_unique
    ):
        note = (
            f" {label}: a distinct name for each row, as R's write.csv writes its row names; "
            "a row name is not a feature."
        )
    else:
        return frame
    warnings.warn(f"{path}: dropped the first column{note}", IndexColumnWarning, stacklevel=3)
    return frame.iloc[:, 1:]


def _read_table(path, suffix, decimal="."):
    try:
        if suffix == ".tsv":
            return pd.read_csv(path, sep="\t", decimal=decimal)
        if suffix == ".csv":
            return pd.read_csv(path, sep=_delimiter(path, decimal), decimal=decimal)
        return pd.read_parquet(path)
    except ImportError as err:
        raise ImportError(
            f'Reading the Parquet file {path} needs pyarrow: pip install "skae[parquet]".'
        ) from err
    except ValueError as err:  # pandas' and pyarrow's parser errors, undecodable text
        kind = {".csv": "CSV", ".tsv": "TSV"}.get(suffix, "Parquet")
        raise ValueError(f"Cannot read {path} as a {kind} table: {err}") from err


def _columns(names):
    return ", ".join(repr(str(name)) for name in names)


# A number written with a decimal comma ("3,14", "-0,5", "1,2e-3"), or a whole
# number, as a text column holds them when the file's decimal mark is a comma.
_DECIMAL_COMMA = re.compile(r"[+-]?(\d+(,\d*)?|,\d+)([eE][+-]?\d+)?")


def _text_column_kind(values):
    """What a non-numeric column holds: "decimal comma" (numbers written with a
    decimal comma), "dates" (dates or times), "identifier" (a distinct value
    per row) or "categories" (anything else)."""
    present = values.dropna()
    if not len(present):
        return "categories"
    text = present.astype(str).str.strip()
    sample = text.drop_duplicates()[:1000]
    if sample.str.fullmatch(_DECIMAL_COMMA).all() and sample.str.contains(",").any():
        return "decimal comma"
    if pd.api.types.is_datetime64_any_dtype(values) or _dates(sample):
        return "dates"
    if len(present) == len(values) and len(values) >= 2 and present.is_unique:
        return "identifier"
    return "categories"


def _dates(text):
    """Whether every value is a date or time pandas can read; values without a
    digit ("March", "Mon") and ones read as the year 1 ("1st", "3 - 4") are not."""
    if not text.str.contains(r"\d").all():
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
    except (ValueError, TypeError, OverflowError):
        return False
    return bool(parsed.notna().all() and (parsed.dt.year > 1).all())


def _text_columns_problem(features, suffix):
    """A sentence per kind of non-numeric feature column: what it holds and what
    to do; None where every feature column is numeric."""
    text = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if not text:
        return None
    kinds = {}
    for column in text:
        kinds.setdefault(_text_column_kind(features[column]), []).append(column)

    def holds(names):
        return f"{_columns(names)} {'holds' if len(names) == 1 else 'hold'}"

    def drop(names):
        listed = ",".join(str(name) for name in names)
        return f"--drop {listed} (drop={[str(name) for name in names]})"

    sentences = []
    if "decimal comma" in kinds:
        names = kinds["decimal comma"]
        fix = (
            "pass --decimal , (decimal=',') to read them as numbers"
            if suffix in TEXT_SUFFIXES
            else "convert them to numbers, e.g. series.str.replace(',', '.').astype(float)"
        )
        sentences.append(f"{holds(names)} numbers written with a decimal comma: {fix}.")
    if "dates" in kinds:
        names = kinds["dates"]
        sentences.append(
            f"{holds(names)} dates or times: convert them to numbers (e.g. days since the "
            f"first, or the month and weekday as features) or drop them: {drop(names)}."
        )
    if "identifier" in kinds:
        names = kinds["identifier"]
        sentences.append(
            f"{holds(names)} a different value in every row, an identifier rather than a "
            f"feature: drop {'it' if len(names) == 1 else 'them'}: {drop(names)}."
        )
    if "categories" in kinds:
        names = kinds["categories"]
        sentences.append(
            f"{holds(names)} categories: encode them as numbers (e.g. one-hot with "
            "pandas.get_dummies or sklearn's OneHotEncoder) or drop them; or pass a label "
            "column as the target (--target COLUMN)."
        )
    return f"non-numeric feature column(s) {_columns(text)}. " + " ".join(sentences)


def _table_to_arrays(frame, path, target, suffix=".csv"):
    """``(X, y)`` from a table; a ``ValueError`` naming the file and the fix
    where the table cannot be used as it is (every problem found, in one
    message)."""
    if target is not None and target not in frame.columns:
        raise ValueError(
            f"{path} has no column {target!r}; its columns are {_columns(frame.columns)}. "
            "Pass one of them as the target, or none for unlabelled data."
        )
    if frame.empty:
        raise ValueError(f"{path} has no rows: a table needs one row per sample.")
    features = frame.drop(columns=[] if target is None else [target])
    if features.shape[1] == 0:
        raise ValueError(
            f"{path} has no feature columns besides the target {target!r}: "
            "the features are every column but the target."
        )
    problems = []
    text = _text_columns_problem(features, suffix)
    if text is not None:
        problems.append(text)
    missing = frame.isna().sum()
    missing = missing[missing > 0]
    if len(missing):
        counts = ", ".join(f"{str(c)!r} ({n})" for c, n in missing.items())
        problems.append(
            f"missing values in column(s) {counts}. Impute them (e.g. sklearn's "
            "SimpleImputer) or drop those rows or columns first."
        )
    if problems:
        raise ValueError(f"{path}: " + " Also: ".join(problems))
    X = features.to_numpy(dtype=np.float32)
    infinite = features.columns[~np.isfinite(X).all(axis=0)]
    if len(infinite):
        raise ValueError(
            f"{path}: infinite values (or values beyond float32) in column(s) "
            f"{_columns(infinite)}: replace or drop them."
        )
    if target is None:
        return X, None
    y = frame[target].to_numpy()
    if len(np.unique(y.astype(str))) < 2:
        raise ValueError(
            f"{path}: the target column {target!r} holds a single value: there is "
            "nothing to predict. Pass another column, or none for unlabelled data."
        )
    return X, y


def _read_arrays(path):
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.ndarray):
            arrays = {"X": data}
        else:
            with data:
                arrays = {key: data[key] for key in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(
            f"Cannot read {path} as numeric numpy arrays ({err}); arrays of Python objects "
            "need pickle, which skae does not load: save numeric arrays (np.save, np.savez)."
        ) from err
    if "X" not in arrays and len(arrays) != 1:
        raise ValueError(
            f"{path} holds the arrays {list(arrays)} and none named 'X': save the data as X "
            "and the labels, if any, as y: np.savez(path, X=X, y=y)."
        )
    X = arrays["X"] if "X" in arrays else next(iter(arrays.values()))
    y = arrays.get("y") if "X" in arrays else None
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise ValueError(f"{path}: the data array has dtype {X.dtype}; it must be numeric.")
    if X.ndim < 2 or X.ndim > 4:
        raise ValueError(
            f"{path}: the data array has shape {X.shape}; pass rows (n_samples, n_features) "
            "(X.reshape(-1, 1) for a single feature) or images (n_samples, height, width"
            "[, channels])."
        )
    if len(X) == 0:
        raise ValueError(f"{path}: the data array holds no samples, shape {X.shape}.")
    if X.ndim == 4 and X.shape[-1] not in (1, 3):
        hint = " (channels first? use np.moveaxis(X, 1, -1))" if X.shape[1] in (1, 3) else ""
        raise ValueError(f"{path}: images of shape {X.shape[1:]} need 1 or 3 channels last{hint}.")
    image_shape = None
    if X.ndim > 2:
        image_shape = X.shape[1:3] if X.ndim == 3 or X.shape[-1] == 1 else X.shape[1:]
        image_shape = tuple(int(v) for v in image_shape)
    scale = 255.0 if X.dtype == np.uint8 and image_shape is not None else 1.0
    X = X.reshape(len(X), -1).astype(np.float32) / np.float32(scale)
    if not np.isfinite(X).all():
        raise ValueError(
            f"{path}: the data array holds {int((~np.isfinite(X)).sum())} NaN or infinite "
            "values: impute or drop them first."
        )
    if y is not None:
        y = np.asarray(y)
        if y.shape != (len(X),):
            raise ValueError(
                f"{path}: y has shape {y.shape} but X has {len(X)} samples: "
                "y needs one label per sample, shape (n_samples,)."
            )
    return X, y, image_shape


def _image_files(folder):
    """``(files, labels)``: the folder's images, sorted, and their class names
    (None without class sub-folders)."""

    def images(where, deep):
        found = where.rglob("*") if deep else where.iterdir()
        return sorted(
            p
            for p in found
            if p.is_file()
            and p.suffix.lower() in IMAGE_SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(where).parts)
        )

    classes = {
        d.name: images(d, deep=True)
        for d in sorted(folder.iterdir())
        if d.is_dir() and not d.name.startswith(".")
    }
    classes = {name: files for name, files in classes.items() if files}
    loose = images(folder, deep=False)
    if loose and classes:
        raise ValueError(
            f"{folder} holds images ({loose[0].name}, ...) beside class sub-folders "
            f"({', '.join(classes)}): move them into a sub-folder of their class, or "
            "remove them."
        )
    if not loose and not classes:
        raise ValueError(
            f"{folder} holds no images: looked for {' '.join(IMAGE_SUFFIXES)} files in it "
            "and in its sub-folders."
        )
    if len(classes) == 1:
        return next(iter(classes.values())), None
    if not classes:
        return loose, None
    files = [f for group in classes.values() for f in group]
    return files, [name for name, group in classes.items() for _ in group]


def _open(path):
    try:
        return Image.open(path)
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"Cannot read {path} as an image ({err}): fix or remove it.") from err


def _read_image_folder(folder, image_size):
    files, labels = _image_files(folder)
    modes, sizes = {}, {}
    for path in files:
        with _open(path) as image:
            modes[path], sizes[path] = image.mode, image.size
    unknown = [p for p, mode in modes.items() if mode not in _GREY_8BIT | _GREY_16BIT | _COLOUR]
    if unknown:
        raise ValueError(
            f"{unknown[0]} has the Pillow mode {modes[unknown[0]]!r}, which skae does not "
            "read: convert it to 8-bit grey ('L') or RGB."
        )
    colour = {p: modes[p] in _COLOUR for p in files}
    if len(set(colour.values())) > 1:
        grey_file = next(p for p in files if not colour[p])
        colour_file = next(p for p in files if colour[p])
        raise ValueError(
            f"{folder} mixes grey and colour images, e.g. {grey_file} (mode "
            f"{modes[grey_file]!r}) and {colour_file} (mode {modes[colour_file]!r}): convert "
            "them all to one, e.g. Image.open(f).convert('RGB').save(f) (or 'L' for grey)."
        )
    if image_size is None:
        first = files[0]
        other = next((p for p in files if sizes[p] != sizes[first]), None)
        if other is not None:
            raise ValueError(
                f"{folder} holds images of different sizes, e.g. {first} "
                f"({_size(sizes[first])}) and {other} ({_size(sizes[other])}): pass an "
                "image size to resize them all to, e.g. --image-size 28x28 "
                "(image_size=(28, 28))."
            )
        width, height = sizes[first]
    else:
        height, width = (int(v) for v in image_size)
    rgb = colour[files[0]]
    X = np.stack([_pixels(path, rgb, (width, height)) for path in files])
    image_shape = (height, width, 3) if rgb else (height, width)
    return X.reshape(len(X), -1), None if labels is None else np.array(labels), image_shape


def _size(size):
    return f"{size[1]}x{size[0]} pixels"


def _pixels(path, rgb, size):
    """One image as float32 pixels in [0, 1], converted and resized."""
    with _open(path) as image:
        try:
            if rgb:
                # Through RGBA where there is transparency (a palette's too): dropped.
                if "A" in image.mode or "transparency" in image.info:
                    image = image.convert("RGBA")
                image = image.convert("RGB")
                scale = 255.0
            elif image.mode in _GREY_16BIT:
                image = Image.fromarray(np.asarray(image, dtype=np.float32) / np.float32(65535))
                scale = 1.0
            else:
                image = image.convert("L")
                scale = 255.0
            if image.size != size:
                image = image.resize(size, Image.Resampling.BICUBIC)
            pixels = np.asarray(image, dtype=np.float32) / np.float32(scale)
        except OSError as err:  # truncated or corrupt data, found only when decoding
            raise ValueError(f"Cannot read {path} as an image ({err}): fix or remove it.") from err
    return np.clip(pixels, 0.0, 1.0)
