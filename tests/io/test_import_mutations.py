"""Importing a mutation register from CSV (landgov.io.mutations)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from io_testdata import ASLAM, BUSHRA, MUTATION_HEADER, OFFICER, TARIQ, World, mutation_row
from sqlalchemy import text

from landgov.errors import ImportRejected, RowProblem
from landgov.io import import_mutations

WriteCsv = Callable[..., Path]

SANCTIONED = {
    "status": "sanctioned",
    "verified": "2024-01-20",
    "decided": "2024-02-01",
    "officer": OFFICER,
}


def good_register() -> list[str]:
    """Four mutations in two mouzas, every status, five lines."""
    return [
        # 1: a registered sale in two lines, sanctioned; the mouza named by hadbast on line 2
        mutation_row(
            no=1,
            **SANCTIONED,
            deed="1234/B-I",
            deed_date="2024-01-05",
            registrar="Sub-Registrar Ferozewala",
            consideration="1,250,000",
            statutory="1,400,000",
            fees="52000",
            line=1,
            transferor=ASLAM,
            transferee=TARIQ,
            share="2/8",
        ),
        mutation_row(
            mouza="117",
            no=1,
            **SANCTIONED,
            deed="1234/B-I",
            deed_date="2024-01-05",
            registrar="Sub-Registrar Ferozewala",
            consideration="1,250,000",
            statutory="1,400,000",
            fees="52000",
            line=2,
            khewat=2,
            transferor=BUSHRA,
            transferee=TARIQ,
            share="1",
        ),
        # 2: a mortgage only entered: a new right, transferee only
        mutation_row(
            no=2,
            type="mortgage",
            line=1,
            transferor="",
            transferee=ASLAM,
            share="1/2",
            right="mortgage_with_possession",
        ),
        # 3: rejected, land to the Irrigation Department (custodian code, any case)
        mutation_row(
            no=3,
            type="court_decree",
            status="rejected",
            decided="2024-03-01",
            officer=OFFICER,
            reason="Decree under appeal",
            transferor=ASLAM,
            transferee="Irrigation",
            share="1/3",
        ),
        # 4: in the other mouza, verified; the same register number in another mouza is fine
        mutation_row(
            mouza="jandiala",
            no=1,
            type="gift",
            status="verified",
            verified="2024-01-12",
            transferor=BUSHRA,
            transferee=ASLAM,
            share="1/4",
        ),
    ]


def test_good_register_is_recorded(world: World, write_csv: WriteCsv) -> None:
    path = write_csv("register.csv", good_register(), bom=True)

    report = import_mutations(world.engine, path, actor="clerk")

    assert report.counts == {"mutation": 4, "mutation_line": 5}
    assert report.summary().startswith(
        "register.csv: 4 mutations (5 lines) imported into 2 mouzas in "
    )
    with world.engine.connect() as conn:
        mutations = {
            (r["mouza_id"], r["number"]): r
            for r in conn.execute(text("SELECT * FROM mutation")).mappings()
        }
        lines = conn.execute(
            text(
                "SELECT m.mouza_id, m.number, l.line_no, l.khewat_id, l.transferor_party_id,"
                " l.transferee_party_id, l.numerator, l.denominator, l.right_type"
                " FROM mutation_line l JOIN mutation m ON m.id = l.mutation_id"
                " ORDER BY m.mouza_id, m.number, l.line_no"
            )
        ).all()
        officer_id = conn.execute(text("SELECT id FROM officer")).scalar_one()
    kot, jan = world.mouza_id, world.other_mouza_id
    assert set(mutations) == {(kot, 1), (kot, 2), (kot, 3), (jan, 1)}
    sale = mutations[(kot, 1)]
    assert (sale["type"], sale["status"], sale["officer_id"]) == ("sale", "sanctioned", officer_id)
    assert (sale["entered_on"], sale["verified_on"], sale["decided_on"]) == (
        date(2024, 1, 10),
        date(2024, 1, 20),
        date(2024, 2, 1),
    )
    assert (sale["deed_number"], sale["deed_date"], sale["sub_registrar"]) == (
        "1234/B-I",
        date(2024, 1, 5),
        "Sub-Registrar Ferozewala",
    )
    assert (sale["consideration_rs"], sale["statutory_value_rs"], sale["fees_rs"]) == (
        1_250_000,
        1_400_000,
        52_000,
    )
    mortgage = mutations[(kot, 2)]
    assert (mortgage["status"], mortgage["verified_on"], mortgage["officer_id"]) == (
        "entered",
        None,
        None,
    )
    assert mortgage["deed_number"] is None and mortgage["consideration_rs"] is None
    rejected = mutations[(kot, 3)]
    assert (rejected["status"], rejected["rejection_reason"]) == ("rejected", "Decree under appeal")
    assert mutations[(jan, 1)]["status"] == "verified"

    p, k = world.parties, world.khewats
    assert lines == [
        (kot, 1, 1, k[("Kot Nau", 1)], p[ASLAM], p[TARIQ], 1, 4, "ownership"),  # 2/8 -> 1/4
        (kot, 1, 2, k[("Kot Nau", 2)], p[BUSHRA], p[TARIQ], 1, 1, "ownership"),
        (kot, 2, 1, k[("Kot Nau", 1)], None, p[ASLAM], 1, 2, "mortgage_with_possession"),
        (kot, 3, 1, k[("Kot Nau", 1)], p[ASLAM], p["irrigation"], 1, 3, "ownership"),
        (jan, 1, 1, k[("Jandiala", 1)], p[BUSHRA], p[ASLAM], 1, 4, "ownership"),
    ]


def test_audit_row_and_single_mouza_summary(world: World, write_csv: WriteCsv) -> None:
    path = write_csv("kot_nau.csv", [mutation_row(no=7), mutation_row(no=8)])
    report = import_mutations(world.engine, path, actor="clerk")
    assert report.summary().startswith(
        "kot_nau.csv: 2 mutations (2 lines) imported into mouza Kot Nau (hadbast 117) in "
    )
    with world.engine.connect() as conn:
        (row,) = conn.execute(text("SELECT * FROM audit_log")).mappings().all()
    assert (row["actor"], row["action"], row["entity"], row["entity_id"]) == (
        "clerk",
        "import mutations",
        "mouza",
        str(world.mouza_id),
    )
    assert row["details"]["file"] == "kot_nau.csv"
    assert (row["details"]["count"], row["details"]["lines"]) == (2, 2)
    assert len(row["details"]["sha256"]) == 64


def test_mutation_numbers_already_registered_are_refused(world: World, write_csv: WriteCsv) -> None:
    import_mutations(world.engine, write_csv("first.csv", [mutation_row(no=5)]))
    before = world.counts()
    path = write_csv("second.csv", [mutation_row(no=6), mutation_row(mouza="117", no=5)])
    with pytest.raises(ImportRejected) as exc:
        import_mutations(world.engine, path)
    assert exc.value.problems == [
        RowProblem(2, "mutation_no", "mutation 5 already exists in mouza Kot Nau (hadbast 117)")
    ]
    assert world.counts() == before


def test_lines_of_one_mutation_must_agree(world: World, write_csv: WriteCsv) -> None:
    rows = [
        mutation_row(no=1, line=1),
        mutation_row(no=1, line=2, type="gift", entered="2024-01-11"),
        mutation_row(no=1, line=2, khewat=2),
    ]
    with pytest.raises(ImportRejected) as exc:
        import_mutations(world.engine, write_csv("register.csv", rows))
    assert exc.value.problems == [
        RowProblem(
            2,
            "type",
            "mutation 1 has 'gift' here but 'sale' on row 1; every line of a mutation "
            "repeats the same mutation fields",
        ),
        RowProblem(
            2,
            "entered_on",
            "mutation 1 has 2024-01-11 here but 2024-01-10 on row 1; every line of a "
            "mutation repeats the same mutation fields",
        ),
        RowProblem(3, "line_no", "line 2 of mutation 1 is already on row 2"),
    ]


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        pytest.param(
            mutation_row(decided="2024-02-01"),
            "decided_on",
            "a mutation still entered is not decided: leave it empty",
            id="entered-with-decision",
        ),
        pytest.param(
            mutation_row(verified="2024-01-11"),
            "verified_on",
            "an entered mutation is not verified yet: leave it empty",
            id="entered-with-verification",
        ),
        pytest.param(
            mutation_row(status="verified"),
            "verified_on",
            "a verified mutation needs its date of verification",
            id="verified-without-date",
        ),
        pytest.param(
            mutation_row(**{**SANCTIONED, "decided": ""}),
            "decided_on",
            "a sanctioned mutation needs the date it was sanctioned",
            id="sanctioned-without-date",
        ),
        pytest.param(
            mutation_row(**{**SANCTIONED, "officer": ""}),
            "officer_cnic",
            "a sanctioned mutation needs the CNIC of the officer",
            id="sanctioned-without-officer",
        ),
        pytest.param(
            mutation_row(**{**SANCTIONED, "officer": "35401-0000000-1"}),
            "officer_cnic",
            "no officer with CNIC 35401-0000000-1",
            id="unknown-officer",
        ),
        pytest.param(
            mutation_row(**{**SANCTIONED, "officer": "3540100000001x"}),
            "officer_cnic",
            "CNIC '3540100000001x' is not of the form #####-#######-# (13 digits)",
            id="malformed-officer-cnic",
        ),
        pytest.param(
            mutation_row(**{**SANCTIONED, "reason": "late"}),
            "rejection_reason",
            "only a rejected mutation has a reason; this is sanctioned",
            id="sanctioned-with-reason",
        ),
        pytest.param(
            mutation_row(status="rejected", decided="2024-02-01", officer=OFFICER),
            "rejection_reason",
            "a rejected mutation needs the reason",
            id="rejected-without-reason",
        ),
        pytest.param(
            mutation_row(**{**SANCTIONED, "decided": "2024-01-09", "verified": ""}),
            "decided_on",
            "decided on 2024-01-09 before it was entered (2024-01-10)",
            id="decided-before-entered",
        ),
        pytest.param(
            mutation_row(status="verified", verified="2024-01-01"),
            "verified_on",
            "verified on 2024-01-01 before it was entered (2024-01-10)",
            id="verified-before-entered",
        ),
        pytest.param(
            mutation_row(**{**SANCTIONED, "decided": "2024-01-15"}),
            "decided_on",
            "decided on 2024-01-15 before it was verified (2024-01-20)",
            id="decided-before-verified",
        ),
        pytest.param(
            mutation_row(deed="99/B-I"),
            "deed_date",
            "a deed number needs its deed date",
            id="deed-without-date",
        ),
        pytest.param(
            mutation_row(deed_date="2024-01-01"),
            "deed_number",
            "a deed date needs its deed number",
            id="deed-date-without-number",
        ),
        pytest.param(
            mutation_row(entered=""),
            "entered_on",
            "missing date of entry (YYYY-MM-DD)",
            id="no-entry-date",
        ),
        pytest.param(
            mutation_row(entered="10/01/2024"),
            "entered_on",
            "'10/01/2024' is not a date written YYYY-MM-DD",
            id="non-iso-date",
        ),
        pytest.param(
            mutation_row(fees="-5"),
            "fees_rs",
            "'-5' is not a whole number of rupees (>= 0, e.g. 1250000)",
            id="negative-fee",
        ),
        pytest.param(
            mutation_row(consideration="12.5"),
            "consideration_rs",
            "'12.5' is not a whole number of rupees (>= 0, e.g. 1250000)",
            id="decimal-price",
        ),
        pytest.param(
            mutation_row(fees="1" * 15),
            "fees_rs",
            "111111111111111 rupees is more than 14 digits",
            id="fee-overflow",
        ),
        pytest.param(
            mutation_row(no=0),
            "mutation_no",
            "mutation number 0 must be 1 or more",
            id="mutation-zero",
        ),
        pytest.param(
            mutation_row(line=-1),
            "line_no",
            "line number '-1' is not a whole number",
            id="negative-line",
        ),
        pytest.param(
            mutation_row(type="bai"),
            "type",
            "unknown mutation type 'bai'; expected one of: sale, inheritance, gift, mortgage, "
            "redemption, exchange, partition, court_decree, lease",
            id="unknown-type",
        ),
        pytest.param(
            mutation_row(status="approved"),
            "status",
            "unknown status 'approved'; expected one of: entered, verified, sanctioned, rejected",
            id="unknown-status",
        ),
        pytest.param(
            mutation_row(right="tenancy"),
            "right_type",
            "unknown right type 'tenancy'; expected one of: ownership, "
            "mortgage_with_possession, mortgage_without_possession, lease",
            id="unknown-right",
        ),
        pytest.param(
            mutation_row(mouza="Nowhere"),
            "mouza",
            "no mouza 'Nowhere' (by name or hadbast number). Known mouzas: Jandiala, Kot Nau.",
            id="unknown-mouza",
        ),
        pytest.param(
            mutation_row(mouza="Jandiala", khewat=2),
            "khewat_no",
            "khewat 2 does not exist in mouza Jandiala (hadbast 118)",
            id="khewat-of-another-mouza",
        ),
        pytest.param(
            mutation_row(transferor="", transferee=""),
            "transferor",
            "a line needs a transferor, a transferee or both",
            id="no-parties",
        ),
        pytest.param(
            mutation_row(transferor=ASLAM, transferee=ASLAM.replace("-", "")),
            "transferee",
            f"transferor and transferee are both {ASLAM}",
            id="same-party",
        ),
        pytest.param(
            mutation_row(transferor="Aslam"),
            "transferor",
            "'Aslam' is neither a CNIC (#####-#######-#) nor a custodian code "
            "(board_of_revenue, forest, auqaf, evacuee_trust, irrigation, highways, "
            "village_proprietary_body)",
            id="name-instead-of-cnic",
        ),
        pytest.param(
            mutation_row(transferor="forest"),
            "transferor",
            "no state party for custodian forest",
            id="custodian-without-party",
        ),
        pytest.param(
            mutation_row(share=""),
            "share",
            "missing share; write the fraction of the whole khewat, e.g. '1/4'",
            id="no-share",
        ),
        pytest.param(
            mutation_row(share="0.25"),
            "share",
            "share '0.25': decimals are not allowed",
            id="decimal-share",
        ),
        pytest.param(
            mutation_row(share="0/4"),
            "share",
            "share '0/4': share 0/1 must be more than 0",
            id="zero-share",
        ),
        pytest.param(
            mutation_row(share=f"1/{2**63}"),
            "share",
            f"share '1/{2**63}': its denominator is too large to store",
            id="share-overflow",
        ),
        pytest.param(
            mutation_row(no=2**31),
            "mutation_no",
            f"mutation number {2**31} is too large",
            id="mutation-no-overflow",
        ),
        pytest.param(
            "Kot Nau,1,sale",
            None,
            "has 3 fields but the header has 21",
            id="short-row",
        ),
    ],
)
def test_row_problem_is_named_precisely(
    world: World, write_csv: WriteCsv, row: str, field: str | None, reason: str
) -> None:
    """Each rule the database's CHECKs enforce, and a few more, with a row-precise message."""
    path = write_csv("register.csv", [row])
    before = world.counts()
    with pytest.raises(ImportRejected) as exc:
        import_mutations(world.engine, path)
    problems = [(p.row, p.field) for p in exc.value.problems]
    assert (1, field) in problems, exc.value
    (problem,) = [p for p in exc.value.problems if (p.row, p.field) == (1, field)]
    assert problem.reason.startswith(reason)
    assert world.counts() == before


def test_header_is_checked(world: World, write_csv: WriteCsv) -> None:
    header = MUTATION_HEADER.replace("sub_registrar", "registrar") + ",remarks,mouza"
    path = write_csv("register.csv", [mutation_row()], header=header)
    with pytest.raises(ImportRejected) as exc:
        import_mutations(world.engine, path)
    assert [(p.row, p.field) for p in exc.value.problems] == [
        (None, "mouza"),
        (None, "sub_registrar"),
        (None, "registrar"),
        (None, "remarks"),
    ]
    assert exc.value.problems[0].reason == "column 'mouza' appears 2 times"
    assert exc.value.problems[2].reason.startswith("unknown column 'registrar'; expected exactly")


def test_empty_file_and_blank_lines(world: World, write_csv: WriteCsv, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ImportRejected, match="the file is empty: no header row"):
        import_mutations(world.engine, empty)
    # blank lines are skipped but still counted, as a spreadsheet shows them
    path = write_csv("blank.csv", [mutation_row(no=1), "", mutation_row(no=2, share="5/4")])
    with pytest.raises(ImportRejected) as exc:
        import_mutations(world.engine, path)
    assert [(p.row, p.field) for p in exc.value.problems] == [(3, "share")]
