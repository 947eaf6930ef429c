"""Every script in examples/ runs end to end on small data."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
MNIST = ROOT.parent / "shared" / "data" / "mnist"


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script):
    if "mnist" in script.read_text() and not MNIST.is_dir() and "SKAE_DATA_HOME" not in os.environ:
        pytest.skip(f"MNIST IDX files not found at {MNIST}")
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "SKAE_EXAMPLE_N_TRAIN": "300",
        "SKAE_EXAMPLE_MAX_EPOCHS": "2",
        "OMP_NUM_THREADS": "1",
    }
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=script.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "an example prints the numbers its figure shows"


def test_examples_found():
    assert len(EXAMPLES) >= 4
