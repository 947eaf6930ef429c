"""The documentation covers every public name."""

import re
import subprocess
from pathlib import Path

import skae
import skae.compression
import skae.datasets
import skae.metrics
import skae.onnx
import skae.outliers
import skae.plotting

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _api_entries():
    """``module.name`` for each entry of the autosummary tables in api.rst."""
    entries, module = set(), None
    for line in (DOCS / "api.rst").read_text().splitlines():
        if m := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = m.group(1)
        elif m := re.fullmatch(r"   ([A-Za-z_]\w*)", line):
            entries.add(f"{module}.{m.group(1)}")
    return entries


def test_api_reference_lists_every_public_name():
    public = {f"skae.{n}" for n in skae.__all__}
    public |= {f"skae.plotting.{n}" for n in skae.plotting.__all__}
    public |= {f"skae.datasets.{n}" for n in skae.datasets.__all__}
    public |= {f"skae.metrics.{n}" for n in skae.metrics.__all__}
    public |= {f"skae.compression.{n}" for n in skae.compression.__all__}
    public |= {f"skae.onnx.{n}" for n in skae.onnx.__all__}
    # The detector is documented where users import it from: skae.
    public |= {f"skae.outliers.{n}" for n in skae.outliers.__all__ if n not in skae.__all__}
    assert _api_entries() == public


def test_every_public_name_has_a_numpydoc_docstring():
    from numpydoc.docscrape import ClassDoc, FunctionDoc

    for module in (
        skae,
        skae.plotting,
        skae.datasets,
        skae.metrics,
        skae.compression,
        skae.onnx,
        skae.outliers,
    ):
        for name in module.__all__:
            obj = getattr(module, name)
            doc = ClassDoc(obj) if isinstance(obj, type) else FunctionDoc(obj)
            assert doc["Summary"], name
            section = "Parameters" if isinstance(obj, type) else "Returns"
            assert doc[section], f"{name} documents no {section}"


def test_gallery_has_the_promised_examples():
    examples = {p.stem for p in (DOCS.parent / "examples").glob("plot_*.py")}
    assert {
        "plot_pca_vs_autoencoder",
        "plot_grid_search_n_components",
        "plot_ordered_search",
        "plot_denoising_mnist",
        "plot_vae_sampling",
        "plot_anomaly_scores",
        "plot_outlier_detection",
    } <= examples
    for stem in examples:
        text = (DOCS.parent / "examples" / f"{stem}.py").read_text()
        # sphinx-gallery needs a docstring with a title underlined by "=".
        assert re.match(r'"""\n.+\n=+\n', text), stem


def test_every_image_the_readme_and_docs_show_is_in_the_repository():
    # The README's pictures (GitHub renders them from the repository) and the
    # user guide's: an image that exists only on the machine that made it
    # (ignored by git) breaks both the README and the documentation build.
    root = DOCS.parent
    tracked = set(
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    )
    shown = {
        path
        for path in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", (root / "README.md").read_text())
        if "://" not in path
    }
    for page in DOCS.glob("*.rst"):
        for image in re.findall(r"^\.\. (?:image|figure):: (\S+)", page.read_text(), re.M):
            shown.add(str((page.parent / image).relative_to(root)))
    assert shown, "no image found: the patterns no longer match the README"
    missing = sorted(path for path in shown if path not in tracked)
    assert not missing, f"shown but not in the repository (ignored by git?): {missing}"
