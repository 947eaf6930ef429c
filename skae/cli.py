"""The ``skae`` command line: ``skae compare`` (also ``python -m skae compare``)."""

from __future__ import annotations

import argparse
import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from ._compare import METHODS, compare, plot_comparison
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
        X = (X / 16.0).astype(np.float32)
        parts = train_test_split(X, y, test_size=0.25, stratify=y, random_state=random_state)
        shape = (8, 8)
    elif dataset in ("mnist", "fashion-mnist"):
        loader = load_mnist if dataset == "mnist" else load_fashion_mnist
        X_tr, y_tr = loader(data_home, subset="train", return_X_y=True)
        X_te, y_te = loader(data_home, subset="test", return_X_y=True)
        parts = [X_tr, X_te, y_tr, y_te]
        shape = (28, 28)
    else:
        raise ValueError(f"Unknown dataset {dataset!r}: choose from {DATASETS}.")
    X_train, X_test, y_train, y_test = parts
    if n_train is not None:
        n_test = max(n_train // 4, 1)
        X_train, y_train = X_train[:n_train], y_train[:n_train]
        X_test, y_test = X_test[:n_test], y_test[:n_test]
    return X_train, X_test, y_train, y_test, shape


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
        description="Fit PCA and autoencoders for several n_components; print test "
        "reconstruction MSE, accuracy of a LogisticRegression on the codes, fit "
        "seconds; write a PNG of test reconstructions.",
    )
    cmp.add_argument("--dataset", choices=DATASETS, default="digits")
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
        help="PNG path (default skae-compare-DATASET.png); 'none' for no figure",
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


def main(argv=None):
    """Entry point of the ``skae`` console script."""
    args = build_parser().parse_args(argv)
    X_train, X_test, y_train, y_test, shape = load_split(
        args.dataset, args.data_home, args.n_train, args.random_state
    )
    print(
        f"{args.dataset}: {len(X_train)} training and {len(X_test)} test images of "
        f"{shape[0]}x{shape[1]} pixels"
    )
    params = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
    results, fitted = compare(
        X_train,
        X_test,
        y_train,
        y_test,
        n_components=args.n_components,
        methods=args.methods,
        random_state=args.random_state,
        progress=not args.quiet,
        **params,
    )
    print(results.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    output = args.output or f"skae-compare-{args.dataset}.png"
    if output.lower() != "none":
        plot_comparison(X_test, y_test, fitted, shape, output)
        print(f"figure: {output}")
    if args.rate_distortion:
        for images in args.rd_images:
            _rate_distortion(args, images, X_train, X_test, fitted, shape, output)
    return 0


def _rate_distortion(args, which, X_train, X_test, fitted, shape, output):
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
        display.ax_.set_title(f"{args.dataset} models, {what}", fontsize="small")
        figure.savefig(path, dpi=100)
        print(f"figure: {path}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
