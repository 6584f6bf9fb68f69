"""A map as one picture (imagery.picture): its frame, the imagery under it, and what is
drawn over it, read back pixel by pixel."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from imagery.picture import BACKGROUND, Frame, Markers, Polygons, compose
from imagery.render import png_bytes

# a square of about 1 km at Sheikhupura's latitude
LON0, LAT0 = 74.0, 31.7
DEG_LAT = 1000 / 110_540
DEG_LON = 1000 / (111_320 * math.cos(math.radians(LAT0 + DEG_LAT / 2)))
SQUARE = (LON0, LAT0, LON0 + DEG_LON, LAT0 + DEG_LAT)


def pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        assert image.mode == "RGB"
        return np.asarray(image)


def ring(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def test_the_frame_shows_all_of_the_bounds_centred_at_one_scale() -> None:
    frame = Frame.fitted(SQUARE, 400, 200, margin=0.05)
    x0, y0, x1, y1 = frame.bounds
    assert x0 < SQUARE[0] and x1 > SQUARE[2] and y0 < SQUARE[1] and y1 > SQUARE[3]
    assert (x0 + x1) / 2 == pytest.approx((SQUARE[0] + SQUARE[2]) / 2)
    # the square's height fills the picture less its margins; a metre is as many pixels
    # across as up
    top = frame.pixel(SQUARE[0], SQUARE[3])[1]
    bottom = frame.pixel(SQUARE[0], SQUARE[1])[1]
    left, right = frame.pixel(SQUARE[0], LAT0)[0], frame.pixel(SQUARE[2], LAT0)[0]
    assert bottom - top == pytest.approx(200 * 0.9, rel=1e-3)
    assert right - left == pytest.approx(bottom - top, rel=2e-3)
    assert frame.pixel(x0, y1) == (0.0, 0.0) and frame.pixel(x1, y0, 2) == (800.0, 400.0)


@pytest.mark.parametrize(
    ("bbox", "size"),
    [((1.0, 1.0, 0.0, 0.0), (10, 10)), (SQUARE, (1, 10))],
)
def test_a_frame_refuses_inverted_bounds_or_no_pixels(
    bbox: tuple[float, float, float, float], size: tuple[int, int]
) -> None:
    with pytest.raises(ValueError):
        Frame.fitted(bbox, *size)


def test_imagery_lands_where_its_bounds_say_and_no_data_shows_the_background() -> None:
    frame = Frame(SQUARE, 100, 100)
    # a 2 × 2 image over the square's west half: red on top, blue below; its bottom
    # right pixel has no data
    rgb = np.zeros((3, 2, 2), dtype=np.uint8)
    rgb[0, 0, :] = 255
    rgb[2, 1, :] = 255
    valid = np.array([[True, True], [True, False]])
    west = (SQUARE[0], SQUARE[1], (SQUARE[0] + SQUARE[2]) / 2, SQUARE[3])
    out = pixels(compose(frame, [(png_bytes(rgb, valid), west)]))
    assert out.shape == (100, 100, 3)
    assert tuple(out[10, 10]) == (255, 0, 0)  # north-west: red
    assert tuple(out[90, 10]) == (0, 0, 255)  # south-west: blue
    assert tuple(out[90, 40]) == BACKGROUND  # no data there
    assert tuple(out[50, 80]) == BACKGROUND  # east: no image at all
    # an image outside the frame draws nothing
    away = (SQUARE[2] + 1, SQUARE[1], SQUARE[2] + 2, SQUARE[3])
    assert (pixels(compose(frame, [(png_bytes(rgb, valid), away)])) == BACKGROUND).all()


def test_fills_outlines_holes_and_markers() -> None:
    frame = Frame(SQUARE, 200, 200)
    x0, y0, x1, y1 = SQUARE
    dx, dy = (x1 - x0) / 10, (y1 - y0) / 10
    outer = ring(x0 + dx, y0 + dy, x1 - dx, y1 - dy)  # pixels 20..180
    hole = ring(x0 + 4 * dx, y0 + 4 * dy, x0 + 6 * dx, y0 + 6 * dy)  # pixels 80..120
    green, black, red = (0, 200, 0, 255), (0, 0, 0, 255), (255, 0, 0, 255)
    drawn = [
        Polygons([[outer, hole]], fills=[green], outlines=[black], width_px=3),
        Markers([[x0 + 2 * dx, y1 - 2 * dy]], [red], radius_px=10, width_px=2),
    ]
    out = pixels(compose(frame, [], drawn))
    assert tuple(out[60, 60]) == (0, 200, 0)  # inside: filled
    assert tuple(out[100, 100]) == BACKGROUND  # the hole: not filled
    assert tuple(out[100, 20]) == (0, 0, 0)  # the west edge: outlined
    assert tuple(out[100, 5]) == BACKGROUND  # outside
    # the marker at pixel (40, 40): a red ring 2 px wide inside a radius of 10 px, its
    # middle left as it was
    assert tuple(out[40, 49]) == (255, 0, 0) and tuple(out[31, 40]) == (255, 0, 0)
    assert tuple(out[40, 40]) == (0, 200, 0)


def test_translucent_fills_blend_and_outlines_stay_over_a_neighbours_fill() -> None:
    frame = Frame(SQUARE, 100, 100)
    x0, y0, x1, y1 = SQUARE
    mid = (x0 + x1) / 2
    white = np.full((3, 4, 4), 255, dtype=np.uint8)
    under = [(png_bytes(white, np.ones((4, 4), dtype=bool)), SQUARE)]
    west, east = ring(x0, y0, mid, y1), ring(mid, y0, x1, y1)
    drawn = [
        Polygons([[west]], fills=[(0, 0, 255, 128)], outlines=[(0, 0, 0, 255)], width_px=2),
        Polygons([[east]], fills=[(255, 0, 0, 255)]),
    ]
    out = pixels(compose(frame, under, drawn)).astype(int)
    r, g, b = out[50, 25]
    assert b == 255 and abs(r - 127) <= 2 and abs(g - 127) <= 2  # half blue over white
    assert tuple(out[50, 75]) == (255, 0, 0)
    assert tuple(out[50, 50]) == (0, 0, 0)  # the west's outline, over the east's fill


def test_colours_must_match_the_shapes() -> None:
    frame = Frame(SQUARE, 10, 10)
    square = [ring(*SQUARE)]
    with pytest.raises(ValueError, match="2 colours for 1 shapes"):
        compose(frame, [], [Polygons([square], fills=[(0, 0, 0, 255)] * 2)])
    with pytest.raises(ValueError, match="0 colours for 1 shapes"):
        compose(frame, [], [Markers([[LON0, LAT0]], [], radius_px=3, width_px=1)])
