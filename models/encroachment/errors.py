"""Errors of the encroachment models (all :class:`~landgov.errors.LandgovError`)."""

from __future__ import annotations

from landgov.errors import LandgovError


class EncroachmentError(LandgovError):
    """Base class of the errors raised by :mod:`models.encroachment`."""


class BadImagery(EncroachmentError, ValueError):
    """An image or mask cannot be used: too few bands, wrong dtype, missing file."""


class GridMismatch(EncroachmentError, ValueError):
    """Rasters that must share one pixel grid (CRS, transform, shape) do not."""
