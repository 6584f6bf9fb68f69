"""An adversarial planter for the dispute rules (issue 16, item 6).

Independent of the demo generator (:mod:`landgov.demo.anomalies` is not imported): it
plants every anomaly kind a dispute rule exists to find, and clean changes of every kind,
into a database that holds a district (a copy of the demo), through the entry paths a
real office has, at random magnitudes, places and dates. The truth it writes
(:func:`write_truth`) is scored by :mod:`landgov.disputes.scoring` (``landgov disputes
score --truth FILE --after-scan N``): per rule, planted, found, recall, and the flags a
scan raised that no planted anomaly explains, per 1,000 clean changes.

Entry paths
-----------
``import``
    a mutation register CSV written here and loaded by
    :func:`landgov.io.mutations.import_mutations` (registers are imported as recorded:
    they never change the ``share`` table, so the rules must replay them).
``cli``
    the mutation engine the CLI drives (:func:`landgov.records.mutations.enter`,
    ``enter_inheritance``, ``verify``, ``sanction``) as signed-in officers: a patwari
    enters, a girdawar verifies, a revenue officer posted over the mouza sanctions.
``import+cli``
    one mutation imported, the other through the engine (a double sale whose halves
    came in by different doors).
``edit``
    direct SQL as the owner role: what a clerk with database access can do (share rows,
    khasra geometry and areas, khewat-khasra links, the officer or dates of a mutation,
    a mutation typed straight into the register tables).
``parcels``
    a GeoPackage loaded by :func:`landgov.io.parcels.import_parcels` (with a khewat
    number, explicitly unassigned, or without the column).

What the engine or an importer refuses is planted through another path, on purpose:

- the engine refuses a transfer exceeding the stored holding, a faraid that differs from
  the heirs it is told of, a sale in the name of a person recorded dead, a sanction by an
  officer without the rank or the posting: so ``transfer_exceeds_holding`` is imported or
  typed into the register, a double sale's second half goes through the engine only after
  an imported first half, ``wrong_inheritance_shares`` through the engine misdeclares an
  heir's kind (a daughter entered as a son: the engine cannot know), ``sale_after_death``
  through the engine records the death after the sanction (NADRA's record arrives late);
- the importer refuses a decision by a patwari or girdawar (rank), so
  ``officer_without_power`` is an edit of ``mutation.officer_id``;
- a share total off 1 cannot pass the engine or an importer (imports do not touch shares):
  it is an edit of share rows, of a settlement row or of a row a mutation created;
- clean steps through the engine are dated today (verification, sanction): a back-dated
  step is listed by ``backdated_action``. Where a kind needs a past decision through the
  engine (a gift some days before death) that flag is expected and counted as collateral.

Plans and places
----------------
A plan is a list of :class:`Case` (kind, entry path and three numbers in [0, 1): the
magnitude, the place and the date, plus an integer variant). :func:`draw_plan` draws one
from a seed; :func:`plan_strategy` is the same as a hypothesis strategy (hypothesis is a
test dependency: imported inside the function). The planter resolves the numbers against
the database when it plants: the place is an index into the candidates that fit (free
khewats, holders, families, khasras, state land...), the date a point in the interval the
case can take, the magnitude the kind's measure (a price ratio, an overlap share, the age
of a donor...). Every anomaly takes its khewats, khasras and persons for itself, never
shared with a clean change or another anomaly, and never a subject a baseline scan
already flagged, so a flag names one case. Clean changes may follow each other on one
khewat (a chain of sales), as the register allows.

Truth
-----
One row per planted anomaly and per clean change (kind ``clean:<what>``): the mouza, the
khewat, the khasras and the mutation a flag would name, the entry path, ``also`` (other
subjects the case touched, ``khasra:N``, ``khewat:N``, ``mutation:N``: a flag on them is
collateral, not false) and ``implied_by`` for an anomaly another one implies (a double
sale over-allocates its khewat in the register; a statutory value copied low is
misstated). See :func:`write_truth` for the columns.
"""

from __future__ import annotations

import csv
import math
import random
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, Row

from landgov.errors import LandgovError

# --- kinds, paths, plans --------------------------------------------------------------

KINDS: Final[dict[str, tuple[str, ...]]] = {
    "over_allocation": ("edit",),
    "under_allocation": ("edit",),
    "shares_edited": ("edit",),
    "double_sale": ("import", "import+cli"),
    "transfer_exceeds_holding": ("import", "edit"),
    "deeds_short_window": ("import", "cli"),
    "sale_after_death": ("import", "cli", "edit"),
    "transfer_without_deed": ("import", "cli"),
    "gift_before_death": ("import", "cli"),
    "wrong_inheritance_shares": ("import", "cli"),
    "omitted_female_heir": ("import", "cli"),
    "officer_outside_jurisdiction": ("import", "edit"),
    "officer_without_power": ("edit",),
    "same_day_sanction": ("import", "cli", "edit"),
    "under_declared_price": ("import", "cli"),
    "statutory_value_misstated": ("import", "cli"),
    "overlap": ("edit", "parcels"),
    "row_encroachment": ("edit", "parcels"),
    "area_mismatch": ("edit", "parcels"),
    "orphan_khasra": ("edit",),
    "stale_pending_mutation": ("import", "edit"),
}
"""Each planted kind and the entry paths it is planted through (module notes: why not
the others)."""

CLEAN_KINDS: Final[dict[str, tuple[str, ...]]] = {
    "clean:sale": ("import", "cli"),
    "clean:gift": ("import", "cli"),
    "clean:wirasat": ("import", "cli"),
    "clean:mortgage": ("import", "cli"),
    "clean:lease": ("import", "cli"),
    "clean:parcel": ("parcels",),
    "clean:parcel_nudge": ("edit",),
}
"""Clean changes: each must raise no flag."""

CLEAN_WEIGHTS: Final[dict[str, float]] = {
    "clean:sale": 0.34,
    "clean:gift": 0.12,
    "clean:wirasat": 0.14,
    "clean:mortgage": 0.08,
    "clean:lease": 0.06,
    "clean:parcel": 0.16,
    "clean:parcel_nudge": 0.10,
}
"""How a large plan divides its clean changes between the kinds."""

FORMS: Final[dict[str, int]] = {
    "over_allocation": 3,  # a settlement row raised, a row inserted, a mutation's row raised
    "under_allocation": 4,  # settlement row lowered/deleted, a mutation's lowered/deleted
    "shares_edited": 3,  # part moved between holders, holder replaced, row split off
    "transfer_exceeds_holding": 2,  # a co-sharer over-sells, a stranger sells
    "sale_after_death": 2,  # deed after the death, deed before it and entry after
    "transfer_without_deed": 2,  # sale, gift
    "gift_before_death": 2,  # all of the holding, part of it
    "wrong_inheritance_shares": 2,  # children equal, a part moved between heirs
    "officer_outside_jurisdiction": 2,  # posted elsewhere that day, posted nowhere
    "officer_without_power": 2,  # the patwari posted there, any patwari or girdawar
    "under_declared_price": 3,  # statutory value written right, copied low, missing
    "statutory_value_misstated": 2,  # written low, written high
    "overlap": 3,  # (parcels) attached, unassigned, no khewat column
    "area_mismatch": 3,  # record area low/high; (parcels) attached, unassigned, bare
    "stale_pending_mutation": 3,  # entered, verified, entered (with or without a deed)
    "clean:sale": 2,  # price exactly the DC value, above it
    "clean:gift": 4,  # donor alive, young and dies, old and dies after 2 years, daughters in
    "clean:mortgage": 2,  # with possession, without
    "clean:parcel": 3,  # attached, unassigned, no khewat column (record area given or not)
}
"""How many forms a kind takes (``Case.variant % FORMS[kind]`` picks one): a small plan
plants every form of every kind at least once."""

BY_KHEWAT_KINDS: Final = frozenset({"over_allocation", "under_allocation", "shares_edited"})
BY_KHASRA_KINDS: Final = frozenset(
    {"overlap", "row_encroachment", "area_mismatch", "orphan_khasra"}
)
SIZES: Final[dict[str, tuple[int, int]]] = {"small": (1, 2), "full": (10, 1200)}
"""``small``: every (kind, path) once and every clean (kind, path) twice; ``full``: at
least 10 anomalies of each kind (every path of it) and 1,200 clean changes (some find no
place left in a district of 764 khewats: at least 1,000 are planted)."""

DECIDERS: Final = frozenset({"naib_tehsildar", "tehsildar", "assistant_commissioner"})
VERIFIERS: Final = DECIDERS | {"girdawar"}
POWERLESS: Final = frozenset({"patwari", "girdawar"})
DEED_REQUIRED_FROM: Final = date(2025, 12, 1)
"""transfer_without_deed's ``required_from`` (clean transfers always carry a deed)."""
CLI_EVERY: Final = 6
"""In a large plan every sixth clean change of a kind the engine can make goes through it."""
MAX_SANCTIONS_A_DAY: Final = 9
"""An officer sanctions at most this many on one day here: ten is a volume spike."""
RESALE_GAP_DAYS: Final = 60
"""A clean holder resells no sooner than this after the deed that gave him the land
(deeds_short_window looks 45 days back)."""


@dataclass(frozen=True)
class Case:
    """One thing to plant: a kind (or ``clean:<what>``), its entry path, and numbers in
    [0, 1) the planter turns into a magnitude, a place and a date; ``variant`` picks
    among a kind's forms (which share row, statutory value right/low/missing...)."""

    kind: str
    path: str
    magnitude: float
    place: float
    when: float
    variant: int = 0


def _pairs(size: str) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
    """(kind, path, form) of each case: every path and every form of a kind at least
    once (``small``), at least ``per_kind`` of each kind (``full``)."""
    per_kind, clean = SIZES[size]
    anomalies: list[tuple[str, str, int]] = []
    for kind, paths in KINDS.items():
        forms = FORMS.get(kind, 1)
        n = max(per_kind, len(paths), forms)
        anomalies += [(kind, paths[i % len(paths)], i % forms) for i in range(n)]
    cleans: list[tuple[str, str, int]] = []
    for kind, paths in CLEAN_KINDS.items():
        forms = FORMS.get(kind, 1)
        if size == "small":
            n = max(clean * len(paths), forms)
            cleans += [(kind, paths[i % len(paths)], i % forms) for i in range(n)]
        else:
            # one in CLI_EVERY through the engine: its steps are dated today, and an
            # officer sanctions at most MAX_SANCTIONS_A_DAY a day
            n = math.ceil(clean * CLEAN_WEIGHTS[kind])
            cleans += [(kind, "cli" if "cli" in paths and i % CLI_EVERY == 0 else paths[0],
                        i % forms) for i in range(n)]  # fmt: skip
    return anomalies, cleans


def draw_plan(seed: int, size: str = "small") -> list[Case]:
    """A plan of ``size`` (:data:`SIZES`) with every number drawn from ``seed``, cases in
    random order (anomalies and clean changes interleaved)."""
    rnd = random.Random(seed)
    anomalies, cleans = _pairs(size)
    cases = [
        Case(k, p, rnd.random(), rnd.random(), rnd.random(),
             f + FORMS.get(k, 1) * rnd.randrange(1 << 12))
        for k, p, f in anomalies + cleans
    ]  # fmt: skip
    rnd.shuffle(cases)
    return cases


def plan_strategy(size: str = "small", *, granular: bool = False) -> Any:
    """The plans of :func:`draw_plan` as a hypothesis strategy. By default hypothesis
    draws the seed (its first, simplest example is then still a random plan, which is what
    a test affording one example wants); ``granular``: every number of every case is drawn
    (and shrunk) by hypothesis, in a permuted order of the same (kind, path) pairs."""
    from hypothesis import strategies as st

    if not granular:
        return st.integers(0, 2**32 - 1).map(lambda s: draw_plan(s, size))
    unit = st.floats(min_value=0.0, max_value=1.0, exclude_max=True, allow_nan=False)
    anomalies, cleans = _pairs(size)

    def variants(k: str, f: int) -> st.SearchStrategy[int]:
        # a function rather than a lambda in the comprehension: binds k and f per case
        return st.integers(0, (1 << 12) - 1).map(lambda v: f + FORMS.get(k, 1) * v)

    parts = [
        st.builds(Case, st.just(k), st.just(p), unit, unit, unit, variants(k, f))
        for k, p, f in anomalies + cleans
    ]  # fmt: skip
    return st.tuples(*parts).flatmap(lambda cs: st.permutations(list(cs)))


# --- truth -------------------------------------------------------------------------------

TRUTH_COLUMNS: Final = (
    "anomaly_id",
    "kind",
    "mouza",
    "khewat_no",
    "khasra_no",
    "mutation_no",
    "details",
    "path",
    "case",
    "also",
    "implied_by",
)
"""The truth file's columns: those of the demo's ``ground_truth.csv`` that
:func:`landgov.disputes.scoring.read_truth` needs, then ``path`` (entry path), ``case``
(index in the plan), ``also`` (other subjects touched, ``;``-separated) and
``implied_by`` (the anomaly id this row follows from)."""


@dataclass
class TruthRow:
    kind: str
    mouza: str
    khewat_no: str = ""
    khasra_nos: tuple[str, ...] = ()
    mutation_no: str = ""
    details: str = ""
    path: str = ""
    case: int = -1
    also: tuple[str, ...] = ()
    implied_by: str = ""
    anomaly_id: str = ""

    def as_csv(self) -> dict[str, str]:
        return {
            "anomaly_id": self.anomaly_id,
            "kind": self.kind,
            "mouza": self.mouza,
            "khewat_no": self.khewat_no,
            "khasra_no": ";".join(self.khasra_nos),
            "mutation_no": self.mutation_no,
            "details": self.details,
            "path": self.path,
            "case": str(self.case),
            "also": ";".join(self.also),
            "implied_by": self.implied_by,
        }


@dataclass(frozen=True)
class Refusal:
    """A case that could not be planted: no place fits, or a door refused it."""

    case: int
    kind: str
    path: str
    reason: str


@dataclass
class PlantReport:
    truth: list[TruthRow] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    @property
    def clean(self) -> int:
        return sum(r.kind.startswith("clean:") for r in self.truth)

    @property
    def planted(self) -> int:
        """Rows of anomalies (implied ones included; first halves of refused cases not)."""
        return sum(not r.kind.startswith(("clean:", "partial:")) for r in self.truth)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for r in self.truth:
            out[f"{r.kind}/{r.path}"] += 1
        return dict(sorted(out.items()))


def write_truth(path: Path, rows: Iterable[TruthRow]) -> None:
    """Writes the truth CSV (:data:`TRUTH_COLUMNS`)."""
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(TRUTH_COLUMNS))
        w.writeheader()
        for r in rows:
            w.writerow(r.as_csv())


# --- the district as the planter sees it --------------------------------------------


class _Refused(Exception):
    """This case cannot be planted here (the message says why)."""


@dataclass
class _Person:
    id: int
    cnic: str
    name: str
    gender: str
    born: date | None
    died: date | None
    last: date | None = None  # last day the person appears in the register
    last_gift: date | None = None  # last gift sanctioned with the person as donor
    used: bool = False  # an anomaly's subject: no other case touches the person

    def age(self, on: date) -> float:
        return 0.0 if self.born is None else (on - self.born).days / 365.25

    def alive_on(self, day: date) -> bool:
        return (self.born is None or self.born <= day) and (self.died is None or self.died > day)


@dataclass
class _Khewat:
    id: int
    mouza_id: int
    number: int
    holders: dict[int, Fraction]  # open ownership by party (what the register says now)
    rows: dict[int, list[tuple[int, int | None, date]]]  # party -> (share id, created by, from)
    khasras: list[tuple[int, str, int, str]]  # (id, number, area_sarsai, land_class) held
    latest: date  # the last day anything changed on it
    acquired: dict[int, date]  # party -> the last deed that gave him land here
    eligible: bool = True
    lane: str | None = None  # None free; "x" an anomaly's; "import", "cli", "parcel"


@dataclass(frozen=True)
class _Officer:
    id: int
    cnic: str
    name: str
    designation: str


@dataclass
class _Mut:
    """A mutation to import or type into the register."""

    mouza_id: int
    type: str
    status: str
    entered: date
    lines: list[tuple[int, int | None, int | None, Fraction, str]]  # khewat no, src, dst..
    verified: date | None = None
    decided: date | None = None
    officer: int | None = None
    verifier: int | None = None
    deed: tuple[str, date] | None = None
    price: int | None = None
    statutory: int | None = None
    fees: int | None = None
    remarks: str | None = None


def _day(lo: date, hi: date, u: float) -> date:
    """The day at ``u`` in [lo, hi] (inclusive); refuses an empty interval."""
    if hi < lo:
        raise _Refused(f"no day between {lo} and {hi}")
    return lo + timedelta(days=min(int(u * ((hi - lo).days + 1)), (hi - lo).days))


_T = TypeVar("_T")


def _pick(items: Sequence[_T], u: float, what: str) -> _T:
    if not items:
        raise _Refused(f"no {what} fits")
    return items[min(int(u * len(items)), len(items) - 1)]


def _fmt(f: Fraction) -> str:
    return f"{f.numerator}/{f.denominator}"


def _part(held: Fraction, rnd: random.Random, whole: float = 0.4) -> Fraction:
    """All of ``held`` or a random exact part of it."""
    if rnd.random() < whole:
        return held
    d = rnd.choice((2, 3, 4, 5, 6, 8, 10))
    return held * Fraction(rnd.randint(1, d - 1), d)


class _World:
    """What the planter reads once from the database (as the owner role) and keeps up to
    date as it plants."""

    def __init__(self, conn: Connection, today: date) -> None:
        self.today = today

        def q(sql: str, **kw: object) -> Sequence[Row[*tuple[Any, ...]]]:
            return conn.execute(text(sql), kw).all()

        self.mouzas = {int(i): str(n) for i, n in q("SELECT id, name FROM mouza ORDER BY id")}
        self.cover: dict[int, set[int]] = defaultdict(set)
        for m, a in q(
            "WITH RECURSIVE up(mouza_id, id, parent_id) AS ("
            " SELECT m.id, a.id, a.parent_id FROM mouza m JOIN admin_unit a"
            "  ON a.id IN (m.tehsil_id, m.patwar_circle_id)"
            " UNION SELECT up.mouza_id, a.id, a.parent_id FROM admin_unit a"
            "  JOIN up ON a.id = up.parent_id) SELECT mouza_id, id FROM up"
        ):
            self.cover[int(m)].add(int(a))
        self.officers = {
            int(r.id): _Officer(int(r.id), r.cnic, r.name, r.designation)
            for r in q("SELECT id, cnic, name, designation FROM officer WHERE cnic IS NOT NULL")
        }
        self.postings: dict[int, list[tuple[int, date, date | None]]] = defaultdict(list)
        for o, a, f, t in q(
            "SELECT officer_id, admin_unit_id, valid_from, valid_to FROM officer_jurisdiction"
        ):
            self.postings[int(o)].append((int(a), f, t))
        self.sanctions: dict[tuple[int, date], int] = defaultdict(int)
        for o, d, n in q(
            "SELECT officer_id, decided_on, count(*) FROM mutation"
            " WHERE status = 'sanctioned' AND officer_id IS NOT NULL"
            " GROUP BY 1, 2"
        ):
            self.sanctions[(int(o), d)] = int(n)
        self.people = {
            int(r.id): _Person(
                int(r.id), r.cnic, r.name, r.gender, r.date_of_birth, r.date_of_death
            )
            for r in q(
                "SELECT id, cnic, name, gender, date_of_birth, date_of_death"
                " FROM party WHERE kind = 'person'"
            )
        }
        for pid, last in q(
            "SELECT pid, max(d) FROM ("
            " SELECT l.transferor_party_id AS pid, greatest(m.entered_on,"
            "  coalesce(m.decided_on, m.entered_on), coalesce(m.deed_date, m.entered_on)) AS d"
            "  FROM mutation_line l JOIN mutation m ON m.id = l.mutation_id"
            " UNION ALL SELECT l.transferee_party_id, greatest(m.entered_on,"
            "  coalesce(m.decided_on, m.entered_on), coalesce(m.deed_date, m.entered_on))"
            "  FROM mutation_line l JOIN mutation m ON m.id = l.mutation_id"
            " UNION ALL SELECT party_id, greatest(valid_from, coalesce(valid_to, valid_from))"
            "  FROM share) x WHERE pid IS NOT NULL GROUP BY pid"
        ):
            if int(pid) in self.people:
                self.people[int(pid)].last = last
        for pid, last in q(
            "SELECT l.transferor_party_id, max(m.decided_on) FROM mutation m"
            " JOIN mutation_line l ON l.mutation_id = m.id WHERE m.type = 'gift'"
            " AND m.status = 'sanctioned' GROUP BY 1"
        ):
            if pid is not None and int(pid) in self.people:
                self.people[int(pid)].last_gift = last
        self.children: dict[int, list[int]] = defaultdict(list)
        self.parents: dict[int, list[int]] = defaultdict(list)
        self.spouses: dict[int, list[int]] = defaultdict(list)
        for p, r, rel in q("SELECT party_id, relative_id, relation FROM party_relation"):
            if rel == "child":
                self.children[int(p)].append(int(r))
                self.parents[int(r)].append(int(p))
            else:
                self.spouses[int(p)].append(int(r))
        self._read_khewats(q)
        self._read_flagged(q)
        self.state_party = {
            str(c): int(i) for i, c in q("SELECT id, custodian FROM party WHERE kind = 'state'")
        }
        self.khasra_numbers: dict[int, set[str]] = defaultdict(set)
        for m, n in q("SELECT mouza_id, number FROM khasra"):
            self.khasra_numbers[int(m)].add(str(n))

    def _read_khewats(self, q: Callable[..., Any]) -> None:
        self.khewats: dict[int, _Khewat] = {}
        for i, m, n in q("SELECT id, mouza_id, number FROM khewat"):
            self.khewats[int(i)] = _Khewat(
                int(i), int(m), int(n), {}, defaultdict(list), [], date(1900, 1, 1), {}
            )
        for r in q(
            "SELECT s.id, s.khewat_id, s.party_id, s.numerator, s.denominator, s.right_type,"
            " s.valid_from, s.created_by_mutation_id, p.kind FROM share s"
            " JOIN party p ON p.id = s.party_id WHERE s.valid_to IS NULL ORDER BY s.id"
        ):
            k = self.khewats[int(r.khewat_id)]
            if r.right_type != "ownership" or r.kind != "person":
                k.eligible = False  # encumbered or state land: not used
                continue
            pid = int(r.party_id)
            k.holders[pid] = k.holders.get(pid, Fraction(0)) + Fraction(r.numerator, r.denominator)
            k.rows[pid].append((int(r.id), r.created_by_mutation_id, r.valid_from))
        for kid, d in q(
            "SELECT khewat_id, max(d) FROM ("
            " SELECT khewat_id, greatest(valid_from, coalesce(valid_to, valid_from)) AS d"
            "  FROM share"
            " UNION ALL SELECT khewat_id, greatest(valid_from, coalesce(valid_to, valid_from))"
            "  FROM khewat_khasra"
            " UNION ALL SELECT l.khewat_id, greatest(m.entered_on,"
            "  coalesce(m.decided_on, m.entered_on), coalesce(m.deed_date, m.entered_on))"
            "  FROM mutation_line l JOIN mutation m ON m.id = l.mutation_id) x GROUP BY 1"
        ):
            self.khewats[int(kid)].latest = d
        for (kid,) in q(
            "SELECT DISTINCT l.khewat_id FROM mutation_line l JOIN mutation m"
            " ON m.id = l.mutation_id WHERE m.status IN ('entered', 'verified')"
        ):
            self.khewats[int(kid)].eligible = False
        for r in q(
            "SELECT kk.khewat_id, k.id, k.number, kk.area_sarsai, k.land_class"
            " FROM khewat_khasra kk JOIN khasra k ON k.id = kk.khasra_id"
            " WHERE kk.valid_to IS NULL AND k.retired_on IS NULL ORDER BY k.id"
        ):
            self.khewats[int(r.khewat_id)].khasras.append(
                (int(r.id), str(r.number), int(r.area_sarsai), str(r.land_class))
            )
        for kid, pid, d in q(
            "SELECT l.khewat_id, l.transferee_party_id, max(m.deed_date)"
            " FROM mutation_line l JOIN mutation m ON m.id = l.mutation_id"
            " WHERE m.deed_date IS NOT NULL AND l.transferee_party_id"
            " IS NOT NULL GROUP BY 1, 2"
        ):
            self.khewats[int(kid)].acquired[int(pid)] = d
        for k in self.khewats.values():
            total = sum(k.holders.values(), Fraction(0))
            if total != 1 or not k.khasras or k.latest >= self.today - timedelta(days=30):
                k.eligible = False

    def _read_flagged(self, q: Callable[..., Any]) -> None:
        """Subjects a scan already flags (the district's own anomalies): never used."""
        self.flagged_khasras: set[int] = set()
        self.flagged_mutations: set[int] = set()
        for kw, ka, mu, ids in q(
            "SELECT khewat_id, khasra_id, mutation_id,"
            " evidence -> 'khasra_ids' FROM dispute_flag"
            " WHERE NOT resolved"
        ):
            if kw is not None and int(kw) in self.khewats:
                self.khewats[int(kw)].eligible = False
            if ka is not None:
                self.flagged_khasras.add(int(ka))
            if isinstance(ids, list):
                self.flagged_khasras.update(int(i) for i in ids)
            if mu is not None:
                self.flagged_mutations.add(int(mu))
        if self.flagged_mutations:
            for (kid,) in q(
                "SELECT DISTINCT khewat_id FROM mutation_line WHERE mutation_id = ANY(:m)",
                m=sorted(self.flagged_mutations),
            ):
                self.khewats[int(kid)].eligible = False
        for k in self.khewats.values():
            if any(kh[0] in self.flagged_khasras for kh in k.khasras):
                k.eligible = False

    # -- officers ----------------------------------------------------------------------

    def posted(self, officer_id: int, mouza_id: int, day: date) -> bool:
        units = self.cover[mouza_id]
        return any(
            a in units and f <= day and (t is None or day < t)
            for a, f, t in self.postings.get(officer_id, [])
        )

    def officers_posted(self, mouza_id: int, day: date, ranks: Iterable[str]) -> list[_Officer]:
        ranks = set(ranks)
        return [
            o
            for o in sorted(self.officers.values(), key=lambda o: o.id)
            if o.designation in ranks and self.posted(o.id, mouza_id, day)
        ]

    def decider(
        self, mouza_id: int, day: date, rnd: random.Random, exclude: Iterable[int] = ()
    ) -> _Officer:
        """A revenue officer posted over the mouza on ``day`` with room for one more
        sanction that day (none reaches a volume spike)."""
        out = [
            o
            for o in self.officers_posted(mouza_id, day, DECIDERS)
            if o.id not in set(exclude) and self.sanctions[(o.id, day)] < MAX_SANCTIONS_A_DAY
        ]
        if not out:
            raise _Refused(
                f"no revenue officer posted over mouza {mouza_id} on {day} can "
                "sanction another mutation that day"
            )
        o = rnd.choice(out)
        self.sanctions[(o.id, day)] += 1
        return o

    def has_room(self, mouza_id: int, day: date) -> bool:
        """Some revenue officer posted over the mouza on ``day`` may sanction one more."""
        return any(
            self.sanctions[(o.id, day)] < MAX_SANCTIONS_A_DAY
            for o in self.officers_posted(mouza_id, day, DECIDERS)
        )

    def verifier(
        self, mouza_id: int, day: date, rnd: random.Random, exclude: Iterable[int] = ()
    ) -> _Officer | None:
        out = [
            o for o in self.officers_posted(mouza_id, day, VERIFIERS) if o.id not in set(exclude)
        ]
        return rnd.choice(out) if out else None

    # -- people --------------------------------------------------------------------------

    def alive_adults(
        self, day: date, rnd: random.Random, n: int, exclude: Iterable[int] = ()
    ) -> list[_Person]:
        """``n`` persons alive on ``day`` and after (no death recorded), of age, unused."""
        ex = set(exclude)
        out: list[_Person] = []
        ids = list(self.people)
        for _ in range(2000):
            p = self.people[rnd.choice(ids)]
            if (
                p.id in ex
                or p.used
                or p.died is not None
                or p.born is None
                or p.age(day) < 18
                or (p.last is not None and p.last > self.today)
            ):
                continue
            out.append(p)
            ex.add(p.id)
            if len(out) == n:
                return out
        raise _Refused("not enough living adults")

    def death_floor(self, p: _Person) -> date:
        """The first day ``p`` may be recorded dead without changing anything else in the
        register: after his last appearance, after his parents and spouses died (their
        estates counted him alive), and more than two years after his last gift."""
        floor = (p.last or date(1900, 1, 1)) + timedelta(days=1)
        for r in self.parents.get(p.id, []) + self.spouses.get(p.id, []):
            d = self.people[r].died if r in self.people else None
            if d is not None:
                floor = max(floor, d + timedelta(days=1))
        for c in self.children.get(p.id, []):  # a child's estate may have named him
            d = self.people[c].died if c in self.people else None
            if d is not None:
                floor = max(floor, d + timedelta(days=1))
        if p.last_gift is not None:
            floor = max(floor, p.last_gift + timedelta(days=731))
        return floor

    def heirs(self, pid: int, on: date) -> dict[int, str] | None:
        """The deceased's heirs by FRC link on ``on`` as heir kinds, or None when the family
        is not simple (no surviving child, or a predeceased child with children: the
        planter keeps to families both calculators read the same way)."""
        me = self.people[pid]
        out: dict[int, str] = {}
        kids = self.children.get(pid, [])
        alive = [c for c in kids if self.people[c].alive_on(on)]
        if not alive:
            return None
        for c in kids:
            child = self.people[c]
            if child.born is not None and child.born > on:
                continue
            if not child.alive_on(on):
                if any(self.people[g].alive_on(on) for g in self.children.get(c, [])):
                    return None
                continue
            out[c] = "son" if child.gender == "male" else "daughter"
        for s in self.spouses.get(pid, []):
            if self.people[s].alive_on(on):
                out[s] = "wife" if me.gender == "male" else "husband"
        for par in self.parents.get(pid, []):
            if self.people[par].alive_on(on):
                out[par] = "father" if self.people[par].gender == "male" else "mother"
        if sum(k in ("wife",) for k in out.values()) > 4 or list(out.values()).count("husband") > 1:
            return None
        return out


# --- the planter ----------------------------------------------------------------------


OfficerActor = Callable[[str], Any]
"""officer's CNIC -> the signed-in :class:`~landgov.security.Actor` of that officer."""


class _Planter:
    def __init__(
        self,
        engine: Engine,
        owner: Engine,
        importer: Any,
        officer_actor: OfficerActor,
        work_dir: Path,
    ) -> None:
        self.engine = engine
        self.owner = owner
        self.importer = importer
        self.officer_actor = officer_actor
        self.work = Path(work_dir)
        self.work.mkdir(parents=True, exist_ok=True)
        self.today = date.today()
        with owner.connect() as conn:
            self.world = _World(conn, self.today)
        self._files = 0
        self._edited: set[int] = set()
        self.written: list[TruthRow] = []
        self._geo: _Geo | None = None
        self._new_parcels: list[Any] = []

    # -- helpers: places ------------------------------------------------------------

    def khewats(
        self,
        pred: Callable[[_Khewat], bool] = lambda k: True,
        lanes: Iterable[str | None] = (None,),
    ) -> list[_Khewat]:
        lanes = set(lanes)
        return [
            k
            for k in sorted(self.world.khewats.values(), key=lambda k: k.id)
            if k.eligible and k.lane in lanes and pred(k)
        ]

    def sellers(self, k: _Khewat, on: date) -> list[_Person]:
        """Holders of ``k`` who may sell on ``on``: alive with no death recorded, of age,
        not an anomaly's subject, and holding for long enough (no quick resale)."""
        out = []
        for pid in sorted(k.holders):
            p = self.world.people.get(pid)
            if p is None or p.used or p.died is not None or p.age(on) < 18:
                continue
            got = k.acquired.get(pid)
            if got is not None and (on - got).days < RESALE_GAP_DAYS:
                continue
            out.append(p)
        return out

    def claim(self, k: _Khewat, lane: str = "x") -> None:
        k.lane = lane

    def mouza(self, k: _Khewat) -> str:
        return self.world.mouzas[k.mouza_id]

    def dc_value(self, conn: Connection, k: _Khewat, share: Fraction, on: date) -> int:
        """The khewat's share's DC value on ``on``: its khasras held then, at the rate in
        force (:func:`landgov.valuation.rates.statutory_value`), rounded once."""
        from landgov.valuation.rates import round_half_up, statutory_value

        held = conn.execute(
            text(
                "SELECT khasra_id, area_sarsai FROM khewat_khasra WHERE khewat_id = :k"
                " AND valid_from <= :on AND (valid_to IS NULL OR :on < valid_to)"
            ),
            {"k": k.id, "on": on},
        ).all()
        if not held:
            raise _Refused(f"khewat {k.number} holds no khasra on {on}")
        try:
            total = sum(
                (
                    statutory_value(
                        conn, int(h.khasra_id), on, share, area_sarsai=int(h.area_sarsai)
                    ).value
                    for h in held
                ),
                Fraction(0),
            )
        except LandgovError as exc:
            raise _Refused(f"no DC value: {exc}") from None
        return round_half_up(total)

    def deed(self, k: _Khewat, day: date, rnd: random.Random) -> tuple[str, date]:
        return (f"ADV-{k.mouza_id}-{rnd.randrange(10**7):07d}", day)

    # -- helpers: writing ----------------------------------------------------------

    def _cnic(self, party: int | None) -> str:
        if party is None:
            return ""
        p = self.world.people.get(party)
        if p is not None:
            return p.cnic
        for custodian, pid in self.world.state_party.items():
            if pid == party:
                return custodian
        raise _Refused(f"party {party} has no CNIC or custodian")

    def import_muts(self, muts: list[_Mut]) -> list[tuple[int, int]]:
        """Imports ``muts`` as one register file; returns (id, number) of each."""
        from landgov.errors import ImportRejected
        from landgov.io.mutations import COLUMNS, import_mutations

        with self.owner.connect() as conn:
            top = {
                int(m): int(n)
                for m, n in conn.execute(
                    text("SELECT mouza_id, max(number) FROM mutation GROUP BY 1")
                ).all()
            }
        numbers: list[int] = []
        for m in muts:
            top[m.mouza_id] = top.get(m.mouza_id, 0) + 1
            numbers.append(top[m.mouza_id])
        self._files += 1
        path = self.work / f"register-{self._files:04d}.csv"
        cols = [*COLUMNS, "verifier_cnic"]
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            for m, number in zip(muts, numbers, strict=True):
                head = {
                    "mouza": self.world.mouzas[m.mouza_id],
                    "mutation_no": number,
                    "type": m.type,
                    "status": m.status,
                    "entered_on": m.entered.isoformat(),
                    "verified_on": m.verified.isoformat() if m.verified else "",
                    "decided_on": m.decided.isoformat() if m.decided else "",
                    "officer_cnic": self.world.officers[m.officer].cnic if m.officer else "",
                    "verifier_cnic": self.world.officers[m.verifier].cnic if m.verifier else "",
                    "rejection_reason": "",
                    "deed_number": m.deed[0] if m.deed else "",
                    "deed_date": m.deed[1].isoformat() if m.deed else "",
                    "sub_registrar": "Sheikhupura" if m.deed else "",
                    "consideration_rs": "" if m.price is None else m.price,
                    "statutory_value_rs": "" if m.statutory is None else m.statutory,
                    "fees_rs": "" if m.fees is None else m.fees,
                }
                for i, (kno, src, dst, share, right) in enumerate(m.lines, start=1):
                    w.writerow(
                        head
                        | {
                            "khewat_no": kno,
                            "line_no": i,
                            "transferor": self._cnic(src),
                            "transferee": self._cnic(dst),
                            "share": _fmt(share),
                            "right_type": right,
                        }
                    )
        try:
            import_mutations(self.engine, path, actor=self.importer)
        except ImportRejected as exc:
            raise _Refused(
                f"the importer refused {path.name}: " + "; ".join(str(p) for p in exc.problems[:5])
            ) from None
        with self.owner.connect() as conn:
            return [
                (
                    int(
                        conn.execute(
                            text("SELECT id FROM mutation WHERE mouza_id = :m AND number = :n"),
                            {"m": m.mouza_id, "n": n},
                        ).scalar_one()
                    ),
                    n,
                )
                for m, n in zip(muts, numbers, strict=True)
            ]

    def insert_mut(self, m: _Mut) -> tuple[int, int]:
        """Types ``m`` straight into the register tables as the owner role (a clerk with
        database access); shares are not touched."""
        with self.owner.begin() as conn:
            number = int(
                conn.execute(
                    text("SELECT coalesce(max(number), 0) + 1 FROM mutation WHERE mouza_id = :m"),
                    {"m": m.mouza_id},
                ).scalar_one()
            )
            kids = {
                int(n): int(i)
                for i, n in conn.execute(
                    text("SELECT id, number FROM khewat WHERE mouza_id = :m"), {"m": m.mouza_id}
                )
            }
            mid = int(
                conn.execute(
                    text(
                        "INSERT INTO mutation (mouza_id, number, type, status, entered_on,"
                        " verified_on, decided_on, officer_id, verified_by, deed_number,"
                        " sub_registrar, deed_date, consideration_rs, statutory_value_rs, fees_rs)"
                        " VALUES (:m, :n, :t, :s, :e, :v, :d, :o, :vb, :dn, :sr, :dd, :c, :sv, :f)"
                        " RETURNING id"
                    ),
                    {
                        "m": m.mouza_id,
                        "n": number,
                        "t": m.type,
                        "s": m.status,
                        "e": m.entered,
                        "v": m.verified,
                        "d": m.decided,
                        "o": m.officer,
                        "vb": m.verifier,
                        "dn": m.deed[0] if m.deed else None,
                        "sr": "Sheikhupura" if m.deed else None,
                        "dd": m.deed[1] if m.deed else None,
                        "c": m.price,
                        "sv": m.statutory,
                        "f": m.fees,
                    },
                ).scalar_one()
            )
            conn.execute(
                text(
                    "INSERT INTO mutation_line (mutation_id, line_no, khewat_id,"
                    " transferor_party_id, transferee_party_id, numerator, denominator,"
                    " right_type)"
                    " VALUES (:m, :i, :k, :s, :d, :n, :q, :r)"
                ),
                [
                    {
                        "m": mid,
                        "i": i,
                        "k": kids[kno],
                        "s": src,
                        "d": dst,
                        "n": sh.numerator,
                        "q": sh.denominator,
                        "r": right,
                    }
                    for i, (kno, src, dst, sh, right) in enumerate(m.lines, start=1)
                ],
            )
        return mid, number

    def engine_mut(
        self,
        mouza_id: int,
        rnd: random.Random,
        *,
        entered: date,
        verified: date,
        decided: date | None,
        draft: Any = None,
        inheritance: dict[str, Any] | None = None,
    ) -> tuple[int, int]:
        """Enters (a patwari posted there), verifies (a girdawar or revenue officer) and,
        with ``decided``, sanctions (a revenue officer, not the verifier) through the
        engine; a refusal after entry rejects the mutation so that it lies inert."""
        from landgov.records import mutations as mut

        w = self.world
        patwaris = [
            o
            for o in w.officers_posted(mouza_id, self.today, {"patwari"})
            if w.posted(o.id, mouza_id, entered)
        ]
        if not patwaris:
            raise _Refused(f"no patwari posted over mouza {mouza_id} today and on {entered}")
        patwari = patwaris[0]
        checker = w.verifier(mouza_id, verified, rnd, exclude=[patwari.id])
        if checker is None or not w.posted(checker.id, mouza_id, self.today):
            raise _Refused(f"no verifier posted over mouza {mouza_id} on {verified}")
        try:
            if inheritance is not None:
                mid = mut.enter_inheritance(
                    self.engine,
                    entered_on=entered,
                    actor=self.actor(patwari.id),
                    **inheritance,
                )
            else:
                mid = mut.enter(self.engine, draft, actor=self.actor(patwari.id))
        except LandgovError as exc:
            raise _Refused(f"the engine refused the entry: {exc}") from None
        try:
            mut.verify(self.engine, mid, actor=self.actor(checker.id), on=verified)
            if decided is not None:
                boss = w.decider(mouza_id, decided, rnd, exclude=[checker.id])
                if not w.posted(boss.id, mouza_id, self.today):
                    raise _Refused(f"officer {boss.id} is not posted there today")
                # the planter's officer acknowledges an under-declared price, as a careless
                # or corrupt one would (sql/025 keeps the acknowledgement)
                mut.sanction(
                    self.engine, mid, actor=self.actor(boss.id), on=decided,
                    acknowledge_price=True,
                )  # fmt: skip
        except (LandgovError, _Refused) as exc:
            self._reject(mouza_id, mid, rnd)
            raise _Refused(f"the engine refused: {exc}") from None
        with self.owner.connect() as conn:
            number = int(
                conn.execute(
                    text("SELECT number FROM mutation WHERE id = :i"), {"i": mid}
                ).scalar_one()
            )
        return mid, number

    def actor(self, officer_id: int) -> Any:
        """The signed-in actor of an officer (``officer_actor`` takes his CNIC)."""
        return self.officer_actor(self.world.officers[officer_id].cnic)

    def _reject(self, mouza_id: int, mid: int, rnd: random.Random) -> None:
        from landgov.records import mutations as mut

        w = self.world
        for o in w.officers_posted(mouza_id, self.today, DECIDERS):
            try:
                mut.reject(
                    self.engine,
                    mid,
                    actor=self.actor(o.id),
                    on=self.today,
                    reason="adversarial planter: refused by the engine",
                )
                return
            except LandgovError:
                continue

    def draft(
        self,
        k: _Khewat,
        mtype: str,
        entered: date,
        lines: Sequence[tuple[int | None, int | None, Fraction, str]],
        *,
        deed: tuple[str, date] | None = None,
        price: int | None = None,
        statutory: int | None = None,
    ) -> Any:
        from landgov.records.mutations import DraftLine, MutationDraft

        return MutationDraft(
            mouza=self.mouza(k),
            type=mtype,
            entered_on=entered,
            lines=[
                DraftLine(k.number, self._cnic(s) or None, self._cnic(d) or None, sh, r)
                for s, d, sh, r in lines
            ],
            deed_number=deed[0] if deed else None,
            deed_date=deed[1] if deed else None,
            sub_registrar="Sheikhupura" if deed else None,
            consideration_rs=price,
            statutory_value_rs=statutory,
        )

    def set_death(self, p: _Person, day: date) -> None:
        """Records ``p``'s death (NADRA's record reaching the register), as the owner."""
        if day < p.died if p.died is not None else False:
            raise _Refused("already dead")
        with self.owner.begin() as conn:
            conn.execute(
                text("UPDATE party SET date_of_death = :d WHERE id = :p"), {"d": day, "p": p.id}
            )
        p.died = day
        p.used = True

    def touch(self, day: date, *pids: int | None) -> None:
        for pid in pids:
            if pid is not None and pid in self.world.people:
                p = self.world.people[pid]
                p.last = max(p.last or day, day)

    def apply(
        self,
        k: _Khewat,
        lines: Iterable[tuple[int | None, int | None, Fraction]],
        day: date,
        deed: date | None,
    ) -> None:
        """Keeps the planter's view of a clean khewat's register up to date."""
        for src, dst, share in lines:
            if src is not None:
                k.holders[src] = k.holders.get(src, Fraction(0)) - share
                if k.holders[src] <= 0:
                    del k.holders[src]
            if dst is not None:
                k.holders[dst] = k.holders.get(dst, Fraction(0)) + share
                if deed is not None:
                    k.acquired[dst] = deed
            self.touch(day, src, dst)
        k.latest = max(k.latest, day)

    def row(
        self,
        case: Case,
        n: int,
        kind: str,
        k: _Khewat | None,
        *,
        mouza_id: int | None = None,
        mutation_no: int | str = "",
        khasras: Iterable[str] = (),
        details: str = "",
        also: Iterable[str] = (),
        path: str | None = None,
        implied_by: str = "",
    ) -> TruthRow:
        mid = k.mouza_id if k is not None else mouza_id
        assert mid is not None
        return TruthRow(
            kind,
            self.world.mouzas[mid],
            "" if k is None else str(k.number),
            tuple(khasras),
            str(mutation_no),
            details,
            path or case.path,
            n,
            tuple(also),
            implied_by,
        )

    # -- dates of a register entry (import and edit paths) -------------------------------

    def register_dates(
        self,
        k: _Khewat,
        u: float,
        rnd: random.Random,
        *,
        lo: date | None = None,
        hi: date | None = None,
        same_day: bool = False,
        room: float = 1.0,
    ) -> tuple[date, date]:
        """(entered, decided) after everything on ``k``, decided by ``hi`` (default
        yesterday: today's sanctions are the engine's): entered at ``u`` of the interval,
        decided 1-60 days later (the same day when ``same_day``). ``room`` < 1 keeps the
        entry in the first part of the interval (a clean chain leaves time for the next)."""
        hi = hi or self.today - timedelta(days=1)
        start = max(k.latest + timedelta(days=1), lo or date(1900, 1, 1))
        end = hi - (timedelta(0) if same_day else timedelta(days=1))
        if end >= start:
            end = start + timedelta(days=int((end - start).days * room))
        entered = _day(start, end, u)
        if same_day:
            entered = self.free_day(k.mouza_id, start, entered)
            return entered, entered
        decided = min(entered + timedelta(days=rnd.randint(1, 60)), hi)
        return entered, self.free_day(k.mouza_id, entered + timedelta(days=1), decided)

    def free_day(self, mouza_id: int, lo: date, hi: date) -> date:
        """The latest day in [lo, hi] on which an officer posted there may still sanction
        (imported decisions spread so that no officer reaches a volume spike)."""
        day = hi
        while day >= lo:
            if self.world.has_room(mouza_id, day):
                return day
            day -= timedelta(days=1)
        raise _Refused(f"no officer may sanction more in mouza {mouza_id} from {lo} to {hi}")

    def officers_for(
        self, k: _Khewat, decided: date, rnd: random.Random, verified: date | None = None
    ) -> tuple[int, int | None, date | None]:
        boss = self.world.decider(k.mouza_id, decided, rnd)
        if verified is None:
            return boss.id, None, None
        checker = self.world.verifier(k.mouza_id, verified, rnd, exclude=[boss.id])
        return boss.id, (checker.id if checker else None), (verified if checker else None)

    # -- sales --------------------------------------------------------------------------

    def sale_mut(
        self,
        conn: Connection,
        k: _Khewat,
        seller: int,
        buyers: list[tuple[int, Fraction]],
        entered: date,
        decided: date | None,
        rnd: random.Random,
        *,
        ratio: float | None = None,
        written: str = "right",
        deed: bool = True,
        status: str = "sanctioned",
        officer: int | None = None,
        same_day: bool = False,
        deed_day: date | None = None,
    ) -> tuple[_Mut, int, int | None]:
        """A sale of ``k`` by ``seller`` to ``buyers`` as a register entry: deed 0-30 days
        before entry, price ``ratio`` × the DC value on the deed date (default 1.0-2.5,
        rounded up: never below it), statutory value written ``right``, ``low`` (copied
        from the price) or ``missing``. Returns the entry, the DC value and the written
        value."""
        if deed_day is None:
            room = max(0, (entered - k.latest).days - 1)
            deed_day = entered - timedelta(days=rnd.randint(0, min(30, room)))
        sold = sum((s for _, s in buyers), Fraction(0))
        dc = self.dc_value(conn, k, sold, deed_day if deed else entered)
        if ratio is None:
            ratio = 1.0 if rnd.random() < 0.25 else rnd.uniform(1.0, 2.5)
        price = math.ceil(dc * ratio) if ratio >= 1 else min(int(dc * ratio), dc - 1)
        value = {"right": dc, "low": price, "missing": None}[written]
        boss = verifier = verified = None
        if status == "sanctioned" and decided is not None:
            verified = decided if same_day else _day(entered, decided, rnd.random())
            boss_id = (
                officer if officer is not None else self.world.decider(k.mouza_id, decided, rnd).id
            )
            checker = self.world.verifier(k.mouza_id, verified, rnd, exclude=[boss_id])
            boss, verifier = boss_id, (checker.id if checker else None)
            verified = verified if checker else None
        m = _Mut(
            k.mouza_id,
            "sale",
            status,
            entered,
            [(k.number, seller, b, s, "ownership") for b, s in buyers],
            verified=verified,
            decided=decided if status == "sanctioned" else None,
            officer=boss,
            verifier=verifier,
            deed=self.deed(k, deed_day, rnd) if deed else None,
            price=price,
            statutory=value,
            fees=int(round(0.01 * max(price, dc), -2)),
        )
        return m, dc, value

    # -- the kinds ------------------------------------------------------------------------

    def plant(self, n: int, case: Case) -> list[TruthRow]:
        rnd = random.Random(
            f"{case.kind}|{case.path}|{case.magnitude!r}|{case.place!r}|"
            f"{case.when!r}|{case.variant}"
        )
        name = case.kind.removeprefix("clean:")
        fn = getattr(self, f"_{'clean_' if case.kind.startswith('clean:') else ''}{name}")
        rows: list[TruthRow] = fn(n, case, rnd)
        return rows

    # -- shares: direct edits -----------------------------------------------------------

    def _share_rows(self, k: _Khewat, settlement: bool | None) -> list[tuple[int, int, Fraction]]:
        """(party, share row id, share) of holders with exactly one open row, created by
        the settlement (``settlement``), by a mutation (not ``settlement``) or either."""
        out = []
        for pid, rows in sorted(k.rows.items()):
            if len(rows) != 1 or pid not in k.holders:
                continue
            rid, created, _ = rows[0]
            if settlement is None or (created is None) == settlement:
                out.append((pid, rid, k.holders[pid]))
        return out

    def _set_share(self, conn: Connection, rid: int, share: Fraction) -> None:
        conn.execute(
            text("UPDATE share SET numerator = :n, denominator = :d WHERE id = :i"),
            {"n": share.numerator, "d": share.denominator, "i": rid},
        )

    def _over_allocation(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        form = case.variant % 3  # 0 settlement row, 1 a row inserted, 2 a mutation's row
        d = rnd.choice((2, 3, 4, 6, 8, 12, 20, 100))
        num = 1 + int(case.magnitude * (d - 1))
        if form == 1:
            k = _pick(self.khewats(), case.place, "khewat")
            extra = Fraction(num, d)
            who = self.world.alive_adults(self.today, rnd, 1, exclude=k.holders)[0]
            day = _day(k.latest + timedelta(days=1), self.today, case.when)
            with self.owner.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO share (khewat_id, party_id, numerator, denominator,"
                        " right_type, valid_from) VALUES (:k, :p, :n, :d, 'ownership',"
                        " :f)"
                    ),
                    {
                        "k": k.id,
                        "p": who.id,
                        "n": extra.numerator,
                        "d": extra.denominator,
                        "f": day,
                    },
                )
            what = (
                f"a share row of {_fmt(extra)} for {who.name} inserted from {day} with no "
                "mutation behind it"
            )
        else:
            want = form == 0
            ks = self.khewats(lambda k: any(s < 1 for _, _, s in self._share_rows(k, want)))
            k = _pick(ks, case.place, "khewat with such a share row")
            pid, rid, old = _pick(
                [r for r in self._share_rows(k, want) if r[2] < 1], case.when, "row"
            )
            extra = (1 - old) * Fraction(num, d)
            with self.owner.begin() as conn:
                self._set_share(conn, rid, old + extra)
            who = self.world.people[pid]
            what = (
                f"{'settlement' if want else 'mutation-made'} share row of {who.name} "
                f"raised from {_fmt(old)} to {_fmt(old + extra)} in place"
            )
        self.claim(k)
        who.used = True
        path = "edit"
        rows = [
            self.row(
                case,
                n,
                "over_allocation",
                k,
                path=path,
                details=f"{what}: khewat {k.number} sums to {_fmt(1 + extra)}",
            )
        ]
        if form != 0:  # the stored rows no longer follow the register either
            rows.append(
                self.row(
                    case,
                    n,
                    "shares_edited",
                    k,
                    path=path,
                    details=f"implied: {what}",
                    implied_by=f"over_allocation@{n}",
                )
            )
        return rows

    def _under_allocation(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        form = case.variant % 4  # 0/1 settlement row lowered/deleted, 2/3 a mutation's
        want = form < 2
        delete = form % 2 == 1
        ks = self.khewats(
            lambda k: bool(self._share_rows(k, want)) and (not delete or len(k.holders) >= 2)
        )
        k = _pick(ks, case.place, "khewat with such a share row")
        pid, rid, old = _pick(self._share_rows(k, want), case.when, "row")
        d = rnd.choice((2, 3, 4, 6, 8, 12, 20, 100))
        lost = old if delete else old * Fraction(1 + int(case.magnitude * (d - 1)), d)
        with self.owner.begin() as conn:
            if delete:
                conn.execute(text("DELETE FROM share WHERE id = :i"), {"i": rid})
            else:
                self._set_share(conn, rid, old - lost)
        who = self.world.people[pid]
        who.used = True
        self.claim(k)
        what = f"{'settlement' if want else 'mutation-made'} share row of {who.name} " + (
            "deleted" if delete else f"lowered from {_fmt(old)} to {_fmt(old - lost)}"
        )
        rows = [
            self.row(
                case,
                n,
                "under_allocation",
                k,
                details=f"{what}: khewat {k.number} sums to {_fmt(1 - lost)}",
            )
        ]
        if not want:
            rows.append(
                self.row(
                    case,
                    n,
                    "shares_edited",
                    k,
                    details=f"implied: {what}",
                    implied_by=f"under_allocation@{n}",
                )
            )
        return rows

    def _shares_edited(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        """Rows a mutation made, changed with the khewat still summing to 1 (only
        ``shares_differ_from_register`` can see it). A settlement row changed in place is
        the register's own starting point: not planted, nothing could tell."""
        form = case.variant % 3  # 0 part moved between holders, 1 holder replaced, 2 split
        need = 2 if form == 0 else 1
        ks = self.khewats(lambda k: len(self._share_rows(k, False)) >= need)
        k = _pick(ks, case.place, "khewat with mutation-made rows")
        rows = self._share_rows(k, False)
        a_pid, a_rid, a_old = _pick(rows, case.when, "row")
        d = rnd.choice((2, 3, 4, 5, 8, 10))
        x = a_old * Fraction(1 + int(case.magnitude * (d - 1)), d)
        a = self.world.people[a_pid]
        with self.owner.begin() as conn:
            if form == 0:
                b_pid, b_rid, b_old = rnd.choice([r for r in rows if r[0] != a_pid])
                if x == a_old:
                    x = a_old / 2
                self._set_share(conn, a_rid, a_old - x)
                self._set_share(conn, b_rid, b_old + x)
                what = f"{_fmt(x)} moved from {a.name} to {self.world.people[b_pid].name}"
                self.world.people[b_pid].used = True
            else:
                c = self.world.alive_adults(self.today, rnd, 1, exclude=k.holders)[0]
                c.used = True
                if form == 1:
                    conn.execute(
                        text("UPDATE share SET party_id = :p WHERE id = :i"),
                        {"p": c.id, "i": a_rid},
                    )
                    what = f"{a.name}'s row of {_fmt(a_old)} rewritten in {c.name}'s name"
                else:
                    if x == a_old:
                        x = a_old / 2
                    self._set_share(conn, a_rid, a_old - x)
                    conn.execute(
                        text(
                            "INSERT INTO share (khewat_id, party_id, numerator, denominator,"
                            " right_type, valid_from, created_by_mutation_id) SELECT khewat_id, :p,"
                            " :n, :d, right_type, valid_from, created_by_mutation_id FROM share"
                            " WHERE id = :i"
                        ),
                        {"p": c.id, "n": x.numerator, "d": x.denominator, "i": a_rid},
                    )
                    what = f"{_fmt(x)} of {a.name}'s row split off to {c.name}"
        a.used = True
        self.claim(k)
        return [
            self.row(
                case,
                n,
                "shares_edited",
                k,
                details=f"{what} by SQL, outside any mutation; khewat {k.number} still sums to 1",
            )
        ]

    # -- transfers ------------------------------------------------------------------------

    def _holding(
        self,
        case: Case,
        rnd: random.Random,
        *,
        lo: date | None = None,
        hi: date | None = None,
        joint: bool = False,
        margin: int = 3,
        lanes: Iterable[str | None] = (None,),
        ok: Callable[[_Khewat, _Person], bool] = lambda k, p: True,
    ) -> tuple[_Khewat, _Person, date]:
        """A khewat with a holder who may sell (and for whom ``ok``): (khewat, seller, a
        first free day)."""
        start = lo or date(1900, 1, 1)
        end = (hi or self.today) - timedelta(days=margin)
        ks = self.khewats(
            lambda k: (
                max(k.latest + timedelta(days=1), start) <= end
                and (not joint or len(k.holders) >= 2)
            ),
            lanes,
        )
        if not ks:
            raise _Refused("no khewat fits")
        # a clean change goes on after earlier ones three times in four (chains of sales)
        reuse = [k for k in ks if k.lane is not None]
        fresh = [k for k in ks if k.lane is None]
        for group in (reuse, fresh) if rnd.random() < 0.75 else (fresh, reuse):
            if not group:
                continue
            first = min(int(case.place * len(group)), len(group) - 1)
            for i in range(len(group)):
                k = group[(first + i) % len(group)]
                day = max(k.latest + timedelta(days=1), start)
                who = [p for p in self.sellers(k, day)
                       if (k.holders[p.id] < 1 or not joint) and ok(k, p)]  # fmt: skip
                if who:
                    return k, rnd.choice(who), day
        raise _Refused("no holder may sell")

    def _buyers(
        self, k: _Khewat, seller: int, share: Fraction, day: date, rnd: random.Random, most: int = 2
    ) -> list[tuple[int, Fraction]]:
        people = self.world.alive_adults(day, rnd, rnd.randint(1, most), exclude=[seller])
        if len(people) == 1 or share.denominator * 2 > 10**15:
            return [(people[0].id, share)]
        first = share * Fraction(rnd.randint(1, 3), 4)
        return [(people[0].id, first), (people[1].id, share - first)]

    def _double_sale(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        mixed = case.path == "import+cli"
        k, s, start = self._holding(case, rnd, hi=self.today - timedelta(days=40))
        self.claim(k)
        s.used = True
        held = k.holders[s.id]
        p1 = _part(held, rnd)
        d = rnd.choice((2, 3, 4, 6, 8, 12))
        p2 = (held - p1) + p1 * Fraction(1 + int(case.magnitude * (d - 1)), d)
        b1, b2 = self.world.alive_adults(self.today, rnd, 2, exclude=[s.id, *k.holders])
        e1 = _day(start, self.today - timedelta(days=30), case.when)
        dc1 = min(e1 + timedelta(days=rnd.randint(1, 20)), self.today - timedelta(days=10))
        with self.owner.connect() as conn:
            m1, _, _ = self.sale_mut(conn, k, s.id, [(b1.id, p1)], e1, dc1, rnd)
        ((_, no1),) = self.import_muts([m1])
        self.written.append(self.row(case, n, "setup", k, mutation_no=no1))
        if mixed:
            entered = self.today - timedelta(days=rnd.randint(1, 6))
            deed_day = max(dc1 + timedelta(days=1), entered - timedelta(days=rnd.randint(0, 3)))
            with self.owner.connect() as conn:
                dc = self.dc_value(conn, k, p2, deed_day)
            draft = self.draft(
                k,
                "sale",
                entered,
                [(s.id, b2.id, p2, "ownership")],
                deed=self.deed(k, deed_day, rnd),
                price=math.ceil(dc * 1.2),
                statutory=dc,
            )
            _, no2 = self.engine_mut(
                k.mouza_id,
                rnd,
                entered=entered,
                verified=self.today,
                decided=self.today,
                draft=draft,
            )
        else:
            e2 = _day(dc1 + timedelta(days=1), self.today - timedelta(days=1), rnd.random())
            dc2 = self.free_day(
                k.mouza_id,
                e2 + timedelta(days=1),
                min(e2 + timedelta(days=rnd.randint(1, 30)), self.today),
            )
            with self.owner.connect() as conn:
                m2, _, _ = self.sale_mut(conn, k, s.id, [(b2.id, p2)], e2, dc2, rnd)
            ((_, no2),) = self.import_muts([m2])
        what = (
            f"{s.name} held {_fmt(held)}, sold {_fmt(p1)} by sale {no1} and "
            f"{_fmt(p2)} again by sale {no2}; excess {_fmt(p1 + p2 - held)}"
        )
        return [
            self.row(
                case, n, "double_sale", k, mutation_no=no2, details=what, also=(f"mutation:{no1}",)
            ),
            self.row(
                case,
                n,
                "over_allocation",
                k,
                details=f"implied in the register: {what}",
                also=(f"mutation:{no1}", f"mutation:{no2}"),
                implied_by=f"double_sale@{n}",
            ),
        ]

    def _transfer_exceeds_holding(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        stranger = case.variant % 2 == 1  # a person who holds nothing here sells
        k, s, _ = self._holding(case, rnd, joint=not stranger)
        self.claim(k)
        if stranger:
            s = self.world.alive_adults(self.today, rnd, 1, exclude=k.holders)[0]
        s.used = True
        held = k.holders.get(s.id, Fraction(0))
        d = rnd.choice((2, 3, 4, 6, 8, 12))
        moved = held + (1 - held) * Fraction(1 + int(case.magnitude * (d - 1)), d)
        entered, decided = self.register_dates(k, case.when, rnd)
        buyers = self._buyers(k, s.id, moved, entered, rnd, most=3)
        with self.owner.connect() as conn:
            m, _, _ = self.sale_mut(conn, k, s.id, buyers, entered, decided, rnd)
        _, no = self.insert_mut(m) if case.path == "edit" else self.import_muts([m])[0]
        what = (
            f"{s.name} holds {_fmt(held)} and transfers {_fmt(moved)} to "
            f"{len(buyers)} buyer(s) (excess {_fmt(moved - held)})"
        )
        return [
            self.row(case, n, "transfer_exceeds_holding", k, mutation_no=no, details=what),
            self.row(
                case,
                n,
                "over_allocation",
                k,
                details=f"implied in the register: {what}",
                also=(f"mutation:{no}",),
                implied_by=f"transfer_exceeds_holding@{n}",
            ),
        ]

    def _deeds_short_window(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        gap = round(case.magnitude * 30)
        k, s, start = self._holding(case, rnd, hi=self.today - timedelta(days=100))
        self.claim(k)
        s.used = True
        held = k.holders[s.id]
        p = _part(held, rnd)
        q = p if rnd.random() < 0.6 else p * Fraction(rnd.randint(1, 3), 4)
        b, c = self.world.alive_adults(self.today, rnd, 2, exclude=[s.id, *k.holders])
        b.used = True
        if case.path == "cli":
            deed1 = self.today - timedelta(days=7 + gap + rnd.randint(0, 5))
            if deed1 <= k.latest:
                raise _Refused("the khewat changed too recently")
            e1 = self.today - timedelta(days=rnd.randint(1, 6))
            with self.owner.connect() as conn:
                v1 = self.dc_value(conn, k, p, deed1)
                v2 = self.dc_value(conn, k, q, deed1 + timedelta(days=gap))
            draft1 = self.draft(
                k,
                "sale",
                e1,
                [(s.id, b.id, p, "ownership")],
                deed=self.deed(k, deed1, rnd),
                price=math.ceil(v1 * 1.1),
                statutory=v1,
            )
            _, no1 = self.engine_mut(
                k.mouza_id, rnd, entered=e1, verified=self.today, decided=self.today, draft=draft1
            )
            self.written.append(self.row(case, n, "setup", k, mutation_no=no1))
            e2 = self.today - timedelta(days=rnd.randint(0, 6))
            draft2 = self.draft(
                k,
                "sale",
                e2,
                [(b.id, c.id, q, "ownership")],
                deed=self.deed(k, deed1 + timedelta(days=gap), rnd),
                price=math.ceil(v2 * 1.1),
                statutory=v2,
            )
            _, no2 = self.engine_mut(
                k.mouza_id, rnd, entered=e2, verified=self.today, decided=None, draft=draft2
            )
            state = "verified, awaiting sanction"
        else:
            deed1 = _day(start, self.today - timedelta(days=100), case.when)
            e1 = deed1 + timedelta(days=rnd.randint(0, 10))
            d1 = e1 + timedelta(days=rnd.randint(1, 20))
            deed2 = deed1 + timedelta(days=gap)
            e2 = max(deed2, d1) + timedelta(days=rnd.randint(0, 5))
            d2 = e2 + timedelta(days=rnd.randint(1, 20))
            with self.owner.connect() as conn:
                m1, _, _ = self.sale_mut(conn, k, s.id, [(b.id, p)], e1, d1, rnd, deed_day=deed1)
                m2, _, _ = self.sale_mut(conn, k, b.id, [(c.id, q)], e2, d2, rnd, deed_day=deed2)
            (_, no1), (_, no2) = self.import_muts([m1, m2])
            state = "sanctioned"
        return [
            self.row(
                case,
                n,
                "deeds_short_window",
                k,
                mutation_no=no2,
                khasras=[kh[1] for kh in k.khasras],
                also=(f"mutation:{no1}",),
                details=f"{b.name} bought {_fmt(p)} by sale {no1} (deed {deed1}) and "
                f"resold {_fmt(q)} by sale {no2} {gap} days later ({state})",
            )
        ]

    def _sale_after_death(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        deed_after = case.variant % 2 == 0  # else deed executed alive, entered after death
        w = self.world
        if case.path == "cli":
            entered = self.today - timedelta(days=rnd.randint(2, 6))
            k, s, start = self._holding(
                case, rnd, hi=entered - timedelta(days=40),
                ok=lambda k, p: w.death_floor(p) + timedelta(days=2) < entered,
            )  # fmt: skip
            floor = max(w.death_floor(s), k.latest + timedelta(days=1))
            lo_death = floor if deed_after else floor + timedelta(days=1)
            died = _day(lo_death, entered - timedelta(days=1), case.when)
            deed_day = (
                _day(died + timedelta(days=1), entered, rnd.random())
                if deed_after
                else _day(floor, died - timedelta(days=1), rnd.random())
            )
            self.claim(k)
            s.used = True
            share = _part(k.holders[s.id], rnd)
            buyers = self._buyers(k, s.id, share, entered, rnd)
            with self.owner.connect() as conn:
                v = self.dc_value(conn, k, share, deed_day)
            draft = self.draft(
                k,
                "sale",
                entered,
                [(s.id, b, sh, "ownership") for b, sh in buyers],
                deed=self.deed(k, deed_day, rnd),
                price=math.ceil(v * 1.1),
                statutory=v,
            )
            _, no = self.engine_mut(
                k.mouza_id,
                rnd,
                entered=entered,
                verified=self.today,
                decided=self.today,
                draft=draft,
            )
            self.set_death(s, died)
            when = f"sanctioned {self.today} through the engine; the death was recorded after"
        else:
            k, s, start = self._holding(
                case, rnd, hi=self.today - timedelta(days=10),
                ok=lambda k, p: w.death_floor(p) < self.today - timedelta(days=10),
            )  # fmt: skip
            floor = max(w.death_floor(s), start)
            died = _day(floor + timedelta(days=1), self.today - timedelta(days=5), case.when)
            entered = _day(
                died + timedelta(days=1),
                min(died + timedelta(days=365), self.today - timedelta(days=2)),
                rnd.random(),
            )
            deed_day = (
                _day(died + timedelta(days=1), entered, rnd.random())
                if deed_after
                else _day(
                    max(floor, died - timedelta(days=60)), died - timedelta(days=1), rnd.random()
                )
            )
            decided = self.free_day(
                k.mouza_id,
                entered + timedelta(days=1),
                min(entered + timedelta(days=rnd.randint(1, 30)), self.today),
            )
            self.claim(k)
            share = _part(k.holders[s.id], rnd)
            buyers = self._buyers(k, s.id, share, entered, rnd)
            with self.owner.connect() as conn:
                m, _, _ = self.sale_mut(
                    conn, k, s.id, buyers, entered, decided, rnd, deed_day=deed_day
                )
            self.set_death(s, died)
            _, no = self.insert_mut(m) if case.path == "edit" else self.import_muts([m])[0]
            when = f"entered {entered}, sanctioned {decided}"
        return [
            self.row(
                case,
                n,
                "sale_after_death",
                k,
                mutation_no=no,
                details=f"{s.name} died {died}; sale {no} of {_fmt(share)} in his name "
                f"(deed {deed_day}, {when})",
            )
        ]

    def _transfer_without_deed(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        gift = case.variant % 2 == 1
        if case.path == "cli":
            entered = self.today - timedelta(days=rnd.randint(1, 6))
            k, s, _ = self._holding(case, rnd, hi=entered)
        else:
            k, s, _ = self._holding(case, rnd, lo=DEED_REQUIRED_FROM)
        self.claim(k)
        share = _part(k.holders[s.id], rnd)
        buyers = self._buyers(k, s.id, share, self.today, rnd)
        mtype = "gift" if gift else "sale"
        with self.owner.connect() as conn:
            if case.path == "cli":
                v = self.dc_value(conn, k, share, entered)
                draft = self.draft(
                    k,
                    mtype,
                    entered,
                    [(s.id, b, sh, "ownership") for b, sh in buyers],
                    price=None if gift else math.ceil(v * 1.2),
                    statutory=v,
                )
                _, no = self.engine_mut(
                    k.mouza_id,
                    rnd,
                    entered=entered,
                    verified=self.today,
                    decided=self.today,
                    draft=draft,
                )
                day = self.today
            else:
                entered, day = self.register_dates(k, case.when, rnd, lo=DEED_REQUIRED_FROM)
                m, _, _ = self.sale_mut(conn, k, s.id, buyers, entered, day, rnd, deed=False)
                if gift:
                    m.type, m.price = "gift", None
                no = self.import_muts([m])[0][1]
        self.apply(k, [(s.id, b, sh) for b, sh in buyers], day, None)
        return [
            self.row(
                case,
                n,
                "transfer_without_deed",
                k,
                mutation_no=no,
                details=f"{mtype} of {_fmt(share)} by {s.name} sanctioned {day} with no "
                "registered deed",
            )
        ]

    # -- gifts and inheritance -----------------------------------------------------------

    def _daughters(self, pid: int, on: date) -> list[_Person]:
        w = self.world
        return [
            w.people[c]
            for c in w.children.get(pid, [])
            if w.people[c].gender == "female"
            and (w.people[c].born or date.max) <= on
            and w.people[c].died is None
        ]

    def _gift(
        self,
        k: _Khewat,
        donor: _Person,
        donees: list[int],
        share: Fraction,
        entered: date,
        decided: date,
        rnd: random.Random,
        path: str,
    ) -> int:
        """A registered gift (hiba) of ``share`` from ``donor`` to ``donees``, decided on
        ``decided``: imported, or through the engine (verified on the decision day)."""
        parts = [share / len(donees)] * len(donees)
        deed_day = max(k.latest + timedelta(days=1), entered - timedelta(days=rnd.randint(0, 5)))
        lines = [(donor.id, d, p, "ownership") for d, p in zip(donees, parts, strict=True)]
        if path == "cli":
            draft = self.draft(k, "gift", entered, lines, deed=self.deed(k, deed_day, rnd))
            _, no = self.engine_mut(
                k.mouza_id, rnd, entered=entered, verified=decided, decided=decided, draft=draft
            )
        else:
            boss, checker, verified = self.officers_for(
                k, decided, rnd, _day(entered, decided, rnd.random())
            )
            m = _Mut(
                k.mouza_id,
                "gift",
                "sanctioned",
                entered,
                [(k.number, s, d, p, r) for s, d, p, r in lines],
                verified=verified,
                decided=decided,
                officer=boss,
                verifier=checker,
                deed=self.deed(k, deed_day, rnd),
            )
            no = self.import_muts([m])[0][1]
        self.apply(
            k, [(donor.id, d, p) for d, p in zip(donees, parts, strict=True)], decided, deed_day
        )
        donor.last_gift = max(donor.last_gift or decided, decided)
        return no

    def _gift_before_death(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        w = self.world
        cli = case.path == "cli"
        days = 1 + int(case.when * (6 if cli else 365))
        age = 60 + 35 * case.magnitude
        exact: tuple[Any, ...] | None = None
        fallback: tuple[Any, ...] | None = None
        ks = self.khewats()
        first = min(int(case.place * len(ks)), len(ks) - 1) if ks else 0
        for i in range(len(ks)):
            k = ks[(first + i) % len(ks)]
            for p in self.sellers(k, self.today - timedelta(days=days)):
                if p.born is None or not self._daughters(p.id, self.today):
                    continue
                floor = w.death_floor(p)
                if cli:
                    gift_day = self.today - timedelta(days=days)
                    if (
                        k.latest < self.today - timedelta(days=8)
                        and floor <= self.today
                        and 60 <= p.age(gift_day) <= 95
                    ):
                        exact = (k, p, gift_day)
                        break
                    continue
                lo = max(
                    k.latest + timedelta(days=25),
                    floor - timedelta(days=days),
                    p.born + timedelta(days=int(60 * 365.25) + 1),
                )
                hi = min(
                    self.today - timedelta(days=days), p.born + timedelta(days=int(95 * 365.25))
                )
                if lo > hi:
                    continue
                want = p.born + timedelta(days=int(age * 365.25))
                if lo <= want <= hi:
                    exact = (k, p, want)
                    break
                fallback = fallback or (k, p, min(max(want, lo), hi))
            if exact is not None:
                break
        best = exact or fallback
        if best is None:
            raise _Refused("no aged holder with a daughter fits")
        k, p, gift_day = best
        died = gift_day + timedelta(days=days)
        self.claim(k)
        p.used = True
        daughters = self._daughters(p.id, died)
        sons = [
            c
            for c in w.children.get(p.id, [])
            if w.people[c].gender == "male"
            and w.people[c].died is None
            and (w.people[c].born or date.max) <= gift_day
        ]
        donees = sons or [
            self.world.alive_adults(gift_day, rnd, 1, exclude=[p.id, *(d.id for d in daughters)])[
                0
            ].id
        ]
        share = k.holders[p.id] if case.variant % 2 == 0 else _part(k.holders[p.id], rnd)
        entered = (
            self.today - timedelta(days=7) if cli else gift_day - timedelta(days=rnd.randint(1, 20))
        )
        no = self._gift(k, p, donees, share, entered, gift_day, rnd, case.path)
        self.set_death(p, died)
        return [
            self.row(
                case,
                n,
                "gift_before_death",
                k,
                mutation_no=no,
                details=f"{p.name}, aged {p.age(gift_day):.1f}, gifted {_fmt(share)} "
                f"to {len(donees)} donee(s) on {gift_day}, {days} day(s) "
                f"before his or her death; daughters left out: "
                + ", ".join(d.name for d in daughters),
            )
        ]

    def _deceased(
        self,
        case: Case,
        rnd: random.Random,
        *,
        cli: bool,
        lanes: Iterable[str | None] = (None,),
        ok: Callable[[dict[int, str]], bool] = lambda kinds: True,
    ) -> tuple[_Khewat, _Person, date, dict[int, str]]:
        """A holder who is (or is now recorded) dead, with a simple family on file (whose
        heirs' kinds satisfy ``ok``)."""
        w = self.world
        last = self.today - timedelta(days=7 if cli else 3)
        ks = self.khewats(lambda k: k.latest < last - timedelta(days=1), lanes)
        if not ks:
            raise _Refused("no khewat fits")
        first = min(int(case.place * len(ks)), len(ks) - 1)
        for i in range(len(ks)):
            k = ks[(first + i) % len(ks)]
            for pid in sorted(k.holders):
                p = w.people.get(pid)
                if p is None or p.used:
                    continue
                if p.died is not None:
                    if p.died > last or p.died < k.latest:
                        continue
                    died = p.died
                else:
                    lo = max(w.death_floor(p), k.latest + timedelta(days=1))
                    if lo > last:
                        continue
                    died = _day(lo, last, case.when)
                kinds = w.heirs(pid, died)
                if kinds and ok(kinds):
                    return k, p, died, kinds
        raise _Refused("no holder with a simple family on file fits")

    def _faraid(self, k: _Khewat, pid: int, kinds: dict[int, str]) -> dict[int, Fraction]:
        from landgov.domain import ledger

        got = ledger.faraid_expected(
            {k.id: k.holders[pid]},
            kinds,
            school="hanafi",
            bait_ul_mal_party=self.world.state_party.get("board_of_revenue"),
        )
        return {heir: share for (_, heir), share in got.items()}

    def _wirasat(
        self,
        n: int,
        case: Case,
        rnd: random.Random,
        *,
        how: str,
        lanes: Iterable[str | None] = (None,),
    ) -> tuple[_Khewat, _Person, int, str]:
        """A wirasat of a holder: ``how`` is ``right``, ``wrong`` (fractions other than
        faraid) or ``omit`` (a female heir left out). Returns (khewat, deceased, number,
        what was done)."""
        from landgov.errors import InvalidHeirs

        w = self.world
        cli = case.path == "cli"
        women = ("daughter", "wife", "mother")
        need = {
            "right": lambda kinds: True,
            # through the engine a child's kind is misdeclared: with two children or more
            # that always changes the fractions
            "wrong": lambda kinds: (
                len(kinds) >= 2
                and (not cli or sum(v in ("son", "daughter") for v in kinds.values()) >= 2)
            ),
            "omit": lambda kinds: len(kinds) >= 2 and any(v in women for v in kinds.values()),
        }[how]
        k, p, died, kinds = self._deceased(case, rnd, cli=cli, lanes=lanes, ok=need)
        true = self._faraid(k, p.id, kinds)
        declared = dict(kinds)
        what = "faraid of the heirs on the FRC"
        lines = dict(true)
        if how == "omit":
            heiresses = [
                h
                for h, kind in sorted(kinds.items())
                if kind in ("daughter", "wife", "mother") and true.get(h)
            ]
            if not heiresses:
                raise _Refused("no female heir to leave out")
            her = heiresses[case.variant % len(heiresses)]
            declared.pop(her)
            if not declared:
                raise _Refused("she is the only heir")
            try:
                lines = self._faraid(k, p.id, declared)
            except InvalidHeirs as exc:
                raise _Refused(str(exc)) from None
            what = (
                f"{w.people[her].name} ({kinds[her]}, faraid {_fmt(true[her])}) left out; "
                "the others share the estate"
            )
        elif how == "wrong" and cli:  # an heir's kind misdeclared to the engine
            flips = [h for h, kind in sorted(kinds.items()) if kind in ("daughter", "son")]
            for j in range(len(flips)):
                h = flips[(case.variant + j) % len(flips)]
                trial = dict(kinds)
                trial[h] = "son" if kinds[h] == "daughter" else "daughter"
                try:
                    got = self._faraid(k, p.id, trial)
                except InvalidHeirs:
                    continue
                if got != true:
                    declared, lines = trial, got
                    what = f"{w.people[h].name} entered as a {trial[h]} (the FRC: {kinds[h]})"
                    break
            else:
                raise _Refused("no misdeclared kind changes the fractions")
        elif how == "wrong":
            kids = [h for h, kind in kinds.items() if kind in ("son", "daughter")]
            estate = k.holders[p.id]
            if case.variant % 2 == 0 and {kinds[h] for h in kids} == {"son", "daughter"}:
                pot = sum((true[h] for h in kids), Fraction(0))
                lines = dict(true) | {h: pot / len(kids) for h in kids}
                what = "sons and daughters given equal shares"
            else:
                heirs = sorted(h for h in true if true[h])
                if len(heirs) < 2:
                    raise _Refused("a single heir cannot be short-changed")
                a, b = rnd.sample(heirs, 2)
                d = rnd.choice((2, 3, 4, 6, 8))
                moved = true[a] * Fraction(1 + int(case.magnitude * (d - 1)), d)
                if moved == true[a]:
                    moved = true[a] / 2
                lines = dict(true)
                lines[a] -= moved
                lines[b] += moved
                what = (
                    f"{_fmt(moved / estate)} of the estate moved from "
                    f"{w.people[a].name} ({kinds[a]}) to {w.people[b].name} ({kinds[b]})"
                )
            if lines == true:
                raise _Refused("the shares came out right")
        if p.died is None:
            self.set_death(p, died)
        p.used = True
        self.claim(k, "x" if how != "right" else ("cli" if cli else "import"))
        if cli:
            entered = self.today - timedelta(days=rnd.randint(1, 6))
            _, no = self.engine_mut(
                k.mouza_id,
                rnd,
                entered=entered,
                verified=self.today,
                decided=self.today,
                inheritance={
                    "mouza": self.mouza(k),
                    "deceased_cnic": p.cnic,
                    "heirs": {
                        w.people[h].cnic if h in w.people else self._cnic(h): kind
                        for h, kind in declared.items()
                    },
                    "school": "hanafi",
                    "khewat_no": k.number,
                },
            )
            decided = self.today
        else:
            entered = _day(
                max(died, k.latest) + timedelta(days=1),
                min(died + timedelta(days=180), self.today - timedelta(days=2)),
                rnd.random(),
            )
            decided = self.free_day(
                k.mouza_id,
                entered + timedelta(days=1),
                min(entered + timedelta(days=rnd.randint(1, 30)), self.today),
            )
            boss, checker, verified = self.officers_for(
                k, decided, rnd, _day(entered, decided, rnd.random())
            )
            m = _Mut(
                k.mouza_id,
                "inheritance",
                "sanctioned",
                entered,
                [(k.number, p.id, h, s, "ownership") for h, s in sorted(lines.items()) if s],
                verified=verified,
                decided=decided,
                officer=boss,
                verifier=checker,
            )
            no = self.import_muts([m])[0][1]
        self.apply(k, [(p.id, h, s) for h, s in sorted(lines.items()) if s], decided, None)
        return k, p, no, f"wirasat {no} of {p.name} (died {died}): {what}"

    def _wrong_inheritance_shares(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        k, _, no, what = self._wirasat(n, case, rnd, how="wrong")
        return [self.row(case, n, "wrong_inheritance_shares", k, mutation_no=no, details=what)]

    def _omitted_female_heir(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        k, _, no, what = self._wirasat(n, case, rnd, how="omit")
        return [self.row(case, n, "omitted_female_heir", k, mutation_no=no, details=what)]

    # -- officers and dates ----------------------------------------------------------------

    def _outsider(self, mouza_id: int, day: date, variant: int) -> _Officer:
        """A revenue officer (he has the rank) not posted over the mouza on ``day``:
        posted elsewhere that day (even variants) or posted nowhere that day (odd)."""
        w = self.world
        rank = [
            o
            for o in sorted(w.officers.values(), key=lambda o: o.id)
            if o.designation in DECIDERS and not w.posted(o.id, mouza_id, day)
        ]
        busy = [
            o
            for o in rank
            if any(f <= day and (t is None or day < t) for _, f, t in w.postings.get(o.id, []))
        ]
        idle = [o for o in rank if o not in busy]
        pool = (busy or idle) if variant % 2 == 0 else (idle or busy)
        return _pick(pool, (variant // 2 % 97) / 97, "officer without a posting there")

    def _demo_mutation(self, case: Case, what: str) -> Any:
        """A sanctioned sale or gift of the district's own register that no scan flags,
        on khewats no anomaly uses, edited once (its row names the mutation only: its
        khewats may carry clean changes, whose flags must stay visible)."""
        with self.owner.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT m.id, m.number, m.mouza_id, m.entered_on, m.verified_on, m.decided_on,"
                    " m.officer_id, m.verified_by, array_agg(DISTINCT l.khewat_id) AS khewats,"
                    " bool_and(p.date_of_death IS NULL OR p.date_of_death > m.decided_on) AS alive"
                    " FROM mutation m JOIN mutation_line l ON l.mutation_id = m.id"
                    " LEFT JOIN party p ON p.id = l.transferor_party_id"
                    " WHERE m.status = 'sanctioned' AND m.type IN ('sale', 'gift')"
                    " AND m.decided_on > m.entered_on AND m.decided_on < :d"
                    " GROUP BY m.id ORDER BY m.id"
                ),
                {"d": self.today - timedelta(days=30)},
            ).all()
        w = self.world
        ok = [
            r
            for r in rows
            if r.alive
            and int(r.id) not in w.flagged_mutations
            and all(
                int(i) in w.khewats and w.khewats[int(i)].eligible and w.khewats[int(i)].lane != "x"
                for i in r.khewats
            )
            and int(r.id) not in self._edited
        ]
        r = _pick(ok, case.place, f"mutation to {what}")
        self._edited.add(int(r.id))
        return r

    def _officer_outside_jurisdiction(
        self, n: int, case: Case, rnd: random.Random
    ) -> list[TruthRow]:
        if case.path == "edit":
            r = self._demo_mutation(case, "reassign")
            o = self._outsider(int(r.mouza_id), r.decided_on, case.variant)
            with self.owner.begin() as conn:
                conn.execute(
                    text("UPDATE mutation SET officer_id = :o WHERE id = :i"),
                    {"o": o.id, "i": int(r.id)},
                )
            k: _Khewat | None = None
            no, day, mz = int(r.number), r.decided_on, int(r.mouza_id)
        else:
            k, s, _ = self._holding(case, rnd)
            mz = k.mouza_id
            self.claim(k)
            entered, day = self.register_dates(k, case.when, rnd)
            o = self._outsider(k.mouza_id, day, case.variant)
            share = _part(k.holders[s.id], rnd)
            with self.owner.connect() as conn:
                m, _, _ = self.sale_mut(
                    conn,
                    k,
                    s.id,
                    self._buyers(k, s.id, share, entered, rnd),
                    entered,
                    day,
                    rnd,
                    officer=o.id,
                )
            no = self.import_muts([m])[0][1]
        return [
            self.row(
                case,
                n,
                "officer_outside_jurisdiction",
                k,
                mouza_id=mz,
                mutation_no=no,
                details=f"sanctioned {day} by {o.name} ({o.designation}), not posted "
                "over this mouza that day",
            )
        ]

    def _officer_without_power(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        r = self._demo_mutation(case, "reassign")
        w = self.world
        low = [
            o
            for o in sorted(w.officers.values(), key=lambda o: o.id)
            if o.designation in POWERLESS and o.id != r.verified_by
        ]
        insiders = [o for o in low if w.posted(o.id, int(r.mouza_id), r.decided_on)]
        o = _pick(insiders if case.variant % 2 == 0 and insiders else low, case.when, "officer")
        with self.owner.begin() as conn:
            conn.execute(
                text("UPDATE mutation SET officer_id = :o WHERE id = :i"),
                {"o": o.id, "i": int(r.id)},
            )
        return [
            self.row(
                case,
                n,
                "officer_without_power",
                None,
                mouza_id=int(r.mouza_id),
                mutation_no=int(r.number),
                details=f"the sanction of {r.decided_on} rewritten in the name of "
                f"{o.name}, a {o.designation}",
            )
        ]

    def _same_day_sanction(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        if case.path == "edit":
            r = self._demo_mutation(case, "re-date")
            with self.owner.begin() as conn:
                conn.execute(
                    text(
                        "UPDATE mutation SET entered_on = decided_on, verified_on = CASE WHEN"
                        " verified_on IS NULL THEN NULL ELSE decided_on END WHERE id = :i"
                    ),
                    {"i": int(r.id)},
                )
            return [
                self.row(
                    case,
                    n,
                    "same_day_sanction",
                    None,
                    mouza_id=int(r.mouza_id),
                    mutation_no=int(r.number),
                    details=f"entry date rewritten from {r.entered_on} to the "
                    f"sanction's, {r.decided_on}",
                )
            ]
        cli = case.path == "cli"
        k, s, _ = self._holding(case, rnd, margin=1 if cli else 2)
        self.claim(k)
        share = _part(k.holders[s.id], rnd)
        buyers = self._buyers(k, s.id, share, self.today, rnd)
        with self.owner.connect() as conn:
            if cli:
                day = self.today
                deed_day = max(
                    k.latest + timedelta(days=1), day - timedelta(days=rnd.randint(0, 5))
                )
                v = self.dc_value(conn, k, share, deed_day)
                draft = self.draft(
                    k,
                    "sale",
                    day,
                    [(s.id, b, sh, "ownership") for b, sh in buyers],
                    deed=self.deed(k, deed_day, rnd),
                    price=math.ceil(v * 1.3),
                    statutory=v,
                )
                _, no = self.engine_mut(
                    k.mouza_id, rnd, entered=day, verified=day, decided=day, draft=draft
                )
            else:
                day, _ = self.register_dates(k, case.when, rnd, same_day=True)
                m, _, _ = self.sale_mut(conn, k, s.id, buyers, day, day, rnd, same_day=True)
                no = self.import_muts([m])[0][1]
        return [
            self.row(
                case,
                n,
                "same_day_sanction",
                k,
                mutation_no=no,
                details=f"sale entered, verified and sanctioned on {day}",
            )
        ]

    def _stale_pending_mutation(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        age = 366 + int(case.magnitude * 3000)
        k, s, start = self._holding(case, rnd, hi=self.today - timedelta(days=367))
        self.claim(k)
        entered = max(self.today - timedelta(days=age), start)
        entered = min(entered, self.today - timedelta(days=366))
        share = _part(k.holders[s.id], rnd)
        with self.owner.connect() as conn:
            m, _, _ = self.sale_mut(
                conn,
                k,
                s.id,
                self._buyers(k, s.id, share, entered, rnd),
                entered,
                None,
                rnd,
                status="entered",
                deed=case.variant // 3 % 2 == 0,
            )
        if case.variant % 3 == 1:  # verified, never decided
            m.status = "verified"
            m.verified = entered + timedelta(days=rnd.randint(0, 20))
            checker = self.world.verifier(k.mouza_id, m.verified, rnd)
            if checker is None:
                m.status, m.verified = "entered", None
            else:
                m.verifier = checker.id
        _, no = self.insert_mut(m) if case.path == "edit" else self.import_muts([m])[0]
        return [
            self.row(
                case,
                n,
                "stale_pending_mutation",
                k,
                mutation_no=no,
                details=f"sale entered {m.entered}, left {m.status} for "
                f"{(self.today - m.entered).days} days",
            )
        ]

    # -- prices ----------------------------------------------------------------------------

    def _priced_sale(
        self,
        n: int,
        case: Case,
        rnd: random.Random,
        ratio: float,
        written: Callable[[int, int], int | None],
    ) -> tuple[_Khewat, int, int, int, int | None, date]:
        """A sale at ``ratio`` × its DC value with the statutory value ``written(dc,
        price)``; returns (khewat, number, dc, price, written, deed date)."""
        cli = case.path == "cli"
        k, s, _ = self._holding(case, rnd, margin=7 if cli else 3)
        self.claim(k)
        share = _part(k.holders[s.id], rnd)
        buyers = self._buyers(k, s.id, share, self.today, rnd)
        with self.owner.connect() as conn:
            if cli:
                entered = self.today - timedelta(days=rnd.randint(1, 6))
                deed_day = _day(
                    max(k.latest + timedelta(days=1), entered - timedelta(days=30)),
                    entered,
                    case.when,
                )
                dc = self.dc_value(conn, k, share, deed_day)
            else:
                entered, decided = self.register_dates(k, case.when, rnd)
                deed_day = _day(
                    max(k.latest + timedelta(days=1), entered - timedelta(days=30)),
                    entered,
                    rnd.random(),
                )
                dc = self.dc_value(conn, k, share, deed_day)
            price = math.ceil(dc * ratio) if ratio >= 1 else max(0, min(int(dc * ratio), dc - 1))
            value = written(dc, price)
            if cli:
                draft = self.draft(
                    k,
                    "sale",
                    entered,
                    [(s.id, b, sh, "ownership") for b, sh in buyers],
                    deed=self.deed(k, deed_day, rnd),
                    price=price,
                    statutory=value,
                )
                _, no = self.engine_mut(
                    k.mouza_id,
                    rnd,
                    entered=entered,
                    verified=self.today,
                    decided=self.today,
                    draft=draft,
                )
            else:
                m, _, _ = self.sale_mut(
                    conn, k, s.id, buyers, entered, decided, rnd, deed_day=deed_day
                )
                m.price, m.statutory = price, value
                no = self.import_muts([m])[0][1]
        return k, no, dc, price, value, deed_day

    def _under_declared_price(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        ratio = 0.05 + 0.93 * case.magnitude
        form = ("right", "low", "missing")[case.variant % 3]
        k, no, dc, price, value, deed_day = self._priced_sale(
            n,
            case,
            rnd,
            ratio,
            lambda dc, price: {"right": dc, "low": price, "missing": None}[form],
        )
        what = (
            f"declared Rs {price:,} against a DC value of Rs {dc:,} on the deed date "
            f"{deed_day} ({price / dc:.0%}); statutory value written {form}"
            + (f" (Rs {value:,})" if value is not None else "")
        )
        rows = [self.row(case, n, "under_declared_price", k, mutation_no=no, details=what)]
        if form == "low":
            rows.append(
                self.row(
                    case,
                    n,
                    "statutory_value_misstated",
                    k,
                    mutation_no=no,
                    details=f"implied: the statutory value was copied from the "
                    f"price, {price / dc - 1:+.0%} off the table",
                    implied_by=f"under_declared_price@{n}",
                )
            )
        return rows

    def _statutory_value_misstated(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        off = (0.02 + 0.78 * case.magnitude) * (-1 if case.variant % 2 == 0 else 1)
        ratio = rnd.uniform(1.0, 2.0)
        k, no, dc, price, value, deed_day = self._priced_sale(
            n, case, rnd, ratio, lambda dc, price: max(1, round(dc * (1 + off)))
        )
        assert value is not None
        return [
            self.row(
                case,
                n,
                "statutory_value_misstated",
                k,
                mutation_no=no,
                details=f"statutory value written Rs {value:,} against the table's "
                f"Rs {dc:,} on {deed_day} ({value / dc - 1:+.1%}); price "
                f"Rs {price:,}",
            )
        ]

    # -- spatial ---------------------------------------------------------------------------

    @property
    def geo(self) -> _Geo:
        if self._geo is None:
            with self.owner.connect() as conn:
                self._geo = _Geo(conn, self.world)
        return self._geo

    def plantable(self, kid: int) -> _Khewat | None:
        """The khewat holding khasra ``kid`` when the khasra may be planted on: held by one
        khewat that no anomaly uses (clean changes may: spatial flags name khasras)."""
        g = self.geo
        if (
            kid in g.used
            or kid in self.world.flagged_khasras
            or g.khasras[kid]["geom"].geom_type != "Polygon"
        ):
            return None
        holders = g.held_by.get(kid, [])
        if len(holders) != 1:
            return None
        k = self.world.khewats[holders[0]]
        return k if k.eligible and k.lane != "x" else None

    def take(self, mouza_id: int, *kids: int) -> list[str]:
        """Marks khasras (and their neighbours) as used; claims the free khewats holding
        them; returns ``khewat:N`` for each khewat an anomaly holds (for ``also``: never a
        clean change's khewat, whose own flags must stay visible)."""
        g = self.geo
        out = []
        for kid in kids:
            for nid in [kid, *g.touching(kid)]:
                g.used.add(nid)
            for kw in g.held_by.get(kid, []):
                k = self.world.khewats[kw]
                if k.lane is None:
                    self.claim(k)
                if k.lane == "x":
                    out.append(self.ref("khewat", str(k.number), k.mouza_id, mouza_id))
        return sorted(set(out))

    def ref(self, what: str, value: str, of: int, row_mouza: int) -> str:
        """An ``also`` entry; ``@mouza`` when the subject is in another mouza than the row."""
        return f"{what}:{value}" + ("" if of == row_mouza else f"@{self.world.mouzas[of]}")

    def khasra_refs(self, kids: Iterable[int], row_mouza: int) -> list[str]:
        g = self.geo
        return [
            self.ref("khasra", g.khasras[i]["number"], g.khasras[i]["mouza_id"], row_mouza)
            for i in kids
        ]

    def write_geom(self, kid: int, geom: Any) -> None:
        from landgov.domain.geometry import area_m2

        g = self.geo
        ll = g.multi(g.ll(geom))
        with self.owner.begin() as conn:
            conn.execute(
                text(
                    "UPDATE khasra SET geom = ST_Multi(ST_GeomFromWKB(:g, 4326)),"
                    " geom_area_m2 = :a WHERE id = :i"
                ),
                {"g": ll.wkb, "a": area_m2(ll), "i": kid},
            )
        g.khasras[kid]["geom"] = geom

    def import_parcel(
        self,
        mouza_id: int,
        geom: Any,
        *,
        form: str,
        khewat: _Khewat | None,
        area_m2: float | None = None,
    ) -> str:
        """Imports one parcel (a GeoPackage) into the mouza: ``form`` ``attached`` (to
        ``khewat``), ``unassigned`` (said so) or ``bare`` (no khewat column at all);
        ``area_m2`` the record area written in K-M-S (default: none, the map's)."""
        import geopandas as gpd

        from landgov.domain.units import UnitSystem, format_area
        from landgov.errors import ImportRejected
        from landgov.io.parcels import import_parcels

        g = self.geo
        taken = self.world.khasra_numbers[mouza_id]
        number = next(str(i) for i in range(7001, 100000) if str(i) not in taken)
        taken.add(number)
        cols: dict[str, list[Any]] = {"khasra_no": [number], "land_class": ["nehri"]}
        if area_m2 is not None:
            cols["area_kms"] = [format_area(area_m2, UnitSystem.STANDARD)]
        if form != "bare":
            cols["khewat_no"] = [str(khewat.number) if form == "attached" and khewat else None]
            cols["assignment"] = ["unassigned" if form == "unassigned" else None]
        self._files += 1
        path = self.work / f"parcels-{self._files:04d}.gpkg"
        gpd.GeoDataFrame(cols, geometry=[g.multi(g.ll(geom))], crs="EPSG:4326").to_file(
            path, driver="GPKG", layer="parcels"
        )
        try:
            import_parcels(
                self.engine, path, mouza=self.world.mouzas[mouza_id], actor=self.importer
            )
        except ImportRejected as exc:
            raise _Refused(
                f"the parcel importer refused {path.name}: "
                + "; ".join(str(p) for p in exc.problems[:5])
            ) from None
        g.new.append(geom)
        return number

    def _parcel_form(self, case: Case, mouza_id: int) -> tuple[str, _Khewat | None]:
        form = ("attached", "unassigned", "bare")[case.variant % 3]
        if form != "attached":
            return form, None
        ks = self.khewats(lambda k: k.mouza_id == mouza_id)
        k = _pick(ks, (case.variant // 3 % 101) / 101, "khewat to attach a parcel to")
        self.claim(k)
        return form, k

    def _overlap(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        import shapely

        g = self.geo
        target = 0.02 + 0.58 * case.magnitude
        cands = [kid for kid in sorted(g.khasras) if self.plantable(kid)]
        if case.path == "edit":
            pairs = [
                (kid, nid, line)
                for kid in cands
                for nid, line in g.shared(kid, 15.0)
                if self.plantable(nid)
                and nid != kid
                and g.khasras[nid]["mouza_id"] == g.khasras[kid]["mouza_id"]
            ]
            kid, nid, line = _pick(pairs, case.place, "pair of neighbours")
            a, b = g.khasras[kid]["geom"], g.khasras[nid]["geom"]

            def grown(width: float) -> Any:
                strip = line.buffer(width, cap_style="flat", join_style="mitre").intersection(b)
                return shapely.union_all([a, strip]).buffer(0)

            def share(width: float) -> float:
                k2 = grown(width)
                inter = k2.intersection(b).area
                ratio: float = inter / min(k2.area, b.area)
                return ratio

            width = _solve(share, target, 0.0, 2 * math.sqrt(b.area))
            new = grown(width)
            if new.geom_type != "Polygon":
                raise _Refused("the redrawn khasra is not one polygon")
            self.write_geom(kid, new)
            got = share(width)
            inter = new.intersection(b).area
            numbers = (g.khasras[kid]["number"], g.khasras[nid]["number"])
            also = self.take(g.khasras[kid]["mouza_id"], kid, nid)
            mouza_id = g.khasras[kid]["mouza_id"]
            what = f"khasra {numbers[0]} redrawn {width:.1f} m into {numbers[1]}"
        else:
            kid = _pick(cands, case.place, "khasra")
            a = g.khasras[kid]["geom"]
            rect = a.minimum_rotated_rectangle
            xs, ys = rect.exterior.coords.xy
            axis = (
                (xs[1] - xs[0], ys[1] - ys[0])
                if case.variant % 2
                else (xs[2] - xs[1], ys[2] - ys[1])
            )
            length = math.hypot(*axis)
            sign = 1 if case.variant % 4 < 2 else -1
            ux, uy = sign * axis[0] / length, sign * axis[1] / length

            def moved(t: float) -> Any:
                return shapely.affinity.translate(a, ux * t, uy * t)

            t = _solve(lambda t: -moved(t).intersection(a).area / a.area, -target, 0.0, length)
            new = moved(t)
            got = new.intersection(a).area / a.area
            inter = new.intersection(a).area
            mouza_id = g.khasras[kid]["mouza_id"]
            form, holder = self._parcel_form(case, mouza_id)
            others = [o for o in g.overlapping(new) if o != kid]
            number = self.import_parcel(mouza_id, new, form=form, khewat=holder)
            numbers = (number, g.khasras[kid]["number"])
            also = self.take(mouza_id, kid, *others) + self.khasra_refs(others, mouza_id)
            what = f"new parcel {number} ({form}) drawn over khasra {numbers[1]}"
        return [
            self.row(
                case,
                n,
                "overlap",
                None,
                mouza_id=mouza_id,
                khasras=numbers,
                also=also,
                details=f"{what}: {inter:.0f} m², {got:.1%} of the smaller",
            )
        ]

    def _row_encroachment(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        import shapely

        g = self.geo
        target = 0.05 + 0.94 * case.magnitude
        if case.path == "edit":
            pairs = []
            for sid, (_, _, s) in sorted(g.state.items()):
                for kid in g.tree_query(s.buffer(1.0)):
                    if not self.plantable(kid):
                        continue
                    a = g.khasras[kid]["geom"]
                    if a.intersection(s).area > 1.0:
                        continue
                    line = a.boundary.intersection(s.boundary)
                    if line.length >= 10.0:
                        pairs.append((kid, sid, line))
            kid, sid, line = _pick(pairs, case.place, "khasra beside state land")
            a, s, cat = g.khasras[kid]["geom"], g.state[sid][2], g.state[sid][1]

            def grown(width: float) -> Any:
                strip = line.buffer(width, cap_style="flat", join_style="mitre").intersection(s)
                return shapely.union_all([a, strip]).buffer(0)

            def inside(width: float) -> float:
                k2 = grown(width)
                ratio: float = k2.intersection(s).area / k2.area
                return ratio

            width = _solve(inside, target, 0.0, 3 * math.sqrt(s.area))
            new = grown(width)
            if new.geom_type != "Polygon":
                raise _Refused("the redrawn khasra is not one polygon")
            self.write_geom(kid, new)
            got = inside(width)
            number = g.khasras[kid]["number"]
            others = [o for o in g.overlapping(new.intersection(s)) if o != kid]
            mouza_id = g.khasras[kid]["mouza_id"]
            also = self.take(mouza_id, kid, *others) + self.khasra_refs(others, mouza_id)
            what = f"khasra {number} redrawn {width:.1f} m into the {cat}"
            holder = None  # named by its khasra: the khewat may be a clean change's
        else:
            states = sorted(g.state.items())
            sid, (smouza, cat, s) = _pick(states, case.place, "state land")
            from shapely.ops import polylabel

            pole = polylabel(
                s if s.geom_type == "Polygon" else max(s.geoms, key=lambda x: x.area), tolerance=1.0
            )
            side = min(1.8 * s.boundary.distance(pole), 70.0)
            if side < 8.0:
                raise _Refused(f"state land {sid} is too thin for a parcel inside it")
            theta = rnd.uniform(0, math.pi)
            box = shapely.affinity.rotate(
                shapely.box(
                    pole.x - side / 2, pole.y - side / 2, pole.x + side / 2, pole.y + side / 2
                ),
                theta,
                use_radians=True,
            )
            phi = 2 * math.pi * (case.variant % 360) / 360

            def moved(t: float) -> Any:
                return shapely.affinity.translate(box, math.cos(phi) * t, math.sin(phi) * t)

            t = _solve(
                lambda t: -moved(t).intersection(s).area / box.area,
                -target,
                0.0,
                math.sqrt(s.area) * 4 + 5000,
            )
            new = moved(t)
            got = new.intersection(s).area / new.area
            mouza_id = smouza or g.nearest_mouza(new)
            ks = self.khewats(lambda k: k.mouza_id == mouza_id)
            holder = _pick(ks, case.when, "private khewat")
            self.claim(holder)
            others = g.overlapping(new)
            number = self.import_parcel(mouza_id, new, form="attached", khewat=holder)
            also = self.take(mouza_id, *others) + self.khasra_refs(others, mouza_id)
            what = f"new private parcel {number} drawn on the {cat}"
        return [
            self.row(
                case,
                n,
                "row_encroachment",
                holder,
                mouza_id=mouza_id,
                khasras=[number],
                also=also,
                details=f"{what}: {got:.1%} of it lies on state land {sid}",
            )
        ]

    def _area_mismatch(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        from landgov.domain.units import UnitSystem, sarsai_to_m2

        g = self.geo
        off = (0.02 + 0.28 * case.magnitude) * (1 if case.variant % 2 else -1)
        if case.path == "edit":
            kid = _pick([k for k in sorted(g.khasras) if self.plantable(k)], case.place, "khasra")
            kh = g.khasras[kid]
            per = float(sarsai_to_m2(1, UnitSystem(kh["unit"])))
            record = max(1, round(kh["area"] / per * (1 + off)))
            with self.owner.begin() as conn:
                conn.execute(
                    text("UPDATE khasra SET record_area_sarsai = :r WHERE id = :i"),
                    {"r": record, "i": kid},
                )
            number, mouza_id = kh["number"], kh["mouza_id"]
            also = self.take(mouza_id, kid)
            got = record * per / kh["area"] - 1
            what = f"record area of khasra {number} rewritten to {record} sarsai"
        else:
            mouza_id = sorted(self.world.mouzas)[
                min(int(case.place * len(self.world.mouzas)), len(self.world.mouzas) - 1)
            ]
            new = g.free_spot(mouza_id, rnd)
            form, holder = self._parcel_form(case, mouza_id)
            number = self.import_parcel(
                mouza_id, new, form=form, khewat=holder, area_m2=new.area * (1 + off)
            )
            also, got = [], off
            what = f"new parcel {number} ({form}) imported with its record area"
        return [
            self.row(
                case,
                n,
                "area_mismatch",
                None,
                mouza_id=mouza_id,
                khasras=[number],
                also=also,
                details=f"{what}, {got:+.1%} off its map area",
            )
        ]

    def _orphan_khasra(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        g = self.geo
        # ended after everything on its khewat: no sale already valued changes its value
        kids = [k for k in sorted(g.khasras)
                if (kw := self.plantable(k)) is not None and kw.latest < self.today]  # fmt: skip
        kid = _pick(kids, case.place, "khasra")
        holder = self.plantable(kid)
        assert holder is not None
        with self.owner.begin() as conn:
            since = conn.execute(
                text(
                    "SELECT max(valid_from) FROM khewat_khasra"
                    " WHERE khasra_id = :k AND valid_to IS NULL"
                ),
                {"k": kid},
            ).scalar_one()
            day = _day(max(since, holder.latest) + timedelta(days=1), self.today, case.when)
            holder.latest = day
            conn.execute(
                text(
                    "UPDATE khewat_khasra SET valid_to = :d WHERE khasra_id = :k"
                    " AND valid_to IS NULL"
                ),
                {"d": day, "k": kid},
            )
        kh = g.khasras[kid]
        also = self.take(kh["mouza_id"], kid)
        return [
            self.row(
                case,
                n,
                "orphan_khasra",
                None,
                mouza_id=kh["mouza_id"],
                khasras=[kh["number"]],
                also=also,
                details=f"the khewat's hold on khasra {kh['number']} ended {day} by SQL,"
                " with no mutation and no successor",
            )
        ]

    # -- clean changes -------------------------------------------------------------------

    def _clean_sale(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        cli = case.path == "cli"
        k, s, _ = self._holding(
            case,
            rnd,
            lanes=(None,) if cli else (None, "import"),
            hi=self.today - timedelta(days=7) if cli else None,
        )
        share = _part(k.holders[s.id], rnd)
        buyers = self._buyers(k, s.id, share, self.today, rnd)
        with self.owner.connect() as conn:
            if cli:
                entered = self.today - timedelta(days=rnd.randint(1, 6))
                deed_day = _day(
                    max(k.latest + timedelta(days=1), entered - timedelta(days=30)),
                    entered,
                    case.when,
                )
                dc = self.dc_value(conn, k, share, deed_day)
                ratio = 1.0 if case.variant % 2 == 0 else 1.0 + 1.5 * case.magnitude
                price = math.ceil(dc * ratio)
                draft = self.draft(
                    k,
                    "sale",
                    entered,
                    [(s.id, b, sh, "ownership") for b, sh in buyers],
                    deed=self.deed(k, deed_day, rnd),
                    price=price,
                    statutory=dc,
                )
                self.claim(k, "cli")
                _, no = self.engine_mut(
                    k.mouza_id,
                    rnd,
                    entered=entered,
                    verified=self.today,
                    decided=self.today,
                    draft=draft,
                )
                decided = self.today
            else:
                entered, decided = self.register_dates(k, case.when, rnd, room=0.3)
                ratio = 1.0 if case.variant % 2 == 0 else 1.0 + 1.5 * case.magnitude
                m, dc, _ = self.sale_mut(conn, k, s.id, buyers, entered, decided, rnd, ratio=ratio)
                price, deed_day = m.price or 0, m.deed[1] if m.deed else entered
                self.claim(k, "import")
                no = self.import_muts([m])[0][1]
        self.apply(k, [(s.id, b, sh) for b, sh in buyers], decided, deed_day)
        return [
            self.row(
                case,
                n,
                "clean:sale",
                k,
                mutation_no=no,
                details=f"{s.name} sold {_fmt(share)} to {len(buyers)} buyer(s) for "
                f"Rs {price:,} (DC value Rs {dc:,}, written), deed {deed_day}, "
                f"sanctioned {decided}",
            )
        ]

    def _clean_gift(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        """A gift that is no signal: a living donor; a donor under 45 who dies soon after;
        an old donor who dies more than two years later; or an old donor who dies soon
        after but gives every surviving daughter her part."""
        w = self.world
        cli = case.path == "cli"
        form = case.variant % 4
        if cli and form == 2:
            form = 0
        hi = self.today - timedelta(days=(7 if cli else 0) + (731 if form == 2 else 0))
        lanes = (None,) if cli else (None, "import")
        ks = self.khewats(lambda k: k.latest + timedelta(days=2) < hi, lanes)
        first = min(int(case.place * len(ks)), len(ks) - 1) if ks else 0
        found = None
        for i in range(len(ks)):
            k = ks[(first + i) % len(ks)]
            day = k.latest + timedelta(days=1)
            for p in self.sellers(k, day):
                age = p.age(hi)
                floor = w.death_floor(p)
                if form == 1 and (age > 44 or floor > self.today):
                    continue
                if form in (2, 3) and (age < 62 or floor > self.today):
                    continue
                if form == 3 and not self._daughters(p.id, self.today):
                    continue
                found = (k, p)
                break
            if found:
                break
        if found is None:
            raise _Refused("no donor fits")
        k, p = found
        if cli:
            entered, decided = self.today - timedelta(days=rnd.randint(1, 6)), self.today
        else:
            # a donor who dies soon after dies after his last appearance elsewhere too
            lo = w.death_floor(p) - timedelta(days=300) if form in (1, 3) else None
            entered, decided = self.register_dates(k, case.when, rnd, lo=lo, hi=hi, room=0.5)
        if form == 3:
            donees = [d.id for d in self._daughters(p.id, self.today)]
            donees += [
                c
                for c in w.children.get(p.id, [])
                if w.people[c].gender == "male" and w.people[c].died is None
            ][:2]
        else:
            donees = [x.id for x in w.alive_adults(decided, rnd, rnd.randint(1, 2), exclude=[p.id])]
        share = _part(k.holders[p.id], rnd)
        self.claim(k, "cli" if cli else "import")
        floor = w.death_floor(p)  # before this gift: its own donor may die soon after it
        no = self._gift(k, p, donees, share, entered, decided, rnd, case.path)
        died = None
        if form == 1:
            died = (
                self.today
                if cli
                else _day(max(decided + timedelta(days=1), floor), self.today, rnd.random())
            )
        elif form == 2:
            died = _day(max(decided + timedelta(days=731), floor), self.today, rnd.random())
        elif form == 3:
            died = (
                self.today
                if cli
                else _day(
                    max(decided + timedelta(days=1), floor),
                    min(decided + timedelta(days=365), self.today),
                    rnd.random(),
                )
            )
        if died is not None:
            self.set_death(p, died)
        what = (
            "alive",
            "young, died",
            "old, died after two years",
            "old, every daughter a donee, died",
        )[form]
        return [
            self.row(
                case,
                n,
                "clean:gift",
                k,
                mutation_no=no,
                details=f"gift of {_fmt(share)} by {p.name} (aged {p.age(decided):.0f},"
                f" {what}{' ' + str(died) if died else ''}) to "
                f"{len(donees)} donee(s), sanctioned {decided}",
            )
        ]

    def _clean_wirasat(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        lanes = (None,) if case.path == "cli" else (None, "import")
        k, _, no, what = self._wirasat(n, case, rnd, how="right", lanes=lanes)
        return [self.row(case, n, "clean:wirasat", k, mutation_no=no, details=what)]

    def _encumber(self, n: int, case: Case, rnd: random.Random, mtype: str) -> list[TruthRow]:
        cli = case.path == "cli"
        k, s, _ = self._holding(
            case,
            rnd,
            lanes=(None,) if cli else (None, "import"),
            hi=self.today - timedelta(days=7) if cli else None,
        )
        right = (
            "lease"
            if mtype == "lease"
            else ("mortgage_with_possession", "mortgage_without_possession")[case.variant % 2]
        )
        share = _part(k.holders[s.id], rnd)
        (holder,) = self.world.alive_adults(self.today, rnd, 1, exclude=[s.id, *k.holders])
        if cli:
            entered = self.today - timedelta(days=rnd.randint(1, 6))
            deed_day = max(
                k.latest + timedelta(days=1), entered - timedelta(days=rnd.randint(0, 9))
            )
            draft = self.draft(
                k,
                mtype,
                entered,
                [(s.id, holder.id, share, right)],
                deed=self.deed(k, deed_day, rnd),
            )
            self.claim(k, "closed")
            _, no = self.engine_mut(
                k.mouza_id,
                rnd,
                entered=entered,
                verified=self.today,
                decided=self.today,
                draft=draft,
            )
            decided = self.today
        else:
            entered, decided = self.register_dates(k, case.when, rnd, room=0.3)
            deed_day = max(
                k.latest + timedelta(days=1), entered - timedelta(days=rnd.randint(0, 9))
            )
            boss, checker, verified = self.officers_for(
                k, decided, rnd, _day(entered, decided, rnd.random())
            )
            m = _Mut(
                k.mouza_id,
                mtype,
                "sanctioned",
                entered,
                [(k.number, s.id, holder.id, share, right)],
                verified=verified,
                decided=decided,
                officer=boss,
                verifier=checker,
                deed=self.deed(k, deed_day, rnd),
            )
            self.claim(k, "closed")
            no = self.import_muts([m])[0][1]
        self.touch(decided, s.id, holder.id)
        return [
            self.row(
                case,
                n,
                f"clean:{mtype}",
                k,
                mutation_no=no,
                details=f"{s.name} gave {_fmt(share)} as {right} to {holder.name}, "
                f"sanctioned {decided}",
            )
        ]

    def _clean_mortgage(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        return self._encumber(n, case, rnd, "mortgage")

    def _clean_lease(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        return self._encumber(n, case, rnd, "lease")

    def _clean_parcel(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        mouzas = sorted(self.world.mouzas)
        mouza_id = mouzas[min(int(case.place * len(mouzas)), len(mouzas) - 1)]
        new = self.geo.free_spot(mouza_id, rnd)
        form = ("attached", "unassigned", "bare")[case.variant % 3]
        holder = None
        if form == "attached":
            ks = self.khewats(lambda k: k.mouza_id == mouza_id, (None, "parcel"))
            holder = _pick(ks, case.when, "khewat to attach a parcel to")
            self.claim(holder, "parcel")
        exact = case.variant % 2 == 1
        number = self.import_parcel(
            mouza_id, new, form=form, khewat=holder, area_m2=new.area if exact else None
        )
        return [
            self.row(
                case,
                n,
                "clean:parcel",
                None,
                mouza_id=mouza_id,
                khasras=[number],
                details=f"parcel {number} imported {form}"
                + (f" to khewat {holder.number}" if holder else "")
                + (", record area written" if exact else ""),
            )
        ]

    def _clean_parcel_nudge(self, n: int, case: Case, rnd: random.Random) -> list[TruthRow]:
        """One corner of a khasra moved by a fraction of the digitising tolerance the
        spatial rules state (``tolerance_m``; 0.1 m when they state none, 0.3 m at most)."""
        import shapely

        g = self.geo
        tol = min(self.tolerance(), 0.3)
        kid = _pick([k for k in sorted(g.khasras) if self.plantable(k)], case.place, "khasra")
        a = g.khasras[kid]["geom"]
        coords = list(a.exterior.coords)[:-1]
        step = tol * (0.2 + 0.6 * case.magnitude)
        phi = rnd.uniform(0, 2 * math.pi)
        for j in range(len(coords)):
            i = (case.variant + j) % len(coords)
            moved = list(coords)
            moved[i] = (moved[i][0] + step * math.cos(phi), moved[i][1] + step * math.sin(phi))
            new = shapely.Polygon([*moved, moved[0]], [r.coords for r in a.interiors])
            if new.is_valid:
                break
        else:
            raise _Refused("no corner can move")
        self.write_geom(kid, new)
        for nid in [kid, *g.touching(kid)]:
            g.used.add(nid)
        kh = g.khasras[kid]
        return [
            self.row(
                case,
                n,
                "clean:parcel_nudge",
                None,
                mouza_id=kh["mouza_id"],
                khasras=[kh["number"]],
                details=f"a corner of khasra {kh['number']} moved {step:.3f} m (tolerance {tol} m)",
            )
        ]

    def tolerance(self) -> float:
        with self.owner.connect() as conn:
            rows = (
                conn.execute(
                    text(
                        "SELECT thresholds FROM dispute_rule WHERE id IN"
                        " ('overlap', 'gap', 'sliver')"
                    )
                )
                .scalars()
                .all()
            )
        values = [float(t["tolerance_m"]) for t in rows if t and "tolerance_m" in t]
        return min(values) if values else 0.1


def _solve(f: Callable[[float], float], target: float, lo: float, hi: float) -> float:
    """x in [lo, hi] with f(x) ≈ target, f rising from f(lo) (bisection; the end nearest
    the target when it lies outside)."""
    flo, fhi = f(lo), f(hi)
    if target <= flo:
        return lo
    if target >= fhi:
        return hi
    for _ in range(40):
        mid = (lo + hi) / 2
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


class _Geo:
    """Live khasras and state land in the district's UTM zone, for the spatial cases."""

    def __init__(self, conn: Connection, world: _World) -> None:
        import shapely
        from pyproj import Transformer

        from landgov.domain.geometry import utm_epsg_for

        rows = conn.execute(
            text(
                "SELECT id, mouza_id, number, unit_system, geom_area_m2, ST_AsBinary(geom) AS wkb"
                " FROM khasra WHERE retired_on IS NULL ORDER BY id"
            )
        ).all()
        geoms = [shapely.from_wkb(bytes(r.wkb)) for r in rows]
        # stored as one-part MultiPolygons: worked on as Polygons
        geoms = [
            g.geoms[0] if g.geom_type == "MultiPolygon" and len(g.geoms) == 1 else g for g in geoms
        ]
        c = shapely.union_all(geoms).centroid
        epsg = utm_epsg_for(c.x, c.y)
        self._fwd = Transformer.from_crs(4326, epsg, always_xy=True)
        self._back = Transformer.from_crs(epsg, 4326, always_xy=True)
        self.khasras: dict[int, dict[str, Any]] = {}
        for r, g in zip(rows, geoms, strict=True):
            self.khasras[int(r.id)] = {
                "mouza_id": int(r.mouza_id),
                "number": str(r.number),
                "unit": str(r.unit_system),
                "area": float(r.geom_area_m2),
                "geom": self.utm(g),
            }
        self._ids = list(self.khasras)
        self._tree = shapely.STRtree([self.khasras[i]["geom"] for i in self._ids])
        self.state = {
            int(i): (
                None if m is None else int(m),
                str(cat),
                self.utm(shapely.from_wkb(bytes(wkb))),
            )
            for i, m, cat, wkb in conn.execute(
                text("SELECT id, mouza_id, category, ST_AsBinary(geom) FROM state_land ORDER BY id")
            ).all()
        }
        self.held_by: dict[int, list[int]] = defaultdict(list)
        for k in world.khewats.values():
            for kh in k.khasras:
                self.held_by[kh[0]].append(k.id)
        self.used: set[int] = set()
        self.new: list[Any] = []
        parts = [v["geom"] for v in self.khasras.values()] + [s[2] for s in self.state.values()]
        self._forbidden = shapely.union_all(parts).buffer(40.0)
        by_mouza: dict[int, list[Any]] = defaultdict(list)
        for v in self.khasras.values():
            by_mouza[v["mouza_id"]].append(v["geom"])
        self.mouza_union = {m: shapely.union_all(gs) for m, gs in by_mouza.items()}

    def utm(self, g: Any) -> Any:
        import numpy as np
        import shapely

        return shapely.transform(
            g, lambda xy: np.column_stack(self._fwd.transform(xy[:, 0], xy[:, 1]))
        )

    def ll(self, g: Any) -> Any:
        import numpy as np
        import shapely

        return shapely.transform(
            g, lambda xy: np.column_stack(self._back.transform(xy[:, 0], xy[:, 1]))
        )

    @staticmethod
    def multi(g: Any) -> Any:
        import shapely

        if g.geom_type == "Polygon":
            return shapely.MultiPolygon([g])
        return g

    def tree_query(self, g: Any) -> list[int]:
        return sorted(self._ids[int(i)] for i in self._tree.query(g))

    def touching(self, kid: int) -> list[int]:
        g = self.khasras[kid]["geom"]
        return [o for o in self.tree_query(g.buffer(0.5)) if o != kid]

    def shared(self, kid: int, min_length: float) -> list[tuple[int, Any]]:
        """Neighbours sharing a boundary at least ``min_length`` m long, with the line."""
        g = self.khasras[kid]["geom"]
        out = []
        for o in self.touching(kid):
            line = g.boundary.intersection(self.khasras[o]["geom"].boundary)
            if line.length >= min_length and g.intersection(self.khasras[o]["geom"]).area < 1:
                out.append((o, line))
        return out

    def overlapping(self, g: Any, min_area: float = 1.0) -> list[int]:
        return [
            o
            for o in self.tree_query(g)
            if self.khasras[o]["geom"].intersection(g).area >= min_area
        ]

    def nearest_mouza(self, g: Any) -> int:
        return min(self.mouza_union, key=lambda m: self.mouza_union[m].distance(g))

    def free_spot(self, mouza_id: int, rnd: random.Random) -> Any:
        """A killa-sized rectangle in ground no parcel covers, 40-600 m outside the
        mouza's parcels and 20 m from any parcel imported here."""
        import shapely

        region = self.mouza_union[mouza_id].buffer(600.0)
        x0, y0, x1, y1 = region.bounds
        for _ in range(2000):
            w, h = rnd.uniform(45, 75), rnd.uniform(45, 80)
            x, y = rnd.uniform(x0, x1), rnd.uniform(y0, y1)
            rect = shapely.affinity.rotate(
                shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2), rnd.uniform(0, 90)
            )
            if (
                region.contains(rect)
                and not rect.intersects(self._forbidden)
                and not any(rect.distance(p) < 20.0 for p in self.new)
            ):
                return rect
        raise _Refused("no free ground left near the mouza")


# --- planting ----------------------------------------------------------------------------


def plant(
    engine: Engine,
    plan: Sequence[Case],
    *,
    owner: Engine,
    importer: Any,
    officer_actor: Callable[[str], Any],
    work_dir: Path | None = None,
) -> PlantReport:
    """Plants ``plan`` into the district in ``engine`` (the application role) through its
    cases' entry paths; returns the truth rows and the cases that could not be planted.

    ``owner`` is the owner role's engine of the same database (direct edits and reads);
    ``importer`` the actor that imports registers and parcels (``records.import`` in every
    mouza: the demo's service); ``officer_actor(cnic)`` the signed-in actor of an officer
    (a patwari enters, a girdawar verifies, a revenue officer sanctions: the sanctioning
    sessions need the second factor). Run a scan first: its flags mark the district's own
    anomalies, whose subjects are never used (score with ``after_scan`` = that scan).
    """
    tmp = None
    if work_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="landgov-adversary-")
        work_dir = Path(tmp.name)
    try:
        planter = _Planter(engine, owner, importer, officer_actor, work_dir)
        report = PlantReport()
        # anomalies take their places first (each for itself); clean changes follow in
        # the plan's order, chains of them reusing khewats
        order = sorted(range(len(plan)), key=lambda i: plan[i].kind.startswith("clean:"))
        for n in order:
            case = plan[n]
            planter.written = []
            try:
                report.truth += planter.plant(n, case)
            except _Refused as exc:
                report.refused.append(Refusal(n, case.kind, case.path, str(exc)))
                for r in planter.written:  # a first half that was written stays collateral
                    r.kind = f"partial:{case.kind}"
                    report.truth.append(r)
        _finish(report.truth)
        return report
    finally:
        if tmp is not None:
            tmp.cleanup()


def _finish(rows: list[TruthRow]) -> None:
    counters: dict[str, int] = defaultdict(int)
    ids: dict[str, str] = {}
    for r in rows:
        counters[r.kind] += 1
        r.anomaly_id = f"{r.kind}-{counters[r.kind]:03d}"
        ids.setdefault(f"{r.kind}@{r.case}", r.anomaly_id)
    for r in rows:
        if r.implied_by:
            r.implied_by = ids.get(r.implied_by, r.implied_by)
