"""Errors of the encroachment models (all :class:`~landgov.errors.LandgovError`)."""

from __future__ import annotations

from landgov.errors import LandgovError


class EncroachmentError(LandgovError):
    """Base class of the errors raised by :mod:`models.encroachment`."""


class BadImagery(EncroachmentError, ValueError):
    """An image or mask cannot be used: too few bands, wrong dtype, missing file."""


class GridMismatch(EncroachmentError, ValueError):
    """Rasters that must share one pixel grid (CRS, transform, shape) do not."""


class MissingBands(BadImagery):
    """An image lacks a band the model needs (e.g. an RGB photo for an RGBN model)."""


class NotGeoreferenced(BadImagery):
    """An image has no CRS or no geotransform, so it cannot be put on a ground grid."""
