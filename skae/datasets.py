"""Loaders for real image data sets, returned the way scikit-learn's are.

:func:`load_mnist` and :func:`load_fashion_mnist` read the original IDX
``.gz`` files from a local folder first; only where the files are absent (and
``download_if_missing=True``) do they fetch the data from OpenML through
:func:`sklearn.datasets.fetch_openml` and its cache. :func:`load_photo_patches`
cuts patches from scikit-image's bundled photographs (no download): images
unlike the digits, for out-of-domain measurements.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions

from ._parameters import Param, declare

__all__ = ["load_mnist", "load_fashion_mnist", "load_photo_patches"]

_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_ENV = "SKAE_DATA_HOME"


def _read_idx(path, expected_ndim):
    """Read one gzipped IDX file into a uint8 array.

    The header is two zero bytes, a type code (0x08 = unsigned byte), the
    number of dimensions, then each dimension as a big-endian int32.
    """
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number).")
    ndim = data[3]
    if ndim != expected_ndim:
        raise ValueError(f"{path} has {ndim} dimensions, expected {expected_ndim}.")
    shape = tuple(np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    values = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if values.size != int(np.prod(shape)):
        raise ValueError(f"{path} is truncated: header says {shape}, found {values.size} bytes.")
    return values.reshape(shape)


def _resolve_home(data_home, name):
    if data_home is not None:
        return Path(data_home).expanduser()
    if os.environ.get(_ENV):
        return Path(os.environ[_ENV]).expanduser()
    from sklearn.datasets import get_data_home

    return Path(get_data_home()) / name


def _load_idx_dataset(
    name, openml_name, data_home, subset, return_X_y, as_frame, download_if_missing
):
    home = _resolve_home(data_home, name)
    parts = ("train", "test") if subset == "all" else (subset,)
    paths = [home / f for part in parts for f in _FILES[part]]
    if all(p.is_file() for p in paths):
        images, target = [], []
        for part in parts:
            img_file, lbl_file = _FILES[part]
            images.append(_read_idx(home / img_file, 3))
            target.append(_read_idx(home / lbl_file, 1))
        images = np.concatenate(images)
        target = np.concatenate(target)
        source = str(home)
    else:
        missing = [p.name for p in paths if not p.is_file()]
        if not download_if_missing:
            raise FileNotFoundError(_missing_message(name, home, missing))
        images, target = _fetch_openml(name, openml_name, home, parts, missing)
        source = f"OpenML '{openml_name}'"

    if len(images) != len(target):
        raise ValueError(f"{name}: {len(images)} images but {len(target)} labels.")
    images = images.astype(np.float32) / np.float32(255.0)
    target = target.astype(np.int64)
    data = images.reshape(len(images), -1)
    feature_names = [f"pixel_{i}" for i in range(data.shape[1])]
    frame = None
    if as_frame:
        import pandas as pd

        frame = pd.DataFrame(data, columns=feature_names)
        data = frame
        target = pd.Series(target, name="class")
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        images=images,
        frame=frame,
        feature_names=feature_names,
        target_names=list(range(10)),
        DESCR=f"{name} {subset} subset, {len(images)} images of 28x28 pixels "
        f"scaled to [0, 1], read from {source}.",
    )


def _missing_message(name, home, missing):
    return (
        f"The {name} files {missing} are not in {home}. Either put the four original "
        f"IDX .gz files there (or pass data_home=PATH, or set the environment "
        f"variable {_ENV}), or call with download_if_missing=True on a machine "
        "that can reach openml.org."
    )


def _fetch_openml(name, openml_name, home, parts, missing):
    from sklearn.datasets import fetch_openml

    try:
        X, y = fetch_openml(
            openml_name, version=1, return_X_y=True, as_frame=False, parser="liac-arff"
        )
    except Exception as exc:  # network errors come in many types
        raise OSError(
            _missing_message(name, home, missing) + f" Fetching from OpenML failed too: {exc}"
        ) from exc
    # OpenML stores the original order: 60 000 training images, then 10 000 test.
    X = np.asarray(X, dtype=np.float64).round().astype(np.uint8).reshape(-1, 28, 28)
    y = np.asarray(y).astype(np.int64)
    pieces = {"train": slice(0, 60000), "test": slice(60000, 70000)}
    images = np.concatenate([X[pieces[p]] for p in parts])
    target = np.concatenate([y[pieces[p]] for p in parts])
    return images, target


def _data_home(name):
    return Param(
        "data_home",
        None,
        (str, os.PathLike, None),
        "str or path-like",
        f"""Folder holding the four ``.gz`` files. None: the environment
        variable ``SKAE_DATA_HOME``, else ``~/scikit_learn_data/{name}``.""",
        positional=True,
    )


IDX_LOADER_PARAMS = (
    Param(
        "subset",
        "train",
        (StrOptions({"train", "test", "all"}),),
        '{"train", "test", "all"}',
        """The original split: 60 000 training images, 10 000 test images, or
        both (training first).""",
    ),
    Param(
        "return_X_y",
        False,
        ("boolean",),
        "bool",
        "If True, return ``(data, target)`` instead of a Bunch.",
    ),
    Param(
        "as_frame",
        False,
        ("boolean",),
        "bool",
        """If True, ``data`` is a DataFrame with columns ``pixel_0 ...
        pixel_783`` and ``target`` a Series.""",
    ),
    Param(
        "download_if_missing",
        True,
        ("boolean",),
        "bool",
        "If False, raise instead of fetching when the files are absent.",
    ),
)


@declare(_data_home("mnist"), *IDX_LOADER_PARAMS)
def load_mnist(
    data_home=None, *, subset="train", return_X_y=False, as_frame=False, download_if_missing=True
):
    """Load the MNIST handwritten digits data set (60 000 training, 10 000 test images).

    Reads the original IDX files (``train-images-idx3-ubyte.gz`` etc.) from
    ``data_home``; where they are absent and ``download_if_missing`` is
    true, fetches the same images from OpenML (``mnist_784``) with
    :func:`sklearn.datasets.fetch_openml`, which caches them.

    <parameters>

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data``: ndarray of shape (n_samples, 784), float32, pixel
        intensities in [0, 1]; ``images``: ndarray of shape (n_samples, 28,
        28), float32; ``target``: ndarray of shape (n_samples,), int64, the
        class 0-9; ``feature_names``, ``target_names``, ``frame``, ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError
        Files absent and ``download_if_missing=False``.
    OSError
        Files absent and the download failed; the message names both ways out.
    ValueError
        A file is not a valid IDX file, or ``subset`` is unknown.

    See Also
    --------
    load_fashion_mnist : The same loader for Fashion-MNIST.

    References
    ----------
    .. [1] Y. LeCun, C. Cortes and C. J. C. Burges, The MNIST database of
       handwritten digits, http://yann.lecun.com/exdb/mnist/
    """
    return _load_idx_dataset(
        "mnist", "mnist_784", data_home, subset, return_X_y, as_frame, download_if_missing
    )


@declare(_data_home("fashion_mnist"), *IDX_LOADER_PARAMS)
def load_fashion_mnist(
    data_home=None, *, subset="train", return_X_y=False, as_frame=False, download_if_missing=True
):
    """Load the Fashion-MNIST clothing images data set (60 000 training, 10 000 test images).

    Reads the original IDX files (same names as MNIST's) from ``data_home``;
    where they are absent and ``download_if_missing`` is true, fetches the
    same images from OpenML (``Fashion-MNIST``) with
    :func:`sklearn.datasets.fetch_openml`, which caches them.

    <parameters>

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        As :func:`load_mnist` returns it: ``data`` of shape (n_samples, 784),
        float32 in [0, 1], ``images`` of shape (n_samples, 28, 28), ``target``
        the class 0-9 (int64; ``target_names`` names the garments).
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError, OSError, ValueError
        As :func:`load_mnist`: files absent (and not downloaded), or not
        valid IDX files.

    See Also
    --------
    load_mnist : The same loader for MNIST.

    References
    ----------
    .. [1] H. Xiao, K. Rasul and R. Vollgraf, Fashion-MNIST: a novel image
       dataset for benchmarking machine learning algorithms, arXiv:1708.07747, 2017.
    """
    return _load_idx_dataset(
        "fashion_mnist",
        "Fashion-MNIST",
        data_home,
        subset,
        return_X_y,
        as_frame,
        download_if_missing,
    )


# scikit-image's bundled photographs (no download): natural scenes and
# textures, none of them digits.
_PHOTOS = ("camera", "astronaut", "coffee", "chelsea", "rocket", "brick", "grass", "coins")


def load_photo_patches(patch_shape=(28, 28), n_patches=1000, *, random_state=0):
    """Grayscale patches cut at random from scikit-image's bundled photographs.

    Images no digit model has seen -- a camera man, an astronaut, a cup of
    coffee, a cat, a rocket, brick, grass and coins (``skimage.data``,
    bundled with scikit-image, no download) -- for measuring how a model
    trained on one kind of image does on another. Colour photographs are
    converted to luminance (``skimage.color.rgb2gray``); every photograph
    gives an equal share of the patches, at uniformly random positions.

    Parameters
    ----------
    patch_shape : tuple of int, default=(28, 28)
        ``(height, width)`` of each patch, in pixels.
    n_patches : int, default=1000
        Number of patches.
    random_state : int, RandomState instance or None, default=0
        Seed of the positions.

    Returns
    -------
    patches : ndarray of shape (n_patches, height, width), dtype float32
        Pixel intensities in [0, 1].

    Raises
    ------
    ImportError
        If scikit-image is not installed (``pip install scikit-image``).
    ValueError
        If ``patch_shape`` is larger than a photograph or ``n_patches`` is
        not positive.

    References
    ----------
    .. [1] S. van der Walt et al., "scikit-image: image processing in
       Python", PeerJ 2:e453, 2014 (the ``skimage.data`` images).
    """
    from sklearn.utils import check_random_state

    try:
        from skimage import color, data
    except ImportError as exc:
        raise ImportError(
            "load_photo_patches needs scikit-image, whose bundled photographs it cuts: "
            "pip install scikit-image."
        ) from exc
    height, width = (int(v) for v in patch_shape)
    if n_patches < 1 or height < 1 or width < 1:
        raise ValueError(f"n_patches={n_patches} and patch_shape={patch_shape} must be positive.")
    rng = check_random_state(random_state)
    photos = []
    for name in _PHOTOS:
        photo = getattr(data, name)()
        photo = color.rgb2gray(photo) if photo.ndim == 3 else photo / 255.0
        if photo.shape[0] < height or photo.shape[1] < width:
            raise ValueError(
                f"patch_shape={patch_shape} is larger than skimage.data.{name}() "
                f"{photo.shape}: choose smaller patches."
            )
        photos.append(photo)
    patches = np.empty((n_patches, height, width), dtype=np.float32)
    for i in range(n_patches):
        photo = photos[i % len(photos)]
        top = rng.randint(photo.shape[0] - height + 1)
        left = rng.randint(photo.shape[1] - width + 1)
        patches[i] = photo[top : top + height, left : left + width]
    return patches
