"""Partition (taqseem): a joint khewat's khasra divided among its co-owners as tatimas.

Entering (:func:`enter_partition`)
    The patwari names a khewat with two or more owners and one of its khasras. One new
    khewat is opened per co-owner (the next numbers of the mouza, ``previous_number`` the
    old one), and the mutation's lines give each co-owner 1/1 of that new khewat. When
    the khasra is the khewat's only one, the old account closes: lines with only a
    transferor end each co-owner's share of it. This is the same shape of rows the demo
    writes for its partitions. The new khewats exist from entry (empty: no khasra, no
    share), because mutation lines must name a khewat; a rejected partition leaves them
    empty, like a register number that was never used.

Sanctioning (:func:`apply_plan`, called by :func:`landgov.records.decisions.sanction`
inside its transaction, after the share rules and before any write)
    Rules, each a :class:`~landgov.errors.SanctionRefused`:

    * ``partition_khasra``: the khasra is live, wholly held by this khewat (its open
      ``khewat_khasra`` row covers the whole record area and no other khewat holds it),
      and the closing lines match whether it is still the khewat's only khasra;
    * ``partition_owners``: the co-owners of the lines are exactly the khewat's owners on
      the sanction date, one per new khewat;
    * ``partition_encumbered``: no mortgage or lease is open on the khewat (it would
      have to follow the land into the tatimas; redeem it first);
    * ``partition_too_small``: every co-owner's part is at least one sarsai.

    Then the parent khasra is split (:func:`split_by_shares`) in the co-owners' shares on
    the sanction date, the children are numbered ``parent.child(k)``
    (:meth:`~landgov.domain.khasra.KhasraNumber.child`, k after any earlier tatima of the
    parent), the parent is retired (``retired_on``, ``retired_by_mutation_id``), its
    ``khewat_khasra`` period closes and each child's opens in its co-owner's new khewat.

Geometry
    The parcel is cut into strips across its longest axis (the long side of its minimum
    rotated rectangle in UTM), one per co-owner in line order, so no tatima becomes a
    long sliver along the parcel. The split is done in the UTM zone the areas are
    measured in (:mod:`landgov.domain.geometry`): each cut position is found by
    bisection in metres until the strip's area is the co-owner's share of the parent's
    within 1e-10 relative, and each child is the projected parent cut by straight UTM
    lines, projected back to EPSG:4326. Why in UTM and not in degrees: the parent's
    area is that of its vertices projected and joined by straight UTM lines; a cut
    point placed on a straight line in degrees lies up to about half a millimetre off
    that UTM edge on a 200 m field (the projection curves lines of latitude), which
    changes the children's total by a few parts per million. Cut in UTM, the children's
    areas sum to the parent's to float precision; in degrees they tile the parent to
    within that half millimetre along its edges. A parcel straddling a UTM zone
    boundary (72°E) may have children measured in the other zone (not handled).

Record areas
    The parent's record area (whole sarsai) is divided exactly in proportion to the
    shares, by largest remainder (:func:`apportion_sarsai`), so the children's record
    areas sum exactly to the parent's.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Final

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.domain import ledger
from landgov.domain.geometry import areas_m2, utm_epsg_for
from landgov.domain.khasra import parse_khasra_number
from landgov.domain.records import MutationType
from landgov.errors import SanctionRefused
from landgov.records.drafts import DraftLine, MutationDraft, MutationInvalid
from landgov.records.entry import begin_entry, record_entry
from landgov.records.locks import lock_khewat_numbers, lock_register
from landgov.records.rows import party_refs
from landgov.security import Actor
from landgov.storage.lookup import NotFound

__all__ = [
    "PartitionPlan",
    "apply_plan",
    "apportion_sarsai",
    "enter_partition",
    "load_plan",
    "split_by_shares",
]

_RELATIVE_TOLERANCE: Final = 1e-10
_MAX_STEPS: Final = 200


# --- pure parts --------------------------------------------------------------------------


def apportion_sarsai(total: int, shares: Sequence[Fraction]) -> list[int]:
    """Divides ``total`` whole sarsai in proportion to ``shares``, exactly (largest
    remainder: floors first, then one more sarsai to the largest remainders, ties to
    the earlier share). The parts sum to ``total`` when the shares sum to 1.
    """
    whole = sum(shares, Fraction(0))
    raw = [Fraction(total) * s / whole for s in shares]
    parts = [r.numerator // r.denominator for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    polys: list[Polygon] = []
    for part in getattr(geom, "geoms", [geom]):
        if isinstance(part, Polygon) and not part.is_empty:
            polys.append(part)
        elif isinstance(part, MultiPolygon):
            polys.extend(p for p in part.geoms if not p.is_empty)
    return MultiPolygon(polys)


def split_by_shares(geom: BaseGeometry, shares: Sequence[Fraction]) -> list[MultiPolygon]:
    """Splits an EPSG:4326 polygon into strips whose UTM areas are in proportion to
    ``shares`` (module notes, Geometry). Returns one MultiPolygon per share, in order.

    Raises:
        ValueError: fewer than two shares, a share not positive, or an empty geometry.
    """
    if len(shares) < 2 or any(s <= 0 for s in shares):
        raise ValueError("a partition needs two or more positive shares")
    if geom.is_empty:
        raise ValueError("cannot split an empty geometry")
    centroid = geom.centroid
    epsg = utm_epsg_for(float(centroid.x), float(centroid.y))
    fwd = Transformer.from_crs(4326, epsg, always_xy=True)
    inv = Transformer.from_crs(epsg, 4326, always_xy=True)
    utm = shapely.transform(geom, lambda xy: _stack(fwd.transform(xy[:, 0], xy[:, 1])))

    rect = utm.minimum_rotated_rectangle
    pts = list(rect.exterior.coords)[:4]
    edges = [(pts[(i + 1) % 4][0] - pts[i][0], pts[(i + 1) % 4][1] - pts[i][1]) for i in range(4)]
    ex, ey = max(edges, key=lambda e: e[0] ** 2 + e[1] ** 2)
    length = (ex**2 + ey**2) ** 0.5
    ux, uy = ex / length, ey / length
    vx, vy = -uy, ux
    cx, cy = float(utm.centroid.x), float(utm.centroid.y)
    coords = shapely.get_coordinates(utm)
    ts = (coords[:, 0] - cx) * ux + (coords[:, 1] - cy) * uy
    ss = (coords[:, 0] - cx) * vx + (coords[:, 1] - cy) * vy
    tmin, tmax = float(ts.min()), float(ts.max())
    margin = 10.0 + 0.1 * (tmax - tmin + float(ss.max() - ss.min()))
    s_lo, s_hi = float(ss.min()) - margin, float(ss.max()) + margin

    def cut(t: float) -> tuple[tuple[float, float], tuple[float, float]]:
        """The cut across the axis at ``t``: its two end points, in UTM metres."""
        return (
            (cx + t * ux + s_lo * vx, cy + t * uy + s_lo * vy),
            (cx + t * ux + s_hi * vx, cy + t * uy + s_hi * vy),
        )

    def band(a: tuple[tuple[float, float], ...], b: tuple[tuple[float, float], ...]) -> Polygon:
        return Polygon([a[0], b[0], b[1], a[1]])

    start = cut(tmin - margin)
    total = float(utm.area)
    whole = sum(shares, Fraction(0))
    cuts = [start]
    running = Fraction(0)
    lo_bound = tmin
    for share in shares[:-1]:
        running += share
        target = total * float(running / whole)
        lo, hi = lo_bound, tmax
        best = (lo + hi) / 2
        for _ in range(_MAX_STEPS):
            best = (lo + hi) / 2
            got = float(utm.intersection(band(start, cut(best))).area)
            if abs(got - target) <= _RELATIVE_TOLERANCE * total:
                break
            if got < target:
                lo = best
            else:
                hi = best
        cuts.append(cut(best))
        lo_bound = best
    cuts.append(cut(tmax + margin))
    pieces = []
    for a, b in itertools.pairwise(cuts):
        piece = utm.intersection(band(a, b))
        piece = shapely.transform(piece, lambda xy: _stack(inv.transform(xy[:, 0], xy[:, 1])))
        if not piece.is_valid:
            piece = shapely.make_valid(piece)
        pieces.append(_as_multipolygon(piece))
    return pieces


def _stack(xy: tuple[Any, Any]) -> Any:
    return np.column_stack(xy)


# --- entering ----------------------------------------------------------------------------


def enter_partition(
    engine: Engine,
    *,
    mouza: str,
    khewat_no: int,
    khasra_no: str,
    entered_on: date,
    actor: Actor,
    deed_number: str | None = None,
    deed_date: date | None = None,
    sub_registrar: str | None = None,
    fees_rs: int | None = None,
    remarks: str | None = None,
) -> int:
    """Enters a partition of khasra ``khasra_no`` of khewat ``khewat_no``; returns its id.

    ``actor`` as for :func:`landgov.records.entry.enter` (a patwari posted over the
    mouza; the entry records the account and the officer). The new khewats and the
    mutation are written in one transaction (:func:`landgov.records.entry.record_entry`).

    Raises:
        AuthenticationFailed, AccessDenied: the actor may not enter it.
        MutationInvalid: the khewat has fewer than two owners, or the khasra is not a
            live khasra of the khewat. NotFound: no such mouza, khewat or khasra.
    """
    number = str(parse_khasra_number(khasra_no))
    with engine.begin() as conn:
        mouza_id = begin_entry(conn, actor, mouza, entered_on)
        khewat = conn.execute(
            text("SELECT id FROM khewat WHERE mouza_id = :m AND number = :n"),
            {"m": mouza_id, "n": khewat_no},
        ).scalar()
        if khewat is None:
            raise NotFound(f"no khewat {khewat_no} in mouza '{mouza}'")
        khasra = conn.execute(
            text("SELECT id, retired_on FROM khasra WHERE mouza_id = :m AND number = :n"),
            {"m": mouza_id, "n": number},
        ).one_or_none()
        if khasra is None:
            raise NotFound(f"no khasra {number} in mouza '{mouza}'")
        if khasra.retired_on is not None:
            raise MutationInvalid(f"khasra {number} was retired on {khasra.retired_on}")
        live = {
            int(k)
            for (k,) in conn.execute(
                text(
                    "SELECT kk.khasra_id FROM khewat_khasra kk JOIN khasra k ON k.id = kk.khasra_id"
                    " WHERE kk.khewat_id = :w AND kk.valid_to IS NULL AND k.retired_on IS NULL"
                ),
                {"w": khewat},
            ).all()
        }
        if int(khasra.id) not in live:
            raise MutationInvalid(f"khasra {number} is not held by khewat {khewat_no} today")
        held = _ownership(conn, int(khewat))
        if len(held) < 2:
            raise MutationInvalid(
                f"khewat {khewat_no} has {len(held)} owner(s); a partition divides a joint khewat"
            )
        refs = party_refs(conn, held)
        full = live == {int(khasra.id)}
        # the register's lock first, then the khewat numbers': the same order as every
        # other entry, and both before the first audited write (landgov.records.locks)
        lock_register(conn, mouza_id)
        lock_khewat_numbers(conn, mouza_id)
        next_no = conn.execute(
            text("SELECT coalesce(max(number), 0) + 1 FROM khewat WHERE mouza_id = :m"),
            {"m": mouza_id},
        ).scalar_one()
        new_numbers = []
        for i, _ in enumerate(held):
            conn.execute(
                text(
                    "INSERT INTO khewat (mouza_id, number, previous_number) VALUES (:m, :n, :prev)"
                ),
                {"m": mouza_id, "n": next_no + i, "prev": khewat_no},
            )
            new_numbers.append(next_no + i)
        lines = [
            DraftLine(n, None, refs[pid], Fraction(1))
            for n, pid in zip(new_numbers, held, strict=True)
        ]
        if full:
            lines += [DraftLine(khewat_no, refs[pid], None, share) for pid, share in held.items()]
        draft = MutationDraft(
            mouza=mouza,
            type=MutationType.PARTITION,
            entered_on=entered_on,
            lines=lines,
            deed_number=deed_number,
            deed_date=deed_date,
            sub_registrar=sub_registrar,
            fees_rs=fees_rs,
            remarks=remarks
            or f"Taqseem of khasra {number} among the co-sharers of khewat {khewat_no}",
        )

        def record(mid: int) -> dict[str, Any]:
            conn.execute(
                text(
                    "INSERT INTO mutation_partition (mutation_id, khewat_id, khasra_id)"
                    " VALUES (:m, :w, :k)"
                ),
                {"m": mid, "w": khewat, "k": khasra.id},
            )
            return {"partition": {"khasra": number, "new_khewats": new_numbers, "closes": full}}

        return record_entry(
            conn, mouza_id, MutationType.PARTITION, draft, actor=actor, extra=record
        )


def _ownership(conn: Connection, khewat_id: int) -> dict[int, Fraction]:
    held: dict[int, Fraction] = {}
    for pid, num, den in conn.execute(
        text(
            "SELECT party_id, numerator, denominator FROM share WHERE khewat_id = :w"
            " AND valid_to IS NULL AND right_type = 'ownership' ORDER BY party_id"
        ),
        {"w": khewat_id},
    ).all():
        held[int(pid)] = held.get(int(pid), Fraction(0)) + Fraction(num, den)
    return held


# --- sanctioning -------------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionPlan:
    khewat_id: int
    khasra_id: int


def load_plan(conn: Connection, mutation_id: int) -> PartitionPlan:
    """The khewat and khasra a partition mutation divides.

    Raises:
        MutationInvalid: the mutation has no partition record (e.g. it came from an
            imported register).
    """
    row = conn.execute(
        text("SELECT khewat_id, khasra_id FROM mutation_partition WHERE mutation_id = :m"),
        {"m": mutation_id},
    ).one_or_none()
    if row is None:
        raise MutationInvalid(
            f"partition mutation id {mutation_id} does not name the khasra it divides; "
            "enter partitions with enter_partition"
        )
    return PartitionPlan(int(row[0]), int(row[1]))


def _refuse(rule: str, message: str) -> SanctionRefused:
    return SanctionRefused(rule, message)


def apply_plan(
    conn: Connection,
    mutation_id: int,
    plan: PartitionPlan,
    *,
    on: date,
    before: Mapping[int, ledger.Holdings],
    after: Mapping[int, ledger.Holdings],
    numbers: Mapping[int, int],
) -> dict[str, Any]:
    """Checks the partition rules and writes the tatimas (module notes). Returns the
    details for the sanction's audit row.

    ``before``/``after`` are the holdings of every khewat the mutation touches, as the
    sanction computed them; the shares themselves are written by the sanction.
    """
    k = conn.execute(
        text(
            "SELECT id, mouza_id, number, land_class, record_area_sarsai, unit_system,"
            " ST_AsBinary(geom) AS wkb, retired_on FROM khasra WHERE id = :k"
        ),
        {"k": plan.khasra_id},
    ).one()
    label = f"khasra {k.number}"
    old_no = numbers[plan.khewat_id]
    if k.retired_on is not None:
        raise _refuse("partition_khasra", f"{label} was retired on {k.retired_on}")
    holders = conn.execute(
        text(
            "SELECT khewat_id, area_sarsai, valid_from FROM khewat_khasra"
            " WHERE khasra_id = :k AND valid_to IS NULL"
        ),
        {"k": k.id},
    ).all()
    mine = [h for h in holders if int(h.khewat_id) == plan.khewat_id]
    if len(holders) != 1 or not mine or int(mine[0].area_sarsai) != int(k.record_area_sarsai):
        raise _refuse(
            "partition_khasra",
            f"{label} is not held wholly and only by khewat {old_no}; only a khasra held "
            "whole by one khewat can be divided among its co-owners",
        )
    live = conn.execute(
        text(
            "SELECT count(*) FROM khewat_khasra kk JOIN khasra k ON k.id = kk.khasra_id"
            " WHERE kk.khewat_id = :w AND kk.valid_to IS NULL AND k.retired_on IS NULL"
        ),
        {"w": plan.khewat_id},
    ).scalar_one()
    old_before = before[plan.khewat_id]
    encumbered = sorted(r for (_, r) in old_before if r != ledger.OWNERSHIP)
    if encumbered:
        raise _refuse(
            "partition_encumbered",
            f"khewat {old_no} has an open {', '.join(encumbered)} right; redeem or end it "
            "before partition",
        )
    owners = {pid: s for (pid, r), s in old_before.items() if r == ledger.OWNERSHIP}
    closes = not after.get(plan.khewat_id, old_before)
    if closes != (int(live) == 1):
        why = (
            f"the mutation closes khewat {old_no} but it holds other khasras"
            if closes
            else f"{label} is the last khasra of khewat {old_no}, but the mutation does not "
            "close the khewat's shares"
        )
        raise _refuse("partition_khasra", why)
    new_khewats = [kid for kid in after if kid != plan.khewat_id]
    takers: list[tuple[int, int]] = []  # (new khewat, owner)
    for kid in new_khewats:
        held = after[kid]
        if before.get(kid) or len(held) != 1:
            raise _refuse(
                "partition_owners",
                f"khewat {numbers[kid]} must be new and go to exactly one co-owner",
            )
        ((pid, _),) = held
        takers.append((kid, pid))
    if sorted(p for _, p in takers) != sorted(owners):
        raise _refuse(
            "partition_owners",
            f"the co-owners of the partition are not the owners of khewat {old_no} on "
            f"{on.isoformat()}",
        )
    shares = [owners[pid] for _, pid in takers]
    areas = apportion_sarsai(int(k.record_area_sarsai), shares)
    if min(areas) < 1:
        raise _refuse(
            "partition_too_small",
            f"{label} ({k.record_area_sarsai} sarsai) is too small to give every co-owner "
            "a whole sarsai",
        )
    parent_no = parse_khasra_number(str(k.number))
    taken = {
        str(n)
        for (n,) in conn.execute(
            text("SELECT number FROM khasra WHERE mouza_id = :m"), {"m": k.mouza_id}
        ).all()
    }
    first = 1
    while str(parent_no.child(first)) in taken:
        first += 1
    parent_geom = shapely.from_wkb(bytes(k.wkb))
    pieces = split_by_shares(parent_geom, shares)
    child_areas = areas_m2(pieces)
    children = []
    for i, ((kid, pid), piece, record, m2) in enumerate(
        zip(takers, pieces, areas, child_areas, strict=True)
    ):
        child_no = parent_no.child(first + i)
        if str(child_no) in taken:
            raise _refuse("partition_khasra", f"tatima number {child_no} is already in use")
        child_id = conn.execute(
            text(
                "INSERT INTO khasra (mouza_id, number, murabba, main_number, tatima,"
                " parent_khasra_id, land_class, record_area_sarsai, unit_system, geom_area_m2,"
                " geom, source, created_on, created_by_mutation_id)"
                " VALUES (:m, :n, :mur, :main, :tat, :parent, :cls, :rec, :units, :m2,"
                " ST_GeomFromWKB(:wkb, 4326), :src, :on, :mid) RETURNING id"
            ),
            {
                "m": k.mouza_id,
                "n": str(child_no),
                "mur": child_no.murabba,
                "main": child_no.number,
                "tat": list(child_no.tatima),
                "parent": k.id,
                "cls": k.land_class,
                "rec": record,
                "units": k.unit_system,
                "m2": float(m2),
                "wkb": shapely.to_wkb(piece),
                "src": f"partition mutation {mutation_id}",
                "on": on,
                "mid": mutation_id,
            },
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO khewat_khasra (khewat_id, khasra_id, mouza_id, area_sarsai,"
                " valid_from) VALUES (:w, :k, :m, :a, :on)"
            ),
            {"w": kid, "k": child_id, "m": k.mouza_id, "a": record, "on": on},
        )
        children.append(
            {
                "number": str(child_no),
                "khewat_no": numbers[kid],
                "owner_party_id": pid,
                "record_area_sarsai": record,
                "geom_area_m2": round(float(m2), 3),
            }
        )
    conn.execute(
        text("UPDATE khasra SET retired_on = :on, retired_by_mutation_id = :mid WHERE id = :k"),
        {"on": on, "mid": mutation_id, "k": k.id},
    )
    conn.execute(
        text(
            "UPDATE khewat_khasra SET valid_to = :on WHERE khewat_id = :w AND khasra_id = :k"
            " AND valid_to IS NULL"
        ),
        {"on": on, "w": plan.khewat_id, "k": k.id},
    )
    return {"partition": {"khasra": str(k.number), "children": children}}
