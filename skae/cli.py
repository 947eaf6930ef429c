"""The skae command line: skae compare (also python -m skae compare)."""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target

from ._compare import (
    MAX_CLASSES,
    METHODS,
    SCALERS,
    SUPERVISED,
    compare,
    infer_task,
    plot_comparison,
    scale_split,
)
from ._user_data import IndexColumnWarning, load_user_data
from ._version import __version__
from .datasets import load_fashion_mnist, load_mnist, load_photo_patches

DATASETS = ("digits", "mnist", "fashion-mnist")


def load_split(dataset, data_home=None, n_train=None, random_state=0):
    """Train/test split of a named data set, pixels scaled to [0, 1].

    Parameters
    ----------
    dataset : {"digits", "mnist", "fashion-mnist"}
        ``"digits"``: scikit-learn's bundled 8 x 8 digits (1797 images, no
        download), split 75 % / 25 % stratified. ``"mnist"`` and
        ``"fashion-mnist"``: the original 60 000 / 10 000 split, 28 x 28.
    data_home : str, default=None
        Folder of the IDX files, see :func:`skae.datasets.load_mnist`.
    n_train : int, default=None
        Keep only the first ``n_train`` training and ``n_train // 4`` test
        images (quick runs); None keeps all.
    random_state : int, default=0
        Seed of the digits split.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarrays
        Float32 data of shape (n, height * width) in [0, 1]; int labels.
    image_shape : tuple of int
        ``(height, width)``.
    """
    if dataset == "digits":
        X, y = load_digits(return_X_y=True)
        parts = _split((X / 16.0).astype(np.float32), y, random_state)
        shape = (8, 8)
    elif dataset in ("mnist", "fashion-mnist"):
        loader = load_mnist if dataset == "mnist" else load_fashion_mnist
        X_tr, y_tr = loader(data_home, subset="train", return_X_y=True)
        X_te, y_te = loader(data_home, subset="test", return_X_y=True)
        parts = [X_tr, X_te, y_tr, y_te]
        shape = (28, 28)
    else:
        raise ValueError(f"Unknown dataset {dataset!r}: choose from {DATASETS}.")
    return (*_head(parts, n_train), shape)


def _split(X, y, random_state, classes=True):
    """75 % / 25 % train/test split, stratified where ``y`` holds ``classes``
    of at least two samples each and both parts can hold every class."""
    if y is None:
        return [*train_test_split(X, test_size=0.25, random_state=random_state), None, None]
    stratify = None
    if classes and type_of_target(y) in ("binary", "multiclass"):
        counts = np.unique(y, return_counts=True)[1]
        n_test = math.ceil(0.25 * len(y))
        if counts.min() >= 2 and min(n_test, len(y) - n_test) >= len(counts):
            stratify = y
    return train_test_split(X, y, test_size=0.25, stratify=stratify, random_state=random_state)


def _head(parts, n_train):
    """The first ``n_train`` training and ``n_train // 4`` test samples."""
    if n_train is None:
        return parts
    n_test = max(n_train // 4, 1)
    sizes = (n_train, n_test, n_train, n_test)
    return [None if part is None else part[:n] for part, n in zip(parts, sizes, strict=True)]


def load_data_split(
    path,
    target=None,
    image_size=None,
    n_train=None,
    random_state=0,
    task="auto",
    *,
    drop=None,
    decimal=".",
):
    """Train/test split of the user's data, read by :func:`skae._user_data.load_user_data`.

    Parameters
    ----------
    path : str or path-like
        A CSV, TSV or Parquet table, a ``.npy`` / ``.npz`` array or a folder
        of images.
    target : str, default=None
        The label column of a table.
    image_size : tuple of int, default=None
        ``(height, width)`` the images of a folder are resized to.
    n_train : int, default=None
        Keep only the first ``n_train`` training and ``n_train // 4`` test
        samples; None keeps all.
    random_state : int, default=0
        Seed of the 75 % / 25 % split (stratified for classes, where every
        class has at least two samples).
    task : {"auto", "classification", "regression"}, default="auto"
        Whether the labels are classes (stratified) or values, see
        :func:`skae._compare.infer_task`.
    drop : sequence of str, default=None
        Columns of a table left out of the features.
    decimal : {".", ","}, default="."
        The decimal mark of a CSV or TSV table's numbers.

    Returns
    -------
    X_train, X_test : ndarrays of shape (n, n_features), dtype float32
    y_train, y_test : ndarrays of shape (n,), or None without labels
    image_shape : tuple of int or None
        ``(height, width[, channels])`` of images; None for tables.

    Raises
    ------
    FileNotFoundError, ValueError, ImportError
        As :func:`skae._user_data.load_user_data`; ``ValueError`` also for
        fewer than 4 samples, or as :func:`skae._compare.infer_task`.
    """
    X, y, shape = load_user_data(
        path, target=target, image_size=image_size, drop=drop, decimal=decimal
    )
    if len(X) < 4:
        raise ValueError(f"{path} holds {len(X)} samples: a train/test split needs 4 or more.")
    classes = y is not None and infer_task(y, task)[0] == "classification"
    return (*_head(_split(X, y, random_state, classes), n_train), shape)


def _image_size(text):
    try:
        values = [int(v) for v in text.lower().replace("x", ",").split(",")]
    except ValueError:
        values = []
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"image size {text!r}: pass HEIGHTxWIDTH, e.g. 28x28 (or 28,28, or 28)"
        )
    return tuple(values)


def _whole_number(minimum):
    """An argparse ``type``: an integer of ``minimum`` or more, else a usage error
    saying so."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of {minimum} or more")
        return value

    return parse


_positive_int = _whole_number(1)
_seed = _whole_number(0)  # a random seed


def _positive_int_list(text):
    """Comma-separated integers of 1 or more, e.g. "2,8,32"."""
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"{text!r}: pass comma-separated numbers, e.g. 2,8,32")
    return [_positive_int(v) for v in values]


def _name_list(text):
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = sorted(set(names) - set(METHODS) - set(SUPERVISED))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown method(s) {unknown}: choose from {sorted(METHODS) + sorted(SUPERVISED)}"
        )
    return names


def _with_supervised(methods):
    """``methods`` with each one's supervised version right after it (where it
    has one and it is not named already)."""
    result = []
    for name in methods:
        result.append(name)
        supervised = next((s for s, base in SUPERVISED.items() if base == name), None)
        if supervised is not None and supervised not in methods:
            result.append(supervised)
    return result


def _rd_images(text):
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = sorted(set(names) - {"test", "photo-patches"})
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown image set(s) {unknown}: choose from test, photo-patches"
        )
    return names


def _error_exit(prog):
    """``args.error`` of a subcommand: the errors found after parsing (in the
    data, or between arguments) as ``PROG: error: MESSAGE`` on stderr, exit
    status 2, as argparse's usage errors but without the usage block, which
    says nothing about them."""

    def error(message):
        sys.stderr.write(f"{prog}: error: {message}\n")
        raise SystemExit(2)

    return error


def _column_list(text):
    """Comma-separated column names, e.g. "id,name"."""
    names = [v.strip() for v in text.split(",") if v.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r}: pass comma-separated column names, e.g. id")
    return names


def build_parser():
    """The ``skae`` argument parser; errors found after parsing go to ``args.error``
    (a message without the usage block, exit status 2)."""
    parser = argparse.ArgumentParser(
        prog="skae", description="Autoencoders as scikit-learn estimators: the command line."
    )
    parser.add_argument("--version", action="version", version=f"skae {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser(
        "compare",
        help="compare PCA and autoencoders on a train/test split",
        description="Fit PCA and autoencoders for several n_components on a named data "
        "set or your own (--data); print the test reconstruction MSE, the score of a model "
        "trained on the codes where there are labels (accuracy of a logistic regression "
        "for classes, R2 of a ridge regression for values) and fit seconds; write a PNG "
        "of test reconstructions (images) and latent spaces.",
    )
    cmp.set_defaults(error=_error_exit(cmp.prog))
    source = cmp.add_mutually_exclusive_group()
    source.add_argument(
        "--dataset", choices=DATASETS, default="digits", help="a named data set (default digits)"
    )
    source.add_argument(
        "--data",
        default=None,
        metavar="PATH",
        help="your own data instead: a CSV, TSV or Parquet table (numeric columns, no "
        "missing values; the CSV delimiter is detected, and a first column of row numbers "
        "1, 2, 3, ... or 0, 1, 2, ... or of R's row names is dropped with a note), a .npy "
        "or .npz array (rows, or images (n, height, width[, channels])), or a folder of "
        "images, with one sub-folder per class for labels",
    )
    cmp.add_argument(
        "--target",
        default=None,
        metavar="COLUMN",
        help="with --data TABLE: the label column; without it every column is a feature",
    )
    cmp.add_argument(
        "--drop",
        type=_column_list,
        default=None,
        metavar="COLUMNS",
        help="with --data TABLE: comma-separated columns left out of the features, e.g. "
        "identifiers such as a customer number or a file name",
    )
    cmp.add_argument(
        "--decimal",
        choices=(".", ","),
        default=".",
        help="with --data TABLE (CSV or TSV): the decimal mark of its numbers; ',' reads "
        "3,14 as 3.14 (default '.')",
    )
    cmp.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="whether the labels are classes (test_accuracy of a logistic regression on "
        "the codes) or values (test_r2 of a ridge regression). Default auto: text labels "
        f"and up to {MAX_CLASSES} distinct whole numbers are classes; more, or values "
        "that are not whole numbers, are values",
    )
    cmp.add_argument(
        "--scale",
        choices=tuple(SCALERS),
        default=None,
        help="scale each feature before every method, by a scaler fitted on the training "
        "split: standard (mean 0, variance 1), minmax ([0, 1]) or none; test_mse is in "
        "the scaled units. Default: standard for tables and arrays of rows, none for "
        "images (pixels in [0, 1])",
    )
    cmp.add_argument(
        "--image-size",
        type=_image_size,
        default=None,
        metavar="HxW",
        help="with --data FOLDER: resize every image to this size, e.g. 28x28 (default: "
        "the images' common size)",
    )
    cmp.add_argument("--data-home", default=None, help="folder of the MNIST IDX .gz files")
    cmp.add_argument(
        "--n-components",
        type=_positive_int_list,
        default=[2, 8, 32],
        help="comma-separated bottleneck widths (default 2,8,32)",
    )
    cmp.add_argument(
        "--methods",
        type=_name_list,
        default=["pca", "dense"],
        help=f"comma-separated, from {','.join(METHODS)} (default pca,dense); a method "
        "with -supervised, e.g. dense-supervised, is the method with target_weight=1.0, "
        "fitted with the training labels",
    )
    cmp.add_argument(
        "--supervised",
        action="store_true",
        help="also fit each method of --methods that can learn from labels "
        f"({', '.join(SUPERVISED.values())}) with target_weight=1.0 on the training labels, "
        "its codes trained to predict them beside the reconstruction; printed as "
        "METHOD-supervised beside the others (needs labels)",
    )
    cmp.add_argument(
        "--max-epochs",
        type=_positive_int,
        default=None,
        help="override the autoencoders' max_epochs (default: their own)",
    )
    cmp.add_argument(
        "--n-train",
        type=_positive_int,
        default=None,
        help="use only this many training samples (quick runs)",
    )
    cmp.add_argument(
        "--random-state", type=_seed, default=0, help="seed of the split and the models"
    )
    cmp.add_argument(
        "--output",
        default=None,
        help="PNG path (default skae-compare-DATASET.png, or skae-compare-NAME-csv.png "
        "for --data NAME.csv, the suffix named so that NAME.csv and NAME.parquet write two "
        "figures); 'none' for no figure",
    )
    cmp.add_argument("--quiet", action="store_true", help="no progress bar")
    cmp.add_argument(
        "--rate-distortion",
        action="store_true",
        help="also print bytes per image against PSNR: each fitted method's codes "
        "quantized to --n-bits, beside Pillow's PNG, JPEG, WebP (AVIF, JPEG 2000), and "
        "write its figure",
    )
    cmp.add_argument(
        "--n-bits",
        type=_positive_int_list,
        default=[4, 6, 8],
        help="comma-separated bits per code unit for --rate-distortion (default 4,6,8)",
    )
    cmp.add_argument(
        "--codecs",
        type=lambda text: [v.strip() for v in text.split(",") if v.strip()],
        default="all",
        help="comma-separated codecs for --rate-distortion, from PNG, JPEG, WebP, AVIF, "
        "'JPEG 2000' (default: all that Pillow supports here)",
    )
    cmp.add_argument(
        "--rd-images",
        type=_rd_images,
        default=["test"],
        help="comma-separated images --rate-distortion codes, one table each: 'test' "
        "(the test split) and/or 'photo-patches' (as many patches of scikit-image's "
        "photographs, which the models never saw; needs scikit-image). Default test",
    )
    return parser


def _load(args):
    """The split, the figure's default name and the lines saying what was loaded
    (notes on the data first)."""
    if args.data is None:
        given = [
            option
            for option, value in [
                ("--target", args.target),
                ("--drop", args.drop),
                ("--decimal", None if args.decimal == "." else args.decimal),
                ("--image-size", args.image_size),
            ]
            if value is not None
        ]
        if given:
            args.error(f"{' and '.join(given)} apply to --data only")
        *parts, shape = load_split(args.dataset, args.data_home, args.n_train, args.random_state)
        line = (
            f"{args.dataset}: {len(parts[0])} training and {len(parts[1])} test images of "
            f"{shape[0]}x{shape[1]} pixels"
        )
        return parts, shape, args.dataset, [line]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IndexColumnWarning)
            *parts, shape = load_data_split(
                args.data,
                args.target,
                args.image_size,
                args.n_train,
                args.random_state,
                args.task,
                drop=args.drop,
                decimal=args.decimal,
            )
    except (FileNotFoundError, ValueError, ImportError) as err:
        args.error(str(err))
    for warning in caught:  # the others go on as warnings
        if not issubclass(warning.category, IndexColumnWarning):
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    lines = [f"note: {w.message}" for w in caught if issubclass(w.category, IndexColumnWarning)]
    X_train, X_test = parts[:2]
    path = Path(args.data).expanduser()
    if shape is None:
        what = f"rows of {X_train.shape[1]} features"
    else:
        what = f"images of {shape[0]}x{shape[1]} pixels" + (", RGB" if len(shape) == 3 else "")
    lines.append(f"{args.data}: {len(X_train)} training and {len(X_test)} test {what}")
    return parts, shape, path.name or path.resolve().name, lines


def _task_line(args, y_train):
    """The task the labels are scored by, and the line saying which and why."""
    try:
        task, reason = infer_task(y_train, args.task)
    except ValueError as err:
        args.error(str(err))
    label = "labels" if args.target is None else f"target {args.target!r}"
    if args.task != "auto":
        reason = f"--task {args.task}"
    elif args.data is not None:
        reason += "; --task to change"
    line = f"{label}: {task} ({reason}); "
    if task == "regression":
        return task, line + "scored by test_r2 of a ridge regression on the codes"
    classes = [str(c) for c in np.unique(y_train)]
    shown = ", ".join(classes[:8]) + (", ..." if len(classes) > 8 else "")
    return task, (
        f"{line}classes {shown}; scored by test_accuracy of a logistic regression on the codes"
    )


def _scale(args, X_train, X_test, shape):
    """The data scaled as ``--scale`` asks, and the line saying so."""
    scale = args.scale or ("standard" if shape is None else "none")
    X_train, X_test, units = scale_split(X_train, X_test, scale)
    how = "default for " + ("tables" if shape is None else "images")
    how = "--scale" if args.scale else how
    fitted = "" if scale == "none" else ", fitted on the training split"
    return X_train, X_test, f"scaling: {scale} ({how}){fitted}; test_mse in {units}"


def main(argv=None):
    """Entry point of the ``skae`` console script.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0. Usage errors (bad arguments, unreadable data) exit with status 2
        and a message naming the problem, as argparse does.
    """
    args = build_parser().parse_args(argv)
    (X_train, X_test, y_train, y_test), shape, name, lines = _load(args)
    task = "auto"
    if y_train is not None:
        task, line = _task_line(args, y_train)
        lines.append(line)
    elif args.task != "auto":
        args.error(f"--task {args.task} needs labels: pass --target COLUMN")
    if args.rate_distortion:
        _check_rate_distortion(args, X_train, shape)
    methods = _methods(args, y_train)
    X_train, X_test, line = _scale(args, X_train, X_test, shape)
    print("\n".join([*lines, line]))
    limit = min(X_train.shape[1], len(X_train))
    n_components = [k for k in args.n_components if k <= limit]
    if not n_components:
        args.error(f"--n-components must be at most {limit} (the features and training samples)")
    if len(n_components) < len(args.n_components):
        dropped = ",".join(str(k) for k in args.n_components if k > limit)
        print(f"n_components {dropped} skipped: more than the {limit} features or samples")
    params = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
    if shape is not None and args.data is not None:
        params.update(image_shape=shape, image_layout="HWC" if len(shape) == 3 else "HW")
    results, fitted = compare(
        X_train,
        X_test,
        y_train,
        y_test,
        n_components=n_components,
        methods=methods,
        task=task,
        random_state=args.random_state,
        # A bar only on a terminal: redirected, it would write a line per update.
        progress=not args.quiet and sys.stderr.isatty(),
        **params,
    )
    print(_table(results))
    # The suffix in the figure's name: NAME.csv and NAME.parquet write two figures.
    output = args.output or f"skae-compare-{name.replace('.', '-')}.png"
    if output.lower() != "none":
        plot_comparison(X_test, y_test, fitted, shape, output)
        print(f"figure: {output}")
    if args.rate_distortion:
        for images in args.rd_images:
            _rate_distortion(args, name, images, X_train, X_test, fitted, shape, output)
    return 0


def _methods(args, y_train):
    """The methods to fit: ``--methods``, with their supervised versions for
    ``--supervised``; a usage error where a supervised one has no labels."""
    methods = _with_supervised(args.methods) if args.supervised else args.methods
    if args.supervised and not any(m in SUPERVISED for m in methods):
        args.error(
            f"--supervised adds supervised versions of {', '.join(SUPERVISED.values())}: "
            "name one of them in --methods"
        )
    supervised = [m for m in methods if m in SUPERVISED]
    if supervised and y_train is None:
        what = "--supervised" if args.supervised else ", ".join(supervised)
        how = "pass --target COLUMN" if args.data is not None else "pass data with labels"
        args.error(f"{what} fits on labels, and the data has none: {how}")
    return methods


def _table(results):
    """The results as printed: ``test_mse`` to 4 significant digits and at least
    4 decimals (an error of 3e-05 must not print as 0.0000, nor 46.5438 as
    46.54), the other numbers to 4 decimals; columns right-aligned under their
    headers."""

    def mse(value):  # with the leading space (for a sign) of pandas' float columns
        return f"{value: .4f}" if abs(value) >= 1 else f"{value: #.4g}"

    return results.to_string(
        index=False, formatters={"test_mse": mse}, float_format=lambda v: f"{v:.4f}"
    )


def _check_rate_distortion(args, X_train, shape):
    """Stop with a clear message where ``--rate-distortion`` cannot code the data."""
    if shape is None:
        args.error(
            f"--rate-distortion codes images, and {args.data} holds rows of features: "
            "drop --rate-distortion, or pass images (a folder, or a .npy of "
            "(n, height, width[, 3]))"
        )
    if args.scale == "standard":
        args.error("--rate-distortion codes pixels in [0, 1]: drop --scale standard")
    if X_train.min() < 0 or X_train.max() > 1:
        args.error(
            f"--rate-distortion needs pixels in [0, 1] (as 8-bit images give), and {args.data} "
            f"holds [{X_train.min():g}, {X_train.max():g}]: scale the images, or save them "
            "as uint8"
        )
    if len(shape) == 3 and "photo-patches" in args.rd_images:
        args.error("--rd-images photo-patches are grey: they cannot be coded by RGB models")


def _rate_distortion(args, name, which, X_train, X_test, fitted, shape, output):
    """Print the rate–distortion table of the fitted methods and codecs on the
    images ``which`` names; write its figure."""
    from .compression import rate_distortion

    if which == "photo-patches":
        images = load_photo_patches(shape, len(X_test), random_state=args.random_state)
        what = f"{len(images)} patches of scikit-image's photographs (not seen in training)"
    else:
        images, what = X_test, f"the {len(X_test)} test images"
    print(f"\nrate-distortion on {what}; code ranges from the training codes:")
    estimators = {f"{method}, k={k}": est for (method, k), est in fitted.items()}
    table = rate_distortion(
        estimators,
        images.reshape(len(images), -1),
        X_fit=X_train,
        n_bits=args.n_bits,
        image_shape=shape,
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if output.lower() != "none":
        from matplotlib.figure import Figure

        from .plotting import RateDistortionDisplay

        path = output[: -len(".png")] if output.endswith(".png") else output
        path = f"{path}-rate-distortion-{which}.png"
        figure = Figure(figsize=(7, 4.5), layout="constrained")
        display = RateDistortionDisplay(table=table).plot(ax=figure.add_subplot())
        display.ax_.set_title(f"{name} models, {what}", fontsize="small")
        figure.savefig(path, dpi=100)
        print(f"figure: {path}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
