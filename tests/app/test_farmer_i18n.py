"""The translation catalogue (:mod:`app.shared.i18n`): complete in every language, every
key the dashboard uses is there (and every key there is used), numbers and dates in each
language's convention, and the English texts are the services' own words where a test
or a log compares them. Read on the source and the files: no browser, no database."""

from __future__ import annotations

import ast
import re
from datetime import date
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest
from dashboard_support import ROOT

from app.shared import i18n
from app.shared.signin import NOTICES
from app.views.farmer import evidence
from landgov.advisories.farmer import CODE_FORMAT, CODE_MINUTES, CODE_REFUSED, CODE_SENT
from landgov.advisories.texts import day_month as advisory_day_month
from landgov.advisories.texts import number as advisory_number
from landgov.security.sessions import FAILED

APP = ROOT / "app"
KEY = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")
CALLS = {"_", "t", "Words"}


def sections() -> set[str]:
    return {key.split(".")[0] for key in i18n.catalogue().messages[i18n.DEFAULT]}


def keys_in_source() -> tuple[dict[str, list[str]], list[str]]:
    """Catalogue keys written in app/ (every string literal shaped like a key whose first
    part is a catalogue section: in a ``_()``/``t()`` call or in a table of keys), each
    with where it is; and the ``_()``/``t()`` calls whose key no one can read from the
    source (an f-string or a joined string)."""
    found: dict[str, list[str]] = {}
    unreadable: list[str] = []
    known = sections()
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and KEY.match(node.value)
                and node.value.split(".")[0] in known
            ):
                found.setdefault(node.value, []).append(f"{where}:{node.lineno}")
            if isinstance(node, ast.Call) and node.args:
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                if name in CALLS and isinstance(node.args[0], ast.JoinedStr | ast.BinOp):
                    unreadable.append(f"{where}:{node.lineno}")
    return found, unreadable


def test_every_language_has_every_message_with_the_same_placeholders() -> None:
    cat = i18n.catalogue()
    assert cat.codes == ("en", "ur")
    reference = cat.messages["en"]
    for lang in cat.codes:
        assert cat.messages[lang].keys() == reference.keys()
        for key, text in cat.messages[lang].items():
            assert text.strip(), f"{lang}.toml: {key} is empty"
            assert i18n.fields_of(text) == i18n.fields_of(reference[key]), (lang, key)


def test_every_key_used_in_the_dashboard_is_in_the_catalogue_and_none_is_dead() -> None:
    found, unreadable = keys_in_source()
    assert unreadable == [], (
        "a translated text whose key cannot be read from the source: write the key "
        "whole (a table of keys is fine):\n" + "\n".join(unreadable)
    )
    messages = i18n.catalogue().messages
    for lang, texts in messages.items():
        missing = {k: v for k, v in found.items() if k not in texts}
        assert missing == {}, f"keys used but not in {lang}.toml: {missing}"
    dead = sorted(set(messages[i18n.DEFAULT]) - set(found))
    assert dead == [], f"catalogue keys no code uses: {dead}"


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    """The source scan sees a key in a call and in a table, and flags an f-string key."""
    source = (
        "KINDS = {'a': 'farmer.kind.crop_health'}\n"
        "_(f'farmer.kind.{kind}')\n"
        "t('farmer.title', lang)\n"
        "x = 'app.shared.i18n'\n"
    )
    tree = ast.parse(source)
    literals = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
                and isinstance(n.value, str) and KEY.match(n.value)
                and n.value.split(".")[0] in sections()]  # fmt: skip
    assert literals == ["farmer.kind.crop_health", "farmer.title"]
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and isinstance(n.args[0], ast.JoinedStr)]  # fmt: skip
    assert len(calls) == 1


def _write(folder: Path, name: str, body: str) -> None:
    (folder / name).write_text(body, encoding="utf-8")


META = """[language]
name = "X"
direction = "ltr"
digits = "0123456789"
decimal = "."
group = ","
percent = "{n}%"
months = ["1","2","3","4","5","6","7","8","9","10","11","12"]
date = "{day} {month} {year}"
day_month = "{day} {month}"
"""


@pytest.mark.parametrize(
    ("other", "reason"),
    [
        ('[farmer]\ntitle = "x"\n', "ur.toml: farmer.hello: missing"),
        ('[farmer]\ntitle = "x"\nhello = "{nam}"\nextra = "y"\n', "ur.toml: farmer.extra: not in"),
        ('[farmer]\ntitle = "x"\nhello = "{nam}"\n', "ur.toml: farmer.hello: placeholders"),
        ('[farmer]\ntitle = 3\nhello = "{name}"\n', "ur.toml: farmer.title: a message must"),
        ("[farmer\n", "ur.toml: not TOML"),
    ],
)
def test_a_broken_catalogue_is_refused_naming_file_key_and_reason(
    tmp_path: Path, other: str, reason: str
) -> None:
    _write(tmp_path, "en.toml", META + '[farmer]\ntitle = "Farmer"\nhello = "Hello {name}"\n')
    _write(tmp_path, "ur.toml", META.replace('"ltr"', '"rtl"') + other)
    with pytest.raises(i18n.CatalogueError, match=re.escape(reason)):
        i18n.load(tmp_path)


def test_a_page_has_its_own_file_in_every_language(tmp_path: Path) -> None:
    """Part files (``en.cases.toml``) merge into their language; each language keeps a
    key in the same part, once, and only the language's own file holds its conventions."""
    _write(tmp_path, "en.toml", META + '[farmer]\ntitle = "Farmer"\n')
    _write(tmp_path, "ur.toml", META.replace('"ltr"', '"rtl"') + '[farmer]\ntitle = "ک"\n')
    _write(tmp_path, "en.cases.toml", '[cases]\ntitle = "Cases {n}"\n')
    _write(tmp_path, "ur.cases.toml", '[cases]\ntitle = "مقدمات {n}"\n')
    cat = i18n.load(tmp_path)
    assert cat.messages["ur"] == {"farmer.title": "ک", "cases.title": "مقدمات {n}"}
    refusals = [
        ("ur.cases.toml", '[cases]\ntitle = "x {m}"\n', "ur.cases.toml: cases.title: placeholders"),
        ("ur.cases.toml", '[farmer]\ntitle = "y"\n[cases]\ntitle = "{n}"\n',
         "ur.cases.toml: farmer.title: already in ur.toml"),
        ("ur.cases.toml", META + '[cases]\ntitle = "{n}"\n', "belongs in ur.toml, not in a part"),
    ]  # fmt: skip
    for name, body, reason in refusals:
        _write(tmp_path, name, body)
        with pytest.raises(i18n.CatalogueError, match=re.escape(reason)):
            i18n.load(tmp_path)
    (tmp_path / "ur.cases.toml").unlink()
    with pytest.raises(i18n.CatalogueError, match=re.escape("ur.cases.toml: cases.title: missing")):
        i18n.load(tmp_path)
    _write(tmp_path, "ur.other.toml", '[cases]\ntitle = "{n}"\n')
    with pytest.raises(i18n.CatalogueError, match=re.escape("belongs in ur.cases.toml")):
        i18n.load(tmp_path)
    (tmp_path / "ur.toml").unlink()
    with pytest.raises(i18n.CatalogueError, match=re.escape("ur.other.toml: no ur.toml")):
        i18n.load(tmp_path)


def test_a_language_without_its_conventions_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "en.toml", META.replace('direction = "ltr"', 'direction = "up"'))
    with pytest.raises(i18n.CatalogueError, match=r"en\.toml: language\.direction"):
        i18n.load(tmp_path)
    _write(tmp_path, "en.toml", '[farmer]\ntitle = "x"\n')
    with pytest.raises(i18n.CatalogueError, match=r"en.toml: no \[language\] table"):
        i18n.load(tmp_path)


def test_numbers_and_dates_follow_each_language() -> None:
    """Urdu after Unicode CLDR (locale ur, arabext digits): ۰–۹, ٫ and ٬, the long date
    "d MMMM، y"; the same as the advisory texts the service writes."""
    assert i18n.number(1234.5, "ur", 1) == "۱٬۲۳۴٫۵"
    assert i18n.number(1234.5, "en", 1) == "1,234.5"
    assert i18n.percent(0.876, "ur") == "۸۸%" and i18n.percent(0.876, "en") == "88%"
    day = date(2026, 3, 5)
    assert i18n.long_date(day, "ur") == "۵ مارچ، ۲۰۲۶"
    assert i18n.long_date(day, "en") == "5 Mar 2026"
    months_ur = [i18n.day_month(date(2026, m, 1), "ur").split(" ", 1)[1] for m in range(1, 13)]
    assert months_ur == ["جنوری", "فروری", "مارچ", "اپریل", "مئی", "جون", "جولائی", "اگست",
                         "ستمبر", "اکتوبر", "نومبر", "دسمبر"]  # fmt: skip
    for lang in ("ur", "en"):
        assert i18n.day_month(day, lang) == advisory_day_month(day, lang)
        assert i18n.number(31.25, lang, 2) == advisory_number(31.25, lang, 2)
    assert i18n.record_number("45//12", "ur") == "\u2066۴۵//۱۲\u2069"
    assert i18n.fraction(Fraction(1, 3), "ur") == "\u2066۱/۳\u2069"
    assert i18n.t("farmer.area", "ur", kanal=4, marla=7, sarsai=3) == "۴ کنال ۷ مرلہ ۳ سرسائی"
    assert i18n.ascii_digits("۳۵۴۰۱-١٢٣") == "35401-123"  # Urdu and Arabic keyboards


def test_english_texts_are_the_services_own_words() -> None:
    """Where a service answers in English (for the command line, the logs and the
    tests), the English catalogue says exactly the same."""
    en = i18n.catalogue().messages["en"]
    assert en["farmer.code_sent"] == CODE_SENT
    assert en["farmer.code_format"] == CODE_FORMAT
    assert en["farmer.code_refused"].format(minutes=CODE_MINUTES) == CODE_REFUSED
    assert en["signin.failed"] == FAILED[0].upper() + FAILED[1:] + "."
    for message, key in NOTICES.items():
        assert en[key] == message


def _advisory(kind: str, evidence_: dict[str, object]) -> dict[str, object]:
    return {"kind": kind, "crop": "wheat", "evidence": evidence_}


EVIDENCE = {
    "crop_health": {"date": "2026-03-01", "ndvi": 0.69, "peers_median_ndvi": 0.72,
                    "peers": 245},
    "water_stress": {"date": "2026-03-01", "ndmi_now": 0.08, "ndmi_expected": 0.31,
                     "peers": 40},
    "late_sowing": {"greenup": "2025-12-20", "peers_median_greenup": "2025-11-28",
                    "peers": 30, "days_late": 22},
    "early_senescence": {"end": "2026-03-01", "peers_median_end": "2026-03-20",
                         "peers": 30, "days_early": 19},
    "yield_outlook": {"maunds_per_acre": 31.9, "district_maunds_per_acre": 39.5,
                      "t_ha": 3.15},
    "insufficient_imagery": {"clear": 4, "observations": 25, "clear_recent": 0,
                             "recent_days": 20},
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(EVIDENCE))
def test_every_kind_of_evidence_reads_as_a_sentence_and_draws(kind: str) -> None:
    a = _advisory(kind, EVIDENCE[kind])
    season = (date(2025, 11, 1), date(2026, 4, 30))
    looks = pd.DataFrame(
        {"ndvi": [0.3, 0.5, 0.7], "ndmi": [0.3, 0.2, 0.1]},
        index=pd.Index([date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)], name="date"),
    )
    for lang, script in (("ur", re.compile(r"[A-Za-z]")), ("en", re.compile(r"[؀-ۿ]"))):
        said = evidence.sentence(a, lang)
        assert said != i18n.t("farmer.evidence.general", lang), (kind, lang)
        assert not script.search(said) and "None" not in said, said
        chart = evidence.chart(a, looks[[evidence.index_of(kind)]], season, lang)
        assert chart is not None
        spec = chart.to_json(ensure_ascii=False)
        if kind != "yield_outlook":
            assert i18n.day_month(date(2026, 1, 1), lang) in spec  # the axis's own labels
    ur = evidence.sentence(a, "ur")
    assert not re.search(r"[0-9]", ur), ur  # Urdu digits only


def test_evidence_without_its_numbers_says_so_rather_than_none() -> None:
    a = _advisory("crop_health", {"date": "2026-03-01", "ndvi": None, "peers": 3})
    assert evidence.sentence(a, "en") == i18n.t("farmer.evidence.general", "en")
    assert evidence.chart(_advisory("crop_health", {}), pd.DataFrame(), (date(2025, 11, 1),
                          date(2026, 4, 30)), "en") is None  # fmt: skip
