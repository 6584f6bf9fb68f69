"""Advisory texts: every template in both languages, one SMS segment, readers' numbers."""

from __future__ import annotations

from datetime import date

import pytest

from landgov.advisories.rules import Advisory, Kind, Level
from landgov.advisories.texts import TEMPLATES, day_month, number, render, urdu_digits
from landgov.domain.sms import Encoding

# the longest values a demo message can carry
EVIDENCE = {
    Kind.WATER: ("stressed", {"ndmi_drop": 0.18, "ndmi_now": 0.12, "since": "2026-02-10",
                              "date": "2026-02-27", "ndmi_expected": 0.31, "deficit": 0.19,
                              "peers": 412}),
    Kind.LATE: ("late", {"greenup": "2026-01-28", "peers_median_greenup": "2025-12-30",
                         "days_late": 29, "peers": 412}),
    Kind.EARLY: ("early", {"end": "2026-03-01", "peers_median_end": "2026-03-27",
                           "days_early": 26, "peers": 412}),
    Kind.YIELD: ("below", {"t_ha": 2.45, "maunds_per_acre": 24.8, "district_t_ha": 3.52,
                           "district_maunds_per_acre": 35.6}),
    Kind.INSUFFICIENT: ("", {"observations": 36, "clear": 11, "clear_recent": 0,
                             "recent_days": 20, "last_clear": "2026-01-30"}),
}  # fmt: skip
HEALTH = {"date": "2026-02-27", "ndvi": 0.55, "peers_median_ndvi": 0.79, "peers": 412,
          "vs_own_history": -0.21}  # fmt: skip


def cases() -> list[tuple[Advisory, str]]:
    out = []
    for kind, status in TEMPLATES:
        evidence = HEALTH if kind is Kind.HEALTH else EVIDENCE[kind][1]
        out.append((Advisory(kind, Level.WARNING, 0.9, evidence, status), f"{kind}:{status}"))
    return out


@pytest.mark.parametrize("lang", ["en", "ur"])
@pytest.mark.parametrize(("advisory", "label"), cases(), ids=[c[1] for c in cases()])
def test_every_template_fits_one_sms(advisory: Advisory, label: str, lang: str) -> None:
    text = render(advisory, "123//25/12", "sugarcane", lang)
    assert text.size.segments == 1, (label, lang, text.sms, text.size)
    assert "{" not in text.sms + text.long and "?" not in text.sms + text.long
    if lang == "ur":
        assert text.size.encoding is Encoding.UCS2 and text.size.units <= 70
        assert "\u2066۱۲۳//۲۵/۱۲\u2069" in text.sms
        assert not any(c.isascii() and c.isalpha() for c in text.sms)
    else:
        assert text.size.encoding is Encoding.GSM7 and text.size.units <= 160
        assert "123//25/12" in text.sms
    assert len(text.long) > len(text.sms)


def test_water_stress_says_what_and_when() -> None:
    a = Advisory(Kind.WATER, Level.WARNING, 0.8, EVIDENCE[Kind.WATER][1], "stressed")
    en, ur = render(a, "45//12", "wheat", "en"), render(a, "45//12", "wheat", "ur")
    assert en.sms.startswith("Khasra 45//12 wheat: water stress") and "27 Feb" in en.sms
    assert "Irrigate within 3 days" in en.sms
    assert ur.sms.startswith("خسرہ \u2066۴۵//۱۲\u2069 گندم") and "۲۷ فروری" in ur.sms
    assert "was 0.12, while 412 wheat parcels as green as yours held about 0.31" in en.long
    assert "fell 0.18 since 10 Feb" in en.long


def test_yield_in_maunds() -> None:
    a = Advisory(Kind.YIELD, Level.WARNING, 0.8, EVIDENCE[Kind.YIELD][1], "below")
    assert "about 25 maunds/acre, district average 36" in render(a, "7//3", "wheat", "en").sms
    assert "۲۵ من فی ایکڑ" in render(a, "7//3", "wheat", "ur").sms


def test_readers_numbers_and_dates() -> None:
    assert urdu_digits("45//12") == "۴۵//۱۲"
    assert day_month(date(2026, 3, 3), "en") == "3 Mar"
    assert day_month(date(2026, 3, 3), "ur") == "۳ مارچ"
    assert number(1234.5, "en", 1) == "1,234.5" and number(1234.5, "ur", 1) == "۱٬۲۳۴٫۵"
    with pytest.raises(ValueError, match="language 'fr'"):
        render(
            Advisory(Kind.YIELD, Level.INFO, 1, EVIDENCE[Kind.YIELD][1], "below"),
            "1",
            "wheat",
            "fr",
        )
