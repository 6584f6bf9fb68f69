"""Importing a mutation register from CSV (landgov.io.mutations): the rows, the officers
they name (rank refused, jurisdiction flagged), who may import, and input that could hurt
the next reader."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from io_testdata import (
    ASLAM,
    BUSHRA,
    GIRDAWAR,
    MUTATION_HEADER,
    OFFICER,
    OUTSIDER,
    PATWARI,
    TARIQ,
    VERIFIER_HEADER,
    World,
    mutation_row,
    owner_of,
)
from security_support import officer_actor, staff_actor
from sqlalchemy import text

from landgov.errors import AccessDenied, ImportRejected, RowProblem
from landgov.io import import_mutations
from landgov.io.mutations import FLAG_RULE

WriteCsv = Callable[..., Path]

SANCTIONED = {
    "status": "sanctioned",
    "verified": "2024-01-20",
    "decided": "2024-02-01",
    "officer": OFFICER,
}


def good_register() -> list[str]:
    """Four mutations in two mouzas, every status, five lines (VERIFIER_HEADER: each
    verification names its girdawar, so nothing is flagged)."""
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
            verifier=GIRDAWAR,
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
            verifier=GIRDAWAR,
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
            verifier="",
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
            verifier="",
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
            verifier=GIRDAWAR,
        ),
    ]


def test_good_register_is_recorded(world: World, write_csv: WriteCsv) -> None:
    path = write_csv("register.csv", good_register(), header=VERIFIER_HEADER, bom=True)

    report = import_mutations(world.engine, path, actor=world.actor)

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
        flags = conn.execute(text("SELECT count(*) FROM mutation_flag")).scalar_one()
    officer_id, girdawar = world.officers[OFFICER], world.officers[GIRDAWAR]
    assert flags == 0
    kot, jan = world.mouza_id, world.other_mouza_id
    assert set(mutations) == {(kot, 1), (kot, 2), (kot, 3), (jan, 1)}
    sale = mutations[(kot, 1)]
    assert (sale["type"], sale["status"], sale["officer_id"]) == ("sale", "sanctioned", officer_id)
    assert sale["verified_by"] == girdawar
    assert sale["recorded_at"] is not None  # the server's clock, by the database's trigger
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
    assert (mutations[(jan, 1)]["status"], mutations[(jan, 1)]["verified_by"]) == (
        "verified",
        girdawar,
    )
    assert rejected["verified_by"] is None

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
    report = import_mutations(world.engine, path, actor=world.actor)
    assert report.summary().startswith(
        "kot_nau.csv: 2 mutations (2 lines) imported into mouza Kot Nau (hadbast 117) in "
    )
    with world.engine.connect() as conn:
        (row,) = (
            conn.execute(text("SELECT * FROM audit_log WHERE action = 'import mutations'"))
            .mappings()
            .all()
        )
        (trigger,) = (
            conn.execute(text("SELECT * FROM audit_log WHERE entity = 'mutation'")).mappings().all()
        )
    assert (row["actor"], row["action"], row["entity"], row["entity_id"]) == (
        world.actor.label,
        "import mutations",
        "mouza",
        str(world.mouza_id),
    )
    assert (trigger["actor"], trigger["action"], trigger["details"]["rows"]) == (
        world.actor.label,
        "db.insert",
        2,
    )
    assert trigger["id"] < row["id"]
    assert row["details"]["file"] == "kot_nau.csv"
    assert (row["details"]["count"], row["details"]["lines"]) == (2, 2)
    assert len(row["details"]["sha256"]) == 64


def test_mutation_numbers_already_registered_are_refused(world: World, write_csv: WriteCsv) -> None:
    import_mutations(world.engine, write_csv("first.csv", [mutation_row(no=5)]), actor=world.actor)
    before = world.counts()
    path = write_csv("second.csv", [mutation_row(no=6), mutation_row(mouza="117", no=5)])
    with pytest.raises(ImportRejected) as exc:
        import_mutations(world.engine, path, actor=world.actor)
    assert exc.value.problems == [
        RowProblem(2, "mutation_no", "mutation 5 already exists in mouza Kot Nau (hadbast 117)")
    ]
    assert world.counts() == before


def test_lines_of_one_mutation_must_agree(world: World, write_csv: WriteCsv) -> None:
    rows = [
        mutation_row(no=1, line=1),
        mutation_row(no=1, line=2, type="gift", entered="2024-01-11", consideration="1250000"),
        mutation_row(no=1, line=2, khewat=2),
    ]
    with pytest.raises(ImportRejected) as exc:
        import_mutations(world.engine, write_csv("register.csv", rows), actor=world.actor)
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
            "no mouza 'Nowhere' (by name or hadbast number). "
            "Known mouzas: Dhamke, Jandiala, Kot Nau.",
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
        import_mutations(world.engine, path, actor=world.actor)
    problems = [(p.row, p.field) for p in exc.value.problems]
    assert (1, field) in problems, exc.value
    (problem,) = [p for p in exc.value.problems if (p.row, p.field) == (1, field)]
    assert problem.reason.startswith(reason)
    assert world.counts() == before


def test_header_is_checked(world: World, write_csv: WriteCsv) -> None:
    header = MUTATION_HEADER.replace("sub_registrar", "registrar") + ",remarks,mouza"
    path = write_csv("register.csv", [mutation_row()], header=header)
    with pytest.raises(ImportRejected) as exc:
        import_mutations(world.engine, path, actor=world.actor)
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
        import_mutations(world.engine, empty, actor=world.actor)
    # blank lines are skipped but still counted, as a spreadsheet shows them
    path = write_csv("blank.csv", [mutation_row(no=1), "", mutation_row(no=2, share="5/4")])
    with pytest.raises(ImportRejected) as exc:
        import_mutations(world.engine, path, actor=world.actor)
    assert [(p.row, p.field) for p in exc.value.problems] == [(3, "share")]


# --- the officers a register names ------------------------------------------------------


def flags_of(world: World) -> dict[int, tuple[str, dict[str, object]]]:
    """mutation number -> (rule, details) of its flag."""
    with world.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT m.number, f.rule, f.details FROM mutation_flag f"
                " JOIN mutation m ON m.id = f.mutation_id ORDER BY m.number"
            )
        ).all()
    assert len({r.number for r in rows}) == len(rows), "one flag per mutation"
    return {int(r.number): (str(r.rule), dict(r.details)) for r in rows}


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        pytest.param(
            mutation_row(**{**SANCTIONED, "officer": PATWARI}, verifier=GIRDAWAR),
            "officer_cnic",
            "Muhammad Akram (patwari, 35401-5555555-1) cannot sanction a mutation: only a "
            "naib tehsildar, tehsildar or assistant commissioner decides one "
            "(rule officer_designation)",
            id="patwari-sanctions",
        ),
        pytest.param(
            mutation_row(
                status="rejected",
                decided="2024-02-01",
                officer=GIRDAWAR,
                reason="No deed",
                verifier="",
            ),
            "officer_cnic",
            "Sajid Ali (girdawar, 35401-6666666-1) cannot reject a mutation: only a naib tehsildar",
            id="girdawar-rejects",
        ),
        pytest.param(
            mutation_row(status="verified", verified="2024-01-12", verifier=PATWARI),
            "verifier_cnic",
            "Muhammad Akram (patwari, 35401-5555555-1) cannot verify a mutation: a patwari "
            "enters mutations, a girdawar or a revenue officer verifies them "
            "(rule officer_designation)",
            id="patwari-verifies",
        ),
        pytest.param(
            mutation_row(**SANCTIONED, verifier=OFFICER),
            "officer_cnic",
            "Naveed Akhtar (tehsildar, 35401-9999999-1) verified this mutation and cannot "
            "also sanction it (rule separation_of_duties)",
            id="verifier-sanctions",
        ),
        pytest.param(
            mutation_row(status="verified", verified="2024-01-12", verifier="35401-0000000-1"),
            "verifier_cnic",
            "no officer with CNIC 35401-0000000-1",
            id="unknown-verifier",
        ),
        pytest.param(
            mutation_row(verifier=GIRDAWAR),
            "verifier_cnic",
            "an entered mutation is not verified yet: leave it empty",
            id="verifier-of-entered",
        ),
        pytest.param(
            mutation_row(
                status="rejected",
                decided="2024-02-01",
                officer=OFFICER,
                reason="Forged",
                verifier=GIRDAWAR,
            ),
            "verifier_cnic",
            "a verifier is named only with the date of verification (verified_on)",
            id="verifier-without-date",
        ),
        pytest.param(
            mutation_row(**{**SANCTIONED, "decided": "2099-01-01"}, verifier=GIRDAWAR),
            "decided_on",
            "2099-01-01 is after today (",
            id="decided-in-the-future",
        ),
        pytest.param(
            mutation_row(entered="2098-05-01", verifier=""),
            "entered_on",
            "2098-05-01 is after today (",
            id="entered-in-the-future",
        ),
    ],
)
def test_officer_rank_and_dates_are_refused(
    world: World, write_csv: WriteCsv, row: str, field: str, reason: str
) -> None:
    """A wrong rank is a mistake in the file: refused, naming the row, field and rule."""
    path = write_csv("register.csv", [row], header=VERIFIER_HEADER)
    before = world.counts()
    with pytest.raises(ImportRejected) as exc:
        import_mutations(world.engine, path, actor=world.actor)
    found = [p for p in exc.value.problems if (p.row, p.field) == (1, field)]
    assert found, exc.value
    assert found[0].reason.startswith(reason), found[0].reason
    assert world.counts() == before


def test_future_date_names_its_rule(world: World, write_csv: WriteCsv) -> None:
    path = write_csv("register.csv", [mutation_row(entered="2099-12-31")])
    with pytest.raises(ImportRejected) as exc:
        import_mutations(world.engine, path, actor=world.actor)
    (problem,) = exc.value.problems
    assert problem.reason.endswith(
        "no step of a mutation is dated in the future (rule future_date)"
    )


def test_out_of_jurisdiction_decisions_are_imported_and_flagged(
    world: World, write_csv: WriteCsv
) -> None:
    """History is imported as it happened, never silently trusted: a sanction by the
    tehsildar of another tehsil, a decision dated before the officer's posting, a
    verification by a girdawar not yet posted and a verification naming nobody are each
    flagged for review; a clean mutation is not."""
    rows = [
        # 1: sanctioned in Kot Nau by the tehsildar of Muridke
        mutation_row(no=1, **{**SANCTIONED, "officer": OUTSIDER}, verifier=GIRDAWAR),
        mutation_row(
            no=1, line=2, khewat=2, **{**SANCTIONED, "officer": OUTSIDER}, verifier=GIRDAWAR
        ),
        # 2: rejected in 1999, before the tehsildar's posting (2000); verified by the
        # girdawar, also before his posting
        mutation_row(
            no=2,
            status="rejected",
            entered="1999-03-01",
            verified="1999-04-01",
            decided="1999-05-01",
            officer=OFFICER,
            reason="Deed not produced",
            verifier=GIRDAWAR,
        ),
        # 3: verified, nobody named
        mutation_row(no=3, status="verified", verified="2024-01-12", verifier=""),
        # 4: clean
        mutation_row(no=4, **SANCTIONED, verifier=GIRDAWAR),
    ]
    path = write_csv("history.csv", rows, header=VERIFIER_HEADER)

    report = import_mutations(world.engine, path, actor=world.actor)

    assert report.counts == {"mutation": 4, "mutation_line": 5, "mutation_flag": 3}
    assert report.summary().startswith(
        "history.csv: 4 mutations (5 lines, 3 flagged for review) imported into mouza Kot Nau"
    )
    kot = world.mouza_id
    assert report.details["flagged"] == {
        (kot, 1): ["officer_jurisdiction"],
        (kot, 2): ["officer_jurisdiction", "officer_jurisdiction"],
        (kot, 3): ["no_verifier"],
    }
    flags = flags_of(world)
    assert set(flags) == {1, 2, 3}
    assert {rule for rule, _ in flags.values()} == {FLAG_RULE}
    (check,) = flags[1][1]["checks"]
    assert check == {
        "row": 1,
        "step": "decision",
        "field": "officer_cnic",
        "officer_cnic": OUTSIDER,
        "on": "2024-02-01",
        "check": "officer_jurisdiction",
        "message": "Khalid Mahmood (tehsildar, 35401-7777777-1) was not posted over mouza "
        "Kot Nau (hadbast 117) on 2024-02-01, the date of the decision",
    }
    assert flags[1][1]["source"] == "import:history.csv"
    verification, decision = flags[2][1]["checks"]
    assert (verification["step"], verification["officer_cnic"], verification["on"]) == (
        "verification",
        GIRDAWAR,
        "1999-04-01",
    )
    assert (decision["step"], decision["officer_cnic"], decision["on"]) == (
        "decision",
        OFFICER,
        "1999-05-01",
    )
    (nobody,) = flags[3][1]["checks"]
    assert (nobody["check"], nobody["row"], nobody["officer_cnic"]) == ("no_verifier", 4, None)
    with world.engine.connect() as conn:
        audit = conn.execute(
            text("SELECT details FROM audit_log WHERE action = 'import mutations'")
        ).scalar_one()
    assert audit["flagged"] == {FLAG_RULE: 3}


def test_a_register_without_the_verifier_column_flags_every_verification(
    world: World, write_csv: WriteCsv
) -> None:
    never_verified = {**SANCTIONED, "verified": ""}
    rows = [
        mutation_row(no=1, **SANCTIONED),
        mutation_row(no=2),
        mutation_row(no=3, **never_verified),
    ]
    report = import_mutations(world.engine, write_csv("r.csv", rows), actor=world.actor)
    # 2 is only entered, 3 was never verified
    assert report.details["flagged"] == {(world.mouza_id, 1): ["no_verifier"]}


# --- who may import ------------------------------------------------------------------------


def test_import_into_a_mouza_outside_the_actors_posting_is_refused(
    world: World, write_csv: WriteCsv
) -> None:
    """One row in Dhamke (tehsil Muridke) refuses the whole register for the patwari of
    Ferozewala, before any row is checked; the tehsildar of Muridke may not import the
    Kot Nau rows either; an auditor may not import at all."""
    rows = [mutation_row(no=1), mutation_row(mouza="Dhamke", no=1)]
    path = write_csv("register.csv", rows)
    before = world.counts()
    with pytest.raises(AccessDenied) as exc:
        import_mutations(world.engine, path, actor=world.actor)
    assert exc.value.rule == "jurisdiction"
    assert "not posted over mouza Dhamke today" in str(exc.value)
    with pytest.raises(AccessDenied) as exc:
        import_mutations(world.engine, path, actor=officer_actor(world.engine, OUTSIDER))
    assert (exc.value.rule, "mouza Kot Nau" in str(exc.value)) == ("jurisdiction", True)
    with pytest.raises(AccessDenied) as exc:
        import_mutations(world.engine, path, actor=staff_actor(world.engine, "auditor"))
    assert exc.value.rule == "role"
    assert world.counts() == before


def test_row_level_security_is_the_second_wall(world: World, write_csv: WriteCsv) -> None:
    """Even past the application's check, the database refuses rows outside the bound
    actor's posting: the same register written through the app role by the patwari of
    Ferozewala into Dhamke fails in PostgreSQL itself."""
    from sqlalchemy.exc import DBAPIError

    from landgov.security import bind

    with pytest.raises(DBAPIError, match="row-level security"), world.engine.begin() as conn:
        bind(conn, world.actor)
        conn.execute(
            text(
                "INSERT INTO mutation (mouza_id, number, type, status, entered_on)"
                " VALUES (:m, 1, 'sale', 'entered', '2024-01-10')"
            ),
            {"m": world.far_mouza_id},
        )


def test_the_bulk_posting_check_is_the_officers_rule(world: World) -> None:
    """The importer checks thousands of steps in one query; it must agree with
    landgov.storage.officers.jurisdiction_mouzas, day by day, at the edges of postings
    over a district, a tehsil and a patwar circle, open or ended."""
    from datetime import timedelta

    from landgov.io.mutations import _Resolver, _Step
    from landgov.storage.officers import Officer, jurisdiction_mouzas

    with owner_of(world.engine).begin() as conn:
        unit = "INSERT INTO admin_unit (level, name, parent_id) VALUES (:l, :n, :p) RETURNING id"
        tehsil = conn.execute(
            text("SELECT tehsil_id FROM mouza WHERE id = :m"), {"m": world.mouza_id}
        ).scalar_one()
        district = conn.execute(
            text("SELECT parent_id FROM admin_unit WHERE id = :t"), {"t": tehsil}
        ).scalar_one()
        circle = conn.execute(
            text(unit), {"l": "patwar_circle", "n": "Kot Nau circle", "p": tehsil}
        ).scalar_one()
        conn.execute(
            text("UPDATE mouza SET patwar_circle_id = :c WHERE id = :m"),
            {"c": circle, "m": world.mouza_id},
        )
        postings = [
            (world.officers[OUTSIDER], district, "2010-03-01", "2012-07-01"),
            (world.officers[PATWARI], circle, "2011-01-01", "2011-06-01"),
            (world.officers[GIRDAWAR], tehsil, "2012-01-01", None),
        ]
        for officer_id, unit_id, start, end in postings:
            conn.execute(
                text(
                    "INSERT INTO officer_jurisdiction (officer_id, admin_unit_id, valid_from,"
                    " valid_to) VALUES (:o, :u, :f, :t)"
                ),
                {"o": officer_id, "u": unit_id, "f": start, "t": end},
            )
    edges = [date(2010, 3, 1), date(2012, 7, 1), date(2011, 1, 1), date(2011, 6, 1)]
    days = sorted({e + timedelta(days=d) for e in edges for d in (-1, 0, 1)})
    mouzas = [world.mouza_id, world.other_mouza_id, world.far_mouza_id]
    with world.engine.connect() as conn:
        officers = [
            Officer(int(i), str(n), str(d), str(c))
            for i, n, d, c in conn.execute(text("SELECT id, name, designation, cnic FROM officer"))
        ]
        steps = [
            _Step((m, 1), 1, "decision", "officer_cnic", o, day)
            for o in officers
            for m in mouzas
            for day in days
        ]
        bulk = _Resolver(conn, []).posted(steps)
        one_by_one = {
            (o.id, m, day)
            for o in officers
            for day in days
            for m in jurisdiction_mouzas(conn, o.id, day, mouzas)
        }
    assert bulk == one_by_one
    assert len(one_by_one) > 10 and len(one_by_one) < len(steps)  # both kinds of answer


# --- deeds and prices: the entry rules of issue 19 ----------------------------------------

DEED = {"deed": "1234/B-I", "deed_date": "2024-01-05", "registrar": "Sub-Registrar Ferozewala"}


@pytest.mark.parametrize("price", ["", "0", "0,000"])
def test_a_sale_without_a_price_is_refused(world: World, write_csv: WriteCsv, price: str) -> None:
    """Whatever its status: no dispute rule needs an imported sale without a price, and
    the under-declaration rule cannot see one (module notes)."""
    rows = [
        mutation_row(no=1, consideration=price, **DEED),
        mutation_row(no=2, type="gift", consideration=price),  # a gift has no price
        mutation_row(
            no=3,
            consideration=price,
            status="rejected",
            decided="2024-02-01",
            officer=OFFICER,
            reason="parties did not appear",
        ),
    ]
    before = world.counts()
    with pytest.raises(ImportRejected) as exc:
        import_mutations(world.engine, write_csv("register.csv", rows), actor=world.actor)
    reason = (
        "a sale needs its declared price (Rs, above zero); a transfer for no price is a gift (hiba)"
    )
    assert exc.value.problems == [
        RowProblem(1, "consideration_rs", reason),
        RowProblem(3, "consideration_rs", reason),
    ]
    assert "register.csv" in str(exc.value) and "row 1, field 'consideration_rs'" in str(exc.value)
    assert world.counts() == before


def test_a_deed_twice_in_one_file_is_refused_naming_both_rows(
    world: World, write_csv: WriteCsv
) -> None:
    """Spelled as clerks spell it (case, spaces), on another day of the same year, in
    another mouza: the same deed. Every line of a mutation repeats its deed: that is no
    repeat."""
    again = {
        "deed": " 1234/b-i",
        "deed_date": "2024-03-30",
        "registrar": "sub-registrar   FEROZEWALA",
    }
    rows = [
        mutation_row(no=1, line=1, **DEED),
        mutation_row(no=1, line=2, khewat=2, **DEED),
        mutation_row(no=2, **DEED),
        mutation_row(mouza="Jandiala", no=1, entered="2024-04-01", **again),
    ]
    before = world.counts()
    with pytest.raises(ImportRejected) as exc:
        import_mutations(world.engine, write_csv("register.csv", rows), actor=world.actor)
    assert exc.value.problems == [
        RowProblem(
            3,
            "deed_number",
            "deed 1234/B-I of 2024 at Sub-Registrar Ferozewala is already the deed of "
            "mutation 1 of mouza Kot Nau (hadbast 117) on row 1; a registered deed is "
            "entered once (office, year and number name one deed, whatever the case and "
            "spaces)",
        ),
        RowProblem(
            4,
            "deed_number",
            "deed 1234/b-i of 2024 at sub-registrar   FEROZEWALA is already the deed of "
            "mutation 1 of mouza Kot Nau (hadbast 117) on row 1; a registered deed is "
            "entered once (office, year and number name one deed, whatever the case and "
            "spaces)",
        ),
    ]
    assert world.counts() == before


def test_a_deed_already_in_the_register_is_refused_naming_its_mutation(
    world: World, write_csv: WriteCsv
) -> None:
    first = [mutation_row(mouza="Jandiala", no=4, entered="2024-01-08", **SANCTIONED, **DEED)]
    import_mutations(world.engine, write_csv("first.csv", first), actor=world.actor)
    before = world.counts()
    rows = [
        mutation_row(no=1, type="gift"),
        mutation_row(
            no=2, deed="1234/B-I", deed_date="2024-12-31", registrar="Sub-Registrar ferozewala "
        ),
    ]
    with pytest.raises(ImportRejected) as exc:
        import_mutations(world.engine, write_csv("second.csv", rows), actor=world.actor)
    assert exc.value.problems == [
        RowProblem(
            2,
            "deed_number",
            "deed 1234/B-I of 2024 at Sub-Registrar ferozewala is already entered as "
            "mutation No. 4 of mouza Jandiala (sale, entered 2024-01-08, sanctioned); a "
            "registered deed is entered once",
        )
    ]
    assert world.counts() == before


def test_deeds_the_rule_does_not_count(world: World, write_csv: WriteCsv) -> None:
    """The engine's exceptions: a rejected mutation holds no deed (the sale is entered
    again on it), a court decree's number is its case's; another year or another office
    is another deed; a mutation without a deed is no repeat of one."""
    rejected = {"status": "rejected", "decided": "2024-02-01", "officer": OFFICER}
    first = [
        mutation_row(no=1, **rejected, reason="parties did not appear", **DEED),
        mutation_row(no=2, type="court_decree", deed="CS-17/2023", deed_date="2024-01-02"),
    ]
    import_mutations(world.engine, write_csv("first.csv", first), actor=world.actor)
    rows = [
        mutation_row(no=3, **DEED),  # again, after the rejection
        mutation_row(no=4, **rejected, reason="duplicate entry", **DEED),
        mutation_row(no=5, type="court_decree", deed="CS-17/2023", deed_date="2024-01-02"),
        mutation_row(no=6, **{**DEED, "deed_date": "2023-12-30"}),
        mutation_row(no=7, **{**DEED, "registrar": "Sub-Registrar Sheikhupura"}),
        mutation_row(no=8, **{**DEED, "registrar": ""}),
        mutation_row(no=9),
        mutation_row(no=10),
    ]
    report = import_mutations(world.engine, write_csv("second.csv", rows), actor=world.actor)
    assert report.counts["mutation"] == 8
    # and a deed without a sub-registrar is still one deed: two of them collide
    with pytest.raises(ImportRejected) as exc:
        import_mutations(
            world.engine,
            write_csv("third.csv", [mutation_row(no=11, **{**DEED, "registrar": " "})]),
            actor=world.actor,
        )
    assert [(p.row, p.field) for p in exc.value.problems] == [(1, "deed_number")]
    assert exc.value.problems[0].reason.startswith(
        "deed 1234/B-I of 2024 is already entered as mutation No. 8 of mouza Kot Nau"
    )


def test_a_deed_entered_while_the_file_is_imported_meets_the_index(
    world: World, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the importer's check and its write another office enters the same deed
    (committed from another connection): the unique index refuses the file, and the
    refusal says what happened instead of the database's bare duplicate-key message."""
    from landgov.io import mutations as importer

    write = importer._insert

    def racing(*args: object, **kwargs: object) -> object:
        with owner_of(world.engine).begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO mutation (mouza_id, number, type, status, entered_on,"
                    " deed_number, deed_date, sub_registrar, consideration_rs)"
                    " VALUES (:m, 9, 'sale', 'entered', '2024-01-09', '1234/B-I',"
                    " '2024-01-05', 'Sub-Registrar Ferozewala', 700000)"
                ),
                {"m": world.other_mouza_id},
            )
        return write(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importer, "_insert", racing)
    with pytest.raises(ImportRejected) as exc:
        import_mutations(
            world.engine, write_csv("register.csv", [mutation_row(no=1, **DEED)]), actor=world.actor
        )
    (problem,) = exc.value.problems
    assert (problem.row, problem.field) == (None, "deed_number")
    assert problem.reason.startswith(
        "a deed of this file was entered in the register while the file was being imported ("
    )
    assert "mutation_deed_once" in problem.reason
    assert problem.reason.endswith("import the file again to see which row")
    with world.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM mutation")).scalar_one() == 1  # theirs
