"""Precision and recall of the dispute rules against a ground truth of planted anomalies.

The demo district writes ``ground_truth.csv`` (one row per planted anomaly: kind, mouza,
khewat, khasra(s), mutation, details). :data:`RULE_KINDS` says which planted kinds each
rule exists to find; a flag is a true positive when it names the same thing as a planted
anomaly of one of its kinds (the mutation, the khewat, one of the khasras, or the
jamabandi's year), and a planted anomaly is recalled when some flag of its rules does.

Overall figures pool every scored rule: recall = Σ recalled / Σ planted, precision =
Σ true flags / Σ flags (an anomaly two rules should find, e.g. a tatima drawn short, which
is both an area mismatch and a gap, counts once per rule). The imagery rules are scored
against the synthetic imagery's own truth (:func:`read_imagery_truth`: the misreported
girdawari entries, the structures built on state land between the two orthophotos); a
rule none of whose kinds the given truth can contain is listed, not scored.

Adversarial truth (:mod:`landgov.disputes.adversary`) adds clean changes (kind
``clean:<what>``), each must raise nothing, and is scored against the flags of a scan
after the planting: with ``after_scan`` = N, the scan that ran before it, a planted anomaly
is found by a flag some later scan saw (``last_scan_id > N``), and a flag first raised
after N (``first_scan_id > N``) is *unexplained* when it touches no planted row of any
kind (its mutation, khewat or khasras, or the other subjects the row lists in ``also``):
a flag on a subject an anomaly was planted on, raised by another rule, is collateral (a
khasra redrawn over a neighbour also changes its map area), not false. Unexplained flags
are reported per rule and per 1,000 clean changes, those touching a clean change named
(``on_clean``); recall also per family of rules (``dispute_rule.family``).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from landgov.domain.calendar import season_label
from landgov.errors import LandgovError

RULE_KINDS: Mapping[str, frozenset[str]] = {
    "share_total_not_one": frozenset({"over_allocation", "under_allocation"}),
    "transfer_exceeds_holding": frozenset({"transfer_exceeds_holding", "double_sale"}),
    "deeds_short_window": frozenset({"deeds_short_window"}),
    "sale_after_death": frozenset({"sale_after_death"}),
    "gift_before_death": frozenset({"gift_before_death"}),
    "faraid_shares_differ": frozenset({"wrong_inheritance_shares"}),
    "omitted_heir": frozenset({"omitted_female_heir"}),
    "transfer_without_deed": frozenset({"transfer_without_deed"}),
    "officer_outside_jurisdiction": frozenset(
        {"officer_outside_jurisdiction", "officer_without_power"}
    ),
    "same_day_sanction": frozenset({"same_day_sanction"}),
    "under_declared_price": frozenset({"under_declared_price"}),
    "overlap": frozenset({"overlap"}),
    "area_mismatch": frozenset({"area_mismatch"}),
    "tatima_area_mismatch": frozenset({"tatima_area_mismatch"}),
    "private_on_state_land": frozenset({"row_encroachment"}),
    "unattested_jamabandi": frozenset({"unattested_jamabandi"}),
    "orphan_khasra": frozenset({"orphan_khasra"}),
    "stale_pending_mutation": frozenset({"stale_pending_mutation"}),
    # a tatima drawn short leaves a gap, thin or not, beside its siblings
    "gap_or_sliver": frozenset({"tatima_area_mismatch"}),
    # scored against the synthetic imagery's truth (read_imagery_truth)
    "girdawari_vs_satellite": frozenset({"girdawari_misreport"}),
    "structure_on_state_land": frozenset({"new_structure_on_state_land"}),
}
EXTRA_RULE_KINDS: Mapping[str, frozenset[str]] = {
    "shares_differ_from_register": frozenset({"shares_edited"}),
    "statutory_value_misstated": frozenset({"statutory_value_misstated"}),
}
"""Rules whose kinds only the adversarial planter plants: scored when the truth holds any
of their kinds, else listed like any rule nothing planted can score."""
FAMILIES: Mapping[str, str] = {
    "share_total_not_one": "shares", "shares_differ_from_register": "shares",
    "transfer_exceeds_holding": "transfers", "deeds_short_window": "transfers",
    "sale_after_death": "transfers", "transfer_without_deed": "transfers",
    "gift_before_death": "inheritance", "faraid_shares_differ": "inheritance",
    "omitted_heir": "inheritance", "officer_outside_jurisdiction": "sanction",
    "same_day_sanction": "sanction", "under_declared_price": "price",
    "statutory_value_misstated": "price", "overlap": "spatial", "area_mismatch": "spatial",
    "tatima_area_mismatch": "spatial", "gap_or_sliver": "spatial",
    "private_on_state_land": "state_land", "unattested_jamabandi": "record_quality",
    "orphan_khasra": "record_quality", "stale_pending_mutation": "record_quality",
    "girdawari_vs_satellite": "imagery", "structure_on_state_land": "state_land",
}  # fmt: skip
"""Each scored rule's family when the database's ``dispute_rule.family`` is not at hand."""
SCORED_TOGETHER: Mapping[str, tuple[str, ...]] = {"gap_or_sliver": ("gap", "sliver")}
"""Rules scored as one: which of the two a gap is depends on its shape, not its cause."""
IMAGERY_KINDS = frozenset({"girdawari_misreport", "new_structure_on_state_land"})
STRUCTURE_MATCH_M = 5.0
"""A structure is found when a flag's polygon lies within this distance of its centroid."""
_YEAR = re.compile(r"year=(\d{4})")


@dataclass(frozen=True)
class Planted:
    """One ground-truth row, reduced to what a flag can be matched on."""

    anomaly_id: str
    kind: str
    mouza: str
    khewat_no: str
    khasra_nos: frozenset[str]
    mutation_no: str
    year: str
    season: str = ""  # girdawari season, e.g. "rabi 2025-26"
    lonlat: tuple[float, float] | None = None  # a structure's centroid
    path: str = ""  # adversarial truth: the entry path it came in by
    also: frozenset[str] = frozenset()  # other subjects touched: "khasra:12//3", "mutation:7"
    details: str = ""

    @property
    def clean(self) -> bool:
        """A clean change: it must raise no flag."""
        return self.kind.startswith("clean:")


@dataclass(frozen=True)
class Flagged:
    """One flag, reduced the same way."""

    flag_id: int
    rule: str
    mouza: str
    khewat_no: str
    khasra_nos: frozenset[str]
    mutation_no: str
    year: str
    season: str = ""
    geom: Any = None  # shapely geometry of the flag (EPSG:4326), if it has one
    first_scan_id: int = 0
    last_scan_id: int = 0


@dataclass(frozen=True)
class RuleScore:
    rule: str
    kinds: tuple[str, ...]
    planted: int
    recalled: int
    flags: int
    true_flags: int
    missed: tuple[str, ...]
    false_flags: tuple[int, ...]
    family: str = ""
    unexplained: tuple[int, ...] = ()  # flags touching no planted row of any kind
    on_clean: tuple[int, ...] = ()  # the unexplained ones that touch a clean change

    @property
    def recall(self) -> float | None:
        """recalled / planted; None when nothing of its kinds was planted."""
        return self.recalled / self.planted if self.planted else None

    @property
    def precision(self) -> float | None:
        """true flags / flags; None when the rule raised no flag."""
        return self.true_flags / self.flags if self.flags else None


@dataclass(frozen=True)
class Score:
    rules: tuple[RuleScore, ...]
    not_scored: dict[str, int]
    clean: int = 0  # clean changes in the truth
    after_scan: int | None = None
    unexplained_other: tuple[int, ...] = ()  # unexplained flags of rules not scored
    missed_details: dict[str, str] = field(default_factory=dict)  # anomaly id -> details
    flag_subjects: dict[int, str] = field(default_factory=dict)  # flag id -> rule, subject

    @property
    def unexplained(self) -> int:
        return sum(len(r.unexplained) for r in self.rules) + len(self.unexplained_other)

    @property
    def per_1000_clean(self) -> float | None:
        """Unexplained flags per 1,000 clean changes; None without clean changes."""
        return 1000 * self.unexplained / self.clean if self.clean else None

    def families(self) -> dict[str, tuple[int, int]]:
        """Per family of rules: (planted, found)."""
        out: dict[str, tuple[int, int]] = {}
        for r in self.rules:
            if r.planted:
                p, f = out.get(r.family, (0, 0))
                out[r.family] = (p + r.planted, f + r.recalled)
        return dict(sorted(out.items()))

    @property
    def recall(self) -> float:
        planted = sum(r.planted for r in self.rules)
        return sum(r.recalled for r in self.rules) / planted if planted else 0.0

    @property
    def precision(self) -> float:
        flags = sum(r.flags for r in self.rules)
        return sum(r.true_flags for r in self.rules) / flags if flags else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "recall": self.recall, "precision": self.precision,
            "planted": sum(r.planted for r in self.rules),
            "flags": sum(r.flags for r in self.rules),
            "rules": [{"rule": r.rule, "kinds": list(r.kinds), "planted": r.planted,
                       "recalled": r.recalled, "recall": r.recall, "flags": r.flags,
                       "true_flags": r.true_flags, "precision": r.precision,
                       "missed": list(r.missed), "false_flag_ids": list(r.false_flags)}
                      for r in self.rules],
            "not_scored": self.not_scored,
            "clean": self.clean, "after_scan": self.after_scan,
            "unexplained": self.unexplained, "per_1000_clean": self.per_1000_clean,
            "unexplained_other": list(self.unexplained_other),
            "families": {k: {"planted": p, "found": f, "recall": f / p}
                         for k, (p, f) in self.families().items()},
            "rules_unexplained": {r.rule: {"family": r.family, "flags": list(r.unexplained),
                                           "on_clean": list(r.on_clean)}
                                  for r in self.rules if r.unexplained},
            "missed_details": self.missed_details,
            "flag_subjects": {str(k): v for k, v in self.flag_subjects.items()},
        }  # fmt: skip


def read_truth(path: Path) -> list[Planted]:
    """Reads a ``ground_truth.csv``.

    Raises:
        LandgovError: the file is missing or lacks a column (named).
    """
    need = {"anomaly_id", "kind", "mouza", "khewat_no", "khasra_no", "mutation_no", "details"}
    try:
        with Path(path).open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = need - set(reader.fieldnames or ())
            if missing:
                raise LandgovError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            rows = list(reader)
    except FileNotFoundError:
        raise LandgovError(f"{path}: no such ground-truth file (run `landgov demo`)") from None
    out = []
    for r in rows:
        year = _YEAR.search(r["details"] or "")
        out.append(Planted(
            r["anomaly_id"], r["kind"], r["mouza"], r["khewat_no"].strip(),
            frozenset(k for k in r["khasra_no"].split(";") if k.strip()),
            r["mutation_no"].strip(), year.group(1) if year else "",
            path=(r.get("path") or "").strip(),
            also=frozenset(a for a in (r.get("also") or "").split(";") if a.strip()),
            details=r["details"] or "",
        ))  # fmt: skip
    return out


def read_imagery_truth(
    sentinel_dir: Path, ortho_dir: Path | None = None, between: tuple[date, date] | None = None
) -> list[Planted]:
    """The synthetic imagery's planted truth: every parcel-season whose girdawari entry is
    not the crop grown (``ground_truth.csv`` of ``imagery synthesize``), and, with
    ``ortho_dir`` and ``between`` (the dates of the two orthophotos compared), every
    structure built on state land between them (``structures.csv``).

    Raises:
        LandgovError: a file is missing.
    """
    from pyproj import Transformer

    out: list[Planted] = []
    try:
        with (Path(sentinel_dir) / "ground_truth.csv").open(encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                if r["girdawari_crop"] != r["crop"]:
                    out.append(Planted(
                        f"girdawari-{r['khasra_id']}-{r['season']}", "girdawari_misreport",
                        r["mouza"], "", frozenset({r["khasra_no"]}), "", "", r["season"],
                    ))  # fmt: skip
        if ortho_dir is not None and between is not None:
            to_lonlat = Transformer.from_crs(32643, 4326, always_xy=True)
            with (Path(ortho_dir) / "structures.csv").open(encoding="utf-8") as fh:
                for r in csv.DictReader(fh):
                    built = date.fromisoformat(r["date_built"])
                    if r["on_state_land"] == "true" and between[0] < built <= between[1]:
                        lon, lat = to_lonlat.transform(float(r["centroid_x"]),
                                                       float(r["centroid_y"]))  # fmt: skip
                        out.append(Planted(
                            f"structure-{r['id']}", "new_structure_on_state_land", "", "",
                            frozenset(), "", "", "", (lon, lat),
                        ))  # fmt: skip
    except FileNotFoundError as exc:
        raise LandgovError(f"{exc.filename}: no such imagery truth file") from None
    return out


def compared_orthophoto_dates(conn: Connection) -> tuple[date, date] | None:
    """The acquisition dates of the orthophotos the latest encroachment run compared."""
    row = conn.execute(
        text(
            "SELECT b.datetime::date AS before, a.datetime::date AS after FROM detection_run r"
            " JOIN imagery_scene b ON b.id = r.params->>'before'"
            " JOIN imagery_scene a ON a.id = r.params->>'after'"
            " WHERE r.kind = 'encroachment' ORDER BY r.created_at DESC LIMIT 1"
        )
    ).one_or_none()
    return None if row is None else (row.before, row.after)


def read_flags(conn: Connection, mouza_ids: Iterable[int] | None = None) -> list[Flagged]:
    """The unresolved flags, with the numbers an officer (and the ground truth) uses."""
    rows = conn.execute(
        text(
            "SELECT f.id, f.rule_id, m.name AS mouza, kw.number AS khewat_no,"
            " mu.number AS mutation_no, f.evidence, ST_AsBinary(f.geom) AS wkb,"
            " f.first_scan_id, f.last_scan_id,"
            " (SELECT array_agg(k.number) FROM khasra k WHERE k.id = f.khasra_id"
            "  OR k.id IN (SELECT (jsonb_array_elements_text(f.evidence -> 'khasra_ids'))::bigint"
            "  WHERE jsonb_typeof(f.evidence -> 'khasra_ids') = 'array')) AS khasras"
            " FROM dispute_flag f JOIN mouza m ON m.id = f.mouza_id"
            " LEFT JOIN khewat kw ON kw.id = f.khewat_id"
            " LEFT JOIN mutation mu ON mu.id = f.mutation_id"
            " WHERE NOT f.resolved AND (CAST(:all AS boolean) OR f.mouza_id = ANY(:m))"
            " ORDER BY f.id"
        ),
        {"all": mouza_ids is None, "m": list(mouza_ids or [])},
    ).all()
    import shapely

    out = []
    for r in rows:
        ev = r.evidence
        season = (season_label(ev["season"], int(ev["year"]))
                  if r.rule_id == "girdawari_vs_satellite" else "")  # fmt: skip
        out.append(Flagged(
            int(r.id), r.rule_id, r.mouza, "" if r.khewat_no is None else str(r.khewat_no),
            frozenset(r.khasras or ()), "" if r.mutation_no is None else str(r.mutation_no),
            str(ev.get("year", "")) if r.rule_id == "unattested_jamabandi" else "", season,
            shapely.from_wkb(bytes(r.wkb)) if r.wkb is not None else None,
            int(r.first_scan_id or 0), int(r.last_scan_id or 0),
        ))  # fmt: skip
    return out


BY_KHEWAT = frozenset({"over_allocation", "under_allocation", "shares_edited"})
BY_KHASRA = frozenset({"overlap", "area_mismatch", "tatima_area_mismatch", "row_encroachment",
                       "orphan_khasra"})  # fmt: skip


def _same_khasra(flagged: frozenset[str], planted: Iterable[str]) -> bool:
    # a retired parent is matched by its tatima children
    return any(f == p or f.startswith(p + "/") for f in flagged for p in planted)


def touches(flag: Flagged, planted: Planted) -> bool:
    """Whether a flag names anything a truth row touched, whatever the rule: the row's
    mutation, khewat or khasras, or a subject its ``also`` lists (``khasra:12//3``,
    ``khewat:7``, ``mutation:40``; ``@mouza`` when in another mouza than the row's)."""
    if planted.lonlat is not None or planted.kind == "girdawari_misreport":
        return matches(flag, planted)
    if flag.mouza == planted.mouza and (
        (planted.mutation_no and flag.mutation_no == planted.mutation_no)
        or (planted.khewat_no and flag.khewat_no == planted.khewat_no)
        or _same_khasra(flag.khasra_nos, planted.khasra_nos)
    ):
        return True
    for a in planted.also:
        what, _, value = a.partition(":")
        value, _, where = value.partition("@")
        if flag.mouza != (where or planted.mouza):
            continue
        if (
            (what == "mutation" and flag.mutation_no == value)
            or (what == "khewat" and flag.khewat_no == value)
            or (what == "khasra" and _same_khasra(flag.khasra_nos, [value]))
        ):
            return True
    return False


BY_YEAR = frozenset({"unattested_jamabandi"})


def _near(geom: Any, lonlat: tuple[float, float] | None) -> bool:
    if geom is None or lonlat is None:
        return False
    import shapely

    # degrees of latitude are ~111 km; longitude shrinks by cos(latitude)
    dx = geom.distance(shapely.Point(lonlat)) * 111_320.0
    return bool(dx <= STRUCTURE_MATCH_M / max(0.5, math.cos(math.radians(lonlat[1]))))


def matches(flag: Flagged, planted: Planted) -> bool:
    """Whether a flag names the planted anomaly: same mouza and, by the anomaly's kind, the
    same khewat (share totals), a shared khasra (geometry, record gaps), the same
    jamabandi year, or else the same mutation."""
    if planted.kind == "new_structure_on_state_land":
        return _near(flag.geom, planted.lonlat)
    if flag.mouza != planted.mouza:
        return False
    if planted.kind == "girdawari_misreport":
        return flag.season == planted.season and bool(flag.khasra_nos & planted.khasra_nos)
    if planted.kind in BY_KHEWAT:
        return bool(planted.khewat_no) and flag.khewat_no == planted.khewat_no
    if planted.kind in BY_KHASRA:
        return _same_khasra(flag.khasra_nos, planted.khasra_nos)
    if planted.kind in BY_YEAR:
        return bool(planted.year) and flag.year == planted.year
    return bool(planted.mutation_no) and flag.mutation_no == planted.mutation_no


def score(
    truth: list[Planted],
    flags: list[Flagged],
    *,
    imagery: bool = False,
    after_scan: int | None = None,
    families: Mapping[str, str] | None = None,
) -> Score:
    """Scores the rules of :data:`RULE_KINDS` (and :data:`EXTRA_RULE_KINDS` when the truth
    plants their kinds) (pure: no database); the imagery rules only when ``imagery`` (the
    truth includes :func:`read_imagery_truth`). With ``after_scan`` a planted anomaly is
    found only by a flag a later scan saw, and only flags first raised after it count as
    flags (module notes); clean changes are never planted anomalies."""
    fam = dict(FAMILIES) | dict(families or {})
    anomalies = [p for p in truth if not p.clean]
    cleans = [p for p in truth if p.clean]
    kinds_in_truth = {p.kind for p in anomalies}
    seen = flags if after_scan is None else [f for f in flags if f.last_scan_id > after_scan]
    new = flags if after_scan is None else [f for f in flags if f.first_scan_id > after_scan]
    explained = {f.flag_id for f in new if any(touches(f, p) for p in anomalies)}
    out = []
    not_scored: dict[str, int] = {}
    rules = dict(RULE_KINDS)
    rules.update({r: k for r, k in EXTRA_RULE_KINDS.items() if k & kinds_in_truth})
    for rule_id, kinds in rules.items():
        if kinds <= IMAGERY_KINDS and not imagery:
            not_scored[rule_id] = sum(f.rule == rule_id for f in new)
            continue
        planted = [p for p in anomalies if p.kind in kinds]
        rule_ids = SCORED_TOGETHER.get(rule_id, (rule_id,))
        mine_seen = [f for f in seen if f.rule in rule_ids]
        mine = [f for f in new if f.rule in rule_ids]
        missed = tuple(p.anomaly_id for p in planted if not any(matches(f, p) for f in mine_seen))
        false = tuple(f.flag_id for f in mine if not any(matches(f, p) for p in planted))
        unexplained = tuple(f.flag_id for f in mine if f.flag_id not in explained)
        on_clean = tuple(f.flag_id for f in mine if f.flag_id in unexplained
                         and any(touches(f, c) for c in cleans))  # fmt: skip
        out.append(RuleScore(
            rule_id, tuple(sorted(kinds)), len(planted), len(planted) - len(missed),
            len(mine), len(mine) - len(false), missed, false,
            fam.get(rule_id, fam.get(rule_ids[0], "")), unexplained, on_clean,
        ))  # fmt: skip
    covered = {r for label in rules for r in SCORED_TOGETHER.get(label, (label,))}
    other = []
    for f in new:  # a rule the truth cannot score (nothing of its kind is planted)
        if f.rule not in covered:
            not_scored[f.rule] = not_scored.get(f.rule, 0) + 1
            if f.flag_id not in explained and (cleans or after_scan is not None):
                other.append(f.flag_id)
    missed_ids = {m for r in out for m in r.missed}
    subjects = {f.flag_id: _subject(f) for f in new
                if f.flag_id not in explained and (cleans or after_scan is not None)}  # fmt: skip
    return Score(
        tuple(out), not_scored, len(cleans), after_scan, tuple(other),
        {p.anomaly_id: f"{p.kind} via {p.path or '?'}: {p.details}" for p in anomalies
         if p.anomaly_id in missed_ids}, subjects,
    )  # fmt: skip


def _subject(f: Flagged) -> str:
    what = [f"mouza {f.mouza}"]
    if f.mutation_no:
        what.append(f"mutation {f.mutation_no}")
    if f.khewat_no:
        what.append(f"khewat {f.khewat_no}")
    if f.khasra_nos:
        what.append("khasra " + ",".join(sorted(f.khasra_nos)))
    return f"{f.rule}: " + ", ".join(what)


def format_table(s: Score) -> str:
    """A plain-text table, one line per rule, then the overall figures."""

    def pct(v: float | None) -> str:
        return "   -  " if v is None else f"{v:6.3f}"

    lines = [f"{'rule':30} {'planted':>7} {'found':>5} {'recall':>6} {'flags':>5} "
             f"{'true':>5} {'precision':>9}"]  # fmt: skip
    for r in s.rules:
        lines.append(f"{r.rule:30} {r.planted:7d} {r.recalled:5d} {pct(r.recall)} {r.flags:5d} "
                     f"{r.true_flags:5d} {pct(r.precision):>9}")  # fmt: skip
    planted = sum(r.planted for r in s.rules)
    flags = sum(r.flags for r in s.rules)
    lines.append(f"{'overall':30} {planted:7d} {sum(r.recalled for r in s.rules):5d} "
                 f"{s.recall:6.3f} {flags:5d} {sum(r.true_flags for r in s.rules):5d} "
                 f"{s.precision:9.3f}")  # fmt: skip
    if s.not_scored:
        lines.append("not scored (no planted truth of their kind): "
                     + ", ".join(f"{k} {v} flag(s)" for k, v in s.not_scored.items()))  # fmt: skip
    if s.clean or s.after_scan is not None:
        lines.append("")
        lines.append(format_adversarial(s))
    return "\n".join(lines)


def format_adversarial(s: Score) -> str:
    """Per rule: planted, found, recall, unexplained flags (on clean changes) and per
    1,000 clean changes; per family: recall; then each missed anomaly and each
    unexplained flag."""

    def pct(v: float | None) -> str:
        return "    - " if v is None else f"{v:6.3f}"

    clean = s.clean

    def per(n: int) -> str:
        return f"{1000 * n / clean:8.2f}" if clean else "       -"

    lines = [f"{'rule':30} {'family':14} {'planted':>7} {'found':>5} {'recall':>6} "
             f"{'unexpl.':>7} {'on clean':>8} {'/1000 cl':>8}"]  # fmt: skip
    for r in s.rules:
        if not (r.planted or r.unexplained):
            continue
        lines.append(f"{r.rule:30} {r.family:14} {r.planted:7d} {r.recalled:5d} "
                     f"{pct(r.recall)} {len(r.unexplained):7d} {len(r.on_clean):8d} "
                     f"{per(len(r.unexplained))}")  # fmt: skip
    if s.unexplained_other:
        lines.append(
            f"{'(rules not scored)':30} {'':14} {0:7d} {0:5d} {pct(None)} "
            f"{len(s.unexplained_other):7d} {'':8} {per(len(s.unexplained_other))}"
        )
    planted = sum(r.planted for r in s.rules)
    found = sum(r.recalled for r in s.rules)
    lines.append(f"{'overall':30} {'':14} {planted:7d} {found:5d} "
                 f"{pct(found / planted if planted else None)} {s.unexplained:7d} "
                 f"{sum(len(r.on_clean) for r in s.rules):8d} {per(s.unexplained)}")  # fmt: skip
    lines.append(f"clean changes: {clean}; after scan: {s.after_scan}")
    lines.append("families: " + ", ".join(f"{k} {f}/{p} = {f / p:.3f}"
                                          for k, (p, f) in s.families().items()))  # fmt: skip
    for anomaly, what in sorted(s.missed_details.items()):
        lines.append(f"missed {anomaly}: {what}")
    for flag_id, what in sorted(s.flag_subjects.items()):
        lines.append(f"unexplained flag {flag_id}: {what}")
    return "\n".join(lines)


def rule_families(conn: Connection) -> dict[str, str]:
    """Each rule's family as ``dispute_rule`` states it (gap and sliver scored together)."""
    out = {str(i): str(f) for i, f in conn.execute(text("SELECT id, family FROM dispute_rule"))}
    for label, ids in SCORED_TOGETHER.items():
        if ids[0] in out:
            out[label] = out[ids[0]]
    return out


def score_stored(
    conn: Connection,
    truth_csv: Path,
    imagery_dir: Path | None = None,
    *,
    after_scan: int | None = None,
) -> Score:
    """Scores the stored (unresolved) flags against a truth file (the demo's
    ``ground_truth.csv``, or an adversarial plant's) and, when ``imagery_dir``
    (``$LANDGOV_HOME/synthetic``) holds the synthetic imagery's truth, against that too;
    ``after_scan``: the scan before the planting (module notes)."""
    truth = read_truth(truth_csv)
    imagery = False
    if imagery_dir is not None and (imagery_dir / "sentinel-2" / "ground_truth.csv").exists():
        ortho = imagery_dir / "orthophotos"
        truth += read_imagery_truth(
            imagery_dir / "sentinel-2",
            ortho if (ortho / "structures.csv").exists() else None,
            compared_orthophoto_dates(conn),
        )
        imagery = True
    return score(truth, read_flags(conn), imagery=imagery, after_scan=after_scan,
                 families=rule_families(conn))  # fmt: skip
