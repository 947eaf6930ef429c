"""pytest configuration for the doctests in skae/ and the tests in tests/:
figures are drawn off screen."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
