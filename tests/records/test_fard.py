"""Fard PDFs (English and Urdu), their verification codes, and the fard CLI (issue 4);
who may issue one and the access log of issues (issue 14).

The rendered pages are saved as PNGs under ``$LANDGOV_HOME/test-artifacts/`` (fard-en.png,
fard-ur.png and the khewat fards) so a person can look at them.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from fpdf.enums import TextDirection
from records_support import point_cli_at, sign_in
from rights_support import (
    ASLAM,
    BUSHRA,
    KAMRAN,
    MOUZA,
    NOBODY,
    OTHER_MOUZA,
    PATWARI_CHAK,
    TEHSILDAR,
    backdate_sale,
    build,
)
from security_support import officer_actor, staff_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from landgov.cli import app
from landgov.config import load_settings
from landgov.errors import AccessDenied
from landgov.records.fard import (
    FardError,
    issue_fard,
    render_fard,
    short_code,
    verify_fard,
)
from landgov.records.fonts import fard_fonts
from landgov.records.rights import khewat_holding, person_holdings
from landgov.security import Actor
from landgov.storage.lookup import NotFound

runner = CliRunner()
ON = date(2016, 1, 1)


@pytest.fixture
def records(engine: Engine) -> Engine:
    build(engine)
    return engine


def issuer(engine: Engine) -> Actor:
    """Tariq Mehmood, tehsildar over both mouzas, signed in."""
    return officer_actor(engine, TEHSILDAR)


@pytest.fixture
def artifacts() -> Path:
    folder = load_settings().home / "test-artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} (poppler-utils) is needed: apt-get install poppler-utils"
    return path


def pdf_text(path: Path) -> str:
    return subprocess.run(
        [_tool("pdftotext"), "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def pdf_fonts(path: Path) -> str:
    return subprocess.run(
        [_tool("pdffonts"), str(path)], check=True, capture_output=True, text=True
    ).stdout


def render_page(path: Path, png: Path, page: int = 1) -> Path:
    """Renders one page of ``path`` to ``png`` at 110 dpi."""
    stem = png.with_suffix("")
    pages = ["-f", str(page), "-l", str(page)]
    subprocess.run(
        [_tool("pdftoppm"), "-r", "110", "-png", "-singlefile", *pages, str(path), str(stem)],
        check=True,
    )
    assert png.is_file() and png.stat().st_size > 10_000
    return png


# --- issuing ------------------------------------------------------------------------------


def test_person_fard_in_english(records: Engine, tmp_path: Path, artifacts: Path) -> None:
    issued = issue_fard(
        records,
        cnic=ASLAM,
        as_of=ON,
        language="en",
        out=tmp_path / "fard.pdf",
        actor=issuer(records),
        purpose="bank loan",
    )
    assert issued.path.is_file() and issued.path.read_bytes().startswith(b"%PDF")
    assert len(issued.code) == 64 and issued.short_code == short_code(issued.code)
    assert len(issued.short_code) == 14 and issued.short_code.count("-") == 2
    words = pdf_text(issued.path)
    for expected in (
        "GOVERNMENT OF THE PUNJAB",
        "BOARD OF REVENUE",
        "DEMONSTRATION RECORD",
        "Muhammad Aslam s/o Ghulam Rasool",
        ASLAM,  # the owner's own fard shows the full CNIC
        "Kot Test (17)",
        "Chak Do (18)",
        "12//1, 12//2",
        "1/4",  # the exact share
        "1/1",
        "13-0-0",  # khewat area, K-M-S
        "7-5-0",  # owned area: 1/4 of 13-0-0 and all of 4-0-0
        "2016-01-01",
        "bank loan",
        issued.short_code,
        issued.code,
    ):
        assert expected in words, expected
    render_page(issued.path, artifacts / "fard-en.png")


def test_khewat_fard_masks_co_owners(records: Engine, tmp_path: Path, artifacts: Path) -> None:
    issued = issue_fard(
        records,
        khewat=(MOUZA, 5),
        as_of=ON,
        language="en",
        out=tmp_path / "khewat.pdf",
        actor=issuer(records),
    )
    words = pdf_text(issued.path)
    assert "Khewat" in words and "5" in words
    for cnic in (ASLAM, BUSHRA, KAMRAN):
        assert cnic not in words
        assert f"{cnic[:5]}-*******-{cnic[-1]}" in words
    assert "Bushra Bibi d/o Ghulam Rasool" in words
    assert "1/2" in words and "1/4" in words and "the whole khewat" in words
    assert "Since" in words and "2010-05-01" in words and "41" in words  # mutation 41
    assert issued.short_code in words
    render_page(issued.path, artifacts / "fard-khewat-en.png")


def _cmap_glyph_ids(font_path: Path) -> set[int]:
    font = TTFont(str(font_path))
    return {font.getGlyphID(name) for name in font.getBestCmap().values()}


def test_urdu_fard_is_shaped_right_to_left(
    records: Engine, tmp_path: Path, artifacts: Path
) -> None:
    issued = issue_fard(
        records, cnic=ASLAM, as_of=ON, language="ur", out=tmp_path / "ur.pdf", actor=issuer(records)
    )
    fonts = pdf_fonts(issued.path)
    assert "NotoNastaliqUrdu" in fonts
    urdu_line = next(line for line in fonts.splitlines() if "NotoNastaliqUrdu " in line + " ")
    assert " yes yes yes " in urdu_line  # embedded, subset, with a ToUnicode map
    render_page(issued.path, artifacts / "fard-ur.png")

    # Shaped text uses the font's contextual forms (initial, medial, final letters and
    # Nastaliq's joined sequences), glyphs that no character maps to directly; unshaped
    # text would use only the isolated forms the character map gives.
    with records.connect() as conn:
        holding = person_holdings(conn, ASLAM, ON)
    pdf = render_fard(
        holding,
        code=issued.code,
        language="ur",
        issued_at=issued.issued_at,
        issued_by="patwari",
    )
    pdf.output()
    used = {glyph.glyph_id for glyph, _ in pdf.fonts["urdu"].subset.items() if glyph}
    contextual = used - _cmap_glyph_ids(fard_fonts().urdu)
    assert len(contextual) > 20, "Urdu text was not shaped"
    assert pdf.text_shaping and pdf.text_shaping["direction"] is TextDirection.RTL


def test_both_languages_in_one_pdf(records: Engine, tmp_path: Path, artifacts: Path) -> None:
    issued = issue_fard(
        records,
        khewat=("17", 5),
        as_of=ON,
        language="both",
        out=tmp_path / "b.pdf",
        actor=issuer(records),
    )
    words = pdf_text(issued.path)
    assert "FARD-E-MALKIYAT" in words
    assert "NotoNastaliqUrdu" in pdf_fonts(issued.path)
    pages = subprocess.run(
        [_tool("pdfinfo"), str(issued.path)], check=True, capture_output=True, text=True
    ).stdout
    assert int(next(x for x in pages.splitlines() if x.startswith("Pages:")).split()[1]) >= 2
    english_pages = int(words.count("GOVERNMENT OF THE PUNJAB"))
    render_page(issued.path, artifacts / "fard-khewat-ur.png", page=english_pages + 1)


def test_nil_fard_of_a_person_without_land(records: Engine, tmp_path: Path) -> None:
    issued = issue_fard(
        records,
        cnic=NOBODY,
        as_of=ON,
        language="en",
        out=tmp_path / "nil.pdf",
        actor=issuer(records),
    )
    assert "no land held by this person" in pdf_text(issued.path)
    assert verify_fard(records, issued.code).matches


def test_issue_is_registered_immutably_and_audited(records: Engine, tmp_path: Path) -> None:
    issued = issue_fard(
        records, cnic=KAMRAN, as_of=ON, language="en", out=tmp_path / "k.pdf", actor=issuer(records)
    )
    with records.connect() as conn:
        row = conn.execute(
            text(
                "SELECT subject_kind, subject, as_of, language, snapshot_sha256, issued_by"
                " FROM fard_issue WHERE code = :c"
            ),
            {"c": issued.code},
        ).one()
        audit = conn.execute(
            text("SELECT actor, details FROM audit_log WHERE action = 'fard issue'")
        ).one()
    label = issuer(records).label
    assert tuple(row) == ("person", KAMRAN, ON, "en", issued.snapshot_sha256, label)
    assert audit.actor == label and audit.details["short_code"] == issued.short_code
    assert issued.issued_by == label and label in pdf_text(issued.path)
    with records.connect() as conn:
        access = conn.execute(
            text("SELECT actor, action, subject_kind, subject, details FROM access_log")
        ).one()
    assert tuple(access)[:4] == (label, "fard.issue", "party", KAMRAN)
    assert access.details["short_code"] == issued.short_code
    for sql in ("UPDATE fard_issue SET as_of = '2000-01-01'", "DELETE FROM fard_issue"):
        with (
            pytest.raises(DBAPIError, match="register of issued certificates"),
            records.begin() as conn,
        ):
            conn.execute(text(sql))


def test_refusals(records: Engine, tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    with pytest.raises(FardError, match="of a person"):
        issue_fard(records, as_of=ON, out=out, actor=issuer(records))
    with pytest.raises(FardError, match="of a person"):
        issue_fard(records, cnic=ASLAM, khewat=(MOUZA, 5), as_of=ON, out=out, actor=issuer(records))
    with pytest.raises(FardError, match="language"):
        issue_fard(records, cnic=ASLAM, as_of=ON, out=out, actor=issuer(records), language="fr")  # type: ignore[arg-type]
    with pytest.raises(FardError, match="future"):
        issue_fard(records, cnic=ASLAM, as_of=date(2999, 1, 1), out=out, actor=issuer(records))
    with pytest.raises(NotFound, match="no khewat 77"):
        issue_fard(records, khewat=(MOUZA, 77), as_of=ON, out=out, actor=issuer(records))
    with pytest.raises(NotFound, match="no person"):
        issue_fard(records, cnic="35401-9999999-9", as_of=ON, out=out, actor=issuer(records))
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with records.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM fard_issue")).scalar_one() == 0


def test_who_may_issue(records: Engine, tmp_path: Path) -> None:
    """The patwari of Chak Do issues fards of his mouza only: not of Kot Test, nor of a
    person who also holds land there; an analyst issues none. A refusal leaves no PDF,
    no register row, no access row."""
    out = tmp_path / "x.pdf"
    patwari = officer_actor(records, PATWARI_CHAK)
    refusals = [
        ("jurisdiction", dict(khewat=(MOUZA, 5), actor=patwari)),
        ("jurisdiction", dict(cnic=ASLAM, actor=patwari)),  # Chak Do and Kot Test
        ("role", dict(khewat=(OTHER_MOUZA, 3), actor=staff_actor(records, "revenue_analyst"))),
    ]
    for rule, kwargs in refusals:
        with pytest.raises(AccessDenied) as info:
            issue_fard(records, as_of=ON, out=out, **kwargs)  # type: ignore[arg-type]
        assert info.value.rule == rule, (kwargs, info.value)
    assert list(tmp_path.iterdir()) == []
    with records.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM fard_issue")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM access_log")).scalar_one() == 0
    issued = issue_fard(records, khewat=(OTHER_MOUZA, 3), as_of=ON, out=out, actor=patwari)
    assert issued.issued_by == patwari.label and out.is_file()
    # a nil fard: an issuer posted somewhere today
    issue_fard(records, cnic=NOBODY, as_of=ON, out=tmp_path / "nil.pdf", actor=patwari)


# --- verification --------------------------------------------------------------------------


def test_verify_matches_until_the_records_change(records: Engine, tmp_path: Path) -> None:
    khewat = issue_fard(
        records,
        khewat=(MOUZA, 5),
        as_of=ON,
        language="ur",
        out=tmp_path / "k.pdf",
        actor=issuer(records),
    )
    person = issue_fard(
        records, cnic=BUSHRA, as_of=ON, language="en", out=tmp_path / "p.pdf", actor=issuer(records)
    )
    other = issue_fard(
        records,
        khewat=("Chak Do", 3),
        as_of=ON,
        language="en",
        out=tmp_path / "o.pdf",
        actor=issuer(records),
    )
    for code in (khewat.code, khewat.short_code, khewat.short_code.lower().replace("-", "")):
        result = verify_fard(records, code)
        assert result.matches, result.message
        assert "matches the records" in result.message
    assert verify_fard(records, person.code).matches

    backdate_sale(records)  # Bushra's 1/2 of khewat 5 goes to Kamran from 2004

    changed = verify_fard(records, khewat.short_code)
    assert not changed.matches
    assert "does NOT match: records changed since issue" in changed.message
    assert any(d.startswith("rights: was") for d in changed.differences)
    changed_person = verify_fard(records, person.code)
    assert not changed_person.matches
    assert any("no longer held: mouza Kot Test khewat 5" in d for d in changed_person.differences)
    # a fard of another khewat is untouched by the change
    assert verify_fard(records, other.code).matches
    # the same khewat issued again now matches the changed records
    again = issue_fard(
        records,
        khewat=(MOUZA, 5),
        as_of=ON,
        language="en",
        out=tmp_path / "k2.pdf",
        actor=issuer(records),
    )
    assert again.code != khewat.code and verify_fard(records, again.code).matches


def test_unknown_and_malformed_codes(records: Engine) -> None:
    with pytest.raises(NotFound, match="unknown verification code"):
        verify_fard(records, "ABCD-EF01-2345")
    with pytest.raises(FardError, match="not a verification code"):
        verify_fard(records, "hello")
    with pytest.raises(FardError, match="12-digit short code"):
        verify_fard(records, "ABCD-EF")


def test_the_code_covers_the_issue_not_only_the_snapshot(records: Engine) -> None:
    with records.connect() as conn:
        holding = khewat_holding(conn, 1, 5, ON)
    at = datetime(2024, 1, 1, tzinfo=UTC)
    a = render_fard(holding, code="a" * 64, language="en", issued_at=at, issued_by="t")
    assert a.pages  # renders without a database round trip
    from landgov.records.fard import issue_code

    base = dict(
        snapshot_sha256=holding.sha256,
        subject_kind="khewat",
        subject="1:5",
        as_of=ON,
        language="en",
        purpose=None,
        issued_at=at,
        issued_by="t",
    )
    assert issue_code(**base) == issue_code(**base)
    assert issue_code(**base) != issue_code(**{**base, "issued_by": "u"})
    assert issue_code(**base) != issue_code(**{**base, "language": "ur"})


# --- CLI -----------------------------------------------------------------------------------


@pytest.fixture
def on_records(records: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Engine:
    """The CLI on the records, signed in as the tehsildar."""
    point_cli_at(records, monkeypatch, tmp_path)
    sign_in(records, TEHSILDAR)
    return records


def test_cli_issue_and_verify(on_records: Engine, tmp_path: Path) -> None:
    out = tmp_path / "cli.pdf"
    result = runner.invoke(
        app,
        [
            *("fard", "issue", "--mouza", MOUZA, "--khewat", "5", "--as-of", "2016-01-01"),
            *("--lang", "both", "--out", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.is_file()
    code = result.output.split("verification code ")[1].split()[0]
    assert len(code) == 14

    result = runner.invoke(app, ["fard", "verify", code])
    assert result.exit_code == 0, result.output
    assert "matches the records" in result.output

    backdate_sale(on_records)
    result = runner.invoke(app, ["fard", "verify", code])
    assert result.exit_code == 2
    assert "does NOT match: records changed since issue" in result.output

    result = runner.invoke(app, ["fard", "verify", "0000-0000-0000"])
    assert result.exit_code == 1 and "unknown verification code" in result.output
    assert "Traceback" not in result.output


def test_cli_issue_refusals(on_records: Engine, tmp_path: Path) -> None:
    out = str(tmp_path / "x.pdf")
    cases = [
        (["fard", "issue", "--out", out], "give --cnic"),
        (["fard", "issue", "--cnic", ASLAM, "--mouza", MOUZA, "--out", out], "not both"),
        (["fard", "issue", "--mouza", MOUZA, "--out", out], "give --cnic"),
        (["fard", "issue", "--cnic", ASLAM, "--lang", "fr", "--out", out], "use en, ur or both"),
        (["fard", "issue", "--cnic", "35401-9999999-9", "--out", out], "no person"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["fard", "issue", "--cnic", ASLAM, "--out", out])
    assert result.exit_code == 0, result.output
    assert ASLAM in result.output  # a person fard goes to its owner, in full
    sign_in(on_records, PATWARI_CHAK)
    result = runner.invoke(app, ["fard", "issue", "--mouza", MOUZA, "--khewat", "5", "--out", out])
    assert result.exit_code == 1 and "refused by rule jurisdiction" in result.output


def test_cli_issue_needs_a_signed_in_person(
    on_records: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LANDGOV_SESSION_FILE", str(tmp_path / "nobody.json"))
    out = tmp_path / "x.pdf"
    result = runner.invoke(app, ["fard", "issue", "--cnic", ASLAM, "--out", str(out)])
    assert result.exit_code == 1 and "not signed in" in result.output
    assert not out.exists()
