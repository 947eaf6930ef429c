"""``python -m skae compare ...``: the same as the ``skae`` command."""

import sys

from .cli import main

sys.exit(main())
