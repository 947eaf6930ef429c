"""The README's Python blocks run as written: in order, in a fresh process.

sybil reads the Markdown's fenced ``python`` blocks (its Markdown lexer:
indented blocks, info strings, ``<!-- skip: next -->`` directives); they are
joined in order and run by a new interpreter in an empty folder, so that
nothing the test session imported or defined helps them.
"""

import subprocess
import sys
from pathlib import Path

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
