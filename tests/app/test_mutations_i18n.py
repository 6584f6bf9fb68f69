"""The Mutations page in Urdu and in English (issue 19, point 5): the entry form with the
new-party form, a pending mutation to verify, a sale with its price check, a refusal and
the confirmations, every word from the catalogue, amounts and dates in the language's
digits; and the refusals of the records engine keyed by their rule.

Words the page shows that are the record's own (the tiny mouza's Latin names, a deed
number) are named below and only they may stay in another script. The frame around the
page (sidebar, navigation) is the frame's test (tests/app/test_officer_i18n.py); here the
main area is read.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from dashboard_support import ROOT, TinyHistory, sign_in
from i18n_support import bare, untranslated
from security_support import officer_actor
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest
from test_mutation_forms import _load_dc_rates, decide, enter_sale, history, mutation_row, ok

from app.shared import i18n
from app.views.mutations import data, forms
from landgov.errors import SanctionRefused
from landgov.records.pricing import REASON_TEXT, price_check

__all__ = ["history"]  # the fixture, shared with test_mutation_forms

RECORD = (
    # the tiny mouza, its tehsil, parties and officers as the record holds them (Latin),
    "Kot Test", "Raiwind", "Ahmad Khan", "Bashir Khan", "Bilal Ahmad", "Rashid Ahmad",
    "Fatima Bibi", "Shafqat Hussain", "Nasir Ali", "Tariq Mehmood",
    # the pending deed, and what these tests type: a deed number, a new buyer
    "D-404", "D-555", "Imran Ali", "Akbar Ali",
)  # fmt: skip
LATIN = re.compile(r"[A-Za-z]")


def page(engine: Engine, history: TinyHistory, designation: str, lang: str) -> AppTest:
    """The Mutations page in ``lang`` (``?lang=``) for the tiny mouza's officer of
    ``designation``."""
    at = sign_in(engine, officer_actor(engine, history.officers[designation]))
    at.query_params["lang"] = lang
    at.switch_page("views/mutations/view.py").run()
    ok(at)
    return at


def left_in_latin(at: AppTest) -> list[str]:
    """The main area's Urdu-page texts that hold Latin letters once the record's own
    words (:data:`RECORD`) are taken out."""
    out = []
    for shown in untranslated(at.main, "ur"):
        rest = bare(shown)
        for value in RECORD:
            rest = rest.replace(value, " ")
        if LATIN.search(rest):
            out.append(shown)
    return out


def test_the_entry_form_and_the_queue_speak_urdu(history: TinyHistory, engine: Engine) -> None:
    at = page(engine, history, "patwari", "ur")
    assert [el.value for el in at.title] == ["انتقالات"]
    assert left_in_latin(at) == []
    # the entry form, the new-party form and the pending queue are all drawn (tabs)
    assert at.text_input(key="party_cnic").label == "شناختی کارڈ نمبر"
    assert at.text_input(key="line_0_from").label == "منتقل کنندہ کا شناختی کارڈ نمبر"
    assert at.selectbox(key="enter_type").format_func("gift") == "ہبہ"
    (pending,) = [f.value for f in at.dataframe]
    assert list(pending.columns)[:2] == ["انتقال نمبر", "نوعیت"]
    assert [bare(n) for n in pending["انتقال نمبر"]] == ["۴"]  # Urdu digits, left to right
    assert (
        bare(pending["منتقلی"][0])
        == "Ahmad Khan ولد Bashir Khan سے Bilal Ahmad ولد Rashid Ahmad کو ۱/۱۲"
    )

    # a new buyer registered with a CNIC typed in Urdu digits
    at.text_input(key="party_name").input("Imran Ali")
    at.text_input(key="party_guardian").input("Akbar Ali")
    at.text_input(key="party_cnic").input("۳۵۴۰۴-۷۶۵۴۳۲۱-۷")
    at.button(key="party_submit").click().run()
    ok(at)
    assert not at.error, [e.value for e in at.error]
    (success,) = [bare(el.value) for el in at.success]
    assert success.startswith("Imran Ali ولد Akbar Ali، شناختی کارڈ نمبر ۳۵۴۰۴-۷۶۵۴۳۲۱-۷")
    assert at.text_input(key="line_0_to").value == "35404-7654321-7"  # filled in, as stored
    assert left_in_latin(at) == []

    # the sale, entered in Urdu: the confirmation with an Urdu date
    at = enter_sale(at, seller=history.mouza.cnics[1], buyer="35404-7654321-7", share="۱/۳")
    (success,) = [bare(el.value) for el in at.success]
    today = i18n.long_date(date.today(), "ur")
    assert success.startswith(f"انتقال نمبر ۵ (بیع) بتاریخ {today} درج ہو گیا")
    assert mutation_row(engine, 5)[0] == "entered"
    assert left_in_latin(at) == []


def test_a_sale_its_price_check_and_a_refusal_in_urdu(
    history: TinyHistory, engine: Engine, tmp_path: Path
) -> None:
    _load_dc_rates(engine, tmp_path)
    enter_sale(page(engine, history, "patwari", "ur"), seller=history.mouza.cnics[1],
               buyer=history.buyer_cnic, share="1/3", price=100_000)  # fmt: skip
    with engine.connect() as conn:
        check = price_check(conn, 5)
    assert check is not None and check.statutory_rs and check.tax_at_stake_rs

    # the verifier: the pending mutation, its price check in rupees with Urdu digits
    at = page(engine, history, "girdawar", "ur")
    at.selectbox(key=forms.PENDING_KEY).set_value(5).run()
    ok(at)
    shown = " ".join(bare(el.value) for el in at.markdown)
    assert "قیمت کی جانچ" in shown
    assert i18n.number(check.statutory_rs, "ur") in shown
    assert i18n.number(check.tax_at_stake_rs, "ur") in shown
    assert "اسٹامپ ڈیوٹی (خریدار)" in shown
    assert i18n.t("mutations.price.no_model", "ur") in shown  # the service's note, keyed
    (warning,) = [el.value for el in at.warning]
    assert "قیمت ڈی سی ریٹ سے کم ظاہر کی گئی" in warning
    assert at.button(key="verify_submit").label == "تصدیق کریں"
    assert left_in_latin(at) == []
    at = decide(at, "verify")
    (success,) = [bare(el.value) for el in at.success]
    assert success == (
        f"انتقال نمبر ۵ کی تصدیق {i18n.long_date(date.today(), 'ur')} کو Nasir Ali (گرداور) نے کی۔"
    )
    assert left_in_latin(at) == []

    # the sanctioning officer: refused (the record's rule, in Urdu), then acknowledged
    at = page(engine, history, "tehsildar", "ur")
    at.selectbox(key=forms.PENDING_KEY).set_value(5).run()
    at = decide(at, "reject")  # no reason given: the page's own check, in Urdu
    (error,) = [el.value for el in at.error]
    assert "نامنظوری کی وجہ لکھیں" in error
    assert left_in_latin(at) == []
    at = decide(at, "sanction")
    (error,) = [el.value for el in at.error]
    assert i18n.t("mutations.rule.under_declared_price", "ur") in error
    assert "under_declared_price" not in error  # no identifier, no English
    assert mutation_row(engine, 5)[0] == "verified"
    assert left_in_latin(at) == []
    at.checkbox(key="sanction_ack").check()
    at.text_input(key="sanction_note").input("ٹیکس ڈی سی ریٹ پر وصول ہوا")
    at = decide(at, "sanction")
    assert not at.error, [el.value for el in at.error]
    (success,) = [el.value for el in at.success]
    assert "کم ظاہر کردہ قیمت کا اقرار درج کر لیا گیا۔" in success
    assert mutation_row(engine, 5)[0] == "sanctioned"
    # the new owners, headed in Urdu
    (owners,) = [f.value for f in at.dataframe if "کھیوٹ میں حصہ" in f.value.columns]
    assert sorted(bare(s) for s in owners["کھیوٹ میں حصہ"]) == ["۱/۲", "۱/۳", "۱/۶"]
    assert left_in_latin(at) == []


def test_the_same_pages_in_english_have_no_urdu(
    history: TinyHistory, engine: Engine, tmp_path: Path
) -> None:
    _load_dc_rates(engine, tmp_path)
    at = page(engine, history, "patwari", "en")
    assert untranslated(at.main, "en") == []
    enter_sale(at, seller=history.mouza.cnics[1], buyer=history.buyer_cnic, share="1/3",
               price=100_000)  # fmt: skip
    assert untranslated(at.main, "en") == []
    at = page(engine, history, "girdawar", "en")
    at.selectbox(key=forms.PENDING_KEY).set_value(5).run()
    assert [el.value for el in at.warning]  # the price check is drawn
    assert untranslated(at.main, "en") == []


def test_every_rule_the_records_engine_refuses_by_has_its_words() -> None:
    """Each rule id the engine raises (read from its source) is keyed, so no refusal
    reaches an Urdu page as an identifier and English words."""
    raised: set[str] = set()
    for path in [*(ROOT / "landgov" / "records").glob("*.py"), ROOT / "landgov/domain/ledger.py"]:
        raised |= set(re.findall(r'(?:_refuse|SanctionRefused)\(\s*"([a-z_]+)"', path.read_text()))
    assert "under_declared_price" in raised and "transferor_holds_share" in raised
    assert raised <= set(forms.RULES), sorted(raised - set(forms.RULES))
    for rule in forms.RULES:
        said = forms.refusal_text(SanctionRefused(rule, "the engine's words"), "ur")
        assert not LATIN.search(said), (rule, said)
    unknown = forms.refusal_text(SanctionRefused("new_rule", "the engine's words"), "ur")
    assert "the engine's words" in unknown  # said generically, its words kept: never silent


def test_the_english_words_of_the_price_reasons_are_the_services() -> None:
    """The warning's English is what ``landgov mutation`` and the audit row say."""
    for code, text in REASON_TEXT.items():
        assert i18n.t(data.REASONS[code], "en") == text


def test_a_price_check_without_values_says_why_in_urdu_and_keeps_the_services_words() -> None:
    """No DC rate, no model: the rows are Urdu; a note no key says is shown generically
    and its English words are handed back for the caption, never dropped."""
    from landgov.records.pricing import PriceCheck

    unvalued = PriceCheck(1, 5, "Kot Test", date(2026, 3, 5), 1_250_000,
                          unvalued="no DC rate in force for khasra 11 on 2026-03-05")  # fmt: skip
    rows = data.price_rows(unvalued, "ur")
    assert rows[0] == ("ظاہر کردہ قیمت (زرِ ثمن)", "۱٬۲۵۰٬۰۰۰", "")
    assert not [r for r in rows if LATIN.search(" ".join(r))]
    assert data.price_warning(unvalued, "ur") is None
    no_model = "مالیت کا کوئی ماڈل ابھی تیار نہیں کیا گیا"
    assert data.model_note(data.NO_MODEL, "ur") == (no_model, None)
    said, words = data.model_note("no model value: the set is stale", "ur")
    assert not LATIN.search(said) and words == "no model value: the set is stale"
