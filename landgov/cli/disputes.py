"""``landgov disputes``: scan the records for dispute and fraud signals; work the cases.

``scan`` opens cases (a batch job: the ``disputes`` service, or a signed-in person who
may scan); ``score`` measures the rules against planted truth; ``cases`` lists them
riskiest first (the signed-in officer's jurisdiction, a mouza, some statuses); ``show``
prints one with its evidence (CNICs masked unless the officer may see them there; the
read is logged); ``review``, ``confirm``, ``dismiss`` and ``refer`` take it through its
lifecycle as the signed-in officer (``landgov login``; :mod:`landgov.disputes.cases`).
A refused step prints the rule that refused it (``refused by rule case_status: ...``)
and exits 1; nothing was written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from landgov.cli._shell import (
    clean_errors,
    current_actor,
    engine,
    job_actor,
    option_date,
    out,
)

app = typer.Typer(help="Dispute detection: rules, flags, cases.", no_args_is_help=True)


@app.command("scan")
@clean_errors
def scan_cmd(
    mouza: Annotated[str | None, typer.Option(help="Mouza id or name (default: all).")] = None,
    since: Annotated[
        str | None, typer.Option(help="Incremental: only what changed on or after YYYY-MM-DD.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Output JSON.")] = False,
) -> None:
    """Run every enabled rule; store flags once per subject and open cases (no duplicates).

    Runs as the 'disputes' batch service (its key under $LANDGOV_HOME/secrets), or as the
    signed-in person when allowed to scan."""
    from landgov.disputes.scan import scan

    try:
        since_d = date.fromisoformat(since) if since else None
    except ValueError as exc:
        raise typer.BadParameter(f"{since!r} is not a date", param_hint="--since") from exc
    actor = job_actor("disputes", "disputes.scan")
    report = scan(engine(), mouza=mouza, since=since_d, actor=actor)
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=1))
        return
    out.print(
        f"scan {report.scan_id}: {sum(report.found.values())} finding(s) "
        f"({', '.join(f'{k} {v}' for k, v in report.found.items())}); "
        f"{report.new_flags} new flag(s), {report.resolved_flags} resolved, "
        f"{report.new_cases} new case(s), {report.cases_updated} case(s) updated",
        highlight=False,
    )


# --- the case workflow ---------------------------------------------------------------

CaseArg = Annotated[int, typer.Argument(help="The case id (see 'landgov disputes cases').")]
OnOpt = Annotated[
    str | None, typer.Option("--on", help="Date of the step, YYYY-MM-DD (default: today).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Output JSON.")]


def _risk(value: float) -> str:
    return f"{value:g}"


@app.command("cases")
@clean_errors
def cases_cmd(
    mouza: Annotated[str | None, typer.Option(help="Mouza id or name.")] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="Only cases in this status (repeatable): open, "
            "under_review, confirmed, dismissed, referred.",
        ),
    ] = None,
    on: Annotated[
        str | None, typer.Option(help="Jurisdiction and 'overdue' on YYYY-MM-DD (default today).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The case queue, riskiest first: the mouzas of your postings (an officer), or every
    mouza (an auditor); --mouza: that mouza's cases."""
    from landgov.disputes.cases import case_queue
    from landgov.storage.lookup import resolve_mouza

    actor = current_actor("case.read")
    day = option_date(on, "--on")
    with engine().connect() as conn:
        if mouza is None:
            rows = case_queue(conn, actor=actor, statuses=status or None, on=day)
        else:
            rows = case_queue(
                conn, mouza_ids=[resolve_mouza(conn, mouza)], statuses=status or None, on=day
            )
    if as_json:
        typer.echo(json.dumps(rows, default=str, indent=1))
        return
    if not rows:
        out.print("no dispute case matches", highlight=False)
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for name in ("case", "risk", "status", "mouza", "subject", "flags"):
        table.add_column(name, no_wrap=True)
    table.add_column("rules", overflow="fold")
    table.add_column("decide by", no_wrap=True)
    for r in rows:
        deadline = "" if r["decide_by"] is None else r["decide_by"].isoformat()
        if r["overdue"]:
            deadline += " OVERDUE"
        table.add_row(
            str(r["id"]),
            _risk(r["risk"]),
            r["status"],
            r["mouza"],
            r["subject_label"],
            str(r["open_flags"]),
            ", ".join(r["rules"]),
            deadline,
        )
    out.print(table, highlight=False)
    out.print(f"{len(rows)} case(s)", highlight=False)


@app.command("show")
@clean_errors
def show_cmd(case_id: CaseArg, as_json: JsonOpt = False) -> None:
    """One case: status, risk breakdown, flags with evidence in plain words (each rule's
    title, its measure with the unit, labelled facts), mutations, audit history; --json
    gives the stored case as it is, for machines.

    CNICs are shown in full only to an officer posted over the case's mouza; every
    showing is written to the access log."""
    from landgov.disputes.cases import case_detail, masked
    from landgov.security import log_access, may_unmask
    from landgov.security.access import SubjectKind

    actor = current_actor("case.read")
    with engine().begin() as conn:
        detail = case_detail(conn, case_id)
        case = detail["case"]
        unmasked = may_unmask(conn, actor, int(case["mouza_id"]))
        subject_kind: SubjectKind = "mouza"
        subject = str(case["mouza_id"])
        if case["subject"] in ("khewat", "khasra"):
            subject_kind, subject = case["subject"], str(case["subject_id"])
        log_access(conn, actor, "dispute case show", subject_kind, subject,
                   {"case": case_id, "unmasked": unmasked})  # fmt: skip
    if not unmasked:
        detail = masked(detail)
    if as_json:
        typer.echo(json.dumps(detail, default=str, indent=1, ensure_ascii=False))
        return
    _print_detail(detail, unmasked)


def _print_evidence(detail: dict[str, Any], p: Callable[[str], None], unmasked: bool) -> None:
    """Each flag in plain words, as the dashboard's English words it
    (:mod:`landgov.disputes.evidence`): the rule's title, the measure with its unit, the
    record it names and its evidence as labelled facts (CNICs as ``show`` may print them)."""
    from landgov.disputes.evidence import facts, khasra_labels, khasra_numbers, measure_text

    labels = khasra_labels(detail["parcels"])
    for f in detail["flags"]:
        state = " (resolved: a later scan no longer finds it)" if f["resolved"] else ""
        p(f"  flag {f['id']}: {f['title_en']}, {f['severity']} severity{state}")
        measured = measure_text(f["rule"], f["measure"], f["threshold"])
        if measured:
            p(f"    measured: {measured}")
        for label, value in facts(
            f["rule"], f["evidence"], khasra_numbers(f, labels), mask=not unmasked
        ):
            p(f"    {label}: {value}")


def _print_detail(detail: dict[str, Any], unmasked: bool = False) -> None:
    c = detail["case"]

    def p(line: str) -> None:
        out.print(line, highlight=False, markup=False)

    p(
        f"case {c['id']}: {c['subject_label']}, mouza {c['mouza']} — {c['status']}, "
        f"risk {_risk(c['risk'])}"
    )
    for key in ("reviewed_by", "decided_by", "decided_on", "reason", "referred_on", "decide_by"):
        if c.get(key) is not None:
            p(f"  {key.replace('_', ' ')}: {c[key]}")
    if c["overdue"]:
        p("  OVERDUE: the committee's deadline has passed")
    p("why it is risky:")
    for b in detail["risk"]:
        p(
            f"  {b['title_en']} ({b['severity']} severity, {b['flags']} flag(s)): "
            f"{_risk(b['points'])} points"
        )
    p("evidence:")
    _print_evidence(detail, p, unmasked)
    if detail["mutations"]:
        p("mutations named by the flags:")
        for m in detail["mutations"]:
            p(
                f"  No. {m['number']} {m['type']} {m['status']} entered {m['entered_on']}"
                f" decided {m['decided_on'] or '-'} ({', '.join(m['rules'])})"
            )
    p(f"mutation chain of the subject's khasras: {len(detail['chain'])} line(s)")
    p("history:")
    for a in detail["audit"]:
        p(f"  {a['at']:%Y-%m-%d %H:%M} {a['action']} by {a['actor']}")


def _step(action: str, case_id: int, on: str | None, **kw: str | None) -> None:
    from landgov.disputes import cases

    day = option_date(on, "--on")
    actor = current_actor("case.review" if action == "review" else "case.decide")
    eng = engine()
    if action == "review":
        step = cases.review(eng, case_id, actor, on=day)
    elif action == "confirm":
        step = cases.confirm(eng, case_id, actor, on=day, note=kw.get("note"))
    elif action == "dismiss":
        step = cases.dismiss(eng, case_id, actor, str(kw.get("reason") or ""), on=day)
    else:
        step = cases.refer(eng, case_id, actor, on=day)
    line = (
        f"case {step.case_id}: {step.from_status.replace('_', ' ')} -> "
        f"{step.to_status.replace('_', ' ')} on {step.on.isoformat()} by {step.officer}"
    )
    if step.decide_by is not None:
        line += (
            f"; the committee must decide by {step.decide_by.isoformat()} "
            f"({cases.COMMITTEE_DAYS} days)"
        )
    out.print(line, highlight=False, markup=False)


@app.command("review")
@clean_errors
def review_cmd(case_id: CaseArg, on: OnOpt = None) -> None:
    """Take an open case up for review (any officer but a patwari, posted there)."""
    _step("review", case_id, on)


@app.command("confirm")
@clean_errors
def confirm_cmd(
    case_id: CaseArg,
    on: OnOpt = None,
    note: Annotated[str | None, typer.Option(help="Why it is confirmed (optional).")] = None,
) -> None:
    """Confirm a case under review: the dispute is real (a revenue officer)."""
    _step("confirm", case_id, on, note=note)


@app.command("dismiss")
@clean_errors
def dismiss_cmd(
    case_id: CaseArg,
    reason: Annotated[str, typer.Option(help="Why the case is dismissed (required).")],
    on: OnOpt = None,
) -> None:
    """Dismiss an open or reviewed case, with a reason (a revenue officer)."""
    _step("dismiss", case_id, on, reason=reason)


@app.command("refer")
@clean_errors
def refer_cmd(case_id: CaseArg, on: OnOpt = None) -> None:
    """Refer a confirmed case to the dispute resolution committee (90-day deadline)."""
    _step("refer", case_id, on)


@app.command("score")
@clean_errors
def score_cmd(
    truth: Annotated[
        Path | None,
        typer.Option(help="Planted truth (default: $LANDGOV_HOME/demo/ground_truth.csv)."),
    ] = None,
    imagery: Annotated[
        Path | None,
        typer.Option(help="Synthetic imagery with its truth (default: $LANDGOV_HOME/synthetic)."),
    ] = None,
    after_scan: Annotated[
        int | None,
        typer.Option(
            "--after-scan",
            help="The scan run before the anomalies were planted: only flags first raised "
            "after it count as flags, and only flags a later scan saw find an anomaly.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Output JSON.")] = False,
) -> None:
    """Recall and precision of each rule's stored flags against a planted truth (the
    demo's, or an adversarial plant's: then also the flags no planted anomaly explains,
    per 1,000 clean changes, and recall per family of rules)."""
    from landgov.config import load_settings
    from landgov.disputes.scoring import format_table, score_stored

    home = load_settings().home
    with engine().connect() as conn:
        result = score_stored(
            conn,
            truth or home / "demo" / "ground_truth.csv",
            imagery or home / "synthetic",
            after_scan=after_scan,
        )
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=1))
        return
    out.print(format_table(result), highlight=False)
