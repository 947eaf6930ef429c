"""Sphinx configuration of skae's documentation.

Build from the repository root (``pip install -e ".[docs]"`` first)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The build runs every example of the gallery and puts its figures in it, each
example as a small run (``SMALL_RUNS`` in examples/_data.py: a few thousand
MNIST images, tens of epochs; about 2 minutes in all on 2 cores). Those are
the runs whose printed numbers docs/tests/test_example_output.py checks. For bigger
runs set the variables yourself: a variable set in the environment wins over
every example's small-run value (as ``os.environ.setdefault`` would), e.g.
the examples' own defaults, 20 000 training images and ``auto`` epochs
(MNIST examples: a few minutes each on 2 cores)::

    SKAE_EXAMPLE_N_TRAIN=20000 SKAE_EXAMPLE_MAX_EPOCHS=auto sphinx-build -W --keep-going -b html docs docs/_build/html

``-D plot_gallery=0`` renders the gallery without running the examples
(placeholder thumbnails, no figures).
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Gallery examples import their small helper module from examples/.
sys.path.insert(0, str(ROOT / "examples"))
os.environ.setdefault("MPLBACKEND", "Agg")
# One thread for torch (read when it is imported, below), as the tests run
# the examples: the small networks of the small runs gain nothing from more,
# and on a busy machine the threads' waiting on each other made examples up
# to 6 times slower. Set OMP_NUM_THREADS yourself for bigger runs.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# The examples' helper first: it notes which skae sources the build runs
# (for the record of each example's run, see examples/_data.py) before the
# first import of skae.
import _data  # noqa: E402, F401
import skae  # noqa: E402

project = "skae"
author = "The skae developers"
copyright = "2026, The skae developers"
release = skae.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# No network at build time: no intersphinx. References to scikit-learn, torch
# and skorch stay plain text.
myst_heading_anchors = 3

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|_data)\.py",
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    # Before each example: matplotlib's defaults back, and the example's small
    # run (training size and epochs; variables set in the environment win).
    # Named by string, as Sphinx cannot cache a function in its configuration.
    "reset_modules": ("matplotlib", "_data.small_run"),
    # Which examples use which skae name, for the API pages' mini-galleries.
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("skae",),
}

html_theme = "pydata_sphinx_theme"
html_title = f"skae {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
    # The right-hand sidebar holds the page's table of contents only, so that
    # a page without sections has none (the theme hides an empty one).
    "secondary_sidebar_items": ["page-toc"],
}
# The left-hand sidebar lists a section's sub-pages: the narrative pages have
# none, and an empty sidebar there would narrow their text. The API
# reference and the gallery keep theirs (the theme's default).
html_sidebars = {
    page: [] for page in ("index", "getting_started", "user_guide", "scaling", "benchmarks")
}
# "fit()" rather than "AutoencoderTransformer.fit()" in a page's table of
# contents, which the sidebar would cut off.
toc_object_entries_show_parents = "hide"
html_static_path = ["_static"]
html_css_files = ["skae.css"]
