"""Estimator parameters and fitted attributes, each declared once.

scikit-learn reads an estimator's parameters from the signature of its
``__init__``, validates them against ``_parameter_constraints`` and
documents them in the class docstring. skae's five estimators share most of
their parameters, so each one is declared once, as a :class:`Param` holding
its name, default, constraints and numpydoc entry, next to the code that
reads it: the training parameters in :mod:`skae._common_params`, the
network ones in :mod:`skae._architectures`, a variant's own in its module.

Each public class writes its ``__init__`` by hand, as scikit-learn's do:
the parameters listed with their defaults (``n_components`` may come by
position, the rest are keyword-only), each stored unchanged on ``self``.
Editors, type checkers, ``inspect.getsource`` and a reader see them there.
A type checker takes a parameter's type from its default; the few that
also take values of another type (``max_epochs: int | Literal["auto"]``,
a torch optimizer class or ``torch.device``) are annotated
(tests/typing/run_pyright.sh checks a user's script with pyright).
The class then lists the same parameters, in the same order, in
:func:`declare`, which

* checks that ``__init__`` agrees with the declarations (names, order,
  kinds, defaults) and stores each argument unchanged, raising a TypeError
  that names the class and the mismatch when it does not, so that the
  signature and the declarations cannot drift apart;
* sets ``_parameter_constraints`` and ``_fitted_attribute_names``;
* writes the docstring's "Parameters" and "Attributes" sections in place
  of the line ``<parameters and attributes>``.

Functions whose parameters are shared (the data set loaders of
:mod:`skae.datasets`) use the same decorator: it checks their signature,
writes their "Parameters" section in place of the line ``<parameters>``
and validates their arguments against the constraints with scikit-learn's
``validate_params``. This is the one way skae writes shared parameter docs,
so that a parameter's default, check and text are given once.
"""

from __future__ import annotations

import dataclasses
import inspect
import textwrap
from dataclasses import dataclass

from sklearn.utils._param_validation import validate_params

__all__ = ["Attr", "Param", "declare"]

MARKER = "<parameters and attributes>"
FUNCTION_MARKER = "<parameters>"


def _indent_block(text, indent):
    """``text`` (cleaned as a docstring: first line apart) indented by ``indent`` spaces."""
    return textwrap.indent(inspect.cleandoc(text), " " * indent)


@dataclass(frozen=True)
class Param:
    """One estimator (or function) parameter.

    Parameters
    ----------
    name : str
    default : object
        Must be immutable (None for a dict), as scikit-learn requires.
    constraints : tuple
        scikit-learn parameter constraints (``Interval``, ``StrOptions``,
        types, ``None``...).
    type_doc : str
        numpydoc type, e.g. ``'{"dense", "conv"}'``.
    description : str
        numpydoc description (any indentation; dedented).
    positional : bool, default=False
        May be passed by position (``n_components``; a loader's
        ``data_home``); the others are keyword-only.
    """

    name: str
    default: object
    constraints: tuple
    type_doc: str
    description: str
    positional: bool = False

    def replace(self, **changes):
        """A copy with some fields changed (another default, description...)."""
        return dataclasses.replace(self, **changes)

    def numpydoc(self):
        default = f'"{self.default}"' if isinstance(self.default, str) else repr(self.default)
        head = f"{self.name} : {self.type_doc}, default={default}"
        return f"{head}\n{_indent_block(self.description, 4)}"


@dataclass(frozen=True)
class Attr:
    """One fitted attribute, for the docstring: name, numpydoc type, description."""

    name: str
    type_doc: str
    description: str

    def numpydoc(self):
        return f"{self.name} : {self.type_doc}\n{_indent_block(self.description, 4)}"


def _fill(doc, marker, sections):
    """Replace the line holding only ``marker`` with numpydoc ``sections``.

    ``sections`` is a sequence of ``(title, entries)``; the text takes the
    marker line's indentation.
    """
    blocks = [
        f"{title}\n{'-' * len(title)}\n" + "\n".join(e.numpydoc() for e in entries)
        for title, entries in sections
        if entries
    ]
    lines = (doc or "").split("\n")
    for i, line in enumerate(lines):
        if line.strip() == marker:
            indent = len(line) - len(line.lstrip())
            lines[i] = _indent_block("\n\n".join(blocks), indent)
            return "\n".join(lines)
    raise ValueError(f"docstring has no {marker} line")


def _same_default(a, b):
    """Whether two defaults are the same value of the same type (1 is not 1.0 nor True)."""
    return type(a) is type(b) and a == b


def _signature_mismatches(parameters, params):
    """What differs between the ``inspect.Parameter`` s of a signature and ``params``."""
    got = [p.name for p in parameters]
    declared = [p.name for p in params]
    if got != declared:
        missing = [n for n in declared if n not in got]
        extra = [n for n in got if n not in declared]
        problems = []
        if missing:
            problems.append(f"missing {missing}")
        if extra:
            problems.append(f"not declared {extra}")
        if not missing and not extra:
            problems.append(f"order ({', '.join(got)}) instead of ({', '.join(declared)})")
        return problems
    problems = []
    for actual, param in zip(parameters, params, strict=True):
        kind = (
            inspect.Parameter.POSITIONAL_OR_KEYWORD
            if param.positional
            else inspect.Parameter.KEYWORD_ONLY
        )
        if actual.kind is not kind:
            problems.append(
                f"{param.name!r} is {actual.kind.description}, declared {kind.description}"
            )
        if actual.default is inspect.Parameter.empty:
            problems.append(f"{param.name!r} has no default, declared {param.default!r}")
        elif not _same_default(actual.default, param.default):
            problems.append(
                f"{param.name!r} defaults to {actual.default!r}, declared {param.default!r}"
            )
    return problems


def _stored_mismatches(cls, params):
    """What ``cls.__init__`` with its defaults fails to store unchanged on ``self``."""
    est = cls.__new__(cls)
    cls.__init__(est)
    stored = vars(est)
    problems = [
        f"__init__ does not store {p.name!r} unchanged as self.{p.name}"
        for p in params
        if p.name not in stored or not _same_default(stored[p.name], p.default)
    ]
    extra = sorted(set(stored) - {p.name for p in params})
    if extra:
        problems.append(f"__init__ sets {extra}, which are not parameters")
    return problems


def declare(*params, attributes=()):
    """Decorator: check a signature against :class:`Param` s; constraints and docs from them.

    On a class (a public estimator), checks its hand-written ``__init__``
    and sets ``_declared_parameters`` (``params``),
    ``_parameter_constraints``, ``_fitted_attribute_names`` (the names of
    ``attributes``: the only ones :func:`skae.load` restores from a model
    file) and the docstring's ``<parameters and attributes>`` line. On a function
    (a loader of :mod:`skae.datasets`), checks its signature, writes the
    docstring's ``<parameters>`` line and validates its arguments with
    scikit-learn's ``validate_params``.

    Parameters
    ----------
    *params : Param
        The parameters, in signature order; only those marked
        ``positional`` may come by position, the rest are keyword-only.
    attributes : sequence of Attr, default=()
        Fitted attributes (classes only).

    Returns
    -------
    decorate : callable
        Takes the class or function and returns it (a function wrapped by
        ``validate_params``).

    Raises
    ------
    TypeError
        From ``decorate``: the signature does not list exactly ``params``
        (names, order, positional or keyword-only, defaults), or an
        ``__init__`` does not store each argument unchanged. The message
        names the class or function and each mismatch.
    ValueError
        A parameter is declared twice, the docstring has no marker line,
        or a function is given ``attributes``.
    """
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise ValueError(f"a parameter is declared twice in {names}")

    def decorate(obj):
        if isinstance(obj, type):
            parameters = list(inspect.signature(obj.__init__).parameters.values())[1:]
            where = f"{obj.__qualname__}.__init__"
        else:
            if attributes:
                raise ValueError(f"{obj.__qualname__} is a function: it has no attributes")
            parameters = list(inspect.signature(obj).parameters.values())
            where = obj.__qualname__
        problems = _signature_mismatches(parameters, params)
        if not problems and isinstance(obj, type):
            problems = _stored_mismatches(obj, params)
        if problems:
            raise TypeError(
                f"{where} does not match the parameters declared for it in "
                f"{declare.__module__}.declare(...): " + "; ".join(problems) + "."
            )
        if not isinstance(obj, type):
            obj.__doc__ = _fill(obj.__doc__, FUNCTION_MARKER, [("Parameters", params)])
            constraints = {p.name: list(p.constraints) for p in params}
            return validate_params(constraints, prefer_skip_nested_validation=True)(obj)
        obj._declared_parameters = params
        obj._parameter_constraints = {p.name: list(p.constraints) for p in params}
        obj._fitted_attribute_names = frozenset(a.name for a in attributes)
        obj.__doc__ = _fill(
            obj.__doc__, MARKER, [("Parameters", params), ("Attributes", attributes)]
        )
        return obj

    return decorate
