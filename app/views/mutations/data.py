"""The Mutations page's data: cached calls of :mod:`landgov.storage.read` (the mouza's
pending mutations, khewats and owners) and of the records engine's price check of a sale
(:func:`landgov.records.pricing.price_check`), and the pure helpers that turn them into
the page's tables and choices, in the page's language.

No SQL here (the dashboard's rule, :mod:`app.shared.data`). After an action the forms
call :func:`app.shared.data.forget_results`, so every page shows the change.

Words: every word comes from the catalogue's ``[mutations]`` part
(``app/locale/<lang>.mutations.toml``) through the tables of whole keys below (the
catalogue test reads keys from the source, so none is built at run time). Amounts are
grouped in the language's digits (:func:`app.shared.i18n.number`), dates are long dates,
and what the register writes as a number (a mutation's, a khewat's, a share, a deed's
number) keeps its left-to-right order in Urdu (:func:`app.shared.i18n.record_number`).
Names, deed numbers and remarks are shown as the record holds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from fractions import Fraction
from typing import Any, Final

import pandas as pd
import streamlit as st

from app.shared import i18n
from app.shared.data import CACHE_TTL_S, as_int, engine, mutation_groups
from landgov.domain import mask_cnic
from landgov.records.pricing import PriceCheck
from landgov.storage import read


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def pending_lines(url: str, mouza_id: int) -> pd.DataFrame:
    with engine(url).connect() as conn:
        return read.mutation_lines(conn, mouza_id)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def mouza_khewats(url: str, mouza_id: int, as_of: date) -> list[int]:
    with engine(url).connect() as conn:
        return read.mouza_khewats(conn, mouza_id, as_of)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def khewat_owners(
    url: str, mouza_id: int, khewat_numbers: tuple[int, ...], as_of: date
) -> pd.DataFrame:
    with engine(url).connect() as conn:
        return read.khewat_owners(conn, mouza_id, list(khewat_numbers), as_of)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def price_check(url: str, mutation_id: int) -> PriceCheck | None:
    """The sale's price check (None: not a sale); the sanction computes it again in its
    own transaction, so this is what the officer reads, not what decides."""
    from landgov.records.pricing import price_check as check

    with engine(url).connect() as conn:
        return check(conn, mutation_id)


def mutation_number(url: str, mutation_id: int) -> int | None:
    """Not cached: asked right after a mutation is entered."""
    with engine(url).connect() as conn:
        return read.mutation_number(conn, mutation_id)


# --- the catalogue's keys, whole ------------------------------------------------------

TYPES: Final = {
    "sale": "mutations.type.sale",
    "inheritance": "mutations.type.inheritance",
    "gift": "mutations.type.gift",
    "mortgage": "mutations.type.mortgage",
    "redemption": "mutations.type.redemption",
    "exchange": "mutations.type.exchange",
    "partition": "mutations.type.partition",
    "court_decree": "mutations.type.court_decree",
    "lease": "mutations.type.lease",
}
STATUSES: Final = {"entered": "mutations.status.entered", "verified": "mutations.status.verified"}
RIGHTS: Final = {
    "ownership": "mutations.right.ownership",
    "mortgage_with_possession": "mutations.right.mortgage_with_possession",
    "mortgage_without_possession": "mutations.right.mortgage_without_possession",
    "lease": "mutations.right.lease",
}
RELATIONS_SHORT: Final = {
    "son_of": "mutations.relation_short.son_of",
    "daughter_of": "mutations.relation_short.daughter_of",
    "wife_of": "mutations.relation_short.wife_of",
}
ROLES: Final = {
    "patwari": "mutations.role.patwari",
    "girdawar": "mutations.role.girdawar",
    "naib_tehsildar": "mutations.role.naib_tehsildar",
    "tehsildar": "mutations.role.tehsildar",
    "assistant_commissioner": "mutations.role.assistant_commissioner",
    "revenue_analyst": "mutations.role.revenue_analyst",
    "auditor": "mutations.role.auditor",
    "administrator": "mutations.role.administrator",
}
REASONS: Final = {
    "below_dc": "mutations.reason.below_dc",
    "below_model": "mutations.reason.below_model",
    "no_price": "mutations.reason.no_price",
}
TAXES: Final = {
    "236K": "mutations.tax.236k",
    "236C": "mutations.tax.236c",
    "stamp_duty": "mutations.tax.stamp_duty",
    "cvt": "mutations.tax.cvt",
    "town_fee": "mutations.tax.town_fee",
    "property_tax": "mutations.tax.property_tax",
}
PAYERS: Final = {
    "buyer": "mutations.payer.buyer",
    "seller": "mutations.payer.seller",
    "owner": "mutations.payer.owner",
}
NO_MODEL: Final = "no appraisal model is trained (landgov valuation run)"
""":func:`landgov.records.pricing._model_value`'s notes, known by their words (the
service gives no code); another note is shown generically with the service's words."""
MODEL_NOTES: Final = {
    NO_MODEL: "mutations.price.no_model",
    "the model gives no value for these parcels": "mutations.price.model_no_value",
}
MODEL_NO_CLASS: Final = "the model has no value for land class "


def mouza_name(mouza: read.MouzaSummary, lang: str) -> str:
    """The mouza's name in the page's script when the record holds it (``name_ur`` on
    an Urdu page), else as stored."""
    return mouza.name_ur if i18n.rtl(lang) and mouza.name_ur else mouza.name


def word(table: Mapping[str, str], value: object, lang: str) -> str:
    """``value``'s word in ``lang`` from ``table`` (code -> key); a code the table does
    not know (a new one in the database) as the record writes it, underscores as spaces,
    so it shows rather than breaking the page."""
    key = table.get(str(value))
    return str(value).replace("_", " ") if key is None else i18n.t(key, lang)


# --- pure helpers ---------------------------------------------------------------------


def _cell(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value) or None


def register_date(value: Any, lang: str) -> str:
    """A date cell as a long date (``5 Mar 2026``), a dash for none."""
    if value is None or pd.isna(value):
        return i18n.t("mutations.table.none", lang)
    return i18n.long_date(pd.Timestamp(value).date(), lang)


def party(name: Any, relation: Any, guardian: Any, custodian: Any, lang: str) -> str | None:
    """A party as the register names it (``Ahmad Khan s/o Bashir Khan``, ``Ahmad Khan
    ولد Bashir Khan``); a state custodian by its code; None for no party."""
    shown = _cell(name)
    if shown is None:
        code = _cell(custodian)
        return None if code is None else code.replace("_", " ")
    rel, guardian_name = _cell(relation), _cell(guardian)
    if rel and guardian_name:
        return i18n.t(
            "mutations.table.party",
            lang,
            name=shown,
            relation=word(RELATIONS_SHORT, rel, lang),
            guardian=guardian_name,
        )
    return shown


def transfer(rec: Any, lang: str) -> str:
    """One line: ``Ahmad Khan s/o Bashir Khan → Bilal Ahmad 1/12`` (in Urdu ``… سے … کو``,
    a sentence, since an arrow reads backwards right to left)."""
    none = i18n.t("mutations.table.none", lang)
    fields = {
        "giver": party(rec.transferor_name, rec.transferor_guardian_relation,
                       rec.transferor_guardian_name, rec.transferor_custodian, lang) or none,
        "taker": party(rec.transferee_name, rec.transferee_guardian_relation,
                       rec.transferee_guardian_name, rec.transferee_custodian, lang) or none,
        "share": i18n.fraction(Fraction(as_int(rec.numerator), as_int(rec.denominator)), lang),
    }  # fmt: skip
    if str(rec.right_type) == "ownership":
        return i18n.t("mutations.table.transfer", lang, **fields)
    right = word(RIGHTS, rec.right_type, lang)
    return i18n.t("mutations.table.transfer_right", lang, right=right, **fields)


def rupees(value: int | None, lang: str) -> str:
    """``Rs 1,234,567`` / ``۱٬۲۳۴٬۵۶۷ روپے``, or a dash for no value."""
    if value is None:
        return i18n.t("mutations.table.none", lang)
    return i18n.t("mutations.table.price", lang, amount=i18n.number(value, lang))


def khewat_list(group: pd.DataFrame, lang: str) -> str:
    """The khewats of a mutation's lines, once each, as the register numbers them."""
    numbers = dict.fromkeys(str(k) for k in group["khewat_no"])
    return i18n.t("mutations.list_comma", lang).join(i18n.record_number(n, lang) for n in numbers)


def deed_text(first: Any, lang: str) -> str:
    """``D-555 of 5 Mar 2026, Rs 2,000,000``: the deed and the declared price."""
    parts = []
    deed = _cell(first.deed_number)
    if deed:
        parts.append(
            i18n.t(
                "mutations.table.deed_of",
                lang,
                deed=i18n.isolate(deed, lang),
                date=register_date(first.deed_date, lang),
            )
        )
    if not pd.isna(first.consideration_rs):
        parts.append(rupees(int(first.consideration_rs), lang))
    return i18n.t("mutations.list_comma", lang).join(parts) or i18n.t("mutations.table.none", lang)


def pending_table(lines: pd.DataFrame, lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """The pending mutations of :func:`read.mutation_lines`, one row each, headed and
    worded in ``lang``."""
    _ = i18n.Words(lang)
    rows = [
        [
            i18n.record_number(str(first.number), lang),
            word(TYPES, first.type, lang),
            word(STATUSES, first.status, lang),
            register_date(first.entered_on, lang),
            register_date(first.verified_on, lang),
            khewat_list(group, lang),
            "; ".join(transfer(rec, lang) for rec in group.itertuples(index=False)),
            deed_text(first, lang),
        ]
        for first, group in mutation_groups(lines)
    ]
    columns = [
        _("mutations.table.mutation"),
        _("mutations.table.type"),
        _("mutations.table.status"),
        _("mutations.table.entered"),
        _("mutations.table.verified"),
        _("mutations.table.khewat"),
        _("mutations.table.transfers"),
        _("mutations.table.deed"),
    ]
    return pd.DataFrame(rows, columns=columns)


RLI, PDI = "\u2067", "\u2069"
"""Right-to-left isolate: a whole Urdu line kept in its order where the box around it is
set left to right (a select box's chosen value)."""


def pending_choices(lines: pd.DataFrame, lang: str = i18n.DEFAULT) -> dict[int, str]:
    """Mutation id -> ``No. 3 · sale · pending (verified) · khewat 5``; in a right-to-left
    language isolated as a right-to-left line, since the select box shows its value left
    to right and would otherwise reorder the words around the dots."""
    rtl = i18n.rtl(lang)
    return {
        int(first.mutation_id): (RLI if rtl else "")
        + i18n.t(
            "mutations.table.choice",
            lang,
            number=i18n.record_number(str(first.number), lang),
            type=word(TYPES, first.type, lang),
            status=word(STATUSES, first.status, lang),
            khewats=khewat_list(group, lang),
        )
        + (PDI if rtl else "")
        for first, group in mutation_groups(lines)
    }


def _percent(share: float, lang: str, places: int = 0) -> str:
    return i18n.language(lang).percent.format(n=i18n.number(100 * share, lang, places))


def model_note(note: str | None, lang: str) -> tuple[str, str | None]:
    """Why there is no model value, in ``lang``, and the valuation service's own words
    when no key says it (to be shown, never dropped)."""
    if note is None:
        return "", None
    key = MODEL_NOTES.get(note)
    if key is None and note.startswith(MODEL_NO_CLASS):
        key = "mutations.price.model_no_class"
    if key is not None:
        return i18n.t(key, lang), None
    return i18n.t("mutations.price.model_failed", lang), note


def price_rows(check: PriceCheck, lang: str = i18n.DEFAULT) -> list[tuple[str, str, str]]:
    """The price check as (what, rupees, note) rows, for a table that never cuts a
    figure off: the declared price, the DC and model values (each with the declared
    price's share of it), the taxable value, the taxes and what is at stake. Rupees are
    bare grouped numbers (the column is headed "Rs")."""
    _ = i18n.Words(lang)

    def amount(value: int | None) -> str:
        return _("mutations.table.none") if value is None else i18n.number(value, lang)

    dc, model = check.declared_to_dc, check.declared_to_model
    note, _words = model_note(check.model_note, lang)
    rows = [
        (_("mutations.price.declared"), amount(check.declared_rs), ""),
        (_("mutations.price.dc"), amount(check.statutory_rs),
         "" if dc is None else _("mutations.price.share_of", percent=i18n.percent(dc, lang))),
        (_("mutations.price.model"), amount(check.model_rs),
         note or ("" if model is None
                  else _("mutations.price.share_of", percent=i18n.percent(model, lang)))),
    ]  # fmt: skip
    if check.statutory_rs is None:
        return rows
    rows.append((_("mutations.price.taxable"), amount(check.taxable_rs), ""))
    for tax in check.taxes:
        what = _("mutations.price.tax_line", tax=word(TAXES, tax.code, lang),
                 payer=word(PAYERS, tax.payer, lang))  # fmt: skip
        rows.append((what, amount(tax.amount), _percent(float(tax.rate), lang, 2)))
    rows.append((_("mutations.price.tax_total"), amount(check.tax_rs), ""))
    rows.append(
        (_("mutations.price.at_stake"), amount(check.tax_at_stake_rs),
         "" if check.tax_on_declared_rs is None
         else _("mutations.price.on_declared", amount=rupees(check.tax_on_declared_rs, lang)))
    )  # fmt: skip
    if check.tax_if_model_rs:
        rows.append((_("mutations.price.if_model"), amount(check.tax_if_model_rs), ""))
    return rows


def price_warning(check: PriceCheck, lang: str = i18n.DEFAULT) -> str | None:
    """What the sanctioning officer must acknowledge, in words (None: nothing): the
    reasons (:data:`~landgov.records.pricing.REASON_TEXT`, each keyed; the English
    words are the service's own) and the tax at
    stake; the figures are in the table above it."""
    if not check.reasons:
        return None
    _ = i18n.Words(lang)
    why = _("mutations.price.reason_sep").join(word(REASONS, r, lang) for r in check.reasons)
    text = _("mutations.price.warning", why=why)
    if check.tax_at_stake_rs:
        text += " " + _("mutations.price.warning_stake", amount=rupees(check.tax_at_stake_rs, lang))
    return text


def owners_table(
    owners: pd.DataFrame, khewat_no: int, lang: str = i18n.DEFAULT, *, unmasked: bool = False
) -> pd.DataFrame:
    """The owners of one khewat after a sanction, headed and worded in ``lang``: name
    (in Urdu script where the record holds one, for an Urdu page), guardian, CNIC (masked
    unless ``unmasked``), exact share, right and since when."""
    _ = i18n.Words(lang)
    rows = []
    for rec in owners[owners["khewat_no"] == khewat_no].itertuples(index=False):
        name = (_cell(rec.name_ur) if i18n.rtl(lang) else None) or _cell(rec.name) or ""
        if _cell(rec.date_of_death) is not None:
            name = _("mutations.table.died", name=name, date=register_date(rec.date_of_death,
                                                                           lang))  # fmt: skip
        relation, guardian = _cell(rec.guardian_relation), _cell(rec.guardian_name)
        cnic, custodian = _cell(rec.cnic), _cell(rec.custodian)
        if cnic:
            shown_id = i18n.record_number(cnic if unmasked else mask_cnic(cnic), lang)
        elif custodian:
            shown_id = _("mutations.table.state", custodian=custodian.replace("_", " "))
        else:
            shown_id = _("mutations.table.none")
        rows.append([
            name,
            f"{word(RELATIONS_SHORT, relation, lang)} {guardian}" if relation and guardian else "",
            shown_id,
            i18n.fraction(Fraction(as_int(rec.numerator), as_int(rec.denominator)), lang),
            word(RIGHTS, rec.right_type, lang),
            register_date(rec.valid_from, lang),
        ])  # fmt: skip
    columns = [
        _("mutations.table.name"),
        _("mutations.table.guardian"),
        _("mutations.table.cnic"),
        _("mutations.table.share"),
        _("mutations.table.right"),
        _("mutations.table.since"),
    ]
    return pd.DataFrame(rows, columns=columns)
