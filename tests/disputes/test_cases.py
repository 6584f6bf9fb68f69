"""The dispute case workflow on the demo district: transitions, refusals, audit, queue.

Officers act through their demo accounts, signed in with the password and TOTP code of
the demo's accounts file."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from case_support import ON, first_case, officer, posted, staff_member
from security_support import owner_engine, service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.disputes import cases
from landgov.disputes.scan import scan
from landgov.errors import AuthenticationFailed, CaseActionRefused, DomainError
from landgov.security import Actor, logout
from landgov.storage.lookup import NotFound


def case_row(engine: Engine, case_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(
            conn.execute(text("SELECT * FROM dispute_case WHERE id = :i"), {"i": case_id})
            .mappings()
            .one()
        )


def case_audit(engine: Engine, case_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT seq, actor, action, details FROM audit_log WHERE entity = 'dispute_case'"
                " AND entity_id = :i ORDER BY seq"
            ),
            {"i": str(case_id)},
        ).mappings()
        return [dict(r) for r in rows]


def snapshot(engine: Engine) -> tuple[Any, ...]:
    """Every case row and the audit log's head: what a refused step must leave alone."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM dispute_case ORDER BY id")).all()
        head = conn.execute(text("SELECT count(*), max(seq) FROM audit_log")).one()
    return tuple(tuple(r) for r in rows), tuple(head)


@pytest.fixture
def scanned(demo_copy: Engine) -> Engine:
    scan(demo_copy, actor=service_actor(demo_copy, "disputes"))
    return demo_copy


POSTS = {
    "tehsildar": ("tehsildar", "Sheikhupura"),
    "naib_tehsildar": ("naib_tehsildar", "Sheikhupura"),
    "assistant_commissioner": ("assistant_commissioner", "Sheikhupura"),
    "girdawar": ("girdawar", "Kot Rehmat"),
    "patwari": ("patwari", "Burj Karam Singh"),
    "outsider": ("tehsildar", "Muridke"),  # another tehsil
}


@pytest.fixture
def staff(scanned: Engine, demo_dir: Path) -> dict[str, Actor]:
    """One signed-in officer per role, posted today: tehsil officers, the girdawar, a
    patwari, and an outsider (the tehsildar of another tehsil)."""
    return {k: officer(scanned, demo_dir, posted(scanned, *v)) for k, v in POSTS.items()}


def test_review_confirm_refer_sets_every_field_and_audits_each_step(
    scanned: Engine, staff: dict[str, Actor]
) -> None:
    cid = first_case(scanned)
    before = case_audit(scanned, cid)
    assert [a["action"] for a in before] == ["open dispute case"]

    step = cases.review(scanned, cid, staff["girdawar"], on=ON)
    assert (step.from_status, step.to_status, step.on) == ("open", "under_review", ON)
    row = case_row(scanned, cid)
    assert row["status"] == "under_review"
    assert row["reviewed_by"] == staff["girdawar"].officer_id
    assert row["reviewed_on"] == ON
    assert row["decided_by"] is None and row["decided_on"] is None

    cases.confirm(scanned, cid, staff["tehsildar"], on=ON, note="  owners over-allocated  ")
    row = case_row(scanned, cid)
    assert (row["status"], row["decided_on"]) == ("confirmed", ON)
    assert row["decided_by"] == staff["tehsildar"].officer_id
    assert row["reason"] == "owners over-allocated"

    step = cases.refer(scanned, cid, staff["assistant_commissioner"], on=ON)
    row = case_row(scanned, cid)
    assert row["status"] == "referred"
    assert row["referred_on"] == ON
    assert row["decide_by"] == ON + timedelta(days=90) == step.decide_by
    assert cases.COMMITTEE_DAYS == 90
    assert row["decided_by"] == staff["tehsildar"].officer_id  # the decision stays

    steps = case_audit(scanned, cid)[1:]
    assert [a["action"] for a in steps] == [
        "dispute case review",
        "dispute case confirm",
        "dispute case refer",
    ]
    assert [a["actor"] for a in steps] == [  # the accounts, user:girdawar.N...
        staff["girdawar"].label,
        staff["tehsildar"].label,
        staff["assistant_commissioner"].label,
    ]
    assert steps[0]["actor"].startswith("user:girdawar.")
    assert steps[0]["details"]["officer"] == f"{staff['girdawar'].full_name} (girdawar)"
    assert "backdated" not in steps[0]["details"]
    assert [(a["details"]["from"], a["details"]["to"]) for a in steps] == [
        ("open", "under_review"),
        ("under_review", "confirmed"),
        ("confirmed", "referred"),
    ]
    assert steps[1]["details"]["note"] == "owners over-allocated"
    assert steps[2]["details"]["decide_by"] == (ON + timedelta(days=90)).isoformat()
    assert steps[2]["details"]["referred_on"] == ON.isoformat()
    assert step.audit_seq == steps[2]["seq"]


def test_dismiss_with_a_reason_from_open_or_under_review(
    scanned: Engine, staff: dict[str, Actor]
) -> None:
    open_case = first_case(scanned, "Kot Pindi Das")
    cases.dismiss(
        scanned, open_case, staff["naib_tehsildar"], "  boundary already corrected ", on=ON
    )
    row = case_row(scanned, open_case)
    assert (row["status"], row["reason"], row["decided_on"]) == (
        "dismissed",
        "boundary already corrected",
        ON,
    )
    assert row["decided_by"] == staff["naib_tehsildar"].officer_id
    (audit_row,) = case_audit(scanned, open_case)[1:]
    assert audit_row["action"] == "dispute case dismiss"
    assert audit_row["details"]["reason"] == "boundary already corrected"
    assert (audit_row["details"]["from"], audit_row["details"]["to"]) == ("open", "dismissed")

    reviewed = first_case(scanned, "Chak Mehr Wala")
    cases.review(scanned, reviewed, staff["tehsildar"], on=ON)
    cases.dismiss(scanned, reviewed, staff["tehsildar"], "shares checked on the fard", on=ON)
    assert case_row(scanned, reviewed)["status"] == "dismissed"
    # a dismissed case is closed: nothing further may happen to it
    with pytest.raises(CaseActionRefused) as refused:
        cases.review(scanned, reviewed, staff["tehsildar"], on=ON)
    assert refused.value.rule == "case_status"


REFUSALS = [
    # (label, what the case is first brought to, the refused call, the rule)
    ("patwari reviews", "open", lambda e, c, s: cases.review(e, c, s["patwari"], on=ON),
     "officer_designation"),
    ("outsider reviews", "open", lambda e, c, s: cases.review(e, c, s["outsider"], on=ON),
     "officer_jurisdiction"),
    ("girdawar confirms", "under_review",
     lambda e, c, s: cases.confirm(e, c, s["girdawar"], on=ON), "officer_designation"),
    ("confirm an open case", "open",
     lambda e, c, s: cases.confirm(e, c, s["tehsildar"], on=ON), "case_status"),
    ("refer an unconfirmed case", "under_review",
     lambda e, c, s: cases.refer(e, c, s["tehsildar"], on=ON), "case_status"),
    ("review twice", "under_review",
     lambda e, c, s: cases.review(e, c, s["tehsildar"], on=ON), "case_status"),
    ("dismiss a confirmed case", "confirmed",
     lambda e, c, s: cases.dismiss(e, c, s["tehsildar"], "no", on=ON), "case_status"),
    ("blank dismissal reason", "open",
     lambda e, c, s: cases.dismiss(e, c, s["tehsildar"], "   ", on=ON), "reason_required"),
    ("outsider dismisses", "open",
     lambda e, c, s: cases.dismiss(e, c, s["outsider"], "not ours", on=ON),
     "officer_jurisdiction"),
    ("outsider dates it back", "open",
     lambda e, c, s: cases.review(e, c, s["outsider"], on=ON - timedelta(days=2)),
     "officer_jurisdiction"),
    ("beyond the back-dating window", "open",
     lambda e, c, s: cases.review(e, c, s["tehsildar"], on=ON - timedelta(days=8)),
     "backdate_window"),
    ("dated tomorrow", "open",
     lambda e, c, s: cases.review(e, c, s["tehsildar"], on=date.today() + timedelta(days=1)),
     "case_date"),
    ("confirmed before reviewed", "under_review",
     lambda e, c, s: cases.confirm(e, c, s["tehsildar"], on=ON - timedelta(days=1)),
     "case_date"),
    ("referred before confirmed", "confirmed",
     lambda e, c, s: cases.refer(e, c, s["tehsildar"], on=ON - timedelta(days=1)),
     "case_date"),
]  # fmt: skip


def bring_to(engine: Engine, case_id: int, status: str, staff: dict[str, Actor]) -> None:
    if status in ("under_review", "confirmed"):
        cases.review(engine, case_id, staff["girdawar"], on=ON)
    if status == "confirmed":
        cases.confirm(engine, case_id, staff["tehsildar"], on=ON)


@pytest.mark.parametrize(
    ("label", "status", "call", "rule"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_a_refused_step_names_its_rule_and_writes_nothing(
    scanned: Engine, staff: dict[str, Actor], label: str, status: str, call: Any, rule: str
) -> None:
    cid = first_case(scanned)
    bring_to(scanned, cid, status, staff)
    before = snapshot(scanned)
    with pytest.raises(CaseActionRefused) as refused:
        call(scanned, cid, staff)
    assert refused.value.rule == rule, label
    assert snapshot(scanned) == before  # neither the case nor the audit log changed
    assert case_row(scanned, cid)["status"] == status


def test_unknown_case_or_ended_session_writes_nothing(
    scanned: Engine, staff: dict[str, Actor], demo_dir: Path
) -> None:
    cid = first_case(scanned)
    before = snapshot(scanned)
    with pytest.raises(NotFound, match="no dispute case with id 999999"):
        cases.review(scanned, 999_999, staff["tehsildar"], on=ON)
    with scanned.connect() as conn, pytest.raises(NotFound):
        cases.case_detail(conn, 999_999)
    # a signed-out officer's actor is refused by the database itself (landgov_act_as)
    gone = officer(scanned, demo_dir, posted(scanned, "tehsildar", "Sheikhupura"))
    logout(scanned, gone.token)
    with pytest.raises(AuthenticationFailed, match="session has ended"):
        cases.review(scanned, cid, gone, on=ON)
    # staff who hold no officer posting cannot work cases
    for username in ("auditor", "admin"):
        with pytest.raises(CaseActionRefused) as refused:
            cases.review(scanned, cid, staff_member(scanned, demo_dir, username), on=ON)
        assert refused.value.rule == "officer_designation"
    assert snapshot(scanned) == before


def test_a_step_dated_back_within_the_window_is_allowed_and_marked(
    scanned: Engine, staff: dict[str, Actor]
) -> None:
    cid = first_case(scanned)
    three_days_ago = ON - timedelta(days=3)
    step = cases.review(scanned, cid, staff["girdawar"], on=three_days_ago)
    assert (step.on, case_row(scanned, cid)["reviewed_on"]) == (three_days_ago, three_days_ago)
    assert case_audit(scanned, cid)[-1]["details"]["backdated"] is True


def test_a_newly_posted_officer_cannot_reach_back_before_his_posting(
    scanned: Engine, staff: dict[str, Actor]
) -> None:
    """Posted then and now: a tehsildar posted two days ago may act today, and back-date
    within his posting, but not to a day before it (though inside the window)."""
    cid = first_case(scanned)
    tehsildar = staff["tehsildar"]
    with owner_engine(scanned).begin() as conn:  # as if he had arrived two days ago
        conn.execute(
            text(
                "UPDATE officer_jurisdiction SET valid_from = :d WHERE officer_id = :o"
                " AND valid_to IS NULL"
            ),
            {"d": ON - timedelta(days=2), "o": tehsildar.officer_id},
        )
    before = snapshot(scanned)
    with pytest.raises(CaseActionRefused) as refused:
        cases.review(scanned, cid, tehsildar, on=ON - timedelta(days=5))
    assert refused.value.rule == "posting_then_and_now"
    assert snapshot(scanned) == before
    assert cases.review(scanned, cid, tehsildar, on=ON - timedelta(days=1)).to_status == (
        "under_review"
    )


def test_default_date_is_today(scanned: Engine, staff: dict[str, Actor]) -> None:
    cid = first_case(scanned)
    before = date.today()
    step = cases.review(scanned, cid, staff["tehsildar"])
    assert before <= step.on <= date.today()
    assert case_audit(scanned, cid)[-1]["details"]["on"] == step.on.isoformat()


def test_queue_is_sorted_by_risk_and_limited_to_the_jurisdiction(
    scanned: Engine, staff: dict[str, Actor], demo_dir: Path
) -> None:
    with scanned.connect() as conn:
        every = cases.case_queue(conn, on=ON)
        circle = {
            str(n)
            for n in conn.execute(
                text(
                    "SELECT m.name FROM mouza m JOIN admin_unit a ON a.id = m.patwar_circle_id"
                    " WHERE a.name = 'Burj Karam Singh'"
                )
            ).scalars()
        }
        patwari = cases.case_queue(conn, actor=staff["patwari"], on=ON)
        girdawar = cases.case_queue(conn, actor=staff["girdawar"], on=ON)
        outsider = cases.case_queue(conn, actor=staff["outsider"], on=ON)
        by_id = cases.case_queue(conn, officer_id=staff["patwari"].officer_id, on=ON)
        auditor = cases.case_queue(conn, actor=staff_member(scanned, demo_dir, "auditor"), on=ON)
        n_cases = conn.execute(text("SELECT count(*) FROM dispute_case")).scalar_one()
    assert len(every) == n_cases > 0
    risks = [r["risk"] for r in every]
    assert risks == sorted(risks, reverse=True) and risks[0] > risks[-1]
    assert circle == {"Burj Karam Singh"}
    assert patwari == [r for r in every if r["mouza"] in circle]  # same order, same rows
    assert 0 < len(patwari) < len(every)
    assert by_id == patwari
    assert girdawar == every  # the qanungo halqa covers both circles
    assert outsider == []
    assert auditor == every  # no posting: an auditor reads every mouza's cases
    top = every[0]
    assert top["open_flags"] >= 1 and top["rules"] and top["status"] == "open"
    assert top["subject_label"].startswith(top["subject"].replace("_", " "))
    assert top["overdue"] is False and top["decide_by"] is None


def test_queue_filters_and_labels(scanned: Engine, staff: dict[str, Actor]) -> None:
    cid = first_case(scanned)
    cases.review(scanned, cid, staff["tehsildar"], on=ON)
    with scanned.connect() as conn:
        mouza_id = conn.execute(text("SELECT id FROM mouza WHERE name = 'Chak Mehr Wala'")).one()[0]
        under = cases.case_queue(conn, statuses=["under_review"], on=ON)
        live = cases.case_queue(conn, statuses=cases.LIVE_STATUSES, on=ON)
        every = cases.case_queue(conn, on=ON)
        one_mouza = cases.case_queue(conn, mouza_ids=[mouza_id], on=ON)
        outside = cases.case_queue(conn, actor=staff["patwari"], mouza_ids=[mouza_id], on=ON)
        labels = {r["subject"]: r["subject_label"] for r in cases.case_queue(conn, on=ON)}
        with pytest.raises(DomainError, match="unknown case status closed"):
            cases.case_queue(conn, statuses=["closed"])
    assert [r["id"] for r in under] == [cid]
    assert live == every  # nothing is dismissed yet
    assert one_mouza and {r["mouza"] for r in one_mouza} == {"Chak Mehr Wala"}
    assert outside == []  # the Burj Karam Singh patwari has no say in Chak Mehr Wala
    assert labels["khewat"].removeprefix("khewat ").isdigit()
    assert labels["khasra"].startswith("khasra ")
    assert labels["jamabandi"].removeprefix("jamabandi ").isdigit()


def test_a_referral_past_its_deadline_is_overdue(scanned: Engine, staff: dict[str, Actor]) -> None:
    cid = first_case(scanned)
    cases.review(scanned, cid, staff["girdawar"], on=ON)
    cases.confirm(scanned, cid, staff["tehsildar"], on=ON)
    cases.refer(scanned, cid, staff["tehsildar"], on=ON)
    deadline = ON + timedelta(days=90)
    with scanned.connect() as conn:
        (in_time,) = cases.case_queue(conn, statuses=["referred"], on=deadline)
        (late,) = cases.case_queue(conn, statuses=["referred"], on=deadline + timedelta(1))
        (today,) = cases.case_queue(conn, statuses=["referred"], on=ON)
    assert late["id"] == cid and late["decide_by"] == deadline
    assert (today["overdue"], in_time["overdue"], late["overdue"]) == (False, False, True)


def test_case_detail_of_an_overlap_has_geometry_and_both_parcels(scanned: Engine) -> None:
    with scanned.connect() as conn:
        cid = conn.execute(
            text(
                "SELECT cf.case_id FROM dispute_case_flag cf JOIN dispute_flag f"
                " ON f.id = cf.flag_id WHERE f.rule_id = 'overlap' ORDER BY cf.case_id LIMIT 1"
            )
        ).scalar_one()
        detail = cases.case_detail(conn, cid, today=ON)
    assert detail["case"]["id"] == cid and detail["case"]["subject"] == "khasra"
    (overlap,) = [f for f in detail["flags"] if f["rule"] == "overlap"]
    assert overlap["geojson"]["type"] == "MultiPolygon"
    assert overlap["title_ur"] and overlap["explain_ur"] and overlap["explain_en"]
    roles = [p["role"] for p in detail["parcels"]]
    assert roles.count("subject") == 1 and roles.count("flagged") >= 1
    assert all(p["geojson"]["type"] in ("Polygon", "MultiPolygon") for p in detail["parcels"])
    (breakdown,) = detail["risk"]
    assert breakdown["rule"] == "overlap" and breakdown["explain_en"] == overlap["explain_en"]
    assert detail["case"]["risk"] == pytest.approx(breakdown["points"])
    assert [a["action"] for a in detail["audit"]] == ["open dispute case"]


def test_case_detail_of_a_khewat_names_its_mutations_in_the_chain(
    scanned: Engine, staff: dict[str, Actor]
) -> None:
    with scanned.connect() as conn:
        cid = conn.execute(
            text(
                "SELECT c.id FROM dispute_case c JOIN dispute_case_flag cf ON cf.case_id = c.id"
                " JOIN dispute_flag f ON f.id = cf.flag_id WHERE c.subject = 'khewat'"
                " AND f.rule_id = 'transfer_exceeds_holding' ORDER BY c.id LIMIT 1"
            )
        ).scalar_one()
    cases.review(scanned, cid, staff["girdawar"], on=ON)
    with scanned.connect() as conn:
        detail = cases.case_detail(conn, cid, today=ON)
        live_khasras = conn.execute(
            text(
                "SELECT count(DISTINCT kk.khasra_id) FROM khewat_khasra kk"
                " JOIN khasra k ON k.id = kk.khasra_id WHERE kk.khewat_id = :w"
                " AND (kk.valid_from IS NULL OR kk.valid_from <= :d)"
                " AND (kk.valid_to IS NULL OR kk.valid_to > :d)"
                " AND (k.created_on IS NULL OR k.created_on <= :d)"
                " AND (k.retired_on IS NULL OR k.retired_on > :d)"
            ),
            {"w": detail["case"]["subject_id"], "d": ON},
        ).scalar_one()
    assert detail["case"]["status"] == "under_review"
    assert detail["case"]["reviewed_by"].endswith("(girdawar)")
    assert len([p for p in detail["parcels"] if p["role"] == "subject"]) == live_khasras > 0
    flagged = {m["mutation_id"] for m in detail["mutations"]}
    assert any("transfer_exceeds_holding" in m["rules"] for m in detail["mutations"])
    chain_mutations = {line["mutation_id"] for line in detail["chain"]}
    assert flagged <= chain_mutations  # the flagged transfer is in the subject's chain
    assert all(line["flagged"] == (line["mutation_id"] in flagged) for line in detail["chain"])
    dates = [str(line["event_date"]) for line in detail["chain"]]
    assert dates == sorted(dates)
    assert [a["action"] for a in detail["audit"]] == ["open dispute case", "dispute case review"]


def test_two_officers_at_once_are_serialised_by_the_row_lock(
    scanned: Engine, staff: dict[str, Actor]
) -> None:
    """While one transaction holds the case row, a step waits; once the other has
    dismissed the case, the waiting review sees it and is refused (no lost update)."""
    cid = first_case(scanned)
    outcome: list[BaseException | cases.CaseStep] = []
    with scanned.connect() as holder:
        tx = holder.begin()
        holder.execute(text("SELECT 1 FROM dispute_case WHERE id = :i FOR UPDATE"), {"i": cid})

        def second() -> None:
            try:
                outcome.append(cases.review(scanned, cid, staff["girdawar"], on=ON))
            except BaseException as exc:  # handed to the main thread
                outcome.append(exc)

        worker = threading.Thread(target=second)
        worker.start()
        deadline = time.monotonic() + 60
        while True:  # until the review is blocked on the row lock (no fixed sleep)
            holder.execute(text("SELECT pg_stat_clear_snapshot()"))  # fresh activity rows
            waiting = holder.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
            if waiting or not worker.is_alive() or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert waiting == 1 and not outcome
        holder.execute(
            text(
                "UPDATE dispute_case SET status = 'dismissed', reason = 'duplicate',"
                " decided_by = :o, decided_on = :d WHERE id = :i"
            ),
            {"o": staff["tehsildar"].officer_id, "d": ON, "i": cid},
        )
        tx.commit()
    worker.join(timeout=60)
    (result,) = outcome
    assert isinstance(result, CaseActionRefused) and result.rule == "case_status"
    assert case_row(scanned, cid)["status"] == "dismissed"
