"""Disputes page: an officer's case queue, riskiest first, and the case page.

The queue lists the cases of the chosen officer's jurisdiction today (or, with no officer,
of the sidebar's mouza). Choosing a case shows why it is risky (each rule in English and
Urdu), its evidence on a map over the project's own imagery, the mutation chain of its
khasras and its audit history, with the review / confirm / dismiss / refer actions.
The actions call :mod:`landgov.disputes.cases`, the functions ``landgov disputes`` calls,
so the page applies exactly the same rules; a refusal shows as an error naming the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from html import escape
from typing import Any, Literal

import pydeck as pdk
import streamlit as st

from app import cases_data, context, data, forms, imagery, panels
from app.cases_data import (
    CASE_KEY,
    FLAG_LAYER_ID,
    OFFICER_KEY,
    OUTCOME_KEY,
    PARCEL_LAYER_ID,
    STATUS_KEY,
    TABLE_KEY,
)
from landgov.errors import CaseActionRefused, LandgovError
from landgov.storage.read import OfficerSummary

MAP_HEIGHT_PX = 480


@dataclass(frozen=True)
class Outcome:
    """What the last action did, shown on the case page until the next one."""

    kind: Literal["success", "refused", "error"]
    message: str
    case_id: int
    rule: str | None = None


# --- the actions (callbacks) ---------------------------------------------------------


def _officer(url: str) -> OfficerSummary:
    chosen = st.session_state.get(OFFICER_KEY)
    officer = next((o for o in data.officers(url) if o.id == chosen), None)
    if officer is None:
        raise LandgovError("choose who you are (Officer, above) first")
    if not officer.cnic:
        raise LandgovError(f"officer {officer.name} has no CNIC on record")
    return officer


def act(url: str, case_id: int, action: str) -> None:
    """Callback of the review, confirm, dismiss and refer buttons."""
    from landgov.disputes import cases

    try:
        officer = _officer(url)
        on = st.session_state.get("case_on") or date.today()
        engine = data.engine(url)
        if action == "review":
            step = cases.review(engine, case_id, officer.cnic or "", on=on)
        elif action == "confirm":
            note = str(st.session_state.get("case_note") or "")
            step = cases.confirm(engine, case_id, officer.cnic or "", on=on, note=note)
        elif action == "dismiss":
            reason = str(st.session_state.get("case_reason") or "")
            step = cases.dismiss(engine, case_id, officer.cnic or "", reason, on=on)
        else:
            step = cases.refer(engine, case_id, officer.cnic or "", on=on)
    except CaseActionRefused as exc:
        outcome = Outcome("refused", exc.message, case_id, rule=exc.rule)
    except LandgovError as exc:
        outcome = Outcome("error", str(exc), case_id)
    else:
        message = (
            f"Case {case_id}: {cases_data.status_label(step.from_status)} → "
            f"{cases_data.status_label(step.to_status)} on {step.on:%Y-%m-%d} by "
            f"{officer.name} ({officer.designation.replace('_', ' ')})."
        )
        if step.decide_by is not None:
            message += f" The committee must decide by {step.decide_by:%Y-%m-%d}."
        outcome = Outcome("success", message, case_id)
        cases_data.forget()
    st.session_state[OUTCOME_KEY] = outcome


def _pick_from_table(rows: list[dict[str, Any]]) -> None:
    """The queue table's row selection picks the case (the selectbox follows)."""
    selection = st.session_state.get(TABLE_KEY)
    picked = getattr(getattr(selection, "selection", None), "rows", None)
    if picked is None and isinstance(selection, dict):
        picked = selection.get("selection", {}).get("rows")
    if picked:
        st.session_state[CASE_KEY] = int(rows[int(picked[0])]["id"])


# --- the panels ------------------------------------------------------------------------


def case_powers(officer: OfficerSummary) -> str:
    """What ``officer`` may do with dispute cases, for the picker's caption."""
    if officer.designation in forms.SANCTIONING:
        return "review, confirm, dismiss and refer the cases"
    if officer.designation == "patwari":
        return "see the cases (a patwari keeps the record in question, so may not review)"
    return "review the cases"


def outcome_panel(case_id: int) -> None:
    outcome: Outcome | None = st.session_state.get(OUTCOME_KEY)
    if outcome is None or outcome.case_id != case_id:
        return
    panels.action_outcome(outcome.kind, outcome.message, outcome.rule)


def urdu(title: str, body: str) -> None:
    """Urdu, right to left, as the Urdu fard prints it."""
    st.markdown(
        f'<div dir="rtl" lang="ur" style="text-align:right;font-size:1.05em">'
        f"<b>{escape(title)}</b><br/>{escape(body)}</div>",
        unsafe_allow_html=True,
    )


def breakdown_panel(detail: dict[str, Any]) -> None:
    st.subheader("Why this case is risky")
    if not detail["risk"]:
        st.info("No unresolved flag: a later scan no longer finds what opened this case.")
        return
    st.dataframe(cases_data.breakdown_table(detail["risk"]), hide_index=True, width="stretch")
    for b in detail["risk"]:
        with st.container(border=True):
            st.markdown(
                f"**{b['title_en']}** · `{b['rule']}` · {b['severity']} · "
                f"{b['points']:g} points\n\n{b['explain_en']}"
            )
            urdu(b["title_ur"], b["explain_ur"])


def case_map(url: str, detail: dict[str, Any]) -> None:
    """Subject parcels and flag geometries over the imagery nearest today."""
    geometries = [p["geojson"] for p in detail["parcels"]]
    geometries += [f["geojson"] for f in detail["flags"] if not f["resolved"]]
    bbox = cases_data.case_bounds(geometries)
    if bbox is None:
        st.info(
            "This case has no geometry to map (e.g. a jamabandi, or a khewat that holds "
            "no khasra today)."
        )
        return
    view_box = cases_data.padded(bbox)
    base = imagery.base_layer(url, int(detail["case"]["mouza_id"]), view_box, date.today())
    layers: list[pdk.Layer] = [] if base is None else [base]
    parcels = cases_data.parcel_polygons(detail["parcels"])
    layers.append(
        panels.polygon_layer(
            parcels,
            PARCEL_LAYER_ID,
            line_color="line_color",
            line_width=3,
            min_pixels=2,
            highlight=False,
        )
    )
    flags = cases_data.flag_polygons(detail["flags"])
    layers.append(panels.polygon_layer(flags, FLAG_LAYER_ID, line_color=[20, 20, 20, 230]))
    deck = panels.offline_deck(layers, bbox, MAP_HEIGHT_PX, "<b>{label}</b><br/>{detail}")
    st.pydeck_chart(
        deck,
        height=MAP_HEIGHT_PX,
        key=f"case_map_{detail['case']['id']}",
        alt="Map of the case: its parcels and the flagged overlaps, gaps and encroachments",
    )
    legend = {f["rule"]: f["title_en"] for f in detail["flags"] if f["geojson"] is not None}
    if legend:
        items = []
        for rule, title in legend.items():
            r, g, b, _ = cases_data.RULE_COLORS.get(rule, cases_data.OTHER_RULE_COLOR)
            items.append(
                f'<span style="display:inline-block;width:0.9em;height:0.9em;'
                f'background:rgb({r},{g},{b});border:1px solid #333"></span> {escape(title)}'
            )
        st.markdown(
            "Yellow outline: the case's parcels; orange: parcels a flag names. "
            + " &nbsp; ".join(items),
            unsafe_allow_html=True,
        )


def actions_panel(url: str, case: dict[str, Any], officer: OfficerSummary | None) -> None:
    """Review / confirm / dismiss (reason required) / refer, enabled by the case's status;
    the workflow itself decides who may (the buttons only follow the status)."""
    from landgov.disputes.cases import COMMITTEE_DAYS

    status = str(case["status"])
    disabled = officer is None
    if disabled:
        st.caption("Choose who you are (Officer, above) to act on a case.")
    st.date_input("Date of the step", value=date.today(), key="case_on", format="YYYY-MM-DD")
    review_col, confirm_col, dismiss_col, refer_col = st.columns(4, gap="small")
    with review_col, st.form("case_review_form", border=True):
        st.markdown("**Review**")
        st.caption("Take the case up (any officer but a patwari).")
        st.form_submit_button(
            "Review",
            key="case_review",
            disabled=disabled or status != "open",
            on_click=partial(act, url, int(case["id"]), "review"),
        )
    with confirm_col, st.form("case_confirm_form", border=True):
        st.markdown("**Confirm**")
        st.text_input("Note", key="case_note", placeholder="optional")
        st.form_submit_button(
            "Confirm",
            key="case_confirm",
            type="primary",
            disabled=disabled or status != "under_review",
            on_click=partial(act, url, int(case["id"]), "confirm"),
        )
    with dismiss_col, st.form("case_dismiss_form", border=True):
        st.markdown("**Dismiss**")
        st.text_input("Reason (required)", key="case_reason", placeholder="e.g. record corrected")
        st.form_submit_button(
            "Dismiss",
            key="case_dismiss",
            disabled=disabled or status not in ("open", "under_review"),
            on_click=partial(act, url, int(case["id"]), "dismiss"),
        )
    with refer_col, st.form("case_refer_form", border=True):
        st.markdown("**Refer to the committee**")
        on = st.session_state.get("case_on") or date.today()
        st.caption(
            f"Decide by {on + timedelta(days=COMMITTEE_DAYS):%Y-%m-%d} ({COMMITTEE_DAYS} days)."
        )
        st.form_submit_button(
            "Refer",
            key="case_refer",
            disabled=disabled or status != "confirmed",
            on_click=partial(act, url, int(case["id"]), "refer"),
        )


def case_header(case: dict[str, Any]) -> None:
    st.header(f"Case {case['id']}: {case['subject_label']}, mouza {case['mouza']}")
    cols = st.columns(4)
    cols[0].metric("Risk", f"{case['risk']:g}")
    cols[1].metric("Status", cases_data.status_label(str(case["status"])))
    cols[2].metric("Opened", f"{case['opened_at']:%Y-%m-%d}")
    cols[3].metric(
        "Decide by", "—" if case["decide_by"] is None else f"{case['decide_by']:%Y-%m-%d}"
    )
    facts = []
    if case["reviewed_by"]:
        facts.append(f"reviewed by {case['reviewed_by']}")
    if case["decided_by"]:
        facts.append(f"decided by {case['decided_by']} on {case['decided_on']:%Y-%m-%d}")
    if case["reason"]:
        facts.append(f"reason: {case['reason']}")
    if facts:
        st.caption("; ".join(facts))
    if case["overdue"]:
        st.warning(
            f"The committee's deadline ({case['decide_by']:%Y-%m-%d}) has passed.", icon="⏰"
        )


def case_page(url: str, case_id: int, officer: OfficerSummary | None) -> None:
    with panels.database_errors(url):
        detail = cases_data.detail(url, case_id, date.today())
    case = detail["case"]
    case_header(case)
    outcome_panel(case_id)
    actions_panel(url, case, officer)
    breakdown_panel(detail)
    st.subheader("Evidence on the map")
    with st.container(border=True):
        case_map(url, detail)
    st.subheader("Evidence")
    st.dataframe(cases_data.evidence_table(detail["flags"]), hide_index=True, width="stretch")
    if detail["mutations"]:
        st.markdown("**Mutations the flags name**")
        st.dataframe(
            cases_data.mutations_table(detail["mutations"]), hide_index=True, width="stretch"
        )
    st.subheader("Mutation chain of the case's khasras")
    chain = cases_data.chain_table(detail["chain"])
    if chain.empty:
        st.info("No mutation touched these khasras (or the case has no khasra).")
    else:
        st.dataframe(chain, hide_index=True, width="stretch")
    st.subheader("History")
    st.dataframe(cases_data.audit_table(detail["audit"]), hide_index=True, width="stretch")


def main() -> None:
    from landgov.disputes.cases import LIVE_STATUSES, STATUSES

    ctx = context.current()
    url, mouza = ctx.url, ctx.mouza
    today = date.today()
    st.title("Dispute cases")
    with panels.database_errors(url):
        officers = data.officers(url)
    officer = (
        forms.officer_picker(
            officers,
            key=OFFICER_KEY,
            powers=case_powers,
            help_text="The queue shows the cases of this officer's jurisdiction today; the steps "
            "are taken under this officer's CNIC.",
        )
        if officers
        else None
    )
    statuses = st.multiselect(
        "Status",
        options=list(STATUSES),
        default=list(LIVE_STATUSES),
        format_func=cases_data.status_label,
        key=STATUS_KEY,
    )
    with panels.database_errors(url):
        if officer is not None and officer.cnic:
            rows = cases_data.queue(url, officer.cnic, None, tuple(statuses), today)
            st.caption(
                f"Cases in the jurisdiction of {officer.name} on {today:%Y-%m-%d}, riskiest "
                "first (click a column to sort)."
            )
        else:
            rows = cases_data.queue(url, None, (mouza.id,), tuple(statuses), today)
            st.caption(
                f"Cases of mouza {mouza.name}, riskiest first. Choose an officer to see the "
                "cases of their jurisdiction."
            )
    if not rows:
        st.info("No dispute case here. Run `landgov disputes scan` to look for some.")
        return
    st.dataframe(
        cases_data.queue_table(rows),
        hide_index=True,
        width="stretch",
        on_select=partial(_pick_from_table, rows),
        selection_mode="single-row",
        key=TABLE_KEY,
        column_config={
            "Risk": st.column_config.NumberColumn(format="%g"),
            "Overdue": st.column_config.CheckboxColumn(),
        },
    )
    by_id = {int(r["id"]): r for r in rows}
    chosen = st.session_state.get(CASE_KEY)
    outcome: Outcome | None = st.session_state.get(OUTCOME_KEY)
    if chosen is not None and chosen not in by_id:
        if outcome is not None and outcome.case_id == chosen:
            # just acted on, and now filtered out (e.g. dismissed): keep it open
            with panels.database_errors(url):
                by_id[int(chosen)] = cases_data.detail(url, int(chosen), today)["case"]
        else:
            st.session_state[CASE_KEY] = None
    picked = st.selectbox(
        "Case",
        options=list(by_id),
        index=None,
        format_func=lambda i: cases_data.case_choice(by_id[i]),
        placeholder="Choose a case (or select its row above)",
        key=CASE_KEY,
    )
    if picked is None:
        return
    case_page(url, int(picked), officer)


main()
