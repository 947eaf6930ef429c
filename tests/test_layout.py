"""The package's layering: no import cycle inside skae, model files independent of
the estimators, plotting independent of the estimator classes.

Read from the source with ``ast`` (imports inside functions included), not
from ``sys.modules``: importing any ``skae`` module runs ``skae/__init__.py``,
which imports every estimator.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

import skae

PACKAGE_DIR = Path(skae.__file__).resolve().parent
ESTIMATOR_MODULES = {
    "skae._autoencoder",
    "skae._denoising",
    "skae._sparse",
    "skae._variational",
    "skae._base",
}
ESTIMATOR_CLASSES = {
    "AutoencoderTransformer",
    "ConvolutionalAutoencoder",
    "DenoisingAutoencoder",
    "SparseAutoencoder",
    "VariationalAutoencoder",
    "BaseAutoencoder",
}


def _module_name(path):
    parts = ["skae", *path.relative_to(PACKAGE_DIR).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules():
    """``{dotted name: (path, ast tree, is_package)}`` of every module in skae/."""
    return {
        _module_name(path): (path, ast.parse(path.read_text(), str(path)), path.stem == "__init__")
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
    }


def _resolve(name, modules):
    """The skae module ``name`` refers to (itself, or its package), or None."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module):
    """The skae modules that ``module`` imports, anywhere in its code."""
    modules = _modules()
    _, tree, is_package = modules[module]
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            # ``from . import x`` / ``from skae import _io`` import a submodule;
            # ``from skae import load`` imports the package itself.
            targets = [
                f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in modules else prefix
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            resolved = _resolve(target, modules)
            if resolved is not None and resolved != module:
                found.add(resolved)
    return found


def _graph():
    return {module: _imports(module) for module in _modules()}


def _find_cycle(graph):
    """One import cycle as a list of modules (first == last), or None."""
    state = {}  # 1: on the current path, 2: done

    def visit(node, path):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                cycle = visit(nxt, path)
                if cycle:
                    return cycle
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [])
            if cycle:
                return cycle
    return None


def test_graph_sees_the_package_layout():
    # The parsing finds the known edges, so that the tests below can fail.
    graph = _graph()
    assert {"skae._autoencoder", "skae._io", "skae._variational"} <= graph["skae"]
    assert {"skae._base", "skae._architectures", "skae._parameters"} <= graph["skae._autoencoder"]
    assert "skae._io" in graph["skae._base"]
    assert "skae.plotting" in graph["skae._compare"]  # an import inside a function


def test_find_cycle_reports_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _find_cycle(graph) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_inside_skae():
    cycle = _find_cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _reachable(graph, start):
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_model_files_do_not_import_the_estimators():
    graph = _graph()
    direct = graph["skae._io"] & (ESTIMATOR_MODULES | {"skae"})
    assert not direct, f"skae._io imports {sorted(direct)}"
    reached = _reachable(graph, "skae._io") & (ESTIMATOR_MODULES | {"skae"})
    assert not reached, f"skae._io reaches {sorted(reached)} through its imports"


@pytest.mark.parametrize("module", ["skae._nn", "skae._losses", "skae._runtime"])
def test_lower_layers_do_not_import_the_estimators(module):
    reached = _reachable(_graph(), module) & (ESTIMATOR_MODULES | {"skae"})
    assert not reached, f"{module} reaches {sorted(reached)}"


def _docstring_nodes(tree):
    nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                nodes.add(id(body[0].value))
    return nodes


def _estimator_type_tests(tree):
    """Places where code names an estimator class: ``"SparseAutoencoder"`` as a
    string, ``isinstance(x, VariationalAutoencoder)``, an import of one, or a
    comparison of a ``__name__``."""
    docstrings = _docstring_nodes(tree)
    found = []
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings and node.value.strip() in ESTIMATOR_CLASSES:
                found.append(f"{where}: string {node.value!r}")
        elif isinstance(node, ast.Name) and node.id in ESTIMATOR_CLASSES:
            found.append(f"{where}: name {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in ESTIMATOR_CLASSES:
            found.append(f"{where}: attribute .{node.attr}")
        elif isinstance(node, ast.ImportFrom):
            names = {alias.name for alias in node.names} & ESTIMATOR_CLASSES
            if names:
                found.append(f"{where}: imports {sorted(names)}")
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(
                isinstance(op, ast.Attribute) and op.attr in ("__name__", "__qualname__")
                for op in operands
            ):
                found.append(f"{where}: compares a class name")
    return found


def test_type_test_detector_finds_type_tests():
    code = (
        "def f(est):\n"
        '    """About SparseAutoencoder."""\n'
        '    if type(est).__name__ == "Other":\n'
        "        return 1\n"
        "    if isinstance(est, skae.VariationalAutoencoder):\n"
        "        return 2\n"
        '    return _name(est) in ("SparseAutoencoder",)\n'
    )
    found = _estimator_type_tests(ast.parse(code))
    assert len(found) == 3, found
    assert _estimator_type_tests(ast.parse('"""SparseAutoencoder docs."""\n')) == []


def test_plotting_does_not_test_for_estimator_classes():
    _, tree, _ = _modules()["skae.plotting"]
    found = _estimator_type_tests(tree)
    assert not found, "skae/plotting.py tests for estimator classes: " + "; ".join(found)
    reached = _reachable(_graph(), "skae.plotting") & ESTIMATOR_MODULES
    assert not reached, f"skae.plotting imports {sorted(reached)}"
