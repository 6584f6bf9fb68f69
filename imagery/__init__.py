"""Imagery pipeline: raster catalog, ingest, spectral indices, per-parcel zonal series.

Empty until the imagery issue lands; the package exists so the distribution's layout is
final from the start (``landgov``, ``imagery``, ``models``).
"""
