"""Figures in one call, as scikit-learn's Display objects.

Each Display computes what it shows in ``from_estimator`` and draws it in
``plot(ax=...)``; the matplotlib objects it draws are kept as attributes
ending in ``_`` (``ax_``, ``figure_``, ``im_``, ``lines_``, ...) so that a
figure can be restyled after the fact. This is the pattern of
:class:`sklearn.metrics.ConfusionMatrixDisplay`.

matplotlib is an optional dependency: ``pip install "skae[plot]"``.

Displays
--------
ReconstructionDisplay
    Rows of images and their reconstructions, by one or several estimators
    (PCA next to an autoencoder, for instance).
LatentSpaceDisplay
    The codes in two dimensions, coloured by label; codes with more than
    two components are projected by PCA first.
TrainingCurveDisplay
    Training (and validation) loss per epoch of a fitted skae estimator.
SampleGridDisplay
    A grid of new samples drawn from a :class:`~skae.VariationalAutoencoder`.
RateDistortionDisplay
    PSNR against bytes per sample for reducers and image codecs
    (:func:`skae.compression.rate_distortion`).
ReconstructionErrorDisplay
    One row, its reconstruction and the features where they differ most
    (why an outlier detector flags it, :mod:`skae.outliers`).
"""

from __future__ import annotations

# skae._compare draws its figure with matplotlib imported the Displays' way.
from ._helpers import _pyplot as _pyplot
from ._latent_space import LatentSpaceDisplay
from ._rate_distortion import RateDistortionDisplay
from ._reconstruction import ReconstructionDisplay
from ._reconstruction_error import ReconstructionErrorDisplay
from ._sample_grid import SampleGridDisplay
from ._training_curve import TrainingCurveDisplay

__all__ = [
    "LatentSpaceDisplay",
    "RateDistortionDisplay",
    "ReconstructionDisplay",
    "ReconstructionErrorDisplay",
    "SampleGridDisplay",
    "TrainingCurveDisplay",
]
