"""Disputes page (``/disputes``): the case queue, riskiest first, and the case page.

For roles that read cases (``case.read``). A signed-in officer's queue holds the cases of
the mouzas they are posted over today; an auditor's, the sidebar's mouza. Choosing a case
shows why it is risky (each rule by its title and explanation from ``dispute_rule``, in
English and Urdu, never by its id), its evidence on a map over the project's own imagery,
each flag's evidence in words (the measure with its unit, labelled facts, the before and
after image chips of an encroachment), the mutation chain of its khasras and its audit
history, with the actions the actor's roles allow: review (``case.review``), confirm,
dismiss and refer (``case.decide``). The actions call :mod:`landgov.disputes.cases` as the
signed-in actor, the functions ``landgov disputes`` calls, so the page applies exactly the
same rules; a refusal shows as an error naming the rule.

The open case is in the address (``/disputes?case=12``), not only in a widget: a link
opens it, a reload (and the sign-in it asks for) comes back to it, and a step that changes
the case's status (and so its label in the picker) keeps it open with the step's outcome
shown until the next step. The page is always as of today: a case's status is today's
and a step is dated in its own field, so the sidebar's "As of" date does not apply here,
and the page says so when it differs.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from html import escape
from typing import Any

import pydeck as pdk
import streamlit as st

from app.shared import context, feedback, imagery, panels
from app.shared import data as shared
from app.views.cases import data
from app.views.cases.data import (
    CASE_KEY,
    CASE_PARAM,
    FLAG_LAYER_ID,
    FLAG_MARKER_LAYER_ID,
    OUTCOME_KEY,
    PARCEL_LAYER_ID,
    STATUS_KEY,
    TABLE_KEY,
)
from landgov.config import load_settings
from landgov.errors import AuthenticationFailed, CaseActionRefused, LandgovError
from landgov.security import Actor

MAP_HEIGHT_PX = 480
CHIP_WIDTH_PX = 300
# what the case waits for after a step, said with the step's outcome (a comment, not a
# docstring: Streamlit's magic would draw a bare string of a page script on the page)
NEXT_STEP = {
    "under_review": " Next: confirm it, or dismiss it with a reason.",
    "confirmed": " Next: refer it to the committee.",
}


# --- the actions (callbacks) ---------------------------------------------------------


def _repeat(exc: LandgovError, previous: feedback.Feedback) -> bool:
    """A second click on a step already done: the case has moved on from the status the
    step needs, so the workflow refuses it on ``case_status``; the first success stays."""
    return isinstance(exc, CaseActionRefused) and exc.rule == "case_status"


def act(url: str, case_id: int, action: str) -> None:
    """Callback of the review, confirm, dismiss and refer buttons, as the signed-in actor
    (the database checks the session again when the step binds it). Its outcome is the
    dashboard's one kind of confirmation (:mod:`app.shared.feedback`): a banner on the
    case kept until the next step, and a toast where the officer is looking."""
    from landgov.disputes import cases

    def step() -> feedback.Feedback:
        actor = context.current().actor
        if actor is None:
            raise AuthenticationFailed("not signed in: sign in again")
        on = st.session_state.get("case_on") or date.today()
        engine = shared.engine(url)
        if action == "review":
            done = cases.review(engine, case_id, actor=actor, on=on)
        elif action == "confirm":
            note = str(st.session_state.get("case_note") or "")
            done = cases.confirm(engine, case_id, actor=actor, on=on, note=note)
        elif action == "dismiss":
            reason = str(st.session_state.get("case_reason") or "")
            done = cases.dismiss(engine, case_id, actor=actor, reason=reason, on=on)
        else:
            done = cases.refer(engine, case_id, actor=actor, on=on)
        data.forget()  # the queue and the case show the new status
        to = data.status_label(done.to_status)
        message = (
            f"Case {case_id}: {data.status_label(done.from_status)} → {to} on "
            f"{done.on:%Y-%m-%d} by {panels.who(actor)}."
        )
        if done.decide_by is not None:
            message += f" The committee must decide by {done.decide_by:%Y-%m-%d}."
        message += NEXT_STEP.get(done.to_status, "")
        return feedback.success(f"Case {case_id} {to}", message, scope=case_id)

    feedback.run(OUTCOME_KEY, step, scope=case_id, action_key=(action, case_id), repeat_of=_repeat)


def requested_case() -> int | None:
    """The case the address names (``?case=12``), or None (none, or not a number)."""
    raw = st.query_params.get(CASE_PARAM)
    return int(raw) if raw is not None and raw.strip().isdigit() else None


def open_case(case_id: int | None) -> None:
    """Puts ``case_id`` in the address (None: takes it out), leaving other parameters
    (the language) alone."""
    if case_id is None:
        st.query_params.pop(CASE_PARAM, None)
    else:
        st.query_params[CASE_PARAM] = str(case_id)


def _pick_from_table(rows: list[dict[str, Any]]) -> None:
    """The queue table's row selection opens the case (the picker follows)."""
    selection = st.session_state.get(TABLE_KEY)
    picked = getattr(getattr(selection, "selection", None), "rows", None)
    if picked is None and isinstance(selection, dict):
        picked = selection.get("selection", {}).get("rows")
    if picked:
        open_case(int(rows[int(picked[0])]["id"]))


def _pick_from_box() -> None:
    """The case picker opens the case it names (or none, when cleared)."""
    picked = st.session_state.get(CASE_KEY)
    open_case(None if picked is None else int(picked))


# --- the panels ------------------------------------------------------------------------


def case_powers(actor: Actor) -> str:
    """What ``actor`` may do with dispute cases, for the page's caption."""
    if actor.has("case.decide"):
        return "review, confirm, dismiss and refer the cases of your jurisdiction"
    if actor.has("case.review"):
        return "review the cases of your jurisdiction"
    if actor.designation == "patwari":
        return "see the cases (a patwari keeps the record in question, so may not review)"
    return "see the cases"


def outcome_panel(case_id: int) -> None:
    """The last step's outcome on this case, kept until the next step (or another case)."""
    feedback.show(OUTCOME_KEY, scope=case_id)


def as_of_note(as_of: date, today: date) -> None:
    """Says that the page is as of today, and that the sidebar's date does not apply."""
    if as_of == today:
        st.caption(f"As of today, {today:%Y-%m-%d}.")
        return
    st.info(
        f"Cases are shown as of today, {today:%Y-%m-%d}: a case's status is today's and "
        f"each step is dated in its own field below, so the sidebar's date "
        f"({as_of:%Y-%m-%d}) does not apply on this page. The evidence itself is dated "
        "(each flag says when and what it measured).",
        icon="📅",
    )


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
    st.dataframe(data.breakdown_table(detail["risk"]), hide_index=True, width="stretch")
    for b in detail["risk"]:
        with st.container(border=True):
            flags = int(b["flags"])
            st.markdown(
                f"**{b['title_en']}** · {b['severity']} severity · "
                f"{flags} flag{'' if flags == 1 else 's'} · {b['points']:g} points"
                f"\n\n{b['explain_en']}"
            )
            urdu(b["title_ur"], b["explain_ur"])


def _facts_html(facts: list[tuple[str, str]]) -> str:
    """The labelled facts as a two-column table (HTML, escaped: a masked CNIC's asterisks
    would read as Markdown emphasis)."""
    rows = "".join(
        f'<tr><th style="text-align:left;font-weight:600;padding:2px 12px 2px 0;'
        f'vertical-align:top;white-space:nowrap">{escape(label, quote=False)}</th>'
        f'<td style="padding:2px 0">{escape(text, quote=False)}</td></tr>'
        for label, text in facts
    )
    return f'<table style="border:none;font-size:0.92em">{rows}</table>'


def evidence_panel(detail: dict[str, Any]) -> None:
    """Each flag's evidence in words: the measure with its unit, the record it names, the
    before/after image chips of an encroachment, and the labelled facts."""
    st.subheader("Evidence")
    flags = data.flag_evidence(detail, load_settings().home)
    if not flags:
        st.info("The case holds no flag.")
        return
    for f in flags:
        with st.container(border=True):
            head = [f"**{f['title']}**", f"{f['severity']} severity"]
            head += f["record"]
            if f["resolved"]:
                head.append("resolved: a later scan no longer finds it")
            st.markdown(" · ".join(head))
            if f["measure"]:
                st.markdown(f"Measured: **{f['measure']}**")
            if f["images"]:
                columns = st.columns(max(len(f["images"]), 2), gap="small")
                for column, image in zip(columns, f["images"], strict=False):
                    with column:
                        if image["path"] is None:
                            st.caption(f"{image['caption']}: image not found")
                        else:
                            st.image(
                                str(image["path"]),
                                caption=image["caption"],
                                width=CHIP_WIDTH_PX,
                            )
            if f["facts"]:
                st.markdown(_facts_html(f["facts"]), unsafe_allow_html=True)


def case_map(url: str, detail: dict[str, Any]) -> None:
    """Subject parcels and flag geometries over the imagery nearest today.

    The first view is on the flags (:func:`app.views.cases.data.view_bounds`: their extent, at
    least a killa's side across), not on the whole case: fitted to a khasra's
    neighbourhood, a 2 m wide gap is under a pixel and reads as one more boundary line.
    Each flag is drawn in its rule's colour with an outline at least
    :data:`~app.views.cases.data.FLAG_MIN_LINE_PX` wide and ringed by a marker of fixed
    on-screen size, so it stays visible however far the officer zooms out. The imagery
    covers the whole case, so zooming out shows it too."""
    view = data.view_bounds(detail)
    if view is None:
        st.info(
            "This case has no geometry to map (e.g. a jamabandi, or a khewat that holds "
            "no khasra today)."
        )
        return
    geometries = [p["geojson"] for p in detail["parcels"]]
    geometries += [f["geojson"] for f in data.mapped_flags(detail["flags"])]
    whole = data.case_bounds(geometries) or view
    union = (
        min(whole[0], view[0]),
        min(whole[1], view[1]),
        max(whole[2], view[2]),
        max(whole[3], view[3]),
    )
    base = imagery.base_layer(
        url, int(detail["case"]["mouza_id"]), data.padded(union), date.today()
    )
    layers: list[pdk.Layer] = [] if base is None else [base]
    parcels = data.parcel_polygons(detail["parcels"])
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
    flags = data.flag_polygons(detail["flags"])
    layers.append(
        panels.polygon_layer(
            flags,
            FLAG_LAYER_ID,
            line_color="line_color",
            line_width=data.FLAG_MIN_LINE_PX,
            min_pixels=data.FLAG_MIN_LINE_PX,
        )
    )
    markers = data.flag_markers(detail["flags"])
    if len(markers):
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                data=markers,
                id=FLAG_MARKER_LAYER_ID,
                get_position="position",
                get_line_color="line_color",
                filled=False,  # a ring: the flag's own shape stays in sight inside it
                stroked=True,
                radius_units=pdk.types.String("pixels"),  # a plain str would be an accessor
                get_radius=data.FLAG_MARKER_PX,
                radius_min_pixels=data.FLAG_MARKER_PX,
                line_width_units=pdk.types.String("pixels"),
                get_line_width=3,
                line_width_min_pixels=3,
                pickable=True,
            )
        )
    deck = panels.offline_deck(layers, view, MAP_HEIGHT_PX, "<b>{label}</b><br/>{detail}")
    st.pydeck_chart(
        deck,
        height=MAP_HEIGHT_PX,
        key=f"case_map_{detail['case']['id']}",
        alt="Map of the case: its parcels and the flagged overlaps, gaps and encroachments",
    )
    legend = {f["rule"]: f["title_en"] for f in data.mapped_flags(detail["flags"])}
    if legend:
        items = []
        for rule, title in legend.items():
            r, g, b, _ = data.rule_color(rule)
            items.append(
                f'<span style="display:inline-block;width:0.9em;height:0.9em;'
                f'background:rgb({r},{g},{b});border:1px solid #333"></span> {escape(title)}'
            )
        st.markdown(
            "Yellow outline: the case's parcels; orange: parcels a flag names; a ring marks "
            "each flag, the map opens on them (zoom out for the whole case). "
            + " &nbsp; ".join(items),
            unsafe_allow_html=True,
        )


def actions_panel(url: str, case: dict[str, Any], actor: Actor) -> None:
    """Review / confirm / dismiss (reason required) / refer, as the actor's roles allow,
    enabled by the case's status; the workflow itself decides (jurisdiction, date)."""
    from landgov.disputes.cases import COMMITTEE_DAYS

    steps = [
        step
        for step, cap in (
            ("review", "case.review"),
            ("confirm", "case.decide"),
            ("dismiss", "case.decide"),
            ("refer", "case.decide"),
        )
        if actor.has(cap)
    ]
    if not steps:
        st.caption(f"As {panels.who(actor)} you may {case_powers(actor)}.")
        return
    status = str(case["status"])
    st.date_input("Date of the step", value=date.today(), key="case_on", format="YYYY-MM-DD")
    for column, step in zip(st.columns(len(steps), gap="small"), steps, strict=True):
        with column, st.form(f"case_{step}_form", border=True):
            if step == "review":
                st.markdown("**Review**")
                st.caption("Take the case up (any officer but a patwari).")
                enabled = status == "open"
            elif step == "confirm":
                st.markdown("**Confirm**")
                st.text_input("Note", key="case_note", placeholder="optional")
                enabled = status == "under_review"
            elif step == "dismiss":
                st.markdown("**Dismiss**")
                st.text_input(
                    "Reason (required)", key="case_reason", placeholder="e.g. record corrected"
                )
                enabled = status in ("open", "under_review")
            else:
                st.markdown("**Refer to the committee**")
                on = st.session_state.get("case_on") or date.today()
                st.caption(
                    f"Decide by {on + timedelta(days=COMMITTEE_DAYS):%Y-%m-%d} "
                    f"({COMMITTEE_DAYS} days)."
                )
                enabled = status == "confirmed"
            st.form_submit_button(
                step.capitalize(),
                key=f"case_{step}",
                type="primary" if step == "confirm" else "secondary",
                disabled=not enabled,
                on_click=partial(act, url, int(case["id"]), step),
            )


def case_header(case: dict[str, Any]) -> None:
    st.header(f"Case {case['id']}: {case['subject_label']}, mouza {case['mouza']}")
    cols = st.columns(4)
    cols[0].metric("Risk", f"{case['risk']:g}")
    cols[1].metric("Status", data.status_label(str(case["status"])))
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


def case_page(url: str, case_id: int, actor: Actor) -> None:
    with panels.database_errors(url):
        detail = data.detail(url, case_id, date.today())
        texts = data.rules(url)
    case = detail["case"]
    case_header(case)
    st.caption(
        f"This case's address: `/disputes?{CASE_PARAM}={case_id}` (a link or a reload "
        "opens it again, after sign-in)."
    )
    outcome_panel(case_id)
    actions_panel(url, case, actor)
    breakdown_panel(detail)
    st.subheader("Evidence on the map")
    with st.container(border=True):
        case_map(url, detail)
    evidence_panel(detail)
    if detail["mutations"]:
        st.markdown("**Mutations the flags name**")
        st.dataframe(
            data.mutations_table(detail["mutations"], texts), hide_index=True, width="stretch"
        )
    st.subheader("Mutation chain of the case's khasras")
    chain = data.chain_table(detail["chain"])
    if chain.empty:
        st.info("No mutation touched these khasras (or the case has no khasra).")
    else:
        st.dataframe(chain, hide_index=True, width="stretch")
    st.subheader("History")
    st.dataframe(data.audit_table(detail["audit"]), hide_index=True, width="stretch")


def main() -> None:
    from landgov.disputes.cases import LIVE_STATUSES, STATUSES

    ctx = context.require("case.read")
    url, mouza, actor = ctx.url, ctx.mouza, ctx.actor
    today = date.today()
    st.title("Dispute cases")
    panels.metrics_never_cut()
    st.caption(f"Signed in as {panels.who(actor)}: you may {case_powers(actor)}.")
    as_of_note(ctx.as_of, today)
    statuses = st.multiselect(
        "Status",
        options=list(STATUSES),
        default=list(LIVE_STATUSES),
        format_func=data.status_label,
        key=STATUS_KEY,
    )
    scope: tuple[int, ...] | None  # the mouzas whose cases the actor may open by address
    with panels.database_errors(url):
        texts = data.rules(url)
        if actor.officer_id is not None:
            scope = tuple(shared.jurisdiction(url, actor.officer_id, today))
            rows = data.queue(url, scope, tuple(statuses), today)
            where = "Cases in your jurisdiction"
        else:
            scope = None  # an auditor reads every mouza's cases
            rows = data.queue(url, (mouza.id,), tuple(statuses), today)
            where = f"Cases of mouza {mouza.name}"
    by_id = {int(r["id"]): r for r in rows}
    chosen = requested_case()
    if chosen is not None and chosen not in by_id:
        with panels.database_errors(url):
            found = data.find_case(url, chosen, scope, today)
        if found is None:
            st.warning(
                f"Case {chosen} (from the address) is not a case you may open here: no such "
                "case, or not in your jurisdiction.",
                icon="⚠️",
            )
            chosen = None
            open_case(None)
        else:
            by_id[chosen] = found  # e.g. dismissed, or filtered out by the statuses above
    if rows:
        st.caption(f"{where}, riskiest first (click a row to open it, a column to sort).")
        st.dataframe(
            data.queue_table(rows, texts),
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
    elif chosen is None:
        st.info("No dispute case here. Run `landgov disputes scan` to look for some.")
        return
    # the address decides which case is open; the picker shows it (its labels carry the
    # status, so a step that changes the status would otherwise reset it)
    st.session_state[CASE_KEY] = chosen
    picked = st.selectbox(
        "Case",
        options=list(by_id),
        format_func=lambda i: data.case_choice(by_id[i]),
        placeholder="Choose a case (or select its row above)",
        key=CASE_KEY,
        on_change=_pick_from_box,
    )
    if picked is None:
        return
    if int(picked) not in {int(r["id"]) for r in rows}:
        st.caption("Not among the statuses chosen above: opened from its address.")
    case_page(url, int(picked), actor)


main()
