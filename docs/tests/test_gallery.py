"""The built documentation's gallery shows every example with its figures.

Run by ``.ci/run`` right after the documentation build, not by the unit
suite::

    sphinx-build -W --keep-going -b html docs docs/_build/html
    python -m pytest docs/tests

These tests read the HTML site it writes; where the site is missing they fail.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "docs" / "_build" / "html"
GALLERY = SITE / "auto_examples"
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("plot_*.py"))
BUILD = "sphinx-build -W --keep-going -b html docs docs/_build/html"


@pytest.fixture(scope="module", autouse=True)
def built_site():
    if not (GALLERY / "index.html").is_file():
        pytest.fail(
            f"the documentation is not built ({GALLERY / 'index.html'} is missing): "
            f"build it from the repository root with `{BUILD}`"
        )


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs).get("src") or "")


def image_sources(page):
    parser = _Images()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.sources


def is_png(path):
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_one_page_per_example():
    pages = sorted(p.stem for p in GALLERY.glob("plot_*.html"))
    assert pages == EXAMPLES, "the gallery pages are not the examples in examples/"


@pytest.mark.parametrize("stem", EXAMPLES)
def test_example_page_embeds_its_figures(stem):
    page = GALLERY / f"{stem}.html"
    assert page.is_file(), f"no page for examples/{stem}.py"
    figure = re.compile(rf"(?:^|/)_?images/sphx_glr_{re.escape(stem)}_\d{{3}}\.png$")
    figures = [src for src in image_sources(page) if figure.search(src)]
    assert figures, (
        f"{page.name} shows no figure of the example: the gallery was built without "
        "running it (-D plot_gallery=0?)"
    )
    for src in figures:
        assert is_png(page.parent / src), f"{page.name}: {src} is not a PNG file on disk"


def _placeholders(tmp_path):
    """sphinx-gallery's stock thumbnails, scaled as it scales a thumbnail."""
    from sphinx_gallery import glr_path_static
    from sphinx_gallery.gen_gallery import DEFAULT_GALLERY_CONF
    from sphinx_gallery.utils import scale_image

    size = DEFAULT_GALLERY_CONF["thumbnail_size"]
    images = []
    for name in ("no_image.png", "broken_example.png"):
        scale_image(Path(glr_path_static()) / name, tmp_path / name, *size)
        images.append(matplotlib.image.imread(tmp_path / name))
    return images


def test_gallery_index_shows_real_thumbnails(tmp_path):
    index = GALLERY / "index.html"
    sources = image_sources(index)
    placeholders = _placeholders(tmp_path)
    for stem in EXAMPLES:
        thumbs = [src for src in sources if src.endswith(f"sphx_glr_{stem}_thumb.png")]
        assert len(thumbs) == 1, f"index.html shows no thumbnail of {stem} (or several)"
        assert "no_image" not in thumbs[0], thumbs[0]
        path = index.parent / thumbs[0]
        assert is_png(path), f"{thumbs[0]} is not a PNG file on disk"
        thumb = matplotlib.image.imread(path)
        for placeholder in placeholders:
            same = thumb.shape == placeholder.shape and np.allclose(thumb, placeholder, 0, 0.01)
            assert not same, f"the thumbnail of {stem} is sphinx-gallery's placeholder"
