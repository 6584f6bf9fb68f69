"""The generated world as database rows, and its fingerprint.

Rows follow the column order of ``sql/``; geometries are EWKB hex (SRID 4326), which
PostGIS reads directly in COPY. Persons who died before the settlement are genealogy
only and are not rows; the family links between the others are ``party_relation`` rows
(as a NADRA family registration certificate would give them). The fingerprint is a
SHA-256 over every row, so two builds with the same seed produce the same fingerprint,
and any change shows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import shapely

from landgov.demo.model import SOURCE, UNIT_SYSTEM, Mutation, Party, World
from landgov.storage.bulk import MUTATION_COLUMNS, MUTATION_LINE_COLUMNS


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    has_id: bool = True


def ewkb(geom: Any) -> str:
    return str(shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True))


def _mid(m: Mutation | None) -> int | None:
    return None if m is None else m.id


def tables(world: World) -> list[Table]:
    """Every table's rows, in an order that satisfies the foreign keys."""
    registered = [p for p in world.parties if p.kind == "state" or p.cnic is not None]
    out = [
        Table(
            "admin_unit",
            ("id", "level", "name", "name_ur", "parent_id"),
            [(u.id, u.level, u.name, u.name_ur, u.parent_id) for u in world.admin_units],
        ),
        Table(
            "mouza",
            (
                "id",
                "tehsil_id",
                "patwar_circle_id",
                "name",
                "name_ur",
                "hadbast_number",
                "unit_system",
                "boundary",
            ),
            [
                (
                    m.id,
                    m.tehsil_id,
                    m.patwar_circle_id,
                    m.name,
                    m.name_ur,
                    m.hadbast,
                    UNIT_SYSTEM,
                    ewkb(m.boundary),
                )
                for m in world.mouzas
            ],
        ),
        Table(
            "officer",
            ("id", "name", "designation", "cnic"),
            [(o.id, o.name, o.designation, o.cnic) for o in world.officers],
        ),
        Table(
            "officer_jurisdiction",
            ("officer_id", "admin_unit_id", "valid_from", "valid_to"),
            [(p.officer_id, p.admin_unit_id, p.valid_from, p.valid_to) for p in world.postings],
            has_id=False,
        ),
        Table(
            "party",
            (
                "id",
                "kind",
                "cnic",
                "custodian",
                "name",
                "name_ur",
                "guardian_relation",
                "guardian_name",
                "gender",
                "date_of_birth",
                "date_of_death",
            ),
            [
                (
                    p.id,
                    p.kind,
                    p.cnic,
                    p.custodian,
                    p.name,
                    p.name_ur,
                    p.guardian_relation,
                    p.guardian_name,
                    p.gender,
                    p.dob,
                    p.dod,
                )
                for p in registered
            ],
        ),
        Table(
            "party_relation",
            ("party_id", "relative_id", "relation"),
            _relations(registered),
            has_id=False,
        ),
        Table(
            "mutation",
            MUTATION_COLUMNS,
            [
                (
                    m.id,
                    m.mouza_id,
                    m.number,
                    m.type,
                    m.status,
                    m.entered_on,
                    m.verified_on,
                    m.decided_on,
                    m.rejection_reason,
                    m.officer_id,
                    m.deed_number,
                    m.sub_registrar,
                    m.deed_date,
                    m.consideration_rs,
                    m.statutory_value_rs,
                    m.fees_rs,
                    m.remarks,
                )
                for m in world.mutations
            ],
        ),
        Table(
            "khasra",
            (
                "id",
                "mouza_id",
                "number",
                "murabba",
                "main_number",
                "tatima",
                "parent_khasra_id",
                "land_class",
                "record_area_sarsai",
                "unit_system",
                "geom_area_m2",
                "geom",
                "source",
                "created_on",
                "retired_on",
                "created_by_mutation_id",
                "retired_by_mutation_id",
            ),
            [
                (
                    k.id,
                    k.mouza_id,
                    str(k.number),
                    k.number.murabba,
                    k.number.number,
                    "{" + ",".join(str(t) for t in k.number.tatima) + "}",
                    k.parent_id,
                    k.land_class,
                    k.record_area_sarsai,
                    UNIT_SYSTEM,
                    k.geom_area_m2,
                    ewkb(k.geom),
                    SOURCE,
                    k.created_on,
                    k.retired_on,
                    _mid(k.created_by),
                    _mid(k.retired_by),
                )
                for k in world.khasras
            ],
        ),
        Table(
            "state_land",
            ("id", "mouza_id", "category", "custodian", "name", "notification", "geom"),
            [
                (s.id, s.mouza_id, s.category, s.custodian, s.name, s.notification, ewkb(s.geom))
                for s in world.state_land
            ],
        ),
        Table(
            "khewat",
            ("id", "mouza_id", "number", "previous_number"),
            [(k.id, k.mouza_id, k.number, k.previous_number) for k in world.khewats],
        ),
        Table(
            "khewat_khasra",
            ("khewat_id", "khasra_id", "mouza_id", "area_sarsai", "valid_from", "valid_to"),
            [
                (r.khewat_id, r.khasra_id, r.mouza_id, r.area_sarsai, r.valid_from, r.valid_to)
                for r in world.khewat_khasras
            ],
            has_id=False,
        ),
        Table(
            "mutation_line",
            MUTATION_LINE_COLUMNS,
            [
                (
                    m.id,
                    n,
                    line.khewat_id,
                    line.transferor,
                    line.transferee,
                    line.share.numerator,
                    line.share.denominator,
                    line.right_type,
                )
                for m in world.mutations
                for n, line in enumerate(m.lines, start=1)
            ],
            has_id=False,
        ),
        Table(
            "share",
            (
                "id",
                "khewat_id",
                "party_id",
                "numerator",
                "denominator",
                "right_type",
                "valid_from",
                "valid_to",
                "created_by_mutation_id",
                "ended_by_mutation_id",
            ),
            [
                (
                    s.id,
                    s.khewat_id,
                    s.party_id,
                    s.share.numerator,
                    s.share.denominator,
                    s.right_type,
                    s.valid_from,
                    s.valid_to,
                    _mid(s.created_by),
                    _mid(s.ended_by),
                )
                for s in world.shares
            ],
        ),
        Table(
            "khatauni",
            (
                "id",
                "khewat_id",
                "number",
                "cultivator_party_id",
                "tenancy",
                "rent_rs",
                "valid_from",
                "valid_to",
            ),
            [
                (
                    k.id,
                    k.khewat_id,
                    k.number,
                    k.cultivator_id,
                    k.tenancy,
                    k.rent_rs,
                    k.valid_from,
                    k.valid_to,
                )
                for k in world.khataunis
            ],
        ),
        Table(
            "khatauni_khasra",
            ("khatauni_id", "khasra_id"),
            [(k.id, kid) for k in world.khataunis for kid in k.khasra_ids],
            has_id=False,
        ),
        Table(
            "jamabandi",
            ("id", "mouza_id", "year", "attested_by", "attested_on"),
            [(j.id, j.mouza_id, j.year, j.attested_by, j.attested_on) for j in world.jamabandis],
        ),
        Table(
            "girdawari",
            (
                "id",
                "khasra_id",
                "season",
                "year",
                "inspected_on",
                "crop",
                "area_sown_sarsai",
                "irrigation_source",
                "cultivator_party_id",
                "damage_pct",
            ),
            [
                (
                    g.id,
                    g.khasra_id,
                    g.season,
                    g.year,
                    g.inspected_on,
                    g.crop,
                    g.area_sown_sarsai,
                    g.irrigation_source,
                    g.cultivator_id,
                    g.damage_pct,
                )
                for g in world.girdawaris
            ],
        ),
    ]
    return out


def _relations(registered: list[Party]) -> list[tuple[int, int, str]]:
    """The family registration certificate's links between registered persons: parent to
    child, and each spouse to the other."""
    ids = {p.id for p in registered if p.kind == "person"}
    rows = [(p.id, c, "child") for p in registered if p.id in ids for c in p.children if c in ids]
    rows += [(p.id, p.spouse_id, "spouse") for p in registered
             if p.id in ids and p.spouse_id in ids]  # fmt: skip
    return sorted(rows)


def _lines(tabs: list[Table]) -> Iterator[bytes]:
    for t in tabs:
        yield f"#{t.name}({','.join(t.columns)})\n".encode()
        for row in t.rows:
            yield ("\t".join("\\N" if v is None else str(v) for v in row) + "\n").encode()


def fingerprint(tabs: list[Table]) -> str:
    h = hashlib.sha256()
    for chunk in _lines(tabs):
        h.update(chunk)
    return h.hexdigest()
