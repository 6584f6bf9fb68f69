"""A flag's evidence in the page's language: :mod:`landgov.disputes.evidence` with the
catalogue's words.

The reading of evidence (which unit a rule's measure has, which keys are internal ids,
how a list of heirs reads) lives once, in :mod:`landgov.disputes.evidence`, which
``landgov disputes show`` uses too. This module gives it each language's words: a
:class:`~landgov.disputes.evidence.Phrasebook` built from ``app/locale/*.cases.toml``
through tables of whole catalogue keys (the tests read the keys from the source), with
the language's digits, signs and dates. The English catalogue says exactly what the
service's :data:`~landgov.disputes.evidence.ENGLISH` says (tests/app/test_cases_i18n.py),
so the page and the command line word the same idea the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache
from types import MappingProxyType
from typing import Any, Final

from app.shared import i18n
from landgov.disputes import evidence as service
from landgov.disputes.evidence import MEASURES, NO_MEASURE, Phrasebook, mask_cnics

__all__ = ["MEASURES", "NO_MEASURE", "facts", "mask_cnics", "measure_text", "phrasebook"]

MEASURE_KEYS: Final = MappingProxyType(
    {
        "overlap": "cases.measure.overlap",
        "gap": "cases.measure.gap",
        "sliver": "cases.measure.sliver",
        "area_mismatch": "cases.measure.area_mismatch",
        "tatima_area_mismatch": "cases.measure.tatima_area_mismatch",
        "private_on_state_land": "cases.measure.private_on_state_land",
        "structure_on_state_land": "cases.measure.structure_on_state_land",
        "girdawari_vs_satellite": "cases.measure.girdawari_vs_satellite",
        "omitted_heir": "cases.measure.omitted_heir",
        "faraid_shares_differ": "cases.measure.faraid_shares_differ",
        "gift_before_death": "cases.measure.gift_before_death",
        "sale_after_death": "cases.measure.sale_after_death",
        "stale_pending_mutation": "cases.measure.stale_pending_mutation",
        "under_declared_price": "cases.measure.under_declared_price",
        "statutory_value_misstated": "cases.measure.statutory_value_misstated",
        "deeds_short_window": "cases.measure.deeds_short_window",
        "sanction_volume_spike": "cases.measure.sanction_volume_spike",
        "backdated_action": "cases.measure.backdated_action",
        "share_total_not_one": "cases.measure.share_total_not_one",
        "transfer_exceeds_holding": "cases.measure.transfer_exceeds_holding",
        "same_day_sanction": "cases.measure.same_day_sanction",
        "unattested_jamabandi": "cases.measure.unattested_jamabandi",
    }
)

LIMIT_KEYS: Final = MappingProxyType(
    {
        "overlap": "cases.limit.overlap",
        "gap": "cases.limit.gap",
        "sliver": "cases.limit.sliver",
        "area_mismatch": "cases.limit.area_mismatch",
        "tatima_area_mismatch": "cases.limit.tatima_area_mismatch",
        "private_on_state_land": "cases.limit.private_on_state_land",
        "girdawari_vs_satellite": "cases.limit.girdawari_vs_satellite",
        "gift_before_death": "cases.limit.gift_before_death",
        "stale_pending_mutation": "cases.limit.stale_pending_mutation",
        "under_declared_price": "cases.limit.under_declared_price",
        "statutory_value_misstated": "cases.limit.statutory_value_misstated",
        "deeds_short_window": "cases.limit.deeds_short_window",
        "sanction_volume_spike": "cases.limit.sanction_volume_spike",
        "backdated_action": "cases.limit.backdated_action",
        "share_total_not_one": "cases.limit.share_total_not_one",
        "transfer_exceeds_holding": "cases.limit.transfer_exceeds_holding",
        "same_day_sanction": "cases.limit.same_day_sanction",
        "unattested_jamabandi": "cases.limit.unattested_jamabandi",
    }
)

LABEL_KEYS: Final = MappingProxyType(
    {
        "number": "cases.fact.number",
        "khasra_no": "cases.fact.khasra_no",
        "khewat_no": "cases.fact.khewat_no",
        "mutation_no": "cases.fact.mutation_no",
        "first_mutation_no": "cases.fact.first_mutation_no",
        "last_khewat_no": "cases.fact.last_khewat_no",
        "type": "cases.fact.type",
        "unit_system": "cases.fact.unit_system",
        "record_area_sarsai": "cases.fact.record_area_sarsai",
        "geom_area_m2": "cases.fact.geom_area_m2",
        "record_area_m2": "cases.fact.record_area_m2",
        "difference_m2": "cases.fact.difference_m2",
        "boundary_shift_m": "cases.fact.boundary_shift_m",
        "area_m2": "cases.fact.area_m2",
        "width_m": "cases.fact.width_m",
        "perimeter_m": "cases.fact.perimeter_m",
        "tolerance_m": "cases.fact.tolerance_m",
        "beyond_tolerance_m2": "cases.fact.beyond_tolerance_m2",
        "intersection_m2": "cases.fact.intersection_m2",
        "pct_of_each": "cases.fact.pct_of_each",
        "larger_pct": "cases.fact.larger_pct",
        "encroached_m2": "cases.fact.encroached_m2",
        "pct_of_khasra": "cases.fact.pct_of_khasra",
        "pct_of_state_land": "cases.fact.pct_of_state_land",
        "khasra_area_m2": "cases.fact.khasra_area_m2",
        "state_land_area_m2": "cases.fact.state_land_area_m2",
        "buffer_m": "cases.fact.buffer_m",
        "category": "cases.fact.category",
        "owner": "cases.fact.owner",
        "confidence": "cases.fact.confidence",
        "first_seen": "cases.fact.first_seen",
        "parent_geom_m2": "cases.fact.parent_geom_m2",
        "children_geom_m2": "cases.fact.children_geom_m2",
        "parent_record_m2": "cases.fact.parent_record_m2",
        "children_record_m2": "cases.fact.children_record_m2",
        "deed": "cases.fact.deed",
        "deed_date": "cases.fact.deed_date",
        "first_deed": "cases.fact.first_deed",
        "first_deed_date": "cases.fact.first_deed_date",
        "days_between_deeds": "cases.fact.days_between_deeds",
        "school": "cases.fact.school",
        "deceased": "cases.fact.deceased",
        "died_on": "cases.fact.died_on",
        "expected": "cases.fact.expected",
        "recorded": "cases.fact.recorded",
        "differences": "cases.fact.differences",
        "omitted": "cases.fact.omitted",
        "female_heir_omitted": "cases.fact.female_heir_omitted",
        "donor": "cases.fact.donor",
        "donees": "cases.fact.donees",
        "age_at_gift": "cases.fact.age_at_gift",
        "daughters_left_out": "cases.fact.daughters_left_out",
        "days_before_death": "cases.fact.days_before_death",
        "sanctioned_on": "cases.fact.sanctioned_on",
        "entered_on": "cases.fact.entered_on",
        "days_after_entry": "cases.fact.days_after_entry",
        "transferor": "cases.fact.transferor",
        "officer": "cases.fact.officer",
        "problems": "cases.fact.problems",
        "may_sanction": "cases.fact.may_sanction",
        "held_until": "cases.fact.held_until",
        "never_held": "cases.fact.never_held",
        "land_class": "cases.fact.land_class",
        "season": "cases.fact.season",
        "year": "cases.fact.year",
        "seen": "cases.fact.seen",
        "model": "cases.fact.model",
        "probability_recorded": "cases.fact.probability_recorded",
        "first_date": "cases.fact.first_date",
        "first_total": "cases.fact.first_total",
        "worst_total": "cases.fact.worst_total",
        "over_allocated": "cases.fact.over_allocated",
        "seen_in": "cases.fact.seen_in",
        "dates": "cases.fact.dates",
        "stored": "cases.fact.stored",
        "register": "cases.fact.register",
        "held": "cases.fact.held",
        "transferred": "cases.fact.transferred",
        "excess": "cases.fact.excess",
        "excess_of_holding": "cases.fact.excess_of_holding",
        "applied_to_shares": "cases.fact.applied_to_shares",
        "status": "cases.fact.status",
        "mouza": "cases.fact.mouza",
        "valued_by": "cases.fact.valued_by",
        "valued_on": "cases.fact.valued_on",
        "declared_rs": "cases.fact.declared_rs",
        "statutory_rs": "cases.fact.statutory_rs",
        "written_statutory_rs": "cases.fact.written_statutory_rs",
        "table_statutory_rs": "cases.fact.table_statutory_rs",
        "written_below_table": "cases.fact.written_below_table",
        "misstated_by": "cases.fact.misstated_by",
        "declared_ratio": "cases.fact.declared_ratio",
        "at_stake_rs": "cases.fact.at_stake_rs",
        "tax_at_stake_rs": "cases.fact.tax_at_stake_rs",
        "steps": "cases.fact.steps",
        "gender": "cases.fact.gender",
        "faraid_share": "cases.fact.faraid_share",
        "faraid": "cases.fact.faraid",
        "dated": "cases.fact.dated",
        "recorded_on": "cases.fact.recorded_on",
        "days_back": "cases.fact.days_back",
        "by": "cases.fact.by",
        "on": "cases.fact.on",
        "problem": "cases.fact.problem",
        "rounding_m2": "cases.fact.rounding_m2",
    }
)

RULE_LABEL_KEYS: Final = MappingProxyType(
    {
        "girdawari_vs_satellite:recorded": "cases.fact_rule.girdawari_vs_satellite.recorded",
        "overlap:area_m2": "cases.fact_rule.overlap.area_m2",
    }
)

WORD_KEYS: Final = MappingProxyType(
    {
        "canal_row": "cases.word.canal_row",
        "road_row": "cases.word.road_row",
        "shamlat": "cases.word.shamlat",
        "forest": "cases.word.forest",
        "dc_table": "cases.word.dc_table",
        "written_value": "cases.word.written_value",
        "verification": "cases.word.verification",
        "decision": "cases.word.decision",
        "hanafi": "cases.word.hanafi",
        "jafari": "cases.word.jafari",
        "male": "cases.word.male",
        "female": "cases.word.female",
        "private": "cases.word.private",
        "state": "cases.word.state",
        "ownership": "cases.word.ownership",
        "sale": "cases.word.sale",
        "gift": "cases.word.gift",
        "inheritance": "cases.word.inheritance",
        "mortgage": "cases.word.mortgage",
        "partition": "cases.word.partition",
        "entered": "cases.word.entered",
        "verified": "cases.word.verified",
        "sanctioned": "cases.word.sanctioned",
        "rejected": "cases.word.rejected",
        "standard": "cases.word.standard",
        "urban": "cases.word.urban",
        "nehri": "cases.word.nehri",
        "chahi": "cases.word.chahi",
        "barani": "cases.word.barani",
        "banjar": "cases.word.banjar",
        "kharif": "cases.word.kharif",
        "rabi": "cases.word.rabi",
        "rice": "cases.word.rice",
        "wheat": "cases.word.wheat",
        "cotton": "cases.word.cotton",
        "sugarcane": "cases.word.sugarcane",
        "maize": "cases.word.maize",
        "fodder": "cases.word.fodder",
        "fallow": "cases.word.fallow",
        "register": "cases.word.register",
        "stored": "cases.word.stored",
        "jurisdiction": "cases.word.jurisdiction",
        "designation": "cases.word.designation",
        "patwari": "cases.word.patwari",
        "girdawar": "cases.word.girdawar",
        "naib_tehsildar": "cases.word.naib_tehsildar",
        "tehsildar": "cases.word.tehsildar",
        "assistant_commissioner": "cases.word.assistant_commissioner",
    }
)

UNIT_KEYS: Final = MappingProxyType(
    {
        "m2": "cases.unit.m2",
        "m": "cases.unit.m",
        "percent": "cases.unit.percent",
        "day": "cases.unit.day",
        "days": "cases.unit.days",
        "rs": "cases.unit.rs",
    }
)

PHRASE_KEYS: Final = MappingProxyType(
    {
        "yes": "cases.phrase.yes",
        "no": "cases.phrase.no",
        "none": "cases.phrase.none",
        "party": "cases.phrase.party",
        "khasra": "cases.phrase.khasra",
        "khasras": "cases.phrase.khasras",
        "same_day": "cases.phrase.same_day",
        "unknown_measure": "cases.phrase.unknown_measure",
        "list": "cases.phrase.list",
        "items": "cases.phrase.items",
    }
)


def _words(keys: Mapping[str, str], lang: str) -> MappingProxyType[str, str]:
    return MappingProxyType({name: i18n.t(key, lang) for name, key in keys.items()})


def _numeral(lang: str) -> Any:
    """Writes an English-formatted number (``1,234.5``) in ``lang``'s digits and signs."""
    conv = i18n.language(lang)

    def numeral(text: str) -> str:
        text = text.replace(",", "\0").replace(".", conv.decimal).replace("\0", conv.group)
        return i18n.digits(text, lang)

    return numeral


@cache
def phrasebook(lang: str) -> Phrasebook:
    """The evidence's words in ``lang``, read once per process from the catalogue."""

    def record(text: str) -> str:
        return i18n.record_number(text, lang)

    def day(value: date) -> str:
        return i18n.long_date(value, lang)

    return Phrasebook(
        measures=_words(MEASURE_KEYS, lang),
        limits=_words(LIMIT_KEYS, lang),
        labels=_words(LABEL_KEYS, lang),
        rule_labels=_words(RULE_LABEL_KEYS, lang),
        words=_words(WORD_KEYS, lang),
        units=_words(UNIT_KEYS, lang),
        phrases=_words(PHRASE_KEYS, lang),
        numeral=_numeral(lang),
        record=record,
        day=day,
    )


def measure_text(rule: str, measure: Any, threshold: Any = None, lang: str = i18n.DEFAULT) -> str:
    """:func:`landgov.disputes.evidence.measure_text` in ``lang``: ``785.6 m² overlap
    (flagged above 1.0 m²)`` / ``۷۸۵٫۶ مربع میٹر ...``."""
    return service.measure_text(rule, measure, threshold, phrasebook(lang))


def facts(
    rule: str,
    evidence: Mapping[str, Any],
    khasras: Sequence[str] | None = None,
    lang: str = i18n.DEFAULT,
) -> list[tuple[str, str]]:
    """:func:`landgov.disputes.evidence.facts` in ``lang``, CNICs always masked (the page
    shows no CNIC in full)."""
    return service.facts(rule, evidence, khasras, phrasebook(lang))
