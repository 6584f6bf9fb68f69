"""The demo district's records as plain Python objects, before they become table rows.

Generation fills a :class:`World`; :mod:`landgov.demo.tables` turns it into rows for the
database and :mod:`landgov.demo.files` into files. Ids are assigned by the generator
(1, 2, ... per table, in a deterministic order), so the same seed gives the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from shapely.geometry import Polygon

from landgov.domain import KhasraNumber

SETTLEMENT_YEAR: Final = 2002
"""Year of the settlement (the first jamabandi) the demo starts from."""
HISTORY_START: Final = date(2003, 1, 1)
"""First day a mutation may be entered."""
AS_OF: Final = date(2026, 11, 15)
"""The demo's "today": nothing happens after it; later decisions stay pending."""
DEED_REQUIRED_FROM: Final = date(2025, 12, 1)
"""Board of Revenue notification (domain.md §4, "to confirm"): from this date no
transfer except inheritance is accepted without a registered deed."""
SOURCE: Final = "demo"
"""khasra.source of every generated parcel."""
UNIT_SYSTEM: Final = "standard"


@dataclass(eq=False)
class AdminUnit:
    id: int
    level: str
    name: str
    name_ur: str | None
    parent_id: int | None


@dataclass(eq=False)
class Mouza:
    id: int
    name: str
    name_ur: str
    slug: str
    hadbast: int
    tehsil_id: int
    patwar_circle_id: int
    settlement_date: date
    boundary_local: Polygon
    boundary: Any = None  # MultiPolygon in EPSG:4326, filled at the end


@dataclass(eq=False)
class Officer:
    id: int
    name: str
    designation: str
    cnic: str


@dataclass(eq=False)
class Posting:
    officer_id: int
    admin_unit_id: int
    valid_from: date
    valid_to: date | None

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(eq=False)
class Party:
    id: int
    kind: str  # person | state
    name: str
    name_ur: str | None
    cnic: str | None = None
    custodian: str | None = None
    guardian_relation: str | None = None
    guardian_name: str | None = None
    gender: str | None = None
    dob: date | None = None
    dod: date | None = None
    # genealogy (persons only; not stored in the database)
    spouse_id: int | None = None
    children: list[int] = field(default_factory=list)
    generation: int = 0

    def alive_on(self, day: date) -> bool:
        if self.dob is not None and self.dob > day:
            return False
        return self.dod is None or self.dod > day

    def alive_through(self, day: date) -> bool:
        """Alive on every day up to and including ``day``."""
        return self.dod is None or self.dod > day

    def age_on(self, day: date) -> float:
        assert self.dob is not None
        return (day - self.dob).days / 365.25


@dataclass(eq=False)
class Khasra:
    id: int
    mouza_id: int
    number: KhasraNumber
    land_class: str
    local: Polygon  # metres, in the district's local grid frame
    record_area_sarsai: int = 0
    record_factor: float = 1.0  # planted record/geometry mismatch when != 1
    geom: Any = None  # MultiPolygon in EPSG:4326, filled at the end
    geom_area_m2: float = 0.0
    parent_id: int | None = None
    created_on: date | None = None
    retired_on: date | None = None
    created_by: Mutation | None = None
    retired_by: Mutation | None = None
    frozen: bool = False  # kept out of partitions (planted or state land)
    kind: str = "killa"  # killa | tatima | road | canal | abadi | forest | shamlat


@dataclass(eq=False)
class StateLand:
    id: int
    mouza_id: int
    category: str
    custodian: str
    name: str
    notification: str
    local: Polygon
    geom: Any = None


@dataclass(eq=False)
class Khewat:
    id: int
    mouza_id: int
    number: int
    previous_number: int | None


@dataclass(eq=False)
class KhewatKhasra:
    khewat_id: int
    khasra_id: int
    mouza_id: int
    area_sarsai: int
    valid_from: date
    valid_to: date | None = None


@dataclass(eq=False)
class Line:
    khewat_id: int
    transferor: int | None
    transferee: int | None
    share: Fraction
    right_type: str = "ownership"


@dataclass(eq=False)
class Mutation:
    seq: int  # creation order; ids and register numbers are assigned at the end
    mouza_id: int
    type: str
    status: str
    entered_on: date
    verified_on: date | None
    decided_on: date | None
    officer_id: int | None = None
    rejection_reason: str | None = None
    deed_number: str | None = None
    deed_date: date | None = None
    sub_registrar: str | None = None
    consideration_rs: int | None = None
    statutory_value_rs: int | None = None
    fees_rs: int | None = None
    remarks: str | None = None
    lines: list[Line] = field(default_factory=list)
    ops: list[tuple[Any, ...]] = field(default_factory=list)  # effects when sanctioned
    id: int = 0
    number: int = 0


@dataclass(eq=False)
class Share:
    id: int
    khewat_id: int
    party_id: int
    share: Fraction
    right_type: str
    valid_from: date
    valid_to: date | None = None
    created_by: Mutation | None = None
    ended_by: Mutation | None = None


@dataclass(eq=False)
class Khatauni:
    id: int
    khewat_id: int
    number: int
    cultivator_id: int
    tenancy: str
    rent_rs: int | None
    valid_from: date
    valid_to: date | None
    khasra_ids: list[int]


@dataclass(eq=False)
class Jamabandi:
    id: int
    mouza_id: int
    year: int
    attested_by: int | None
    attested_on: date | None


@dataclass(eq=False)
class Girdawari:
    id: int
    khasra_id: int
    season: str
    year: int
    inspected_on: date
    crop: str
    area_sown_sarsai: int
    irrigation_source: str
    cultivator_id: int | None
    damage_pct: Decimal


@dataclass(eq=False)
class Anomaly:
    """One planted anomaly: what a perfect detector should report (ground_truth.csv)."""

    signal: int  # domain.md §6 number
    kind: str
    mouza_id: int
    details: str
    khewat_id: int | None = None
    khasra_ids: tuple[int, ...] = ()
    mutation: Mutation | None = None
    party_id: int | None = None
    refs: dict[str, Mutation] = field(default_factory=dict)  # {name} in details -> number
    anomaly_id: str = ""


@dataclass(eq=False)
class World:
    """Everything generated for one seed."""

    seed: int
    admin_units: list[AdminUnit] = field(default_factory=list)
    mouzas: list[Mouza] = field(default_factory=list)
    officers: list[Officer] = field(default_factory=list)
    postings: list[Posting] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)  # index = id - 1
    state_parties: dict[str, Party] = field(default_factory=dict)
    khasras: list[Khasra] = field(default_factory=list)  # index = id - 1
    state_land: list[StateLand] = field(default_factory=list)
    khewats: list[Khewat] = field(default_factory=list)  # index = id - 1
    khewat_khasras: list[KhewatKhasra] = field(default_factory=list)
    mutations: list[Mutation] = field(default_factory=list)
    shares: list[Share] = field(default_factory=list)
    khataunis: list[Khatauni] = field(default_factory=list)
    jamabandis: list[Jamabandi] = field(default_factory=list)
    girdawaris: list[Girdawari] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    dc_rates: dict[tuple[int, str], int] = field(default_factory=dict)  # (year, class) -> Rs/acre
    market_sales: list[Any] = field(default_factory=list)  # landgov.demo.market.MarketSale
    frame: Any = None  # landgov.demo.shapes.Frame of the layout

    def party(self, party_id: int) -> Party:
        return self.parties[party_id - 1]

    def khasra(self, khasra_id: int) -> Khasra:
        return self.khasras[khasra_id - 1]

    def khewat(self, khewat_id: int) -> Khewat:
        return self.khewats[khewat_id - 1]

    def mouza(self, mouza_id: int) -> Mouza:
        return self.mouzas[mouza_id - 1]
