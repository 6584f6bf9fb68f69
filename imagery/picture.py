"""A map as one picture: imagery with parcels, flags and markers drawn over it, made on
the server.

A page that shows a map to be looked at (the Valuation page's value map, a dispute
case's map) need not start a WebGL map. A new deck.gl map compiles its shaders in the
browser, and without a graphics card Chromium does that in software (SwiftShader): about
0.15–0.25 s for each kind of layer, whatever its data, every time a page opens a map
(measured: docs/benchmarks.md, "A new map's fixed cost"). Tehsil offices' PCs often have
no usable graphics card, so the pages show this picture first and keep the interactive map
one switch away.

The picture is a linear longitude/latitude grid (:class:`Frame`), as the imagery of
:mod:`imagery.render` is, with the x scale shrunk by the cosine of the latitude so a
square field stays square; over a mouza it matches the web map's Mercator to a small
fraction of a pixel. Vector overlays are drawn at :data:`SUPERSAMPLE` times the size and
reduced, so edges are smooth (PIL draws without anti-aliasing).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from PIL import ImageDraw

Bounds = tuple[float, float, float, float]
RGBA = tuple[int, int, int, int]
Ring = Sequence[Sequence[float]]
Shape = Sequence[Ring]
"""A polygon: its exterior ring first, then its holes; each ring [[lon, lat], …]."""

SUPERSAMPLE: Final = 2
M_PER_DEG_LAT: Final = 110_540.0
M_PER_DEG_LON_EQUATOR: Final = 111_320.0
BACKGROUND: Final = (236, 236, 236)
"""Where no imagery covers the picture: the light grey of an empty map."""


@dataclass(frozen=True)
class Frame:
    """The picture's pixel grid: ``width`` × ``height`` pixels over ``bounds``
    (min lon, min lat, max lon, max lat)."""

    bounds: Bounds
    width: int
    height: int

    @classmethod
    def fitted(cls, bbox: Bounds, width: int, height: int, margin: float = 0.04) -> Frame:
        """The frame of ``width`` × ``height`` pixels showing all of ``bbox`` (with
        ``margin`` of the picture free on each side), centred, at one scale in metres
        both ways."""
        if width < 2 or height < 2:
            raise ValueError(f"a picture needs at least 2 × 2 pixels, not {width} × {height}")
        x0, y0, x1, y1 = bbox
        if not (x1 >= x0 and y1 >= y0):
            raise ValueError(f"bounds {bbox} are not (min lon, min lat, max lon, max lat)")
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        m_per_deg_lon = M_PER_DEG_LON_EQUATOR * max(math.cos(math.radians(cy)), 1e-6)
        width_m = max((x1 - x0) * m_per_deg_lon, 1.0)
        height_m = max((y1 - y0) * M_PER_DEG_LAT, 1.0)
        usable = 1.0 - 2 * margin
        m_per_px = max(width_m / (width * usable), height_m / (height * usable))
        half_lon = width * m_per_px / 2 / m_per_deg_lon
        half_lat = height * m_per_px / 2 / M_PER_DEG_LAT
        return cls((cx - half_lon, cy - half_lat, cx + half_lon, cy + half_lat), width, height)

    def pixel(self, lon: float, lat: float, scale: float = 1.0) -> tuple[float, float]:
        """(x, y) of a point, in pixels from the top left, on the grid ``scale`` times
        finer."""
        x0, y0, x1, y1 = self.bounds
        return (
            (lon - x0) / (x1 - x0) * self.width * scale,
            (y1 - lat) / (y1 - y0) * self.height * scale,
        )


@dataclass(frozen=True)
class Polygons:
    """Polygons filled and/or outlined, one colour per shape (None: no fill, or no
    outline); ``width_px`` the outline's width in the picture's pixels."""

    shapes: Sequence[Shape]
    fills: Sequence[RGBA] | None = None
    outlines: Sequence[RGBA] | None = None
    width_px: float = 1.0


@dataclass(frozen=True)
class Markers:
    """Rings of a fixed size in pixels around points ((lon, lat)): a flag too small to
    see stays marked."""

    points: Sequence[Sequence[float]]
    colours: Sequence[RGBA]
    radius_px: float
    width_px: float


Overlay = Polygons | Markers


def _check(overlay: Overlay) -> None:
    """Raises ValueError unless each shape or point has its colour."""
    named: list[tuple[str, Sequence[RGBA] | None, int]]
    if isinstance(overlay, Markers):
        named = [("markers", overlay.colours, len(overlay.points))]
    else:
        n = len(overlay.shapes)
        named = [("fills", overlay.fills, n), ("outlines", overlay.outlines, n)]
    for name, colours, n in named:
        if colours is not None and len(colours) != n:
            raise ValueError(f"{name}: {len(colours)} colours for {n} shapes")


def _draws(overlay: Overlay, *, fill_pass: bool) -> bool:
    """Whether ``overlay`` draws anything in that pass (a pass with nothing to draw
    composites no layer: each costs a full-size blend)."""
    if isinstance(overlay, Markers):
        return not fill_pass and len(overlay.points) > 0
    colours = overlay.fills if fill_pass else overlay.outlines
    return colours is not None and any(c[3] > 0 for c in colours)


def _draw(draw: ImageDraw.ImageDraw, frame: Frame, overlay: Overlay, *, fill_pass: bool) -> None:
    """One pass of ``overlay`` on the :data:`SUPERSAMPLE` times finer grid: its fills, or
    its outlines and markers."""
    s = SUPERSAMPLE
    if isinstance(overlay, Markers):
        if fill_pass:
            return
        r, w = overlay.radius_px * s, max(1, round(overlay.width_px * s))
        for (lon, lat, *_), colour in zip(overlay.points, overlay.colours, strict=True):
            x, y = frame.pixel(lon, lat, s)
            draw.ellipse((x - r, y - r, x + r, y + r), outline=tuple(colour), width=w)
        return
    colours = overlay.fills if fill_pass else overlay.outlines
    if colours is None:
        return
    width = max(1, round(overlay.width_px * s))
    for shape, colour in zip(overlay.shapes, colours, strict=True):
        if colour[3] == 0:
            continue
        for k, ring in enumerate(shape):
            points = [frame.pixel(p[0], p[1], s) for p in ring]
            if len(points) < 3:
                continue
            if fill_pass:
                # a hole clears what its polygon filled (drawn before the next polygon,
                # so a parcel lying in the hole is drawn over it)
                draw.polygon(points, fill=tuple(colour) if k == 0 else (0, 0, 0, 0))
            else:
                draw.line([*points, points[0]], fill=tuple(colour), width=width, joint="curve")


def compose(
    frame: Frame,
    under: Sequence[tuple[bytes, Bounds]] = (),
    overlays: Sequence[Overlay] = (),
) -> bytes:
    """The picture of ``frame`` as PNG bytes: the ``under`` images (PNG bytes and the
    bounds they cover, as :func:`imagery.render.render_png` makes them; bottom first,
    transparent where they have no data), then every overlay's fills, then every
    overlay's outlines and markers, in order (an outline stays in sight over a
    neighbour's fill).

    Raises:
        ValueError: an overlay gives a different number of colours than shapes.
    """
    from PIL import Image, ImageDraw

    for overlay in overlays:
        _check(overlay)
    s = SUPERSAMPLE
    size = (frame.width * s, frame.height * s)
    canvas = Image.new("RGBA", size, (*BACKGROUND, 255))
    fx0, fy0, fx1, fy1 = frame.bounds
    for png, (bx0, by0, bx1, by1) in under:
        # the part of the image inside the frame, resampled straight onto its pixels
        ix0, iy0, ix1, iy1 = max(bx0, fx0), max(by0, fy0), min(bx1, fx1), min(by1, fy1)
        if ix0 >= ix1 or iy0 >= iy1:
            continue
        image = Image.open(io.BytesIO(png)).convert("RGBA")
        iw, ih = image.size
        box = (
            (ix0 - bx0) / (bx1 - bx0) * iw,
            (by1 - iy1) / (by1 - by0) * ih,
            (ix1 - bx0) / (bx1 - bx0) * iw,
            (by1 - iy0) / (by1 - by0) * ih,
        )
        left, top = frame.pixel(ix0, iy1, s)
        right, bottom = frame.pixel(ix1, iy0, s)
        dest = (round(left), round(top))
        target = (max(1, round(right) - dest[0]), max(1, round(bottom) - dest[1]))
        part = image.resize(target, Image.Resampling.BILINEAR, box=box)
        canvas.alpha_composite(part, dest=dest)
    for fill_pass in (True, False):
        for overlay in overlays:
            if not _draws(overlay, fill_pass=fill_pass):
                continue
            layer = Image.new("RGBA", size, (0, 0, 0, 0))
            _draw(ImageDraw.Draw(layer), frame, overlay, fill_pass=fill_pass)
            canvas.alpha_composite(layer)
    picture = canvas.convert("RGB").reduce(s)
    buf = io.BytesIO()
    picture.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()
