"""The documentation's Python blocks run as pasted: a page, or a section, at a time.

sybil reads the ``.. code-block:: python`` blocks of the getting-started page
and of each top-level section of the user guide (its reStructuredText lexer,
with the ``.. skip: next`` / ``.. skip: start`` ... ``.. skip: end``
directives that leave out a block that cannot run here: data files absent,
GPUs, clusters). The blocks of a page or section are joined in order and run
by a new interpreter in an empty folder, so that nothing defined elsewhere
(another section, the test session) helps them: each section's first block
defines the data it uses. ``tests/test_readme.py`` does the same for the
README.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sybil import Sybil
from sybil.parsers.rest import PythonCodeBlockParser, SkipParser

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _blocks(path):
    """``(line, code)`` of each Python block of ``path`` that no skip directive
    leaves out, in page order."""
    text = path.read_text()
    document = Sybil(parsers=[PythonCodeBlockParser(), SkipParser()]).parse(path)
    blocks, skip_next, skipping = [], False, False
    for example in document:
        parsed = example.region.parsed
        if isinstance(parsed, tuple):  # a skip directive: (action, reason)
            action = parsed[0]
            if action not in ("next", "start", "end") or (
                parsed[1] is not None and not re.fullmatch(r"\s*[\"'].*[\"']\s*", parsed[1])
            ):
                raise ValueError(f"{path.name}: unsupported skip directive {parsed!r}")
            skip_next = action == "next"
            skipping = {"start": True, "end": False}.get(action, skipping)
            continue
        if not (skip_next or skipping):
            blocks.append((text.count("\n", 0, example.region.start) + 1, str(parsed)))
        skip_next = False
    return blocks


def _sections(path):
    """``{title: [(line, code), ...]}``: the blocks of each top-level section
    (a title underlined with ``=``), sections without a block left out."""
    lines = path.read_text().splitlines()
    starts = [
        (i + 1, lines[i].strip())
        for i in range(1, len(lines) - 1)
        if lines[i].strip()
        and re.fullmatch(r"=+", lines[i + 1])
        and not re.fullmatch(r"=+", lines[i - 1])  # not the page title's overline
    ]
    sections = {}
    for line, code in _blocks(path):
        title = [t for start, t in starts if start < line][-1]
        sections.setdefault(title, []).append((line, code))
    return sections


PAGES = {"getting_started": _blocks(DOCS / "getting_started.rst")} | {
    f"user_guide: {title.replace('``', '')}": blocks
    for title, blocks in _sections(DOCS / "user_guide.rst").items()
}


def test_the_pages_have_their_blocks():
    # A parser change must not silently leave the pages untested.
    assert len(PAGES["getting_started"]) >= 2
    assert {"user_guide: Sparse input", "user_guide: Saving and sharing models"} <= set(PAGES)
    assert len(PAGES) >= 12


@pytest.mark.parametrize("page", list(PAGES))
def test_the_page_runs_as_pasted_in_a_fresh_process(tmp_path, page):
    script = tmp_path / "page.py"
    script.write_text(
        "\n\n".join(f"# docs line {line}\n{code}" for line, code in PAGES[page]) + "\n"
    )
    env = {"MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    env |= {k: os.environ[k] for k in ("HOME", "PYTHONPATH") if k in os.environ}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if result.returncode:
        pytest.fail(f"{page} failed:\n{result.stderr[-3000:]}", pytrace=False)
    print(f"{page}: {time.perf_counter() - start:.1f} s")
