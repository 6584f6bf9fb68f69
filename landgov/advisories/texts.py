"""Advisory texts in Urdu and English from fixed templates (never free generation).

Each kind of advisory has, per language, an SMS template and a longer dashboard template;
the SMS is written to fit one segment (Urdu is sent as UCS-2: 70 characters; English as
GSM 7-bit: 160). When a filled SMS template would not fit, a shorter fallback of the same
meaning is used; :func:`render` reports the segments either way, so a test (and the
outbox) can see a message that still spills over.

Numbers are written for the reader: yields in maunds per acre (the unit farmers and the
Crop Reporting Service use), dates as "3 Mar" / "۳ مارچ", Urdu text with Urdu (extended
Arabic-Indic) digits; khasra numbers keep their record form with Urdu digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from landgov.advisories.rules import Advisory, Kind
from landgov.domain.sms import SmsSize, sms_size

URDU_DIGITS: Final = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
MONTHS_EN: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                    "Nov", "Dec")  # fmt: skip
MONTHS_UR: Final = ("جنوری", "فروری", "مارچ", "اپریل", "مئی", "جون", "جولائی", "اگست",
                    "ستمبر", "اکتوبر", "نومبر", "دسمبر")  # fmt: skip
CROPS: Final = {
    "wheat": ("wheat", "گندم"),
    "rice": ("rice", "دھان"),
    "cotton": ("cotton", "کپاس"),
    "sugarcane": ("sugarcane", "گنا"),
    "maize": ("maize", "مکئی"),
    "fodder": ("fodder", "چارہ"),
    "orchard": ("orchard", "باغ"),
    "fallow": ("fallow", "خالی"),
    "other": ("another crop", "دوسری فصل"),  # a year model's crop outside the register's list
}
LANGUAGES: Final = ("en", "ur")


def urdu_digits(text: str) -> str:
    return text.translate(URDU_DIGITS)


def day_month(d: date, lang: str) -> str:
    """``3 Mar`` or ``۳ مارچ``."""
    if lang == "ur":
        return urdu_digits(f"{d.day} {MONTHS_UR[d.month - 1]}")
    return f"{d.day} {MONTHS_EN[d.month - 1]}"


def number(x: float, lang: str, digits: int = 0) -> str:
    """``1,234.5`` or ``۱٬۲۳۴٫۵`` (Arabic thousands and decimal separators: with ASCII ones
    the bidirectional algorithm may show an Urdu decimal back to front)."""
    text = f"{x:,.{digits}f}"
    if lang != "ur":
        return text
    return urdu_digits(text.replace(",", "٬").replace(".", "٫"))


LRI, PDI = "\u2066", "\u2069"
"""Left-to-right isolate: a khasra number (``45//12``) reads left to right inside Urdu."""


def crop_name(crop: str, lang: str) -> str:
    en, ur = CROPS.get(crop, (crop, crop))
    return ur if lang == "ur" else en


# (kind, status) -> lang -> (sms, sms fallback, long); {k} khasra, {c} crop, the rest
# from the evidence (already formatted for the language).
TEMPLATES: Final[dict[tuple[str, str], dict[str, tuple[str, str, str]]]] = {
    (Kind.WATER, "stressed"): {
        "en": (
            "Khasra {k} {c}: water stress seen from satellite on {date} (moisture index "
            "{now}, normal {expected}). Irrigate within 3 days if you can.",
            "Khasra {k} {c}: water stress on {date}. Irrigate within 3 days.",
            "Khasra {k} ({c}): on {date} the canopy moisture index (NDMI) was {now}, while "
            "{peers} {c} parcels as green as yours held about {expected}{since}. A green "
            "crop holding this little water is short of it. Irrigate within 3 days if you "
            "can; check your watercourse turn.",
        ),
        "ur": (
            "خسرہ {k} {c}: {date} کو پانی کی کمی۔ ۳ دن میں پانی لگائیں",
            "خسرہ {k}: پانی کی کمی۔ جلد پانی لگائیں",
            "خسرہ {k} ({c}): {date} کو سیٹلائٹ کے مطابق فصل میں نمی کا اشاریہ {now} تھا، "
            "جبکہ اتنی ہی ہری {peers} دوسری فصلوں میں تقریباً {expected}۔ "
            "یہ پانی کی کمی کی علامت ہے۔ "
            "ہو سکے تو ۳ دن میں پانی لگائیں اور اپنی وارہ بندی دیکھیں۔",
        ),
    },
    (Kind.LATE, "late"): {
        "en": (
            "Khasra {k} {c}: sown about {days} days later than nearby {c} (green-up "
            "{greenup}). Expect a later harvest; do not cut fertiliser short.",
            "Khasra {k} {c}: sown {days} days late. Expect a later harvest.",
            "Khasra {k} ({c}): the crop turned green on {greenup}, {days} days after the "
            "middle of {peers} nearby {c} parcels ({peers_greenup}). Late-sown {c} usually "
            "yields less; keep to the full fertiliser and irrigation schedule and expect a "
            "later harvest.",
        ),
        "ur": (
            "خسرہ {k} {c}: بوائی تقریباً {days} دن دیر سے۔ کٹائی بھی دیر سے ہوگی",
            "خسرہ {k}: بوائی {days} دن دیر سے",
            "خسرہ {k} ({c}): فصل {greenup} کو ہری ہوئی، آس پاس کے {peers} کھیتوں سے {days} دن "
            "بعد ({peers_greenup})۔ دیر سے بوئی گئی فصل کی پیداوار عموماً کم ہوتی ہے؛ کھاد اور "
            "پانی پورا دیں اور کٹائی دیر سے متوقع رکھیں۔",
        ),
    },
    (Kind.EARLY, "early"): {
        "en": (
            "Khasra {k} {c}: drying {days} days earlier than nearby {c} (from {end}). "
            "Check for heat, water or disease.",
            "Khasra {k} {c}: drying {days} days early. Check the crop.",
            "Khasra {k} ({c}): the crop began to dry on {end}, {days} days before the "
            "middle of {peers} nearby {c} parcels ({peers_end}). Early drying can come from "
            "heat, lack of water or disease; please inspect the field.",
        ),
        "ur": (
            "خسرہ {k} {c}: فصل {days} دن پہلے سوکھ رہی ہے۔ پانی یا بیماری دیکھیں",
            "خسرہ {k}: فصل جلد سوکھ رہی ہے",
            "خسرہ {k} ({c}): فصل {end} سے سوکھنے لگی، آس پاس کے {peers} کھیتوں سے {days} دن "
            "پہلے ({peers_end})۔ اس کی وجہ گرمی، پانی کی کمی یا بیماری ہو سکتی ہے؛ کھیت دیکھ لیں۔",
        ),
    },
    (Kind.HEALTH, "poor"): {
        "en": (
            "Khasra {k} {c}: weaker than nearby {c} on {date} (greenness {ndvi}, "
            "others {peers_ndvi}). Check water, fertiliser and pests.",
            "Khasra {k} {c}: weaker than nearby fields. Check the crop.",
            "Khasra {k} ({c}): on {date} the greenness index (NDVI) was {ndvi} against a "
            "middle value of {peers_ndvi} for {peers} nearby {c} parcels{history}. Please "
            "check water, fertiliser and pests.",
        ),
        "ur": (
            "خسرہ {k} {c}: {date} کو فصل آس پاس سے کمزور۔ پانی، کھاد، کیڑے دیکھیں",
            "خسرہ {k}: فصل کمزور ہے۔ کھیت دیکھیں",
            "خسرہ {k} ({c}): {date} کو ہریالی کا اشاریہ {ndvi} تھا جبکہ آس پاس کے {peers} "
            "کھیتوں کا درمیانی اشاریہ {peers_ndvi} تھا۔ پانی، کھاد اور کیڑوں کو دیکھ لیں۔",
        ),
    },
    (Kind.HEALTH, "normal"): {
        "en": (
            "Khasra {k} {c}: growing like nearby {c} on {date} (greenness {ndvi}).",
            "Khasra {k} {c}: growing normally.",
            "Khasra {k} ({c}): on {date} the greenness index (NDVI) was {ndvi}, in line with "
            "{peers} nearby {c} parcels (middle value {peers_ndvi}){history}.",
        ),
        "ur": (
            "خسرہ {k} {c}: {date} کو فصل آس پاس جیسی ٹھیک ہے",
            "خسرہ {k}: فصل ٹھیک ہے",
            "خسرہ {k} ({c}): {date} کو ہریالی کا اشاریہ {ndvi} تھا، آس پاس کے {peers} "
            "کھیتوں جیسا (درمیانی {peers_ndvi})۔",
        ),
    },
    (Kind.HEALTH, "good"): {
        "en": (
            "Khasra {k} {c}: greener than nearby {c} on {date} (greenness {ndvi}). Well done.",
            "Khasra {k} {c}: better than nearby fields.",
            "Khasra {k} ({c}): on {date} the greenness index (NDVI) was {ndvi}, above the "
            "middle value {peers_ndvi} of {peers} nearby {c} parcels{history}.",
        ),
        "ur": (
            "خسرہ {k} {c}: {date} کو فصل آس پاس سے بہتر ہے",
            "خسرہ {k}: فصل بہتر ہے",
            "خسرہ {k} ({c}): {date} کو ہریالی کا اشاریہ {ndvi} تھا، آس پاس کے {peers} "
            "کھیتوں کے درمیانی {peers_ndvi} سے زیادہ۔",
        ),
    },
    (Kind.YIELD, "below"): {
        "en": (
            "Khasra {k} {c}: expected about {md} maunds/acre, district average {dmd}.",
            "Khasra {k} {c}: about {md} maunds/acre expected.",
            "Khasra {k} ({c}): the yield model expects about {md} maunds per acre "
            "({tha} t/ha), below the district average of {dmd} maunds per acre.",
        ),
        "ur": (
            "خسرہ {k} {c}: متوقع پیداوار {md} من فی ایکڑ، ضلع اوسط {dmd}",
            "خسرہ {k}: متوقع {md} من فی ایکڑ",
            "خسرہ {k} ({c}): اندازہ ہے کہ پیداوار تقریباً {md} من فی ایکڑ ہوگی، جو ضلع کی "
            "اوسط {dmd} من فی ایکڑ سے کم ہے۔",
        ),
    },
    (Kind.INSUFFICIENT, ""): {
        "en": (
            "Khasra {k}: not enough clear satellite images this season ({clear} of {n}) "
            "to advise. We will try again.",
            "Khasra {k}: not enough clear imagery to advise.",
            "Khasra {k}: clouds left only {clear} of {n} satellite looks clear this season "
            "({recent} in the last {days} days; last clear {last}). That is not enough to "
            "say how the crop is doing, so we give no advice rather than guess.",
        ),
        "ur": (
            "خسرہ {k}: بادلوں کی وجہ سے تصویریں کم۔ ابھی مشورہ ممکن نہیں",
            "خسرہ {k}: تصویریں کم، مشورہ ممکن نہیں",
            "خسرہ {k}: اس موسم میں سیٹلائٹ کی {n} میں سے صرف {clear} تصویریں صاف تھیں "
            "(پچھلے {days} دن میں {recent})۔ اتنی معلومات پر فصل کا حال بتانا ممکن نہیں، "
            "اس لیے اندازہ لگانے کی بجائے ہم کوئی مشورہ نہیں دے رہے۔",
        ),
    },
}
TEMPLATES[(Kind.YIELD, "near")] = {
    "en": (
        "Khasra {k} {c}: expected about {md} maunds/acre, near the district average {dmd}.",
        "Khasra {k} {c}: about {md} maunds/acre expected.",
        "Khasra {k} ({c}): the yield model expects about {md} maunds per acre ({tha} t/ha), "
        "close to the district average of {dmd} maunds per acre.",
    ),
    "ur": (
        "خسرہ {k} {c}: متوقع پیداوار {md} من فی ایکڑ، ضلع اوسط کے قریب",
        "خسرہ {k}: متوقع {md} من فی ایکڑ",
        "خسرہ {k} ({c}): اندازہ ہے کہ پیداوار تقریباً {md} من فی ایکڑ ہوگی، ضلع کی اوسط "
        "{dmd} من فی ایکڑ کے قریب۔",
    ),
}
TEMPLATES[(Kind.YIELD, "above")] = {
    "en": (
        "Khasra {k} {c}: expected about {md} maunds/acre, above the district average {dmd}.",
        "Khasra {k} {c}: about {md} maunds/acre expected.",
        "Khasra {k} ({c}): the yield model expects about {md} maunds per acre ({tha} t/ha), "
        "above the district average of {dmd} maunds per acre.",
    ),
    "ur": (
        "خسرہ {k} {c}: متوقع پیداوار {md} من فی ایکڑ، ضلع اوسط سے زیادہ",
        "خسرہ {k}: متوقع {md} من فی ایکڑ",
        "خسرہ {k} ({c}): اندازہ ہے کہ پیداوار تقریباً {md} من فی ایکڑ ہوگی، ضلع کی اوسط "
        "{dmd} من فی ایکڑ سے زیادہ۔",
    ),
}


@dataclass(frozen=True)
class Text:
    """One advisory in one language: the SMS, its size, and the dashboard text."""

    lang: str
    sms: str
    size: SmsSize
    long: str


def _fields(a: Advisory, khasra: str, crop: str, lang: str) -> dict[str, Any]:
    e = a.evidence

    def d(key: str) -> str:
        value = e.get(key)
        return "?" if value is None else day_month(date.fromisoformat(str(value)), lang)

    def n(key: str, digits: int = 0) -> str:
        value = e.get(key)
        return "?" if value is None else number(float(value), lang, digits)

    k = f"{LRI}{urdu_digits(khasra)}{PDI}" if lang == "ur" else khasra
    f: dict[str, Any] = {"k": k, "c": crop_name(crop, lang)}
    if a.kind is Kind.WATER:
        since = ""
        if lang == "en" and e.get("ndmi_drop") is not None and e.get("since"):
            since = f"; yours fell {float(e['ndmi_drop']):.2f} since {d('since')}"
        f |= {"date": d("date"), "now": n("ndmi_now", 2), "expected": n("ndmi_expected", 2),
              "peers": n("peers"), "since": since}  # fmt: skip
    elif a.kind is Kind.LATE:
        f |= {"days": n("days_late"), "greenup": d("greenup"),
              "peers_greenup": d("peers_median_greenup"), "peers": n("peers")}  # fmt: skip
    elif a.kind is Kind.EARLY:
        f |= {"days": n("days_early"), "end": d("end"), "peers_end": d("peers_median_end"),
              "peers": n("peers")}  # fmt: skip
    elif a.kind is Kind.HEALTH:
        hist = e.get("vs_own_history")
        history = ""
        if hist is not None and lang == "en":
            history = f"; {abs(hist):.2f} {'above' if hist >= 0 else 'below'} its own past seasons"
        f |= {"date": d("date"), "ndvi": n("ndvi", 2), "peers_ndvi": n("peers_median_ndvi", 2),
              "peers": n("peers"), "history": history}  # fmt: skip
    elif a.kind is Kind.YIELD:
        f |= {"md": n("maunds_per_acre"), "dmd": n("district_maunds_per_acre"),
              "tha": n("t_ha", 2)}  # fmt: skip
    elif a.kind is Kind.INSUFFICIENT:
        f |= {"clear": n("clear"), "n": n("observations"), "recent": n("clear_recent"),
              "days": n("recent_days"), "last": d("last_clear")}  # fmt: skip
    return f


def render(a: Advisory, khasra: str, crop: str, lang: str) -> Text:
    """The SMS (one segment where the template allows) and dashboard text of ``a``."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: one of {', '.join(LANGUAGES)}")
    key = (a.kind, a.status if a.kind is not Kind.INSUFFICIENT else "")
    if key not in TEMPLATES:
        raise ValueError(f"no template for {a.kind} {a.status!r}")
    sms_t, short_t, long_t = TEMPLATES[key][lang]
    f = _fields(a, khasra, crop, lang)
    sms = sms_t.format(**f)
    size = sms_size(sms)
    if not size.single:
        sms = short_t.format(**f)
        size = sms_size(sms)
    return Text(lang, sms, size, long_t.format(**f))
