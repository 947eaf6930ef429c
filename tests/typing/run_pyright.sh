#!/usr/bin/env bash
# pyright, the type checker behind VS Code's Pylance, on two user scripts:
# estimators_usage.py must have no error (the hand-written constructors and
# their attributes are visible), misspelled_keyword.py must have the error
# that names the misspelled keyword. skae is read from this checkout
# (pyrightconfig.json: extraPaths), its dependencies from $PYTHON's
# environment.
#
#   tests/typing/run_pyright.sh            # pyright on PATH (npm or pip install pyright)
#   PYRIGHT=/path/to/pyright PYTHON=/path/to/python tests/typing/run_pyright.sh
set -uo pipefail
cd "$(dirname "$0")"
PYRIGHT=${PYRIGHT:-pyright}
PYTHON=${PYTHON:-$(command -v python)}
status=0

if ! "$PYRIGHT" --pythonpath "$PYTHON" -p pyrightconfig.json estimators_usage.py; then
    echo "run_pyright.sh: estimators_usage.py must type-check without errors." >&2
    status=1
fi

out=$("$PYRIGHT" --pythonpath "$PYTHON" -p pyrightconfig.json misspelled_keyword.py)
rc=$?
echo "$out"
# pyright exits 1 when it reports errors (2 and 3: it could not run).
if [ "$rc" -ne 1 ] || ! grep -q 'No parameter named "n_componets"' <<<"$out"; then
    echo "run_pyright.sh: pyright must report the misspelled keyword n_componets." >&2
    status=1
fi
exit "$status"
