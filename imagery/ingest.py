"""``ingest``: validates raster files, stores them as COGs and catalogs them as STAC items.

Band files are grouped into scenes (Sentinel-2: same tile and datetime; Landsat: same
product id; any other GeoTIFF is a scene of its own). Every file is read in full before
anything is written: an unreadable or truncated file, one without georeferencing, or a
band name landgov does not know rejects the whole call, naming the file, and leaves the
catalog and the data directory as they were. COGs are written to a temporary folder
under ``$LANDGOV_HOME/imagery`` and moved into place inside the database transaction;
if the transaction fails they are removed again. Ingesting the same content twice (the
same SHA-256 over the sorted band files' contents) is a no-op.

Orthophotos come as users hold them: one file with 3 (RGB) or 4 (RGBN) bands, or RGBA
(the alpha band becomes each band COG's internal mask, so no real DN is sacrificed as a
nodata value), 8- or 16-bit (stored as they come: a stretch at ingest would lose the
radiometry for good), GeoTIFF or JPEG/PNG georeferenced by a world file plus ``.prj`` or by
a ``.aux.xml``, in any CRS (kept; the catalog footprint is computed from it). Bands are
named by :func:`imagery.georef.band_names`, which :mod:`models.encroachment.imagery`
shares, so the catalog and the models agree on which band is which.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pystac
import rasterio
import rasterio.shutil
from affine import Affine
from pyproj import Geod
from pystac.extensions.eo import EOExtension
from pystac.extensions.projection import ProjectionExtension
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.io import MemoryFile
from rasterio.warp import transform as warp_transform
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from imagery import bands as vocab
from imagery.georef import (
    GEOREF_HINT,
    ORTHO_BANDS,
    VrtBand,
    band_alias,
    band_names,
    georeference,
    is_unnamed,
    mask_source,
    vrt_xml,
)
from landgov.errors import ImportRejected, LandgovError, RowProblem
from landgov.storage import audit

if TYPE_CHECKING:
    from landgov.security import Actor

KINDS = ("sentinel-2", "landsat", "orthophoto")
IMAGERY_DIR = "imagery"


@dataclass
class IngestReport:
    """What :func:`ingest` did: scene ids catalogued, and those skipped with why."""

    ingested: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"ingested {len(self.ingested)} scene(s)"]
        if self.replaced:
            lines[0] += f", {len(self.replaced)} of them replacing older content"
        lines += [f"  {sid}" for sid in self.ingested]
        lines += [f"skipped {sid}: {why}" for sid, why in self.skipped]
        return "\n".join(lines)


@dataclass
class _BandFile:
    path: Path
    band: str  # asset key and band name
    source_band: int | None  # band index to extract from a multi-band file; None = all
    resolution_m: float | None
    common_name: str | None
    dtype: str = ""
    nodata: float | None = None
    sha256: str = ""


@dataclass
class _Scene:
    id: str
    sensor: str
    collection: str
    datetime: datetime | None
    files: list[_BandFile] = field(default_factory=list)
    crs: str = ""
    epsg: int | None = None
    shape: tuple[int, int] = (0, 0)
    transform: Affine | None = None
    footprint: dict[str, Any] | None = None  # GeoJSON
    cloud_cover: float | None = None
    sha256: str = ""
    crs_obj: CRS | None = None  # the CRS, possibly from a .prj sidecar
    mask: tuple[Path, str] | None = None  # a single file's alpha or per-dataset mask


def _reject(path: Path, reason: str) -> ImportRejected:
    return ImportRejected(str(path), [RowProblem(None, None, reason)])


def _file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _slug(text_: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text_).strip("_") or "scene"


def _open(path: Path) -> rasterio.DatasetReader:
    if not path.is_file():
        raise _reject(path, "no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            return rasterio.open(path)
    except RasterioError as exc:
        raise _reject(path, f"not a readable raster (corrupt or unsupported): {exc}") from exc


def _check_georef(path: Path, src: rasterio.DatasetReader) -> tuple[CRS, Affine]:
    crs, transform = georeference(path, src)
    if crs is None or transform is None:
        missing = "no CRS" if transform is not None else "no geotransform"
        raise _reject(path, f"missing georeferencing ({missing}): {GEOREF_HINT}")
    return crs, transform


def _read_all(path: Path, src: rasterio.DatasetReader, indexes: list[int]) -> list[np.ndarray]:
    """Reads every block (proves the file is not truncated); returns the full arrays
    only for small rasters, else an empty list."""
    try:
        arrays = []
        for _, window in src.block_windows(1):
            src.read(indexes, window=window)
        if src.width * src.height <= 50_000_000:
            arrays = [src.read(i) for i in indexes]
        return arrays
    except (RasterioError, ValueError) as exc:
        raise _reject(path, f"cannot read the pixel data (truncated or corrupt): {exc}") from exc


def _footprint(src: rasterio.DatasetReader, crs: CRS) -> dict[str, Any]:
    """The raster's outline in EPSG:4326, densified along its edges, as GeoJSON."""
    w, h, t = src.width, src.height, src.transform
    n = 20
    pts = (
        [(w * i / n, 0) for i in range(n)]
        + [(w, h * i / n) for i in range(n)]
        + [(w - w * i / n, h) for i in range(n)]
        + [(0, h - h * i / n) for i in range(n)]
    )
    xs = [t.a * c + t.b * r + t.c for c, r in pts]
    ys = [t.d * c + t.e * r + t.f for c, r in pts]
    lon, lat = warp_transform(crs, "EPSG:4326", xs, ys)
    ring = [[round(x, 8), round(y, 8)] for x, y in zip(lon, lat, strict=True)]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def _resolution(
    src: rasterio.DatasetReader, nominal: float | None, crs: CRS | None = None
) -> float | None:
    """Ground pixel size in metres: nominal, else the grid's (metric CRSs), else measured.

    A geographic or Mercator grid's units are not ground metres, so its pixel sides are
    measured on the ellipsoid at the image centre (geometric mean of the two sides).
    """
    if nominal is not None:
        return nominal
    crs = crs or src.crs
    if crs is None:
        return None
    units = (crs.linear_units or "").lower()
    mercator = "+proj=merc" in (crs.to_proj4() or "")
    if crs.is_projected and units in ("metre", "meter", "m") and not mercator:
        side: float = abs(src.res[0])
        return round(side, 6)
    t = src.transform
    c, r = src.width / 2, src.height / 2
    pts = [t * (c, r), t * (c + 1, r), t * (c, r + 1)]
    lon, lat = warp_transform(crs, "EPSG:4326", [p[0] for p in pts], [p[1] for p in pts])
    geod = Geod(ellps="WGS84")
    _, _, dx = geod.inv(lon[0], lat[0], lon[1], lat[1])
    _, _, dy = geod.inv(lon[0], lat[0], lon[2], lat[2])
    return round(float(np.sqrt(dx * dy)), 4)


def _group(paths: Iterable[Path], kind: str | None) -> list[_Scene]:
    scenes: dict[str, _Scene] = {}
    for path in paths:
        rec = vocab.recognize(path)
        if kind == "orthophoto" or rec is None:
            if kind in ("sentinel-2", "landsat"):
                raise _reject(path, f"not a {kind} band file name")
            scenes[f"file:{path}"] = _Scene(
                id="", sensor="orthophoto" if kind == "orthophoto" else "", collection="",
                datetime=None, files=[_BandFile(path, "", None, None, None)],
            )  # fmt: skip
            continue
        if kind is not None and rec.kind != kind:
            raise _reject(path, f"the name is that of a {rec.kind} file, not {kind}")
        known = vocab.vocabulary(rec.kind)
        if rec.band not in known:
            raise _reject(
                path,
                f"unknown band '{rec.band}' (known {rec.kind} bands: {', '.join(known)})",
            )
        spec = known[rec.band]
        scene = scenes.setdefault(
            rec.key, _Scene(rec.key, rec.sensor, rec.collection, rec.datetime)
        )
        if any(f.band == rec.band for f in scene.files):
            raise _reject(path, f"band {rec.band} of scene {rec.key} is given twice")
        res = rec.resolution_m or spec.resolution_m
        scene.files.append(_BandFile(path, rec.band, None, res, spec.common_name))
    return list(scenes.values())


def _tiff_datetime(src: rasterio.DatasetReader, path: Path) -> datetime:
    """The TIFF or EXIF (JPEG) acquisition time stamp, else the file's modification time."""
    tags = src.tags()
    for key in ("TIFFTAG_DATETIME", "EXIF_DateTimeOriginal", "EXIF_DateTime"):
        tag = tags.get(key)
        if tag:
            try:
                return datetime.strptime(tag.strip(), "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
            except ValueError:
                pass
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).replace(microsecond=0)


def _sidecars(path: Path, src: rasterio.DatasetReader) -> list[Path]:
    """Files besides ``path`` that hold its georeference (world file, .aux.xml, .prj)."""
    found = {Path(f) for f in src.files} - {path, path.resolve()}
    for prj in (path.with_suffix(".prj"), path.with_name(path.name + ".prj")):
        if prj.is_file():
            found.add(prj)
    return sorted(f for f in found if f.is_file())


def _validate(scene: _Scene, acquired: datetime | None = None) -> None:
    """Opens and reads every file of the scene; fills in the scene's metadata."""
    best: float | None = None
    for bf in list(scene.files):
        with _open(bf.path) as src:
            crs, _ = _check_georef(bf.path, src)
            if scene.sensor in ("", "orthophoto"):  # a single file: work out its bands
                _single_file(scene, bf, src)
                if acquired is not None:
                    scene.datetime = acquired
            elif src.count != 1:
                raise _reject(bf.path, f"a {scene.sensor} band file has {src.count} bands")
            arrays = _read_all(bf.path, src, list(range(1, src.count + 1)))
            sha = _file_sha(bf.path)
            sidecars = _sidecars(bf.path, src)
            if sidecars:  # a corrected world file or .prj is new content
                parts = [sha, *(f"{p.name}:{_file_sha(p)}" for p in sidecars)]
                sha = hashlib.sha256("\n".join(parts).encode()).hexdigest()
            for f in scene.files:
                if f.path == bf.path:
                    f.dtype = src.dtypes[(f.source_band or 1) - 1]
                    f.nodata = None if scene.mask is not None else src.nodata
                    f.resolution_m = _resolution(src, f.resolution_m, crs)
                    f.sha256 = sha
            res = _resolution(src, bf.resolution_m, crs) or float("inf")
            if best is None or res < best:
                best = res
                scene.crs_obj = crs
                scene.crs = crs.to_string()
                scene.epsg = crs.to_epsg()
                scene.shape = (src.height, src.width)
                scene.transform = src.transform
                scene.footprint = _footprint(src, crs)
            if arrays and bf.band == "SCL":
                scl = arrays[0]
                valid = int(np.count_nonzero(scl != 0))
                cloudy = int(np.isin(scl, vocab.S2_CLOUD_CLASSES).sum())
                scene.cloud_cover = round(100.0 * cloudy / valid, 2) if valid else None
            elif arrays and bf.band == "QA_PIXEL":
                qa = arrays[0].astype(np.uint32)
                valid = int(np.count_nonzero((qa & 1) == 0))
                cloudy = int(np.count_nonzero(((qa & 1) == 0) & ((qa & 0b1100) != 0)))
                scene.cloud_cover = round(100.0 * cloudy / valid, 2) if valid else None
    shas = sorted({str(f.path): f.sha256 for f in scene.files}.values())
    scene.sha256 = hashlib.sha256("\n".join(shas).encode()).hexdigest()
    if not scene.id:
        prefix = "ortho" if scene.sensor == "orthophoto" else "scene"
        scene.id = f"{prefix}_{_slug(scene.files[0].path.stem)}_{scene.sha256[:10]}"


def _single_file(scene: _Scene, bf: _BandFile, src: rasterio.DatasetReader) -> None:
    """Names the bands of a lone raster: an orthophoto (red/green/blue[/nir]) or other.

    Without ``--kind orthophoto`` a file is an orthophoto only when every band is
    described red/green/blue/nir(/alpha): a plain 3-band GeoTIFF may be anything.
    """
    described = [band_alias(d) for d in src.descriptions]
    data_names = {d for d in described if d != "alpha"}
    is_ortho = scene.sensor == "orthophoto" or (
        all(described)
        and len(set(described)) == src.count
        and {"red", "green", "blue"} <= data_names <= set(ORTHO_BANDS)
    )
    if is_ortho:
        unknown = [d for d, a in zip(src.descriptions, described, strict=True)
                   if not is_unnamed(d) and not a]  # fmt: skip
        if unknown:
            raise _reject(
                bf.path,
                f"unknown band '{unknown[0]}' (orthophoto bands: red, green, blue, nir, alpha)",
            )
        all_names = band_names(src)
        named = [(i, n) for i, n in enumerate(all_names, start=1) if n != "alpha"]
        names = [n for _, n in named]
        if len(set(all_names)) != len(all_names):
            raise _reject(bf.path, "two bands have the same name")
        missing = [b for b in ("red", "green", "blue") if b not in names]
        if missing:
            raise _reject(
                bf.path,
                f"an orthophoto needs red, green and blue bands (nir optional); this file has"
                f" {src.count} band(s) ({', '.join(all_names)}): no {', '.join(missing)}",
            )
        extra = [n for n in names if n not in ORTHO_BANDS]
        if extra:
            raise _reject(
                bf.path,
                f"{', '.join(extra)}: not red, green, blue, nir or alpha; name the bands"
                " with band descriptions",
            )
        scene.sensor, scene.collection = "orthophoto", "orthophoto"
        spec = mask_source(src, all_names)
        scene.mask = (bf.path, spec) if spec is not None else None
    else:
        scene.sensor, scene.collection = "other", "other"
        named = [(i, f"b{i}") for i in range(1, src.count + 1)]
    scene.datetime = _tiff_datetime(src, bf.path)
    common = {b.name: b.common_name for b in vocab.ORTHOPHOTO.values()}
    scene.files = [_BandFile(bf.path, name, i, None, common.get(name)) for i, name in named]


def _write_cog(bf: _BandFile, dst: Path, scene: _Scene) -> None:
    """One band as a COG; a single file's band goes through a VRT that adds the CRS of a
    ``.prj`` sidecar and the file's alpha or mask as the COG's internal mask."""
    try:
        if bf.source_band is None:
            rasterio.shutil.copy(str(bf.path), str(dst), driver="COG", compress="DEFLATE")
            return
        assert scene.crs_obj is not None and scene.transform is not None
        xml = vrt_xml(
            [VrtBand(bf.path, bf.source_band, bf.band, bf.dtype, bf.nodata)],
            width=scene.shape[1],
            height=scene.shape[0],
            crs=scene.crs_obj,
            transform=scene.transform,
            mask=scene.mask,
        )
        with MemoryFile(xml.encode(), ext=".vrt") as mem:
            rasterio.shutil.copy(mem.name, str(dst), driver="COG", compress="DEFLATE")
    except RasterioError as exc:
        raise _reject(bf.path, f"cannot convert to a Cloud-Optimized GeoTIFF: {exc}") from exc


def _item(scene: _Scene, hrefs: dict[str, str]) -> pystac.Item:
    coords = scene.footprint["coordinates"][0] if scene.footprint else []
    lons = [c[0] for c in coords]
    lats = [c[1] for c in coords]
    props: dict[str, object] = {"landgov:sensor": scene.sensor}
    if scene.sensor.startswith("sentinel"):
        props.update(constellation="sentinel-2", instruments=["msi"])
    elif scene.sensor.startswith("landsat"):
        props.update(platform=scene.sensor, instruments=["oli", "tirs"])
    item = pystac.Item(
        id=scene.id,
        geometry=scene.footprint,
        bbox=[min(lons), min(lats), max(lons), max(lats)],
        datetime=scene.datetime,
        properties=props,
        collection=scene.collection,
    )
    proj = ProjectionExtension.ext(item, add_if_missing=True)
    proj.code = f"EPSG:{scene.epsg}" if scene.epsg else None
    if scene.epsg is None:
        proj.wkt2 = scene.crs
    proj.shape = list(scene.shape)
    if scene.transform is not None:
        proj.transform = list(scene.transform)[:6]
    eo = EOExtension.ext(item, add_if_missing=True)
    if scene.cloud_cover is not None:
        eo.cloud_cover = scene.cloud_cover
    for bf in scene.files:
        extra: dict[str, object] = {"landgov:band": bf.band}
        if bf.resolution_m is not None:
            extra["gsd"] = bf.resolution_m
        band_info: dict[str, object] = {"name": bf.band}
        if bf.common_name:
            band_info["common_name"] = bf.common_name
        extra["eo:bands"] = [band_info]
        extra["raster:bands"] = [{"data_type": bf.dtype, "nodata": bf.nodata}]
        item.add_asset(
            bf.band,
            pystac.Asset(
                href=hrefs[bf.band],
                media_type=pystac.MediaType.COG,
                roles=["data"],
                title=bf.band,
                extra_fields=extra,
            ),
        )
    return item


def ingest(
    engine: Engine,
    paths: Iterable[str | os.PathLike[str]],
    *,
    home: Path,
    kind: str | None = None,
    actor: Actor,
    replace: bool = False,
    acquired: datetime | None = None,
) -> IngestReport:
    """Validates, converts and catalogs the raster files ``paths``; see the module doc.

    ``acquired``: the acquisition time of single-file scenes (orthophotos), for files
    that do not carry one (a JPEG without EXIF, a GeoTIFF without ``TIFFTAG_DATETIME``
    would otherwise be dated by their modification time). Naive times are UTC.

    ``actor`` must hold ``imagery.write`` (the imagery or demo service); it is bound to
    the cataloguing transaction and named by each scene's audit row.

    ``replace``: a scene whose id is catalogued with different content replaces it (its
    zonal statistics go with it; audited as "replace imagery") instead of being refused.
    Meant for regenerated synthetic scenes, never for real acquisitions.

    Raises:
        AccessDenied: the actor may not write imagery.
        ImportRejected, LandgovError: a file or scene is refused; nothing is written.
    """
    from landgov.security import authorize, bind

    if kind is not None and kind not in KINDS:
        raise LandgovError(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
    files = [Path(p) for p in paths]
    if not files:
        raise LandgovError("no files to ingest")
    scenes = _group(files, kind)
    if acquired is not None and acquired.tzinfo is None:
        acquired = acquired.replace(tzinfo=UTC)
    for scene in scenes:
        _validate(scene, acquired)

    report = IngestReport()
    todo: list[_Scene] = []
    replaced: dict[str, str] = {}  # new scene id -> the catalogued id it replaces
    with engine.connect() as conn:
        authorize(conn, actor, "imagery.write")  # refuse before converting anything
        for scene in scenes:
            row = conn.execute(
                text("SELECT id, content_sha256 FROM imagery_scene"
                     " WHERE content_sha256 = :sha OR id = :id"),
                {"sha": scene.sha256, "id": scene.id},
            ).first()  # fmt: skip
            stem = _content_free_id(scene)
            if replace and row is None and stem is not None:
                # a single-file scene's id ends in its digest: the same file name with
                # other content is the same scene regenerated
                row = conn.execute(
                    text("SELECT id, content_sha256 FROM imagery_scene"
                         " WHERE left(id, length(:p)) = :p ORDER BY id LIMIT 1"),
                    {"p": stem},
                ).first()  # fmt: skip
                if row is not None:
                    todo.append(scene)
                    replaced[scene.id] = row.id
                    continue
            if row is None:
                todo.append(scene)
            elif row.content_sha256 == scene.sha256:
                report.skipped.append((row.id, "already catalogued"))
            elif replace and row.id == scene.id:
                todo.append(scene)
                replaced[scene.id] = scene.id
            else:
                raise _reject(
                    scene.files[0].path,
                    f"scene {scene.id} is already catalogued with different content",
                )
    if not todo:
        return report

    root = home / IMAGERY_DIR
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".ingest-", dir=root))
    moved: list[Path] = []
    set_aside: list[tuple[Path, Path]] = []  # (backup, original) of replaced scenes' files
    try:
        items: list[tuple[_Scene, pystac.Item]] = []
        for scene in todo:
            hrefs = {}
            for bf in scene.files:
                rel = f"{_slug(scene.collection)}/{_slug(scene.id)}/{bf.band}.tif"
                dst = tmp / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                _write_cog(bf, dst, scene)
                hrefs[bf.band] = rel
            items.append((scene, _item(scene, hrefs)))
        try:
            with engine.begin() as conn:
                bind(conn, actor)
                authorize(conn, actor, "imagery.write")
                if replaced:
                    conn.execute(
                        text("DELETE FROM imagery_scene WHERE id = ANY(:ids)"),
                        {"ids": sorted(replaced.values())},
                    )
                for scene, item in items:
                    _insert(conn, scene, item)
                    action = "replace" if scene.id in replaced else "ingest"
                    audit.append(
                        conn,
                        actor=actor.label,
                        action=f"{action} imagery",
                        entity="imagery_scene",
                        entity_id=scene.id,
                        details={
                            "sensor": scene.sensor,
                            "bands": [f.band for f in scene.files],
                            "sha256": scene.sha256,
                            "files": sorted({str(f.path) for f in scene.files}),
                        },
                    )
                for scene, _ in items:
                    final = root / _slug(scene.collection) / _slug(scene.id)
                    if final.exists() and replaced.get(scene.id) == scene.id:  # set old aside
                        backup = tmp / f".old-{_slug(scene.id)}"
                        final.rename(backup)
                        set_aside.append((backup, final))
                    elif final.exists():  # left over from a crash: not in the catalog
                        shutil.rmtree(final)
                    final.parent.mkdir(parents=True, exist_ok=True)
                    (tmp / _slug(scene.collection) / _slug(scene.id)).rename(final)
                    moved.append(final)
        except IntegrityError as exc:
            raise LandgovError(f"cannot catalog the scenes: {exc.orig}") from exc
    except BaseException:
        for path in moved:
            shutil.rmtree(path, ignore_errors=True)
        for backup, original in set_aside:  # the old catalog rows are back: so are files
            backup.rename(original)
        for scene in todo:  # remove collection folders this call created and left empty
            folder = root / _slug(scene.collection)
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report.ingested.extend(scene.id for scene in todo)
    report.replaced.extend(sorted(replaced.values()))
    new_ids = {scene.id for scene in todo}
    for rid in set(replaced.values()) - new_ids:  # committed: the old files are garbage
        for folder in root.glob(f"*/{_slug(rid)}"):
            shutil.rmtree(folder, ignore_errors=True)
    return report


def _content_free_id(scene: _Scene) -> str | None:
    """``<prefix>_<stem>_`` for ids that end in the content digest; None otherwise."""
    if scene.id.endswith(f"_{scene.sha256[:10]}"):
        return scene.id[: -len(scene.sha256[:10])]
    return None


def _insert(conn: Connection, scene: _Scene, item: pystac.Item) -> None:
    conn.execute(
        text(
            "INSERT INTO imagery_scene (id, collection, sensor, datetime, footprint,"
            " cloud_cover, crs, item, content_sha256) VALUES (:id, :collection, :sensor,"
            " :datetime, ST_Multi(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(:geom), 4326))),"
            " :cloud, :crs, CAST(:item AS jsonb), :sha)"
        ),
        {
            "id": scene.id,
            "collection": scene.collection,
            "sensor": scene.sensor,
            "datetime": scene.datetime,
            "geom": json.dumps(scene.footprint),
            "cloud": scene.cloud_cover,
            "crs": f"EPSG:{scene.epsg}" if scene.epsg else scene.crs,
            "item": json.dumps(item.to_dict(include_self_link=False)),
            "sha": scene.sha256,
        },
    )
    for bf in scene.files:
        conn.execute(
            text(
                "INSERT INTO imagery_asset (scene_id, key, band, href, resolution_m, dtype,"
                " nodata) VALUES (:sid, :key, :band, :href, :res, :dtype, :nodata)"
            ),
            {
                "sid": scene.id,
                "key": bf.band,
                "band": bf.band,
                "href": item.assets[bf.band].href,
                "res": bf.resolution_m,
                "dtype": bf.dtype,
                "nodata": None if bf.nodata is None or np.isnan(bf.nodata) else bf.nodata,
            },
        )
