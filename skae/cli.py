"""The ``skae`` command line: ``skae compare`` (also ``python -m skae compare``)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target

from ._compare import METHODS, compare, plot_comparison
from ._user_data import load_user_data
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


def _split(X, y, random_state):
    """75 % / 25 % train/test split, stratified where ``y`` holds classes of
    at least two samples each and both parts can hold every class."""
    if y is None:
        return [*train_test_split(X, test_size=0.25, random_state=random_state), None, None]
    stratify = None
    if type_of_target(y) in ("binary", "multiclass"):
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


def load_data_split(path, target=None, image_size=None, n_train=None, random_state=0):
    """Train/test split of the user's data, read by :func:`skae._user_data.load_user_data`.

    Parameters
    ----------
    path : str or path-like
        A CSV or Parquet table, a ``.npy`` / ``.npz`` array or a folder of
        images.
    target : str, default=None
        The label column of a table.
    image_size : tuple of int, default=None
        ``(height, width)`` the images of a folder are resized to.
    n_train : int, default=None
        Keep only the first ``n_train`` training and ``n_train // 4`` test
        samples; None keeps all.
    random_state : int, default=0
        Seed of the 75 % / 25 % split (stratified where every class has at
        least two samples).

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
        fewer than 4 samples.
    """
    X, y, shape = load_user_data(path, target=target, image_size=image_size)
    if len(X) < 4:
        raise ValueError(f"{path} holds {len(X)} samples: a train/test split needs 4 or more.")
    return (*_head(_split(X, y, random_state), n_train), shape)


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


def _int_list(text):
    return [int(v) for v in text.split(",") if v.strip()]


def _name_list(text):
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = sorted(set(names) - set(METHODS))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown method(s) {unknown}: choose from {sorted(METHODS)}"
        )
    return names


def _rd_images(text):
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = sorted(set(names) - {"test", "photo-patches"})
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown image set(s) {unknown}: choose from test, photo-patches"
        )
    return names


def build_parser():
    parser = argparse.ArgumentParser(prog="skae", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser(
        "compare",
        help="compare PCA and autoencoders on a train/test split",
        description="Fit PCA and autoencoders for several n_components on a named data "
        "set or your own (--data); print test reconstruction MSE, accuracy of a "
        "LogisticRegression on the codes (where there are labels), fit seconds; write a "
        "PNG of test reconstructions (images) and latent spaces.",
    )
    source = cmp.add_mutually_exclusive_group()
    source.add_argument(
        "--dataset", choices=DATASETS, default="digits", help="a named data set (default digits)"
    )
    source.add_argument(
        "--data",
        default=None,
        metavar="PATH",
        help="your own data instead: a CSV or Parquet table (numeric columns, no missing "
        "values; test_mse is then in the columns' own units), a .npy or .npz array (rows, "
        "or images (n, height, width[, channels])), or a folder of images, with one "
        "sub-folder per class for labels",
    )
    cmp.add_argument(
        "--target",
        default=None,
        metavar="COLUMN",
        help="with --data TABLE: the label column (test_accuracy, or test_r2 for "
        "continuous values); without it every column is a feature",
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
        type=_int_list,
        default=[2, 8, 32],
        help="comma-separated bottleneck widths (default 2,8,32)",
    )
    cmp.add_argument(
        "--methods",
        type=_name_list,
        default=["pca", "dense"],
        help=f"comma-separated, from {','.join(METHODS)} (default pca,dense)",
    )
    cmp.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="override the autoencoders' max_epochs (default: their own)",
    )
    cmp.add_argument(
        "--n-train", type=int, default=None, help="use only this many training images (quick runs)"
    )
    cmp.add_argument("--random-state", type=int, default=0)
    cmp.add_argument(
        "--output",
        default=None,
        help="PNG path (default skae-compare-DATASET.png, or skae-compare-NAME.png for "
        "--data NAME.csv ...); 'none' for no figure",
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
        type=_int_list,
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


def _fail(message):
    """Stop with ``message`` on stderr and exit status 2, as argparse does."""
    print(f"skae compare: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _load(args):
    """The split, the figure's default name and the line saying what was loaded."""
    if args.data is None:
        if args.target is not None or args.image_size is not None:
            _fail("--target and --image-size apply to --data only")
        *parts, shape = load_split(args.dataset, args.data_home, args.n_train, args.random_state)
        line = (
            f"{args.dataset}: {len(parts[0])} training and {len(parts[1])} test images of "
            f"{shape[0]}x{shape[1]} pixels"
        )
        return parts, shape, args.dataset, line
    try:
        *parts, shape = load_data_split(
            args.data, args.target, args.image_size, args.n_train, args.random_state
        )
    except (FileNotFoundError, ValueError, ImportError) as err:
        _fail(err)
    X_train, X_test, y_train, _ = parts
    path = Path(args.data).expanduser()
    if shape is None:
        what = f"rows of {X_train.shape[1]} features"
    else:
        what = f"images of {shape[0]}x{shape[1]} pixels" + (", RGB" if len(shape) == 3 else "")
    line = f"{args.data}: {len(X_train)} training and {len(X_test)} test {what}"
    if y_train is not None and type_of_target(y_train) == "continuous":
        line += f"; target {args.target!r} (continuous)"
    elif y_train is not None:
        classes = [str(c) for c in np.unique(y_train)]
        shown = ", ".join(classes[:8]) + (", ..." if len(classes) > 8 else "")
        line += f"; {len(classes)} classes ({shown})"
    return parts, shape, path.name or path.resolve().name, line


def main(argv=None):
    """Entry point of the ``skae`` console script."""
    args = build_parser().parse_args(argv)
    (X_train, X_test, y_train, y_test), shape, name, line = _load(args)
    print(line)
    if args.rate_distortion:
        _check_rate_distortion(args, X_train, shape)
    limit = min(X_train.shape[1], len(X_train))
    n_components = [k for k in args.n_components if k <= limit]
    if not n_components:
        _fail(f"--n-components must be at most {limit} (the features and training samples)")
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
        methods=args.methods,
        random_state=args.random_state,
        progress=not args.quiet,
        **params,
    )
    print(results.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    output = args.output or f"skae-compare-{Path(name).stem}.png"
    if output.lower() != "none":
        plot_comparison(X_test, y_test, fitted, shape, output)
        print(f"figure: {output}")
    if args.rate_distortion:
        for images in args.rd_images:
            _rate_distortion(args, name, images, X_train, X_test, fitted, shape, output)
    return 0


def _check_rate_distortion(args, X_train, shape):
    """Stop with a clear message where ``--rate-distortion`` cannot code the data."""
    if shape is None:
        _fail(
            f"--rate-distortion codes images, and {args.data} holds rows of features: "
            "drop --rate-distortion, or pass images (a folder, or a .npy of "
            "(n, height, width[, 3]))"
        )
    if X_train.min() < 0 or X_train.max() > 1:
        _fail(
            f"--rate-distortion needs pixels in [0, 1] (as 8-bit images give), and {args.data} "
            f"holds [{X_train.min():g}, {X_train.max():g}]: scale the images, or save them "
            "as uint8"
        )
    if len(shape) == 3 and "photo-patches" in args.rd_images:
        _fail("--rd-images photo-patches are grey: they cannot be coded by RGB models")


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
