"""Spectral indices and SCL masks (imagery.indices, imagery.scl)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from imagery.indices import (
    INDICES,
    L2A_OFFSET_PB0400,
    L2A_SCALE,
    compute,
    evi,
    ndbi,
    ndmi,
    ndvi,
    to_reflectance,
    wdrvi,
)
from imagery.scl import (
    SCL,
    STRICT_EXCLUDE,
    clear_mask,
    cloud_fraction,
    upsample_scl_to_10m,
)

no_runtime_warning = pytest.mark.filterwarnings("error::RuntimeWarning")


def test_known_values() -> None:
    assert ndvi(0.5, 0.1) == pytest.approx(2 / 3)
    assert evi(0.5, 0.1, 0.05) == pytest.approx(2.5 * 0.4 / (0.5 + 0.6 - 0.375 + 1))
    assert ndmi(0.4, 0.2) == pytest.approx(1 / 3)
    assert wdrvi(0.5, 0.1) == pytest.approx((0.075 - 0.1) / (0.075 + 0.1))
    assert wdrvi(0.5, 0.1, alpha=1.0) == pytest.approx(ndvi(0.5, 0.1))
    assert ndbi(0.3, 0.2) == pytest.approx(0.2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(dtype: type) -> None:
    a = np.array([0.5, 0.3], dtype=dtype)
    b = np.array([0.1, 0.2], dtype=dtype)
    for out in (ndvi(a, b), evi(a, b, b), ndmi(a, b), wdrvi(a, b), ndbi(a, b)):
        assert out.dtype == dtype


@no_runtime_warning
def test_zero_denominator_is_nan_without_warning() -> None:
    z = np.zeros(3)
    assert np.isnan(ndvi(z, z)).all()
    assert np.isnan(ndmi(z, z)).all()
    assert np.isnan(ndbi(z, z)).all()
    assert np.isnan(wdrvi(z, z)).all()
    # EVI denominator: n + 6r - 7.5b + 1 = 0 with n = 0.5, r = 0, b = 0.2
    assert np.isnan(evi(np.array([0.5]), np.array([0.0]), np.array([0.2])))[0]
    # non-zero numerator over zero denominator: NaN, not inf
    out = ndvi(np.array([1.0, 0.5]), np.array([-1.0, 0.1]))
    assert np.isnan(out[0]) and out[1] == pytest.approx(2 / 3)


@no_runtime_warning
def test_nan_propagates() -> None:
    out = ndvi(np.array([np.nan, 0.5]), np.array([0.1, np.nan]))
    assert np.isnan(out).all()
    assert np.isnan(evi(np.array([0.5]), np.array([0.1]), np.array([np.nan])))[0]


def test_l2a_integers_with_offset() -> None:
    nir = np.array([6000], dtype=np.uint16)  # reflectance (6000 - 1000) / 1e4 = 0.5
    red = np.array([2000], dtype=np.uint16)  # 0.1
    blue = np.array([1500], dtype=np.uint16)  # 0.05
    kw = {"scale": L2A_SCALE, "offset": L2A_OFFSET_PB0400}
    assert to_reflectance(nir, **kw).dtype == np.float32
    assert ndvi(nir, red, **kw)[0] == pytest.approx(2 / 3, rel=1e-6)
    assert evi(nir, red, blue, **kw)[0] == pytest.approx(evi(0.5, 0.1, 0.05), rel=1e-5)
    # forgetting the offset biases the index
    assert ndvi(nir, red, scale=L2A_SCALE)[0] == pytest.approx(0.5, rel=1e-6)


def test_xarray_keeps_labels() -> None:
    coords = {"y": [0, 1], "x": [10, 20]}
    nir = xr.DataArray(np.full((2, 2), 0.5, np.float32), coords=coords, dims=("y", "x"))
    red = xr.DataArray(np.array([[0.1, 0.1], [0.0, 0.1]], np.float32), dims=("y", "x"))
    red = red.assign_coords(coords)
    out = ndvi(nir, red)
    assert isinstance(out, xr.DataArray)
    assert out.dims == ("y", "x") and list(out.x.values) == [10, 20]
    assert out.dtype == np.float32
    assert float(out[1, 0]) == pytest.approx(1.0)


def test_registry_by_band_name() -> None:
    bands = {"B02": 0.05, "B04": 0.1, "B08": 0.5, "B8A": 0.4, "B11": 0.2}
    assert set(INDICES) == {"ndvi", "evi", "ndmi", "wdrvi", "ndbi"}
    assert compute("ndvi", bands) == pytest.approx(2 / 3)
    assert compute("NDMI", bands) == pytest.approx(1 / 3)
    assert compute("wdrvi", bands, alpha=0.1) == pytest.approx((0.05 - 0.1) / 0.15)
    with pytest.raises(KeyError):
        compute("ndvi", {"B08": 0.5})
    with pytest.raises(KeyError):
        compute("savi", bands)


@no_runtime_warning
@given(
    st.floats(0, 1, allow_nan=False, allow_subnormal=False),
    st.floats(0, 1, allow_nan=False, allow_subnormal=False),
)
def test_ndvi_bounded(nir: float, red: float) -> None:
    v = ndvi(np.float64(nir), np.float64(red))
    if nir + red == 0:
        assert np.isnan(v)
    else:
        assert -1.0 <= v <= 1.0


# --- SCL ------------------------------------------------------------------------------


def test_scl_values() -> None:
    assert SCL.VEGETATION == 4 and SCL.THIN_CIRRUS == 10 and SCL.SNOW == 11
    assert len(SCL) == 12


def test_clear_mask_default_and_strict() -> None:
    scl = np.arange(12, dtype=np.uint8)
    mask = clear_mask(scl)
    assert mask.dtype == bool
    assert [int(c) for c in scl[mask]] == [2, 4, 5, 6, 7, 11]
    strict = clear_mask(scl, exclude=STRICT_EXCLUDE)
    assert [int(c) for c in scl[strict]] == [4, 5, 6, 7]
    assert not clear_mask(np.array([np.nan, 4.0]))[0]


def test_clear_mask_xarray() -> None:
    scl = xr.DataArray(np.array([[4, 9], [3, 5]], np.uint8), dims=("y", "x"))
    mask = clear_mask(scl)
    assert isinstance(mask, xr.DataArray)
    assert mask.values.tolist() == [[True, False], [False, True]]


def test_cloud_fraction() -> None:
    scl = np.array([[0, 0, 8, 9], [10, 4, 4, 3]], dtype=np.uint8)
    assert cloud_fraction(scl) == pytest.approx(3 / 6)  # no-data pixels not counted
    assert cloud_fraction(scl, classes={8, 9, 10, 3}) == pytest.approx(4 / 6)
    assert np.isnan(cloud_fraction(np.zeros((2, 2), np.uint8)))


def test_upsample_scl() -> None:
    scl = np.array([[4, 9], [3, 5]], dtype=np.uint8)
    up = upsample_scl_to_10m(scl)
    assert up.shape == (4, 4) and up.dtype == np.uint8
    assert up[:2, :2].tolist() == [[4, 4], [4, 4]] and up[3, 3] == 5
    assert upsample_scl_to_10m(np.stack([scl, scl])).shape == (2, 4, 4)
    with pytest.raises(ValueError):
        upsample_scl_to_10m(np.array([1, 2]))
