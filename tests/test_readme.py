"""The README's Python blocks run as written: in order, in a fresh process.

sybil reads the Markdown's fenced ``python`` blocks (its Markdown lexer:
indented blocks, info strings, ``<!-- skip: next -->`` directives); they are
joined in order and run by a new interpreter in an empty folder, so that
nothing the test session imported or defined helps them.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_python():
    document = Sybil(parsers=[PythonCodeBlockParser()]).parse(README)
    return [str(example.region.parsed) for example in document]


def test_the_readme_python_blocks_run_in_order_in_a_fresh_process(tmp_path):
    script = tmp_path / "readme.py"
    script.write_text("\n\n".join(readme_python()))
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # The quick start's last line: also fails where no block was read.
    assert "test accuracy" in result.stdout


def readme_digits_table():
    """The rows of the README's ``skae compare`` table: ``{(method, k): (mse, acc)}``."""
    text = README.read_text()
    block = text.split("method  n_components  test_mse  test_accuracy  fit_seconds")[1]
    rows = {}
    for line in block.split("```")[0].strip().splitlines():
        method, k, mse, accuracy, _ = line.split()
        rows[method, int(k)] = (float(mse), float(accuracy))
    return rows


def test_the_readme_digits_table_is_what_skae_compare_prints(tmp_path):
    """The table is this version's: a fresh ``skae compare`` (one torch thread,
    as the README says) prints the same errors and accuracies, to float32
    rounding across CPUs (fit times aside)."""
    result = subprocess.run(
        [sys.executable, "-m", "skae", "compare", "--output", "none", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    printed = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] in ("pca", "dense") and parts[1].isdigit():
            printed[parts[0], int(parts[1])] = (float(parts[2]), float(parts[3]))
    expected = readme_digits_table()
    assert printed.keys() == expected.keys()
    for key, (mse, accuracy) in expected.items():
        assert printed[key][0] == pytest.approx(mse, rel=0.02), key
        assert printed[key][1] == pytest.approx(accuracy, abs=0.012), key
