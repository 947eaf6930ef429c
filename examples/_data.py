"""Where the examples find MNIST, and how small they run.

``SKAE_DATA_HOME`` (the folder of the four IDX ``.gz`` files) wins; else a
local copy where the repository's own machines keep one (``LOCAL_MNIST``);
else :func:`skae.datasets.load_mnist` fetches from OpenML.
``SKAE_EXAMPLE_N_TRAIN`` (MNIST training images, 20 000 by default) and
``SKAE_EXAMPLE_MAX_EPOCHS`` (``auto`` by default) shrink a run.
``SMALL_RUNS`` gives each example the small run with which the
documentation build draws its figures (docs/conf.py) and
``docs/tests/test_example_output.py`` checks the numbers it prints.
"""

import hashlib
import importlib.util
import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
VARIABLES = ("SKAE_EXAMPLE_N_TRAIN", "SKAE_EXAMPLE_MAX_EPOCHS")


def _sources_digest(package):
    """SHA-256 of the ``.py`` files of ``package``, found without importing it."""
    folder = Path(importlib.util.find_spec(package).origin).parent
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(f"{path.relative_to(folder)}\n".encode() + path.read_bytes())
    return digest.hexdigest()


# The skae the examples run with: taken before it is imported (just below),
# for the record of a run (``run_record``).
SKAE_SOURCES = _sources_digest("skae")

from skae.datasets import load_mnist  # noqa: E402

# Each trains long enough for its example's claim to hold by a margin (the
# checks in docs/tests/test_example_output.py say what the numbers are), in well under a
# minute on 2 cores. The digits examples read no training size.
SMALL_RUNS = {
    "plot_anomaly_scores": {"SKAE_EXAMPLE_N_TRAIN": "3000", "SKAE_EXAMPLE_MAX_EPOCHS": "100"},
    "plot_custom_network": {"SKAE_EXAMPLE_MAX_EPOCHS": "80"},
    "plot_denoising_mnist": {"SKAE_EXAMPLE_N_TRAIN": "6000", "SKAE_EXAMPLE_MAX_EPOCHS": "12"},
    "plot_grid_search_n_components": {"SKAE_EXAMPLE_MAX_EPOCHS": "40"},
    "plot_ordered_search": {"SKAE_EXAMPLE_MAX_EPOCHS": "40"},
    "plot_outlier_detection": {},  # the digits and a table: small as it is
    "plot_pca_vs_autoencoder": {"SKAE_EXAMPLE_MAX_EPOCHS": "60"},
    "plot_sparse_activity": {"SKAE_EXAMPLE_N_TRAIN": "2000", "SKAE_EXAMPLE_MAX_EPOCHS": "50"},
    "plot_supervised_codes": {},  # the digits, max_epochs="auto": about 15 s
    "plot_vae_sampling": {"SKAE_EXAMPLE_N_TRAIN": "3000", "SKAE_EXAMPLE_MAX_EPOCHS": "30"},
}


def configure(env):
    """Set ``N_TRAIN`` and ``MAX_EPOCHS`` from ``env`` (a mapping like ``os.environ``)."""
    global N_TRAIN, MAX_EPOCHS
    N_TRAIN = int(env.get("SKAE_EXAMPLE_N_TRAIN", "20000"))
    epochs = env.get("SKAE_EXAMPLE_MAX_EPOCHS", "auto")
    MAX_EPOCHS = epochs if epochs == "auto" else int(epochs)


configure(os.environ)


# Where the project's machines keep MNIST, beside the repository's checkout.
LOCAL_MNIST = HERE.parents[1] / "shared" / "data" / "mnist"


def mnist_home():
    """The folder of MNIST's IDX files: ``SKAE_DATA_HOME``, else ``LOCAL_MNIST``, else None."""
    if os.environ.get("SKAE_DATA_HOME"):
        return os.environ["SKAE_DATA_HOME"]
    return str(LOCAL_MNIST) if LOCAL_MNIST.is_dir() else None


def mnist(n_train=None, n_test=None):
    """MNIST training and test images, ``(X_train, y_train, X_test, y_test)``."""
    n_train = N_TRAIN if n_train is None else n_train
    home = mnist_home()
    X_train, y_train = load_mnist(home, subset="train", return_X_y=True)
    X_test, y_test = load_mnist(home, subset="test", return_X_y=True)
    n_test = n_test if n_test is not None else max(n_train // 6, 100)
    return X_train[:n_train], y_train[:n_train], X_test[:n_test], y_test[:n_test]


def run_record(stem, env):
    """What a run of ``examples/<stem>.py`` with the settings ``env`` depends on.

    The documentation build writes it next to the example's page;
    ``docs/tests/test_example_output.py`` checks the printed numbers of that page when
    the record is the one its own run would have: the same settings, the
    same example and ``_data.py``, the same skae sources.
    """
    sources = {name: (HERE / name).read_bytes() for name in (f"{stem}.py", "_data.py")}
    sha256 = {name: hashlib.sha256(text).hexdigest() for name, text in sources.items()}
    return {
        "example": stem,
        "env": {var: env[var] for var in VARIABLES if var in env},
        "sha256": {**sha256, "skae": SKAE_SOURCES},
    }


def small_run(gallery_conf, fname):
    """sphinx-gallery's ``reset_modules`` hook (docs/conf.py): before each example.

    The example runs with its ``SMALL_RUNS`` settings, except for each
    variable set in the environment of the build, which wins for every
    example (``os.environ.setdefault``, as it were); the run's record goes
    to ``<gallery>/<stem>.small_run.json``.
    """
    if fname is None:  # entering the gallery's folder, no example
        return
    stem = Path(fname).stem
    env = {**SMALL_RUNS.get(stem, {}), **{v: os.environ[v] for v in VARIABLES if v in os.environ}}
    configure(env)
    gallery_dirs = gallery_conf["gallery_dirs"]
    gallery = gallery_dirs if isinstance(gallery_dirs, str) else gallery_dirs[0]
    record = Path(gallery_conf["src_dir"]) / gallery / f"{stem}.small_run.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(run_record(stem, env), indent=1) + "\n")
