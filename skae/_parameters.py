"""Estimator parameters and fitted attributes, each declared once.

scikit-learn reads an estimator's parameters from the signature of its
``__init__``, validates them against ``_parameter_constraints`` and
documents them in the class docstring. skae's five estimators share most of
their parameters, so each one is declared once, as a :class:`Param` holding
its name, default, constraints and numpydoc entry, next to the code that
reads it: the training parameters in :mod:`skae._base`, the network ones in
:mod:`skae._architectures`, a variant's own in its module. A public class
lists the parameters it takes in :func:`declare`, which writes

* ``__init__``, with a real signature (``inspect.signature``, ``help()``,
  Sphinx and scikit-learn's ``get_params`` read it) whose body stores every
  argument unchanged, as scikit-learn requires;
* ``_parameter_constraints``;
* the docstring's "Parameters" and "Attributes" sections, in place of
  the line ``<parameters and attributes>``.

This is the way skorch templates its shared parameter docs, carried to the
signature, so that a parameter's default, check and text cannot drift apart
between classes.
"""

from __future__ import annotations

import dataclasses
import inspect
import textwrap
from dataclasses import dataclass

__all__ = ["Attr", "Param", "declare"]

MARKER = "<parameters and attributes>"


def _indent_block(text, indent):
    """``text`` (cleaned as a docstring: first line apart) indented by ``indent`` spaces."""
    return textwrap.indent(inspect.cleandoc(text), " " * indent)


@dataclass(frozen=True)
class Param:
    """One estimator parameter.

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
        May be passed by position (only ``n_components``).
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
    lines = doc.split("\n")
    for i, line in enumerate(lines):
        if line.strip() == marker:
            indent = len(line) - len(line.lstrip())
            lines[i] = _indent_block("\n\n".join(blocks), indent)
            return "\n".join(lines)
    raise ValueError(f"docstring has no {marker} line")


def declare(*params, attributes=()):
    """Class decorator: ``__init__``, constraints and docs from :class:`Param` s.

    Parameters
    ----------
    *params : Param
        The class's parameters, in signature order; only those marked
        ``positional`` may come by position, the rest are keyword-only.
    attributes : sequence of Attr, default=()
        Fitted attributes.

    Returns
    -------
    decorate : callable
        Sets ``cls.__init__``, ``cls._parameter_constraints``,
        ``cls._fitted_attribute_names`` (the names of ``attributes``: the
        only ones :func:`skae.load` restores from a model file) and fills
        ``cls.__doc__``.
    """
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise ValueError(f"a parameter is declared twice in {names}")
    signature = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [
            inspect.Parameter(
                p.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD
                if p.positional
                else inspect.Parameter.KEYWORD_ONLY,
                default=p.default,
            )
            for p in params
        ]
    )

    def decorate(cls):
        def __init__(self, *args, **kwargs):
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            for name in names:
                setattr(self, name, bound.arguments[name])

        __init__.__signature__ = signature
        __init__.__qualname__ = f"{cls.__qualname__}.__init__"
        __init__.__module__ = cls.__module__
        cls.__init__ = __init__
        cls._parameter_constraints = {p.name: list(p.constraints) for p in params}
        cls._fitted_attribute_names = frozenset(a.name for a in attributes)
        cls.__doc__ = _fill(
            cls.__doc__, MARKER, [("Parameters", params), ("Attributes", attributes)]
        )
        return cls

    return decorate
