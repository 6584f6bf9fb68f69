"""``models.encroachment.imagery``: users' orthophotos onto a model's working grid, and the
model-driven band and output counts of ``models.encroachment.infer``."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pytest
import rasterio
import torch
from affine import Affine
from pyproj import CRS as PyprojCRS
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import from_origin
from rasterio.warp import transform as warp_transform
from torch import nn

from models.encroachment.data import check_image
from models.encroachment.errors import BadImagery, MissingBands, NotGeoreferenced
from models.encroachment.imagery import (
    band_names,
    check_georeference,
    prepare_image,
    read_working_image,
    working_grid,
)
from models.encroachment.infer import (
    model_in_channels,
    predict_array,
    predict_scene,
    read_probabilities,
    read_probability,
)

LON, LAT = 73.98, 31.71  # Sheikhupura: UTM zone 43N
UTM43 = CRS.from_epsg(32643)
RGB = ["red", "green", "blue"]
RGBN = ["red", "green", "blue", "nir"]


def _utm_origin() -> tuple[float, float]:
    xs, ys = warp_transform("EPSG:4326", UTM43, [LON], [LAT])
    return round(xs[0]), round(ys[0])


def write(
    path: Path,
    data: np.ndarray,
    *,
    crs: CRS | str | None = UTM43,
    transform: Affine | None = None,
    driver: str = "GTiff",
    nodata: float | None = None,
    descriptions: Sequence[str] | None = None,
) -> Path:
    """A raster of ``data`` (C, H, W); ``crs=None``/``transform=None`` leave them out."""
    profile: dict[str, object] = {"driver": driver, "count": data.shape[0],
                                  "height": data.shape[1], "width": data.shape[2],
                                  "dtype": data.dtype.name}  # fmt: skip
    if crs is not None:
        profile["crs"] = crs
    if transform is not None:
        profile["transform"] = transform
    if nodata is not None:
        profile["nodata"] = nodata
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data)
            for i, d in enumerate(descriptions or [], start=1):
                dst.set_band_description(i, d)
    return path


def _rgb(h: int = 32, w: int = 32, count: int = 3, dtype: str = "uint8") -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(10, 250, size=(count, h, w)).astype(dtype)


def _open(path: Path) -> rasterio.DatasetReader:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return rasterio.open(path)


# --- band names -----------------------------------------------------------------------


def test_band_names_by_description_colour_and_layout(tmp_path: Path) -> None:
    x, y = _utm_origin()
    t = from_origin(x, y, 0.5, 0.5)
    cases = {
        "rgb.tif": (_rgb(), None, RGB),  # uint8 GTiff: colour interpretation RGB
        "rgbn16.tif": (_rgb(count=4, dtype="uint16"), None, RGBN),  # grey, undefined...
        "described.tif": (_rgb(count=4), ["R", "Green", "blue", "Near-Infrared"], RGBN),
        "nir1.tif": (_rgb(count=4), ["nir1", "red", "green", "blue"],
                     ["nir", "red", "green", "blue"]),
        "two.tif": (_rgb(count=2), None, ["band1", "band2"]),
        # GDAL marks the 4th band of a 4-band uint8 GeoTIFF alpha: its pixels say nir
        "rgbn8.tif": (_rgb(count=4), None, RGBN),
        "generic.tif": (_rgb(count=3), ["Band 1", "Band 2", "Band 3"], RGB),
        "thermal.tif": (_rgb(count=3), ["red", "green", "thermal"], ["red", "green", "band3"]),
    }  # fmt: skip
    for name, (data, desc, expected) in cases.items():
        p = write(tmp_path / name, data, transform=t, descriptions=desc)
        with _open(p) as src:
            assert band_names(src) == expected, name
    rgba = _rgb(count=4)
    rgba[3] = 255
    rgba[3, :4] = 0
    p = write(tmp_path / "rgba.png", rgba, crs=None, driver="PNG")
    with _open(p) as src:  # the 4th band of an RGBA PNG is alpha, not nir
        assert band_names(src) == ["red", "green", "blue", "alpha"]


# --- georeference -----------------------------------------------------------------------


def _aux_xml(path: Path, crs: CRS, t: Affine) -> None:
    gt = ", ".join(repr(v) for v in t.to_gdal())
    wkt = escape(crs.to_wkt())
    path.with_name(path.name + ".aux.xml").write_text(
        f"<PAMDataset><SRS>{wkt}</SRS><GeoTransform>{gt}</GeoTransform></PAMDataset>"
    )


def _world_file(path: Path, t: Affine, suffix: str, crs: CRS | None) -> None:
    # world files give the centre of the top-left pixel
    c, f = t * (0.5, 0.5)
    path.with_suffix(suffix).write_text(f"{t.a}\n{t.d}\n{t.b}\n{t.e}\n{c}\n{f}\n")
    if crs is not None:
        path.with_suffix(".prj").write_text(PyprojCRS(crs.to_wkt()).to_wkt("WKT1_ESRI"))


def test_jpeg_without_georeference_is_refused_with_the_hint(tmp_path: Path) -> None:
    p = write(tmp_path / "photo.jpg", _rgb(), crs=None, driver="JPEG")
    with pytest.raises(NotGeoreferenced) as exc:
        read_working_image(p, bands=RGB, resolution_m=0.5)
    msg = str(exc.value)
    assert str(p) in msg and "no geotransform" in msg and ".jgw" in msg and ".aux.xml" in msg
    assert isinstance(exc.value, BadImagery)
    _world_file(p, from_origin(*_utm_origin(), 0.5, 0.5), ".jgw", None)  # no CRS yet
    with _open(p) as src, pytest.raises(NotGeoreferenced, match="no CRS"):
        check_georeference(p, src)


def test_jpeg_with_aux_xml_and_png_with_world_file(tmp_path: Path) -> None:
    x, y = _utm_origin()
    t = from_origin(x, y, 0.5, 0.5)
    jpg = write(tmp_path / "ortho.jpg", _rgb(), crs=None, driver="JPEG")
    _aux_xml(jpg, UTM43, t)
    rgba = _rgb(count=4)
    rgba[3] = 255
    rgba[3, :8, :] = 0  # transparent top rows
    png = write(tmp_path / "ortho.png", rgba, crs=None, driver="PNG")
    _world_file(png, t, ".pgw", UTM43)
    with _open(jpg) as src:  # GDAL reads the .aux.xml itself
        assert src.crs == UTM43 and check_georeference(jpg, src) == UTM43
    with _open(png) as src:  # the world file, but not the .prj: that is read by us
        assert src.transform == t and src.crs is None
        assert check_georeference(png, src) == UTM43
    a = read_working_image(jpg, bands=RGB, resolution_m=0.5)
    assert a.crs == UTM43 and a.transform == t and a.array.shape == (3, 32, 32)
    assert a.valid.all()
    b = read_working_image(png, bands=RGB, resolution_m=0.5)
    assert b.crs == UTM43 and b.transform == t
    assert np.array_equal(b.array, np.where(rgba[3] > 0, rgba[:3], 0))  # PNG is lossless
    assert not b.valid[:8].any() and b.valid[8:].all()  # alpha 0 → invalid
    # the same PNG in lon/lat: warped, the alpha still masks its top rows
    ll = write(tmp_path / "ll.png", rgba, crs=None, driver="PNG")
    _world_file(ll, from_origin(LON, LAT, 4e-6, 4e-6), ".pgw", CRS.from_epsg(4326))
    c = read_working_image(ll, bands=RGB, resolution_m=0.2)
    assert c.crs.to_epsg() == 32643 and c.array.shape[1] > 10
    assert not c.valid[:3].any() and c.valid[c.array.shape[1] // 2 :].any()
    assert (c.array[:, ~c.valid] == 0).all()


# --- working grid ---------------------------------------------------------------------


def test_working_grid_keeps_metric_crs_and_leaves_degrees_and_web_mercator(
    tmp_path: Path,
) -> None:
    x, y = _utm_origin()
    same = write(tmp_path / "same.tif", _rgb(), transform=from_origin(x, y, 0.5, 0.5))
    fine = write(tmp_path / "fine.tif", _rgb(), transform=from_origin(x, y, 0.2, 0.2))
    lonlat = write(tmp_path / "ll.tif", _rgb(), crs="EPSG:4326",
                   transform=from_origin(LON, LAT, 1e-5, 1e-5))  # fmt: skip
    wx, wy = warp_transform("EPSG:4326", "EPSG:3857", [LON], [LAT])
    merc = write(tmp_path / "merc.tif", _rgb(), crs="EPSG:3857",
                 transform=from_origin(wx[0], wy[0], 0.6, 0.6))  # fmt: skip
    south = write(tmp_path / "south.tif", _rgb(), crs="EPSG:4326",
                  transform=from_origin(32.59, -0.35, 1e-5, 1e-5))  # fmt: skip
    with _open(same) as src:  # already at 0.5 m in UTM: the grid is the image's own
        assert working_grid(src, 0.5) == (UTM43, src.transform, 32, 32)
    with _open(fine) as src:  # 6.4 m at 0.5 m, starting at the image's corner
        crs, t, w, h = working_grid(src, 0.5)
        assert crs == UTM43 and (t.a, t.e, t.c, t.f) == (0.5, -0.5, x, y) and (w, h) == (13, 13)
    with _open(lonlat) as src:
        crs, t, w, h = working_grid(src, 0.5)
        assert crs.to_epsg() == 32643 and t.a == 0.5 and t.e == -0.5
        # 32 × 1e-5° ≈ 30.3 m east-west and 35.5 m north-south here
        assert 60 <= w <= 63 and 70 <= h <= 73
    with _open(merc) as src:  # Web Mercator "metres" are 1/cos(31.7°) = 1.18 ground metres
        crs, t, w, h = working_grid(src, 0.5)
        assert crs.to_epsg() == 32643
        assert abs(w * 0.5 - 32 * 0.6 * np.cos(np.radians(LAT))) <= 1.0
    with _open(south) as src:
        assert working_grid(src, 0.5)[0].to_epsg() == 32736


def test_lonlat_image_lands_where_it_is_on_the_ground(tmp_path: Path) -> None:
    """A bright square in an EPSG:4326 image appears at its UTM position after the warp."""
    data = np.full((3, 200, 200), 40, np.uint8)
    data[:, 80:120, 60:100] = 220  # 40 × 40 px of 1e-6° ≈ 4 m
    t = from_origin(LON, LAT, 1e-6, 1e-6)  # ≈ 0.095 × 0.111 m
    p = write(tmp_path / "ll.tif", data, crs="EPSG:4326", transform=t)
    img = read_working_image(p, bands=RGB, resolution_m=0.5)
    assert img.crs.to_epsg() == 32643
    assert 0.09 < img.source_resolution_m < 0.11
    cx, cy = t * (80, 100)  # the square's centre, lon/lat
    ex, ey = warp_transform("EPSG:4326", img.crs, [cx], [cy])
    rows, cols = np.nonzero(img.array[0] > 130)
    gx, gy = img.transform * (cols.mean() + 0.5, rows.mean() + 0.5)
    assert abs(gx - ex[0]) < 0.5 and abs(gy - ey[0]) < 0.5
    # finer by 5× → averaged: the square's edge pixels are in-between values, not 40/220
    assert ((img.array[0] > 50) & (img.array[0] < 210)).any()
    # a lon/lat grid rotated into UTM leaves corners outside the source footprint
    assert not img.valid.all() and img.valid.mean() > 0.9
    assert (img.array[:, ~img.valid] == 0).all()


def test_fine_source_is_averaged_not_aliased(tmp_path: Path) -> None:
    x, y = _utm_origin()
    checker = ((np.indices((64, 64)).sum(axis=0) % 2) * 200).astype(np.uint8)
    p = write(tmp_path / "fine.tif", np.stack([checker] * 3),
              transform=from_origin(x, y, 0.125, 0.125))  # fmt: skip
    img = read_working_image(p, bands=RGB, resolution_m=0.5)
    assert img.array.shape == (3, 16, 16) and img.source_resolution_m == pytest.approx(0.125)
    assert np.abs(img.array.astype(int) - 100).max() <= 1  # the mean of 0 and 200


def test_uint8_on_the_working_grid_is_read_as_is(tmp_path: Path) -> None:
    x, y = _utm_origin()
    data = _rgb(count=4)
    p = write(tmp_path / "rgbn.tif", data, transform=from_origin(x, y, 0.5, 0.5))
    img = read_working_image(p, bands=["nir", "red", "green"], resolution_m=0.5)
    assert np.array_equal(img.array, data[[3, 0, 1]]) and img.bands == ("nir", "red", "green")
    assert img.valid.all() and img.source_resolution_m == pytest.approx(0.5)


# --- radiometry and validity ---------------------------------------------------------


def test_uint16_is_stretched_jointly_keeping_colour_balance(tmp_path: Path) -> None:
    x, y = _utm_origin()
    rng = np.random.default_rng(3)
    data = np.zeros((4, 50, 50), np.uint16)
    data[0] = rng.integers(1000, 2000, (50, 50))  # red dim
    data[1] = rng.integers(2000, 3000, (50, 50))  # green brighter
    data[2] = rng.integers(1000, 1500, (50, 50))
    data[3] = rng.integers(3000, 4000, (50, 50))  # nir brightest
    data[:, :5, :] = 0  # nodata collar
    p = write(tmp_path / "rgbn16.tif", data, transform=from_origin(x, y, 0.5, 0.5), nodata=0)
    img = read_working_image(p, bands=RGBN, resolution_m=0.5)
    a = img.array.astype(float)
    assert img.array.dtype == np.uint8
    assert not img.valid[:5].any() and img.valid[5:].all() and (a[:, :5] == 0).all()
    v = img.valid
    # one stretch over 1000..4000: red stays below green, green below nir
    assert a[0][v].mean() + 60 < a[1][v].mean() < a[3][v].mean() - 60
    assert a[0][v].max() < 100 and a[3][v].min() > 150
    # the joint 0.2/99.8 percentiles span nearly all of 0..255 over all bands together
    assert a[:, v].min() <= 3 and a[:, v].max() >= 252
    # the nodata collar (0) did not drag the low percentile down
    assert a[2][v].min() <= 3


def test_missing_band_names_the_file_and_the_bands(tmp_path: Path) -> None:
    x, y = _utm_origin()
    p = write(tmp_path / "rgb.tif", _rgb(), transform=from_origin(x, y, 0.5, 0.5))
    with pytest.raises(MissingBands) as exc:
        read_working_image(p, bands=RGBN, resolution_m=0.5)
    assert f"{p} has bands red, green, blue; the model needs red, green, blue, nir" in str(
        exc.value
    )
    two = write(tmp_path / "two.tif", _rgb(count=2), transform=from_origin(x, y, 0.5, 0.5))
    with pytest.raises(MissingBands, match=r"two\.tif has bands band1, band2"):
        prepare_image(two, tmp_path / "out.tif", bands=RGB, resolution_m=0.5)
    assert not (tmp_path / "out.tif").exists()
    with pytest.raises(BadImagery, match="no such image"):
        read_working_image(tmp_path / "nope.tif", bands=RGB)


def test_prepare_image_streams_what_read_working_image_returns(tmp_path: Path) -> None:
    data = np.random.default_rng(5).integers(0, 1200, (4, 300, 260)).astype(np.uint16)
    data[:, 250:, :] = 65535  # nodata at the bottom
    p = write(tmp_path / "ll16.tif", data, crs="EPSG:4326", nodata=65535,
              transform=from_origin(LON, LAT, 2e-6, 2e-6))  # fmt: skip
    mem = read_working_image(p, bands=RGBN, resolution_m=0.5)
    out = prepare_image(p, tmp_path / "prep.tif", bands=RGBN, resolution_m=0.5, block_rows=7)
    with rasterio.open(out) as src:
        assert src.dtypes == ("uint8",) * 4 and src.descriptions == tuple(RGBN)
        assert src.crs == mem.crs and src.transform == mem.transform
        assert src.profile["tiled"] and src.profile["compress"] == "deflate"
        assert np.array_equal(src.read(), mem.array)
        assert np.array_equal(src.dataset_mask() > 0, mem.valid)
        assert src.tags()["LANDGOV_RESAMPLING"] == "average"
        assert src.tags()["LANDGOV_STRETCH"] != "none"
    assert 0.3 < mem.valid.mean() < 0.95  # nodata rows and warp corners are invalid


# --- inference: bands and outputs from the model ------------------------------------


def _one_by_one(in_ch: int, out_ch: int) -> nn.Module:
    """A 1×1 convolution with known weights: logits = W·x + b per pixel."""
    conv = nn.Conv2d(in_ch, out_ch, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.linspace(-2, 2, in_ch * out_ch).reshape(out_ch, in_ch, 1, 1))
        conv.bias.copy_(torch.linspace(-0.5, 0.5, out_ch))
    return conv


def _expected(model: nn.Module, image: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        x = torch.from_numpy(image[None].astype(np.float32) / 255.0)
        return torch.sigmoid(model(x))[0].numpy()


def test_predict_scene_takes_the_models_bands_and_writes_every_output(tmp_path: Path) -> None:
    x, y = _utm_origin()
    image = _rgb(40, 56, count=4)  # a 4th band the RGB model must not read
    p = write(tmp_path / "img.tif", image, transform=from_origin(x, y, 0.5, 0.5))
    model = _one_by_one(3, 2)
    assert model_in_channels(model) == 3
    out = predict_scene(model, p, tmp_path / "prob.tif", tile=32, overlap=8, device="cpu")
    expected = _expected(model, image[:3])
    with rasterio.open(out) as src:
        assert src.count == 2 and src.crs == UTM43
    np.testing.assert_allclose(read_probabilities(out), expected, atol=1e-5)
    np.testing.assert_allclose(read_probability(out), expected[0], atol=1e-5)
    arr = predict_array(model, image[:3], tile=32, overlap=8, device="cpu", all_bands=True)
    assert arr.shape == (2, 40, 56)
    np.testing.assert_allclose(arr, expected, atol=1e-5)
    one = predict_array(model, image[:3], tile=32, overlap=8, device="cpu")
    assert one.shape == (40, 56)
    four = _one_by_one(4, 1)  # the old layout: 4 bands in, 1 out
    np.testing.assert_allclose(
        predict_array(four, image, tile=32, overlap=8, device="cpu"),
        _expected(four, image)[0],
        atol=1e-5,
    )


def test_check_image_counts_the_models_bands(tmp_path: Path) -> None:
    x, y = _utm_origin()
    t = from_origin(x, y, 0.5, 0.5)
    rgb = write(tmp_path / "rgb.tif", _rgb(), transform=t)
    check_image(rgb, bands=3)
    with pytest.raises(BadImagery, match="3 band"):
        check_image(rgb)  # the RGBN default
    u16 = write(tmp_path / "u16.tif", _rgb(dtype="uint16"), transform=t)
    with pytest.raises(BadImagery, match="uint8"):
        check_image(u16, bands=3)
    with pytest.raises(BadImagery, match=r"the model needs 3|need 3"):
        predict_scene(_one_by_one(3, 1), write(tmp_path / "two.tif", _rgb(count=2), transform=t),
                      tmp_path / "p.tif", tile=32, overlap=8, device="cpu")  # fmt: skip
