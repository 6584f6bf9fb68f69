"""The fard's PDF: what a fard shows, in English and Urdu, and how it is laid out.

What a fard shows
    A header (Government of the Punjab, Board of Revenue; marked as a demonstration
    record), district, tehsil and mouza, the date of the record (``as_of``), the issue
    time (Pakistan time), then either

    * a *person* fard: the owner with guardian (s/o, d/o, w/o) and full CNIC (a fard is
      issued to the owner), and every right they hold in every khewat of every mouza:
      khewat, khasras, khewat area, exact share ``n/d``, right type, since-date and
      mutation, and the area the share stands for in K-M-S and m²; or
    * a *khewat* fard: the khewat's khasras with areas, and every right in force with
      the holder, exact share, right type and since-date. Co-owners' CNICs are masked
      (``35401-*******-1``): a khewat fard goes to one owner, who should not learn the
      others' numbers; each owner can get a person fard with their own full CNIC.

    The Urdu version is laid out right to left with Urdu labels, Urdu names where the
    record has them (``party.name_ur``; a guardian's name, recorded in Latin only, takes
    the Urdu spelling other parties of that name carry), in Noto Nastaliq Urdu with
    HarfBuzz shaping (joined letters, right-to-left runs). Numbers, CNICs, khasra numbers
    and dates stay in Western digits inside left-to-right isolates, so ``45//12/1`` and
    ``4-7-3`` are never reversed.

Content, then layout
    A fard is built in two steps: the holding (:mod:`landgov.records.rights`) becomes a
    *content model* (a subtitle, facts and sections of tables and paragraphs, every
    piece of text held in both languages), then each language's pages are drawn from
    that one model. So the English and Urdu pages cannot say different things, and the
    layout code knows nothing about khewats or shares. Rendering reads no database and
    writes no file: :func:`render_fard` returns an unsaved PDF, which
    :func:`landgov.records.fard.issue_fard` writes and registers. The verification code
    it prints is computed by :mod:`landgov.records.fard`; :func:`short_code` (its
    printed form) lives here because the page prints it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from typing import Final, Literal

from fpdf import FPDF
from fpdf.enums import TableBordersLayout
from fpdf.fonts import FontFace

from landgov.domain import format_kms, format_share, mask_cnic
from landgov.records.fonts import FardFonts, fard_fonts
from landgov.records.rights import (
    RELATION_EN,
    Holder,
    KhewatHolding,
    PersonHolding,
    Right,
)
from landgov.records.snapshot import decimal_text

__all__ = [
    "LANGUAGES",
    "PKT",
    "SHORT_CODE_HEX",
    "Language",
    "guardian_names",
    "ltr",
    "render_fard",
    "short_code",
]

Language = Literal["en", "ur", "both"]
LANGUAGES: Final = ("en", "ur", "both")

PKT: Final = timezone(timedelta(hours=5), "PKT")
"""Pakistan Standard Time (UTC+5, no daylight saving): the issue time printed."""

SHORT_CODE_HEX: Final = 12
"""Hex digits of the code printed as the short code."""

LRI: Final = "\u2066"  # left-to-right isolate
THIN_SPACE: Final = "\u2004"  # the Nastaliq font's own space is too narrow for Latin text
PDI: Final = "\u2069"


# --- Urdu vocabulary ---------------------------------------------------------------------

RELATION_UR: Final = {"son_of": "ولد", "daughter_of": "دختر", "wife_of": "زوجہ"}
LAND_CLASS_UR: Final = {
    "nehri": "نہری",
    "chahi": "چاہی",
    "barani": "بارانی",
    "banjar": "بنجر",
    "ghair_mumkin": "غیر ممکن",
    "abadi": "آبادی",
    "shamlat": "شاملات",
    "forest": "جنگل",
}
RIGHT_UR: Final = {
    "ownership": "ملکیت",
    "mortgage_with_possession": "رہن با قبضہ",
    "mortgage_without_possession": "رہن بلا قبضہ",
    "lease": "اجارہ",
}


def ltr(value: object) -> str:
    """``value`` as a left-to-right isolate, for numbers and Latin text in Urdu lines.

    Without it the bidi algorithm of a right-to-left paragraph reverses ``45//12/1``
    into ``1/12//45`` and ``4-7-3`` into ``3-7-4``. Spaces become three-per-em spaces:
    Noto Nastaliq's own space is hardly visible between Latin words.
    """
    return f"{LRI}{str(value).replace(' ', THIN_SPACE)}{PDI}"


def short_code(code: str) -> str:
    """The printed short form of a code: its first 12 hex digits, ``ABCD-EFGH-IJKL``."""
    head = code[:SHORT_CODE_HEX].upper()
    return "-".join(head[i : i + 4] for i in range(0, SHORT_CODE_HEX, 4))


# --- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    """One piece of text in both languages (``ur`` already has its LTR isolates)."""

    en: str
    ur: str

    def get(self, rtl: bool) -> str:
        return self.ur if rtl else self.en


@dataclass(frozen=True)
class _Table:
    title: _Text
    widths: tuple[float, ...]
    headings: tuple[_Text, ...]
    rows: tuple[tuple[_Text, ...], ...]


@dataclass(frozen=True)
class _Content:
    subtitle: _Text
    facts: tuple[tuple[_Text, _Text], ...]
    sections: tuple[_Table | _Text, ...]


def _same(value: object) -> _Text:
    """A number or code: the same in both languages."""
    return _Text(str(value), ltr(value))


def guardian_names(holding: PersonHolding | KhewatHolding) -> list[str]:
    """The guardians' names the fard of ``holding`` prints: recorded in Latin only, their
    Urdu spellings are looked up (``urdu_names`` of :func:`render_fard`) before rendering.
    """
    holders = (
        [holding.person]
        if isinstance(holding, PersonHolding)
        else [r.holder for r in holding.rights]
    )
    return [h.guardian_name for h in holders if h.guardian_name]


def _holder_text(holder: Holder, urdu_names: Mapping[str, str]) -> _Text:
    name_ur = holder.name_ur or ltr(holder.name)
    if holder.guardian_relation and holder.guardian_name:
        guardian = holder.guardian_name
        guardian_ur = urdu_names.get(guardian) or ltr(guardian)
        return _Text(
            f"{holder.name} {RELATION_EN[holder.guardian_relation]} {guardian}",
            f"{name_ur} {RELATION_UR[holder.guardian_relation]} {guardian_ur}",
        )
    return _Text(holder.name, name_ur)


def _right_text(right: Right) -> _Text:
    return _Text(right.right_type.value.replace("_", " "), RIGHT_UR[right.right_type.value])


def _mutation_text(right: Right) -> _Text:
    if right.mutation_no is None:
        return _Text("settlement", "بندوبست")
    return _same(right.mutation_no)


def _m2(value: Fraction) -> _Text:
    return _same(decimal_text(value))


def _mouza_facts(holding: KhewatHolding) -> tuple[tuple[_Text, _Text], ...]:
    m = holding.mouza
    return (
        (
            _Text("District", "ضلع"),
            _Text(m.district or "-", m.district_ur or ltr(m.district or "-")),
        ),
        (_Text("Tehsil", "تحصیل"), _Text(m.tehsil, m.tehsil_ur or ltr(m.tehsil))),
        (
            _Text("Mouza", "موضع"),
            _Text(
                f"{m.name} (hadbast {m.hadbast_number})",
                f"{m.name_ur or ltr(m.name)} (حد بست {ltr(m.hadbast_number)})",
            ),
        ),
    )


def _khewat_content(holding: KhewatHolding, urdu_names: Mapping[str, str]) -> _Content:
    prev = holding.previous_no
    khewat = _Text(
        f"{holding.khewat_no}" + (f" (previous khewat {prev})" if prev else ""),
        ltr(holding.khewat_no) + (f" (سابقہ کھیوٹ {ltr(prev)})" if prev else ""),
    )
    facts = (
        *_mouza_facts(holding),
        (_Text("Khewat", "کھیوٹ نمبر"), khewat),
        (
            _Text("Total area", "کل رقبہ"),
            _Text(
                f"{format_kms(holding.area_kms)} (kanal-marla-sarsai), "
                f"{decimal_text(holding.area_m2)} m²",
                f"{ltr(format_kms(holding.area_kms))} (کنال-مرلہ-سرسائی)، "
                f"{ltr(decimal_text(holding.area_m2))} مربع میٹر",
            ),
        ),
    )
    khasras = _Table(
        title=_Text("Khasras of the khewat", "خسرہ جات کھیوٹ"),
        widths=(30, 30, 40, 40, 40),
        headings=(
            _Text("Khasra", "خسرہ نمبر"),
            _Text("Land class", "قسم زمین"),
            _Text("Area (K-M-S)", "رقبہ (ک-م-س)"),
            _Text("Area (m²)", "رقبہ (مربع میٹر)"),
            _Text("Held since", "از تاریخ"),
        ),
        rows=tuple(
            (
                _same(k.number),
                _Text(k.land_class.replace("_", " "), LAND_CLASS_UR[k.land_class]),
                _same(format_kms(k.area_kms)),
                _m2(k.area_m2),
                _same(k.since.isoformat()),
            )
            for k in holding.khasras
        ),
    )
    rights = _Table(
        title=_Text("Owners and other rights", "مالکان و دیگر حقدار"),
        widths=(62, 32, 20, 28, 22, 16),
        headings=(
            _Text("Holder", "نام حقدار"),
            _Text("CNIC", "شناختی کارڈ نمبر"),
            _Text("Share", "حصہ"),
            _Text("Right", "نوعیت حق"),
            _Text("Since", "از تاریخ"),
            _Text("Mutation", "انتقال"),
        ),
        rows=tuple(
            (
                _holder_text(r.holder, urdu_names),
                _same(mask_cnic(r.holder.cnic)) if r.holder.cnic else _Text("state", "سرکار"),
                _same(format_share(r.share)),
                _right_text(r),
                _same(r.since.isoformat()),
                _mutation_text(r),
            )
            for r in holding.rights
        ),
    )
    total = format_share(holding.ownership_total) if holding.owners else "0"
    whole = _Text(
        f"Total of the ownership shares: {total} "
        + ("(the whole khewat)." if holding.is_whole else "(NOT the whole khewat)."),
        f"میزان حصص ملکیت: {ltr(total)} "
        + ("(مکمل کھیوٹ)۔" if holding.is_whole else "(کھیوٹ مکمل نہیں)۔"),
    )
    note = _Text(
        "Co-owners' CNICs are masked; each owner can obtain a fard of their own holding "
        "showing their full CNIC.",
        "شریک مالکان کے شناختی کارڈ نمبر جزوی طور پر پوشیدہ ہیں؛ ہر مالک اپنی ملکیت کی فرد "
        "مکمل شناختی کارڈ نمبر کے ساتھ حاصل کر سکتا ہے۔",
    )
    return _Content(
        subtitle=_Text(
            "Extract of the record of rights of one khewat", "نقل ریکارڈ حقوق برائے کھیوٹ"
        ),
        facts=facts,
        sections=(khasras, rights, whole, note),
    )


def _khasra_list(holding: KhewatHolding, rtl: bool) -> str:
    if rtl:
        return "، ".join(ltr(k.number) for k in holding.khasras) or "-"
    return ", ".join(k.number for k in holding.khasras) or "-"


def _person_content(holding: PersonHolding, urdu_names: Mapping[str, str]) -> _Content:
    person = holding.person
    assert person.cnic is not None
    mouzas = sorted(
        {s.khewat.mouza.id: s.khewat.mouza for s in holding.shares}.values(),
        key=lambda m: (m.name, m.id),
    )
    districts = sorted({m.district or "-" for m in mouzas})
    tehsils = sorted({m.tehsil for m in mouzas})
    facts: list[tuple[_Text, _Text]] = [
        (_Text("Owner", "مالک"), _holder_text(person, urdu_names)),
        (_Text("CNIC", "شناختی کارڈ نمبر"), _same(person.cnic)),
    ]
    if mouzas:
        ur_of = {m.district or "-": m.district_ur for m in mouzas}
        tur_of = {m.tehsil: m.tehsil_ur for m in mouzas}
        facts += [
            (
                _Text("District", "ضلع"),
                _Text(", ".join(districts), "، ".join(ur_of[d] or ltr(d) for d in districts)),
            ),
            (
                _Text("Tehsil", "تحصیل"),
                _Text(", ".join(tehsils), "، ".join(tur_of[t] or ltr(t) for t in tehsils)),
            ),
        ]
    facts.append(
        (
            _Text("Owned area", "کل رقبہ ملکیت"),
            _Text(
                f"{format_kms(holding.owned_kms)} (kanal-marla-sarsai), "
                f"{decimal_text(holding.owned_m2)} m²",
                f"{ltr(format_kms(holding.owned_kms))} (کنال-مرلہ-سرسائی)، "
                f"{ltr(decimal_text(holding.owned_m2))} مربع میٹر",
            ),
        )
    )
    sections: list[_Table | _Text] = []
    if holding.shares:
        sections.append(
            _Table(
                title=_Text("Holdings", "ملکیت و حقوق"),
                widths=(26, 15, 29, 18, 15, 37, 18, 22),
                headings=(
                    _Text("Mouza", "موضع"),
                    _Text("Khewat", "کھیوٹ"),
                    _Text("Khasras", "خسرہ نمبرات"),
                    _Text("Khewat area (K-M-S)", "رقبہ کھیوٹ"),
                    _Text("Share", "حصہ"),
                    _Text("Right, since", "نوعیت حق، از تاریخ"),
                    _Text("Area of share (K-M-S)", "رقبہ بقدر حصہ"),
                    _Text("Area of share (m²)", "مربع میٹر"),
                ),
                rows=tuple(
                    (
                        _Text(
                            f"{s.khewat.mouza.name} ({s.khewat.mouza.hadbast_number})",
                            f"{s.khewat.mouza.name_ur or ltr(s.khewat.mouza.name)} "
                            f"({ltr(s.khewat.mouza.hadbast_number)})",
                        ),
                        _same(s.khewat.khewat_no),
                        _Text(_khasra_list(s.khewat, False), _khasra_list(s.khewat, True)),
                        _same(format_kms(s.khewat.area_kms)),
                        _same(format_share(s.right.share)),
                        _Text(
                            f"{_right_text(s.right).en}, {s.right.since.isoformat()}"
                            + (f", mutation {s.right.mutation_no}" if s.right.mutation_no else ""),
                            f"{_right_text(s.right).ur}، {ltr(s.right.since.isoformat())}"
                            + (
                                f"، انتقال {ltr(s.right.mutation_no)}"
                                if s.right.mutation_no
                                else ""
                            ),
                        ),
                        _same(format_kms(s.area_kms)),
                        _m2(s.area_m2),
                    )
                    for s in holding.shares
                ),
            )
        )
        sections.append(
            _Text(
                "The area of a share is the share times the khewat's area, to the nearest "
                "sarsai; mortgage and lease rights are not counted in the owned area.",
                "رقبہ بقدر حصہ = حصہ × رقبہ کھیوٹ (قریب ترین سرسائی تک)؛ رہن اور اجارہ کے حقوق "
                "کل رقبہ ملکیت میں شامل نہیں۔",
            )
        )
    else:
        sections.append(
            _Text(
                "On this date the record shows no land held by this person.",
                "اس تاریخ کو ریکارڈ میں اس شخص کے نام کوئی اراضی درج نہیں۔",
            )
        )
    return _Content(
        subtitle=_Text("Extract of the record of rights of a person", "نقل ریکارڈ حقوق بنام مالک"),
        facts=tuple(facts),
        sections=tuple(sections),
    )


class _FardPDF(FPDF):
    def __init__(self, fonts: FardFonts, code: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.code = code
        self.set_margins(15, 14, 15)
        self.set_auto_page_break(auto=True, margin=16)
        self.add_font("sans", "", str(fonts.sans))
        self.add_font("sans", "B", str(fonts.sans_bold))
        self.add_font("urdu", "", str(fonts.urdu))
        self.add_font("urdu", "B", str(fonts.urdu_bold))
        self.set_fallback_fonts(["sans"], exact_match=False)
        self.set_creator("landgov")
        self.set_author("Board of Revenue, Punjab (landgov demo)")
        self.set_title(f"Fard {short_code(code)}")
        self.set_subject("Fard-e-malkiyat (ownership extract)")

    def footer(self) -> None:
        saved = self.text_shaping
        self.text_shaping = None
        self.set_y(-13)
        self.set_font("sans", "", 7.5)
        self.set_text_color(90)
        self.cell(
            0,
            5,
            f"landgov fard  ·  verification code {short_code(self.code)}  ·  "
            f"page {self.page_no()} of {{nb}}",
            align="C",
        )
        self.set_text_color(0)
        self.text_shaping = saved


def _style(pdf: _FardPDF, rtl: bool, size: float, bold: bool = False) -> None:
    pdf.set_font("urdu" if rtl else "sans", "B" if bold else "", size)


def _line(
    pdf: _FardPDF,
    rtl: bool,
    value: str,
    size: float,
    *,
    bold: bool = False,
    align: str | None = None,
    height: float | None = None,
) -> None:
    _style(pdf, rtl, size, bold)
    # Nastaliq needs about 0.75 mm of line per point; large single-line titles need less
    factor = (0.68 if size >= 11 else 0.75) if rtl else 0.5
    pdf.multi_cell(
        0,
        height or size * factor,
        value,
        align=align or ("R" if rtl else "L"),
        new_x="LMARGIN",
        new_y="NEXT",
    )


def _page(
    pdf: _FardPDF,
    content: _Content,
    *,
    rtl: bool,
    code: str,
    as_of: date,
    issued_at: datetime,
    issued_by: str,
    purpose: str | None,
) -> None:
    if rtl:
        pdf.set_text_shaping(
            use_shaping_engine=True, direction="rtl", script="arab", language="urd"
        )
    else:
        pdf.set_text_shaping(False)
    pdf.add_page()

    def t(ur: str, en: str) -> str:
        return ur if rtl else en

    body = 10 if rtl else 9
    _line(pdf, rtl, t("حکومتِ پنجاب", "GOVERNMENT OF THE PUNJAB"), 15, bold=True, align="C")
    _line(
        pdf,
        rtl,
        t("بورڈ آف ریونیو — محکمہ مال", "BOARD OF REVENUE — Revenue Department"),
        11,
        align="C",
    )
    pdf.set_text_color(170, 0, 0)
    _line(
        pdf,
        rtl,
        t(
            "نمونہ ریکارڈ (ڈیمو) — قانونی استعمال کے لیے نہیں",
            "DEMONSTRATION RECORD (landgov demo) — not valid for legal use",
        ),
        8,
        align="C",
    )
    pdf.set_text_color(0)
    pdf.ln(3.5 if rtl else 1)  # room for the title's tall Nastaliq letters
    _line(
        pdf,
        rtl,
        t("فرد ملکیت", "FARD-E-MALKIYAT — Ownership extract"),
        18 if rtl else 15,
        bold=True,
        align="C",
    )
    _line(pdf, rtl, content.subtitle.get(rtl), 10, align="C")
    pdf.ln(2)
    issued = issued_at.astimezone(PKT).strftime("%Y-%m-%d %H:%M:%S")
    facts = [
        *content.facts,
        (_Text("Record as of", "ریکارڈ بمطابق تاریخ"), _same(as_of.isoformat())),
        (_Text("Issued", "تاریخ اجرا"), _Text(f"{issued} PKT", ltr(f"{issued} PKT"))),
        (_Text("Issued by", "جاری کنندہ"), _Text(issued_by, ltr(issued_by))),
    ]
    if purpose:
        facts.append((_Text("Purpose", "مقصد"), _Text(purpose, ltr(purpose))))
    _table(
        pdf,
        rtl,
        widths=(40, 140),
        headings=None,
        rows=[(label, value) for label, value in facts],
        size=body,
        bold_first=True,
    )
    for section in content.sections:
        pdf.ln(2.5)
        if isinstance(section, _Table):
            _line(pdf, rtl, section.title.get(rtl), body + 1, bold=True)
            _table(
                pdf,
                rtl,
                widths=section.widths,
                headings=section.headings,
                rows=section.rows,
                size=body - 1,
            )
        else:
            _line(pdf, rtl, section.get(rtl), body)
    _verification_box(pdf, rtl, code, as_of)


def _table(
    pdf: _FardPDF,
    rtl: bool,
    *,
    widths: Sequence[float],
    headings: Sequence[_Text] | None,
    rows: Iterable[Sequence[_Text]],
    size: float,
    bold_first: bool = False,
) -> None:
    order = (lambda cells: list(reversed(cells))) if rtl else list
    _style(pdf, rtl, size)
    family = "urdu" if rtl else "sans"
    with pdf.table(
        col_widths=tuple(order(list(widths))),
        width=sum(widths),
        text_align="RIGHT" if rtl else "LEFT",
        line_height=size * (0.68 if rtl else 0.48),
        first_row_as_headings=headings is not None,
        headings_style=FontFace(family=family, emphasis="BOLD", fill_color=(225, 230, 238)),
        borders_layout=(
            TableBordersLayout.ALL if headings is not None else TableBordersLayout.HORIZONTAL_LINES
        ),
        padding=(2.4, 1.2, 0.2, 1.2) if rtl else (0.6, 1.2),
        v_align="MIDDLE",
    ) as table:
        if headings is not None:
            row = table.row()
            for cell in order(list(headings)):
                row.cell(cell.get(rtl))
        for values in rows:
            row = table.row()
            cells = list(values)
            styles = [
                FontFace(family=family, emphasis="BOLD") if bold_first and i == 0 else None
                for i in range(len(cells))
            ]
            for cell, style in zip(order(cells), order(styles), strict=True):
                row.cell(cell.get(rtl), style=style)


def _verification_box(pdf: _FardPDF, rtl: bool, code: str, as_of: date) -> None:
    pdf.ln(4)
    needed = 36 if rtl else 31
    if pdf.get_y() + needed > pdf.h - pdf.b_margin:
        pdf.add_page()
    top = pdf.get_y()
    saved = pdf.text_shaping
    _line(pdf, rtl, "تصدیقی کوڈ" if rtl else "Verification code", 10, bold=True, align="C")
    pdf.text_shaping = None
    pdf.set_font("sans", "B", 18)
    pdf.cell(0, 9, short_code(code), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("sans", "", 7)
    pdf.cell(0, 4, f"SHA-256 {code}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("sans", "", 8)
    pdf.cell(
        0, 5, f"landgov fard verify {short_code(code)}", align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.text_shaping = saved
    _line(
        pdf,
        rtl,
        (
            f"یہ کوڈ اس فرد میں درج ریکارڈ (بمطابق {ltr(as_of.isoformat())}) اور اجرا کا "
            f"{ltr('SHA-256')} ہیش ہے؛ تصدیق تب ہی ہو گی جب تک یہ ریکارڈ تبدیل نہ ہو۔"
        )
        if rtl
        else (
            "The code is the SHA-256 of the record this extract shows (as of "
            f"{as_of.isoformat()}) and of its issue; it verifies only while that record is "
            "unchanged."
        ),
        8,
        align="C",
    )
    pdf.set_draw_color(60)
    pdf.rect(pdf.l_margin, top - 1.5, pdf.epw, pdf.get_y() - top + 3)
    pdf.set_draw_color(0)


def render_fard(
    holding: PersonHolding | KhewatHolding,
    *,
    code: str,
    language: Language,
    issued_at: datetime,
    issued_by: str,
    purpose: str | None = None,
    urdu_names: Mapping[str, str] | None = None,
    fonts: FardFonts | None = None,
) -> FPDF:
    """The fard of ``holding`` as an unsaved :class:`fpdf.FPDF` (call ``.output(path)``)."""
    names = urdu_names or {}
    content = (
        _person_content(holding, names)
        if isinstance(holding, PersonHolding)
        else _khewat_content(holding, names)
    )
    pdf = _FardPDF(fonts or fard_fonts(), code)
    for rtl in {"en": (False,), "ur": (True,), "both": (False, True)}[language]:
        _page(
            pdf,
            content,
            rtl=rtl,
            code=code,
            as_of=holding.as_of,
            issued_at=issued_at,
            issued_by=issued_by,
            purpose=purpose,
        )
    return pdf
