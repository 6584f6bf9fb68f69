"""A flag's evidence in words: its measure with a unit, and its evidence as labelled facts.

A scan stores what each rule measured (``dispute_flag.measure`` and ``threshold``) as bare
numbers, and what it saw as a JSON object whose keys the detectors chose (``evidence``).
Both mean something only with the rule that wrote them: 51.125 is m² for an encroachment,
a ratio for an under-declared price, days for a stale entry. :data:`MEASURES` says, per
rule, in which unit its measure counts (read off each detector in this package);
:func:`facts` turns the evidence into ``(label, text)`` pairs, units read off the key's
suffix (``_m2``, ``_rs``, ``pct``, ``days``) and internal row ids left out (a party id
means nothing to an officer; names and record numbers do).

One reading, any language: the logic lives here once, and the words come from a
:class:`Phrasebook`. :data:`ENGLISH` is the service's own (``landgov disputes show``
prints it); the dashboard builds one per language from its catalogue
(``app/views/cases/evidence.py``), whose English a test holds equal to :data:`ENGLISH`,
so the page and the command line say the same thing in the same words.

Pure functions (no database), so tests call them directly. A test checks that every rule
with a detector has an entry in :data:`MEASURES` or :data:`NO_MEASURE`, so a new rule cannot
come back to showing a bare number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Final

from landgov.domain import KanalMarlaSarsai, format_kms, mask_cnic

MEASURES: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        # spatial (spatial.py; areas in the mouza's UTM zone)
        "overlap": "m2",
        "gap": "m2",
        "sliver": "m",
        "area_mismatch": "ratio",
        "tatima_area_mismatch": "ratio",
        "private_on_state_land": "m2",
        # imagery (imagery.py)
        "structure_on_state_land": "m2",
        "girdawari_vs_satellite": "ratio",
        # inheritance (inheritance.py)
        "omitted_heir": "share",
        "faraid_shares_differ": "share",
        "gift_before_death": "days",
        # transfers (transfers.py)
        "sale_after_death": "days",
        "stale_pending_mutation": "days",
        "under_declared_price": "ratio",
        "statutory_value_misstated": "ratio",
        "deeds_short_window": "days",
        "sanction_volume_spike": "count",
        "backdated_action": "days",
        # shares (shares.py): the measure is a share of the khewat
        "share_total_not_one": "share",
        "transfer_exceeds_holding": "share",
        # records (records.py)
        "same_day_sanction": "days",
        "unattested_jamabandi": "days",
    }
)
"""The unit of each rule's ``measure`` and ``threshold``: ``m2``, ``m``, ``ratio`` (shown as
a percentage), ``days``, ``share`` (a fraction of a whole, as the register writes it) or
``count``."""

NO_MEASURE: Final = frozenset(
    {
        "officer_outside_jurisdiction",
        "shares_differ_from_register",
        "orphan_khasra",
        "transfer_without_deed",
        "imported_decision_unchecked",
    }
)
"""Rules whose finding is a fact, not a number (their ``measure`` is empty)."""

HIDDEN: Final = frozenset(
    {
        "srid",  # the UTM zone the areas were measured in
        "point",  # the flag is on the map
        "khasra_ids",  # replaced by the khasras' numbers (:func:`facts`' ``khasras``)
        "before_chip",  # shown as images
        "after_chip",
        "encroachment_case_id",
        "state_land_id",
        "party_id",
        "deceased_party_id",
        "transferor_party_id",
        "officer_id",
        "jamabandi_id",
    }
)
"""Evidence keys not shown as text: internal row ids, or shown otherwise."""

RATIO_KEYS: Final = frozenset({"confidence", "declared_ratio", "misstated_by", "excess_of_holding"})
"""Evidence keys holding a ratio (0.12), shown as a percentage."""

_RECORD_KEYS: Final = frozenset({"year", "number"})
_ISO_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CNIC: Final = re.compile(r"\b\d{5}-\d{7}-\d\b")
_SHARE_KEY: Final = re.compile(r"(\d+):([a-z_]+)")
_BRACKETED: Final = re.compile(r"\(([a-z_]+)\)")


def _as_is(text: str) -> str:
    return text


@dataclass(frozen=True)
class Phrasebook:
    """One language's words for evidence, and its way of writing numbers and dates.

    ``measures`` and ``limits`` are per rule, ``{value}`` the measure or threshold with
    its unit (``limits`` lacks a rule that has no threshold); ``labels`` per evidence key,
    ``rule_labels`` per ``rule:key`` where two rules use one key for different things;
    ``words`` the code words detectors write as values (``canal_row``); ``units`` the
    templates ``m2``, ``m``, ``percent``, ``day``, ``days``, ``rs``; ``phrases`` the
    rest (``yes``, ``no``, ``none``, ``party``, ``khasra``, ``khasras``, ``same_day``,
    ``unknown_measure``, and the separators ``list`` and ``items``). ``numeral`` writes a
    number formatted the English way (``1,234.5``) in the language's digits and signs,
    ``record`` a record number (a khasra, a share) as the register does, left to right,
    ``day`` a date.
    """

    measures: Mapping[str, str]
    limits: Mapping[str, str]
    labels: Mapping[str, str]
    rule_labels: Mapping[str, str]
    words: Mapping[str, str]
    units: Mapping[str, str]
    phrases: Mapping[str, str]
    numeral: Callable[[str], str] = _as_is
    record: Callable[[str], str] = _as_is
    day: Callable[[date], str] = date.isoformat

    def number(self, x: float, places: int) -> str:
        """``x`` grouped, with ``places`` decimals, in the language's digits and signs."""
        return self.numeral(f"{x:,.{places}f}")


ENGLISH: Final = Phrasebook(
    measures=MappingProxyType(
        {
            "overlap": "{value} overlap",
            "gap": "{value} in no khasra",
            "sliver": "{value} wide on average",
            "area_mismatch": "record area {value} off the map area",
            "tatima_area_mismatch": "sub-parcels {value} off the parent's area",
            "private_on_state_land": "{value} on state land",
            "structure_on_state_land": "{value} encroached",
            "girdawari_vs_satellite": "the crop model is {value} sure of the crop it sees",
            "omitted_heir": "{value} of the estate withheld from the heirs left out",
            "faraid_shares_differ": "an heir's share off faraid by up to {value}",
            "gift_before_death": "gift {value} before the donor died",
            "sale_after_death": "{value} after the transferor died",
            "stale_pending_mutation": "pending for {value}",
            "under_declared_price": "price declared at {value} of the statutory value",
            "statutory_value_misstated": "written value {value} off the DC table",
            "deeds_short_window": "{value} between the two deeds",
            "sanction_volume_spike": "{value} sanctions by the officer that day",
            "backdated_action": "a step dated {value} before it was recorded",
            "share_total_not_one": "shares add up to {value} of the khewat",
            "transfer_exceeds_holding": "{value} of the khewat transferred",
            "same_day_sanction": "sanctioned {value} after entry",
            "unattested_jamabandi": "unattested for {value}",
        }
    ),
    limits=MappingProxyType(
        {
            "overlap": "flagged above {value}",
            "gap": "flagged above {value}",
            "sliver": "flagged under {value}",
            "area_mismatch": "tolerance {value}",
            "tatima_area_mismatch": "tolerance {value}",
            "private_on_state_land": "flagged above {value}",
            "girdawari_vs_satellite": "flagged from {value}",
            "gift_before_death": "flagged within {value}",
            "stale_pending_mutation": "flagged after {value}",
            "under_declared_price": "flagged below {value}",
            "statutory_value_misstated": "tolerance {value}",
            "deeds_short_window": "flagged within {value}",
            "sanction_volume_spike": "flagged from {value}",
            "backdated_action": "from {value}",
            "share_total_not_one": "must be {value}",
            "transfer_exceeds_holding": "held {value}",
            "same_day_sanction": "notice period {value}",
            "unattested_jamabandi": "flagged after {value}",
        }
    ),
    labels=MappingProxyType(
        {
            "number": "Khasra",
            "khasra_no": "Khasra",
            "khewat_no": "Khewat",
            "mutation_no": "Mutation",
            "first_mutation_no": "Earlier mutation",
            "last_khewat_no": "Last khewat",
            "type": "Mutation type",
            "unit_system": "Unit system",
            "record_area_sarsai": "Record area (K-M-S)",
            "geom_area_m2": "Area on the map",
            "record_area_m2": "Area in the record",
            "difference_m2": "Difference",
            "boundary_shift_m": "Mean boundary shift it amounts to",
            "area_m2": "Area",
            "width_m": "Mean width",
            "perimeter_m": "Perimeter",
            "tolerance_m": "Mapping tolerance",
            "beyond_tolerance_m2": "Beyond the mapping tolerance",
            "intersection_m2": "Overlap",
            "pct_of_each": "Share of each khasra",
            "larger_pct": "Share of the more affected khasra",
            "encroached_m2": "Encroached",
            "pct_of_khasra": "Share of the khasra",
            "pct_of_state_land": "Share of the state land",
            "khasra_area_m2": "Khasra's area",
            "state_land_area_m2": "State land's area",
            "buffer_m": "Right-of-way buffer",
            "category": "State land",
            "owner": "Owner",
            "confidence": "Detector's confidence",
            "first_seen": "First seen",
            "parent_geom_m2": "Parent's area on the map",
            "children_geom_m2": "Sub-parcels' area on the map",
            "parent_record_m2": "Parent's area in the record",
            "children_record_m2": "Sub-parcels' area in the record",
            "deed": "Deed",
            "deed_date": "Deed date",
            "first_deed": "Earlier deed",
            "first_deed_date": "Earlier deed's date",
            "days_between_deeds": "Days between the deeds",
            "school": "School of law",
            "deceased": "Deceased",
            "died_on": "Died on",
            "expected": "Shares by faraid",
            "recorded": "Shares recorded",
            "differences": "Differences",
            "omitted": "Heirs left out",
            "female_heir_omitted": "A female heir left out",
            "donor": "Donor",
            "donees": "Donees",
            "age_at_gift": "Donor's age at the gift (years)",
            "daughters_left_out": "Daughters left out",
            "days_before_death": "Days before death",
            "sanctioned_on": "Sanctioned on",
            "entered_on": "Entered on",
            "days_after_entry": "Days after entry",
            "transferor": "Transferor",
            "officer": "Officer",
            "problems": "Problems",
            "may_sanction": "Designations that may sanction",
            "held_until": "Held until",
            "never_held": "Never held by a khewat",
            "land_class": "Land class",
            "season": "Season",
            "year": "Year",
            "seen": "Crop the satellite sees",
            "model": "Model",
            "probability_recorded": "Model's probability of the recorded crop",
            "first_date": "First date",
            "first_total": "Total on that date",
            "worst_total": "Worst total",
            "over_allocated": "Over-allocated",
            "seen_in": "Seen in",
            "dates": "Dates and totals",
            "stored": "Shares stored",
            "register": "Shares by the register",
            "held": "Held",
            "transferred": "Transferred",
            "excess": "Excess",
            "excess_of_holding": "Excess, share of the holding",
            "applied_to_shares": "Applied to the shares",
            "status": "Status",
            "mouza": "Mouza",
            "valued_by": "Valued by",
            "valued_on": "Valued on",
            "declared_rs": "Declared price",
            "statutory_rs": "Statutory value",
            "written_statutory_rs": "Statutory value written on the mutation",
            "table_statutory_rs": "Statutory value by the DC table",
            "written_below_table": "Written below the table",
            "misstated_by": "Misstated by",
            "declared_ratio": "Declared / statutory",
            "at_stake_rs": "Value not declared",
            "tax_at_stake_rs": "Tax at stake",
            "steps": "Back-dated steps",
            # keys inside a list of records (an heir, a back-dated step)
            "gender": "Gender",
            "faraid_share": "Faraid share",
            "faraid": "Faraid",
            "dated": "Dated",
            "recorded_on": "Recorded on",
            "days_back": "Days back",
            "by": "By",
            "on": "On",
            "problem": "Problem",
            "rounding_m2": "Half a sarsai (the record's rounding)",
        }
    ),
    rule_labels=MappingProxyType(
        {
            "girdawari_vs_satellite:recorded": "Crop recorded (girdawari)",
            "overlap:area_m2": "Areas of the two khasras",
        }
    ),
    words=MappingProxyType(
        {
            "canal_row": "canal right-of-way",
            "road_row": "road right-of-way",
            "shamlat": "shamlat",
            "forest": "forest",
            "dc_table": "DC table",
            "written_value": "the value written on the mutation",
            "verification": "verification",
            "decision": "decision",
            "hanafi": "Hanafi",
            "jafari": "Ja'fari",
            "male": "male",
            "female": "female",
            "private": "private",
            "state": "state",
            "ownership": "ownership",
            "sale": "sale",
            "gift": "gift",
            "inheritance": "inheritance",
            "mortgage": "mortgage",
            "partition": "partition",
            "entered": "entered",
            "verified": "verified",
            "sanctioned": "sanctioned",
            "rejected": "rejected",
            "standard": "standard",
            "urban": "urban",
            "nehri": "nehri (canal-irrigated)",
            "chahi": "chahi (well-irrigated)",
            "barani": "barani (rain-fed)",
            "banjar": "banjar (uncultivated)",
            "kharif": "kharif",
            "rabi": "rabi",
            "rice": "rice",
            "wheat": "wheat",
            "cotton": "cotton",
            "sugarcane": "sugarcane",
            "maize": "maize",
            "fodder": "fodder",
            "fallow": "fallow",
            "register": "register",
            "stored": "stored",
            "jurisdiction": "no posting over the mouza",
            "designation": "a designation that may not sanction",
            "patwari": "patwari",
            "girdawar": "girdawar",
            "naib_tehsildar": "naib tehsildar",
            "tehsildar": "tehsildar",
            "assistant_commissioner": "assistant commissioner",
        }
    ),
    units=MappingProxyType(
        {
            "m2": "{value} m²",
            "m": "{value} m",
            "percent": "{value} %",
            "day": "{value} day",
            "days": "{value} days",
            "rs": "Rs {value}",
        }
    ),
    phrases=MappingProxyType(
        {
            "yes": "yes",
            "no": "no",
            "none": "none",
            "party": "party {party}, {right}",
            "khasra": "Khasra",
            "khasras": "Khasras",
            "same_day": "sanctioned on the day of entry",
            "unknown_measure": "measure {value}",
            "list": ", ",
            "items": "; ",
        }
    ),
)
"""The service's English: what ``landgov disputes show`` prints, and what the dashboard's
English catalogue must say word for word."""


# --- numbers with their units ----------------------------------------------------------------


def _unit(book: Phrasebook, unit: str, value: str) -> str:
    return book.units[unit].format(value=value)


def _share(x: float | Fraction) -> str:
    """0.125 → ``1/8``, 1 → ``1/1``: a share as the register writes it."""
    f = Fraction(x).limit_denominator(10_000)
    return f"{f.numerator}/{f.denominator}"


def _days(book: Phrasebook, x: float) -> str:
    n = round(x)
    return _unit(book, "day" if n == 1 else "days", book.number(n, 0))


def with_unit(book: Phrasebook, unit: str, x: float) -> str:
    """``x`` in ``unit`` (:data:`MEASURES`' units) as ``book`` writes it: ``785.6 m²``,
    ``7.2 %`` (of a ratio 0.072), ``3,367 days``, ``1/8``, ``14``."""
    if unit == "m2":
        return _unit(book, "m2", book.number(x, 1))
    if unit == "m":
        return _unit(book, "m", book.number(x, 2))
    if unit == "ratio":
        return _unit(book, "percent", book.number(100 * x, 1))
    if unit == "days":
        return _days(book, x)
    if unit == "share":
        return book.record(_share(x))
    return book.number(round(x), 0)


def _nan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)


def measure_text(rule: str, measure: Any, threshold: Any = None, book: Phrasebook = ENGLISH) -> str:
    """``785.6 m² overlap (flagged above 1.0 m²)``; empty when there is no measure.

    A rule :data:`MEASURES` does not know shows its number as stored (``measure 3.2``),
    never as if it had a unit."""
    if measure is None or _nan(measure):
        return ""
    value = float(measure)
    unit = MEASURES.get(rule)
    if unit is None:
        return book.phrases["unknown_measure"].format(value=book.numeral(f"{value:g}"))
    if rule == "same_day_sanction" and round(value) == 0:
        text = book.phrases["same_day"]
    else:
        text = book.measures[rule].format(value=with_unit(book, unit, value))
    limit = book.limits.get(rule)
    if limit is not None and threshold is not None and not _nan(threshold):
        text += f" ({limit.format(value=with_unit(book, unit, float(threshold)))})"
    return text


# --- the evidence object -------------------------------------------------------------------


def mask_cnics(value: str) -> str:
    """Every CNIC in ``value`` masked as elsewhere (``35202-*******-1``)."""
    return _CNIC.sub(lambda m: mask_cnic(m.group(0)), value)


def _label(book: Phrasebook, key: str, rule: str = "") -> str:
    found = book.rule_labels.get(f"{rule}:{key}") or book.labels.get(key)
    return found or key.replace("_", " ").capitalize()  # a key added later: as written


def _number(book: Phrasebook, key: str, value: float) -> str:
    """A number with the unit its key names (a record number or a year as written)."""
    if key.endswith("_no") or key in _RECORD_KEYS:
        return book.record(str(value))
    if key.endswith("_m2"):
        return with_unit(book, "m2", value)
    if key.endswith("_m"):
        return with_unit(book, "m", value)
    if key.endswith("_rs"):
        return _unit(book, "rs", book.number(value, 0))
    if key.startswith("pct") or key.endswith("_pct"):
        return _unit(book, "percent", book.number(value, 1))  # already a percentage
    if key in RATIO_KEYS:
        return with_unit(book, "ratio", value)
    if key.startswith("days") or key.endswith("_days"):
        return _days(book, value)
    if key == "record_area_sarsai":
        return book.record(format_kms(KanalMarlaSarsai.from_sarsai(int(value))))
    return book.numeral(f"{value:,}" if isinstance(value, int) else f"{value:,.4g}")


def _text(book: Phrasebook, value: str, key: str = "") -> str:
    """A text value: a code word in plain words, a date as the language writes it, a
    record number (``13//2``) or a share (``31/24``) as the register does; a name or a
    path as written, a designation in brackets after a name (``Aisha (tehsildar)``) in
    words."""
    if key.endswith("_no") or key in _RECORD_KEYS:
        return book.record(value)
    if value in book.words:
        return book.words[value]
    if _ISO_DATE.match(value):
        return book.day(date.fromisoformat(value))
    if re.fullmatch(r"\d+/\d+", value):
        return book.record(value)
    if "/" in value:
        return value  # a path: as stored
    if not re.fullmatch(r"[a-z_]+", value):  # a name, a deed or a model number
        return _BRACKETED.sub(lambda m: f"({_text(book, m.group(1))})", value)
    return value.replace("_", " ")


def _value(book: Phrasebook, key: str, value: Any) -> str:
    if value is None:
        return book.phrases["none"]
    if isinstance(value, bool):
        return book.phrases["yes" if value else "no"]
    if isinstance(value, int | float):
        return _number(book, key, value)
    if isinstance(value, str):
        return _text(book, value, key)
    if isinstance(value, Mapping):
        return book.phrases["items"].join(
            f"{_party(book, str(k))}: {_value(book, key, v)}" for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        parts = []
        for item in value:
            if isinstance(item, Mapping):
                parts.append(_record(book, item))
            elif isinstance(item, list | tuple):
                parts.append(" ".join(_value(book, key, v) for v in item))
            else:
                parts.append(_value(book, key, item))
        records = any(isinstance(i, Mapping) for i in value)
        return book.phrases["items" if records else "list"].join(parts)
    return str(value)


def _party(book: Phrasebook, key: str) -> str:
    """A share key ``3273:ownership`` (party id, right) as ``party 3273, ownership``."""
    found = _SHARE_KEY.fullmatch(key)
    if found is None:
        return key
    right = found.group(2)
    return book.phrases["party"].format(
        party=book.record(found.group(1)), right=book.words.get(right, right.replace("_", " "))
    )


def _record(book: Phrasebook, item: Mapping[str, Any]) -> str:
    """One entry of a list of records (an heir, a back-dated step): its name first."""
    head = next((str(item[k]) for k in ("heir", "name") if k in item), "")
    if "step" in item:  # a step's kind is a code word (``verification``)
        head = _text(book, str(item["step"]))
    rest = book.phrases["list"].join(
        f"{_label(book, k).lower()} {_value(book, k, v)}"
        for k, v in item.items()
        if k not in ("heir", "step", "name") and k not in HIDDEN
    )
    return f"{head}: {rest}" if head and rest else head or rest


def facts(
    rule: str,
    evidence: Mapping[str, Any],
    khasras: Sequence[str] | None = None,
    book: Phrasebook = ENGLISH,
    *,
    mask: bool = True,
) -> list[tuple[str, str]]:
    """The evidence of a flag of ``rule`` as ``(label, text)`` pairs in the detector's key
    order, internal ids (:data:`HIDDEN`) left out, CNICs masked unless ``mask`` is False
    (the command line shows them to an officer posted over the mouza); ``khasras`` (the
    numbers of the evidence's ``khasra_ids``, when the caller knows them) first."""
    out: list[tuple[str, str]] = []
    if khasras:
        label = book.phrases["khasras" if len(khasras) > 1 else "khasra"]
        out.append((label, book.phrases["list"].join(book.record(k) for k in khasras)))
    for key, value in evidence.items():
        if key in HIDDEN:
            continue
        shown = _value(book, key, value)
        out.append((_label(book, key, rule), mask_cnics(shown) if mask else shown))
    return out


def khasra_labels(parcels: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    """The numbers of a case's khasras by id (:func:`landgov.disputes.cases.case_detail`'s
    ``parcels``: ``khasra 12//3`` → ``12//3``)."""
    return {
        int(p["id"]): str(p["label"]).removeprefix("khasra ")
        for p in parcels
        if p["kind"] == "khasra"
    }


def khasra_numbers(flag: Mapping[str, Any], labels: Mapping[int, str]) -> list[str]:
    """The numbers of the khasras a flag's evidence names by id (``khasra_ids``)."""
    ids = flag["evidence"].get("khasra_ids")
    if not isinstance(ids, list):
        return []
    return [labels[int(i)] for i in ids if isinstance(i, int) and int(i) in labels]
