"""A flag's evidence in words: its measure with a unit, and its evidence as labelled facts.

A scan stores what each rule measured (``dispute_flag.measure`` and ``threshold``) as bare
numbers, and what it saw as a JSON object whose keys the detectors chose (``evidence``).
Both mean something only with the rule that wrote them: 51.125 is m² for an encroachment,
a ratio for an under-declared price, days for a stale entry. :data:`MEASURES` says, per
rule, what its measure counts and in which unit (read off each detector in
``landgov/disputes/``); :func:`facts` turns the evidence into ``(label, text)`` pairs,
units read off the key's suffix (``_m2``, ``_rs``, ``pct``, ``days``) and internal row ids
left out (a party id means nothing to an officer; names and record numbers do).

Pure functions (no Streamlit), so tests call them directly. A test checks that every rule
with a detector has an entry in :data:`MEASURES` or :data:`NO_MEASURE`, so a new rule cannot
come back to showing a bare number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from landgov.domain import KanalMarlaSarsai, format_kms, mask_cnic

Formatter = Callable[[float], str]


def square_metres(x: float) -> str:
    return f"{x:,.1f} m²"


def metres(x: float) -> str:
    return f"{x:,.2f} m"


def percent(x: float) -> str:
    """A ratio as a percentage: 0.0719 → ``7.2 %``."""
    return f"{100 * x:,.1f} %"


def days(x: float) -> str:
    n = round(x)
    return f"{n:,} day" + ("" if n == 1 else "s")


def share(x: float) -> str:
    """A share of a whole as the register writes it: 0.125 → ``1/8``, 1 → ``1/1``."""
    f = Fraction(x).limit_denominator(10_000)
    return f"{f.numerator}/{f.denominator}"


def count(x: float) -> str:
    return f"{round(x):,}"


class Measure(NamedTuple):
    """How a rule's measure reads: ``fmt`` formats the number with its unit, ``what``
    says what it is (``{}`` is the formatted number), ``limit`` the threshold the scan
    compared it with (None: the rule has no threshold)."""

    fmt: Formatter
    what: str
    limit: str | None = None


MEASURES: Final[MappingProxyType[str, Measure]] = MappingProxyType(
    {
        # spatial (landgov/disputes/spatial.py; areas in the mouza's UTM zone)
        "overlap": Measure(square_metres, "{} overlap", "flagged above {}"),
        "gap": Measure(square_metres, "{} in no khasra", "flagged above {}"),
        "sliver": Measure(metres, "{} wide on average", "flagged under {}"),
        "area_mismatch": Measure(percent, "record area {} off the map area", "tolerance {}"),
        "tatima_area_mismatch": Measure(
            percent, "sub-parcels {} off the parent's area", "tolerance {}"
        ),
        "private_on_state_land": Measure(square_metres, "{} on state land", "flagged above {}"),
        # imagery (landgov/disputes/imagery.py)
        "structure_on_state_land": Measure(square_metres, "{} encroached"),
        "girdawari_vs_satellite": Measure(
            percent, "the crop model is {} sure of the crop it sees", "flagged from {}"
        ),
        # inheritance (landgov/disputes/inheritance.py)
        "omitted_heir": Measure(share, "{} of the estate withheld from the heirs left out"),
        "faraid_shares_differ": Measure(share, "an heir's share off faraid by up to {}"),
        "gift_before_death": Measure(days, "gift {} before the donor died", "flagged within {}"),
        # transfers (landgov/disputes/transfers.py)
        "sale_after_death": Measure(days, "{} after the transferor died"),
        "stale_pending_mutation": Measure(days, "pending for {}", "flagged after {}"),
        "under_declared_price": Measure(
            percent, "price declared at {} of the statutory value", "flagged below {}"
        ),
        "statutory_value_misstated": Measure(
            percent, "written value {} off the DC table", "tolerance {}"
        ),
        "deeds_short_window": Measure(days, "{} between the two deeds", "flagged within {}"),
        "sanction_volume_spike": Measure(
            count, "{} sanctions by the officer that day", "flagged from {}"
        ),
        "backdated_action": Measure(days, "a step dated {} before it was recorded", "from {}"),
        # shares (landgov/disputes/shares.py): the measure is a share of the khewat
        "share_total_not_one": Measure(share, "shares add up to {} of the khewat", "must be {}"),
        "transfer_exceeds_holding": Measure(share, "{} of the khewat transferred", "held {}"),
        # records (landgov/disputes/records.py)
        "same_day_sanction": Measure(days, "sanctioned {} after entry", "notice period {}"),
        "unattested_jamabandi": Measure(days, "unattested for {}", "flagged after {}"),
    }
)
"""What each rule's ``measure`` and ``threshold`` are, with their unit."""

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


def measure_text(rule: str, measure: Any, threshold: Any = None) -> str:
    """``785.6 m² overlap (flagged above 1.0 m²)``; empty when there is no measure.

    A rule :data:`MEASURES` does not know shows its number as stored (``measure 3.2``),
    never as if it had a unit."""
    if measure is None or (isinstance(measure, float) and math.isnan(measure)):
        return ""
    value = float(measure)
    known = MEASURES.get(rule)
    if known is None:
        return f"measure {value:g}"
    if rule == "same_day_sanction" and round(value) == 0:
        text = "sanctioned on the day of entry"
    else:
        text = known.what.format(known.fmt(value))
    if known.limit is not None and threshold is not None and not _nan(threshold):
        text += f" ({known.limit.format(known.fmt(float(threshold)))})"
    return text


def _nan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)


# --- the evidence object -------------------------------------------------------------------

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

LABELS: Final[MappingProxyType[str, str]] = MappingProxyType(
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
    }
)
"""An officer's label for each evidence key the detectors write."""

RULE_LABELS: Final[MappingProxyType[str, MappingProxyType[str, str]]] = MappingProxyType(
    {
        "girdawari_vs_satellite": MappingProxyType({"recorded": "Crop recorded (girdawari)"}),
        "overlap": MappingProxyType({"area_m2": "Areas of the two khasras"}),
    }
)
"""Where two rules use one key for different things, the label for a rule."""

WORDS: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        "canal_row": "canal right-of-way",
        "road_row": "road right-of-way",
        "dc_table": "DC table",
        "hanafi": "Hanafi",
        "jafari": "Ja'fari",
    }
)
"""Code words that appear as evidence values, in plain words."""

_CNIC: Final = re.compile(r"\b\d{5}-\d{7}-\d\b")


def mask_cnics(value: str) -> str:
    """Every CNIC in ``value`` masked as elsewhere on the dashboard (``35202-*******-1``)."""
    return _CNIC.sub(lambda m: mask_cnic(m.group(0)), value)


def _label(key: str) -> str:
    return LABELS.get(key) or key.replace("_", " ").capitalize()


def _number(key: str, value: float) -> str:
    """A number with the unit its key names (a record number or a year as written)."""
    if key.endswith("_no") or key in ("year", "number"):
        return str(value)
    if key.endswith("_m2"):
        return square_metres(value)
    if key.endswith("_m"):
        return metres(value)
    if key.endswith("_rs"):
        return f"Rs {value:,.0f}"
    if key.startswith("pct") or key.endswith("_pct"):
        return f"{value:,.1f} %"  # already a percentage
    if key in ("confidence", "declared_ratio", "misstated_by", "excess_of_holding"):
        return percent(value)  # a ratio
    if key.startswith("days") or key.endswith("_days"):
        return days(value)
    if key == "record_area_sarsai":
        return format_kms(KanalMarlaSarsai.from_sarsai(int(value)))
    return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"


def _value(key: str, value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _number(key, value)
    if isinstance(value, str):
        # code words (naib_tehsildar) in plain words; a path keeps its underscores
        return WORDS.get(value, value if "/" in value else value.replace("_", " "))
    if isinstance(value, Mapping):
        return "; ".join(f"{_party(str(k))}: {_value(key, v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        parts = []
        for item in value:
            if isinstance(item, Mapping):
                parts.append(_record(item))
            elif isinstance(item, list | tuple):
                parts.append(" ".join(_value(key, v) for v in item))
            else:
                parts.append(_value(key, item))
        return "; ".join(parts) if any(isinstance(i, Mapping) for i in value) else ", ".join(parts)
    return str(value)


def _party(key: str) -> str:
    """A share key ``3273:ownership`` (party id, right) as ``party 3273, ownership``."""
    found = re.fullmatch(r"(\d+):([a-z_]+)", key)
    if found is None:
        return key
    return f"party {found.group(1)}, {found.group(2).replace('_', ' ')}"


def _record(item: Mapping[str, Any]) -> str:
    """One entry of a list of records (an heir, a back-dated step): its name first."""
    head = next((str(item[k]) for k in ("heir", "step", "name") if k in item), "")
    rest = ", ".join(
        f"{_label(k).lower()} {_value(k, v)}"
        for k, v in item.items()
        if k not in ("heir", "step", "name") and k not in HIDDEN
    )
    return f"{head}: {rest}" if head and rest else head or rest


def facts(
    rule: str, evidence: Mapping[str, Any], khasras: list[str] | None = None
) -> list[tuple[str, str]]:
    """The evidence of a flag of ``rule`` as ``(label, text)`` pairs in the detector's key
    order, CNICs masked, internal ids (:data:`HIDDEN`) left out; ``khasras`` (the numbers
    of the evidence's ``khasra_ids``, when the caller knows them) first."""
    labels: Mapping[str, str] = RULE_LABELS.get(rule) or {}
    out: list[tuple[str, str]] = []
    if khasras:
        out.append(("Khasras" if len(khasras) > 1 else "Khasra", ", ".join(khasras)))
    for key, value in evidence.items():
        if key in HIDDEN:
            continue
        out.append((labels.get(key) or _label(key), mask_cnics(_value(key, value))))
    return out
