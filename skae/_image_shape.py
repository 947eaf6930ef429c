"""The shape of one image, from what the caller knows: one resolver.

The convolutional network (:mod:`skae._architectures`), the figures
(:mod:`skae.plotting`) and the image codecs (:mod:`skae.compression`) all
need the shape of the image a row of values holds: the shape given, or
that of the images ``X`` came as, or a guess (a square) for flat rows.
:func:`resolve_image_shape` does it once, for all three; each caller then
reads the axes its own way (layouts for the network, channels last for
figures and codecs) and adds its remedy to the error messages. This module
imports nothing of skae, so that any layer may use it.
"""

from __future__ import annotations

import math
import numbers

# The shapes of each rank, as the messages name them.
_NAMES = {1: "(length,)", 2: "(height, width)", 3: "(height, width, channels)"}


def _shapes(ranks):
    """``"(length,), (height, width) or (height, width, channels)"`` for ``ranks``."""
    names = [_NAMES[r] for r in ranks]
    return " or ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} or {names[-1]}"


def square_side(n_values):
    """The side of a square of ``n_values`` pixels, or None where there is none."""
    side = math.isqrt(n_values)
    return side if side * side == n_values else None


def resolve_image_shape(
    image_shape,
    n_values,
    *,
    sample_shape=None,
    ranks=(1, 2, 3),
    channels=None,
    not_square=None,
    hint="",
):
    """The shape of one image of ``n_values`` values, checked.

    Parameters
    ----------
    image_shape : sequence of int or None
        The shape asked for, in the caller's order of axes.
    n_values : int
        Values per row (per sample).
    sample_shape : sequence of int or None, default=None
        The shape of the samples where ``X`` came as images (rank 2 or
        more): it is the image shape, and an ``image_shape`` that differs
        from it is an error. None, or a rank of 1, for flat rows.
    ranks : tuple of int, default=(1, 2, 3)
        The numbers of axes the caller takes, among 1, 2 and 3.
    channels : tuple of int or None, default=None
        Where given, the channel counts the last axis of a 3-axis shape may
        have (the caller reads it channels last).
    not_square : tuple of int or None, default=None
        The shape for flat rows of a non-square length with no shape
        given, e.g. ``(n_values,)`` for a 1-D signal; None makes that an
        error.
    hint : str, default=""
        What the user can do, added to the errors about a shape of the
        wrong size or channel count.

    Returns
    -------
    shape : tuple of int
        ``sample_shape`` or ``image_shape`` as ints, else ``(side, side)``
        for a square ``n_values``, else ``not_square``.

    Raises
    ------
    ValueError
        If ``image_shape`` differs from ``sample_shape``, is not positive
        integers of a rank in ``ranks``, does not hold ``n_values`` values,
        has a channel count outside ``channels``, or if no shape is given
        and ``n_values`` is not a square (without ``not_square``).
    """
    hint = f": {hint}" if hint else "."
    if sample_shape is not None and len(sample_shape) >= 2:
        if image_shape is not None and tuple(image_shape) != tuple(sample_shape):
            raise ValueError(
                f"image_shape={image_shape!r} but X's samples have shape "
                f"{tuple(sample_shape)}: drop image_shape (the images' own shape is used) "
                "or pass X as rows."
            )
        image_shape = sample_shape
    if image_shape is None:
        side = square_side(n_values)
        if side is not None:
            return (side, side)
        if not_square is not None:
            return tuple(not_square)
        raise ValueError(
            f"Rows of {n_values} values are not square images: pass image_shape={_shapes(ranks)}."
        )
    shape = tuple(image_shape)
    if (
        len(shape) not in ranks
        or not all(isinstance(v, numbers.Integral) for v in shape)
        or min(shape) < 1
    ):
        raise ValueError(
            f"image_shape must be {_shapes(ranks)} of positive ints, got {image_shape!r}."
        )
    shape = tuple(int(v) for v in shape)
    if math.prod(shape) != n_values:
        raise ValueError(
            f"image_shape={image_shape!r} holds {math.prod(shape)} values but a row of X "
            f"has {n_values}{hint}"
        )
    if channels is not None and len(shape) == 3 and shape[2] not in channels:
        names = " or ".join(str(c) for c in channels)
        raise ValueError(f"The images need {names} channels, got {shape[2]}{hint}")
    return shape
