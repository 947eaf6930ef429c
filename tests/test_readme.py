"""The README as written: its Python blocks run in order in a fresh process,
CI runs its set-up commands, and its digits table is what ``skae compare``
prints within the spread the README states.

sybil reads the Markdown's fenced ``python`` blocks (its Markdown lexer:
indented blocks, info strings, ``<!-- skip: next -->`` directives); they are
joined in order and run by a new interpreter in an empty folder, so that
nothing the test session imported or defined helps them.
"""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI = ROOT / ".ci" / "run"


def _load_spread_script():
    """benchmarks/bench_readme_spread.py: the table's parser and the README
    sentences it writes (the spread, the PCA ratios), read here."""
    path = ROOT / "benchmarks" / "bench_readme_spread.py"
    spec = importlib.util.spec_from_file_location("bench_readme_spread", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


spread = _load_spread_script()


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


def readme_section(title):
    """The text of the README's ``## title`` section."""
    return README.read_text().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _commands(script):
    """The lines of a shell script that are commands (not blank, not comments)."""
    lines = (line.strip() for line in script.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_ci_runs_the_readme_set_up_commands_as_written():
    """``.ci/run`` runs the README's set-up block line for line (in
    ``.venv-ci``, so that a developer's ``.venv`` stays), after nothing but
    going to the root and clearing its old environment, and then the README's
    second command: what CI installs is what the README tells a user to run,
    and an index the README adds that CI cannot reach stalls CI, not a user."""
    blocks = re.findall(r"```bash\n(.*?)```", readme_section("Set up in two commands"), re.S)
    assert len(blocks) == 2, "the set-up section's two bash blocks"
    set_up, tests = (_commands(block) for block in blocks)
    expected = [re.sub(r"(?<![\w-])\.venv(?![\w-])", ".venv-ci", line) for line in set_up]
    ci = _commands(CI.read_text())
    assert expected[0] in ci, f"{expected[0]!r} is not a line of .ci/run"
    start = ci.index(expected[0])
    assert ci[:start] == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', "rm -rf .venv-ci"]
    assert ci[start : start + len(expected)] == expected
    assert tests == ["python -m pytest -n 2"]
    assert tests[0] in ci[start + len(expected) :]


def test_the_readme_keeps_to_200_lines():
    assert len(README.read_text().splitlines()) <= 200


def readme_digits_table(text=None):
    """The rows of the README's ``skae compare`` table: ``{(method, k): (mse, acc)}``."""
    text = README.read_text() if text is None else text
    block = text.split(spread.HEADER)[1].split("```")[0]
    cells, lines = spread.parse_table(block)
    assert len(lines) == len(block.strip().splitlines()), "a row the parser skipped"
    return {key: values[:2] for key, values in cells.items()}


def readme_spread():
    """The spread the README states beside the table: ``(mse, accuracy)``, the
    first relative (a fraction of each cell's value), the second absolute."""
    matches = list(spread.SPREAD.finditer(README.read_text()))
    assert len(matches) == 1, "the README states the table's spread once"
    return float(matches[0]["mse"]) / 100, float(matches[0]["accuracy"])


def test_the_readme_states_the_pca_ratios_of_its_table():
    cells = {key: (mse, accuracy, 0.0) for key, (mse, accuracy) in readme_digits_table().items()}
    ks, ratios = spread.ratios(cells)
    matches = list(spread.RATIOS.finditer(README.read_text()))
    assert len(matches) == 1
    number = r"[0-9]+(?:\.[0-9]+)?"
    assert re.findall(number, matches[0]["ratios"]) == ratios
    assert [int(k) for k in re.findall(number, matches[0]["ks"])] == ks


def test_the_benchmarks_page_holds_the_readme_table():
    """docs/results.md's digits table (the dated run) is the README's."""
    results = (README.parent / "docs" / "results.md").read_text()
    section = results.split("<!-- compare-tables-start -->")[1]
    assert readme_digits_table(section) == readme_digits_table()


def test_the_spread_script_writes_the_readme_it_reads(tmp_path):
    """``bench_readme_spread.py --write-readme`` finds each sentence it writes
    once, and writing the README's own figures back changes nothing."""
    text = README.read_text()
    copy = tmp_path / "README.md"
    copy.write_text(text)
    cells, lines = spread.parse_table(text.split(spread.HEADER)[1].split("```")[0])
    mse, accuracy = readme_spread()
    run = spread.SPREAD_RUN.search(text)
    spread.write_readme(lines, cells, 100 * mse, accuracy, int(run["n"]), run["date"], copy)
    assert copy.read_text() == text


def test_the_readme_digits_table_is_what_skae_compare_prints(tmp_path):
    """The table is this version's: a fresh ``skae compare`` (one torch thread,
    as the README says) prints the same errors and accuracies within the
    spread the README states beside the table, measured by
    ``benchmarks/bench_readme_spread.py`` across CPU kernels and thread
    counts (fit times aside)."""
    result = subprocess.run(
        [sys.executable, "-m", "skae", "compare", "--output", "none", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    printed, _ = spread.parse_table(result.stdout)
    expected = readme_digits_table()
    mse_spread, accuracy_spread = readme_spread()
    assert printed.keys() == expected.keys()
    for key, (mse, accuracy) in expected.items():
        assert abs(printed[key][0] - mse) <= mse_spread * mse + 1e-12, (key, printed[key][0])
        assert abs(printed[key][1] - accuracy) <= accuracy_spread + 1e-9, (key, printed[key][1])
