"""Disputes page (``/disputes``): the case queue, riskiest first, and the case page.

For roles that read cases (``case.read``). A signed-in officer's queue holds the cases of
the mouzas they are posted over today; an auditor's, the sidebar's mouza. Choosing a case
shows why it is risky (each rule by its title and explanation, never by its id), its
evidence on a map over the project's own imagery, each flag's evidence in words (the
measure with its unit, labelled facts, the before and after image chips of an
encroachment), the mutation chain of its khasras and its audit
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

Every word comes from the catalogue (``app/locale/*.cases.toml``) in the page's language:
the rules' titles and explanations by rule code, the evidence through
:mod:`app.views.cases.evidence`, the steps and their refusals by rule. What the record
holds in one script (names, the mouza, a reason typed by an officer) is shown as stored.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from html import escape
from typing import TYPE_CHECKING, Any

import pydeck as pdk
import streamlit as st

from app.shared import context, feedback, i18n, imagery, panels, selection
from app.shared import data as shared
from app.views.cases import data
from app.views.cases.data import (
    CASE_KEY,
    CASE_PARAM,
    FLAG_LAYER_ID,
    FLAG_MARKER_LAYER_ID,
    OUTCOME_KEY,
    PARCEL_LAYER_ID,
    SELECTED_LAYER_ID,
    STATUS_KEY,
    TABLE_KEY,
)
from imagery.picture import Frame
from landgov.config import load_settings
from landgov.errors import AuthenticationFailed, CaseActionRefused, LandgovError
from landgov.security import Actor

if TYPE_CHECKING:
    import pandas as pd

MAP_HEIGHT_PX = 480
CHIP_WIDTH_PX = 300
# what the case waits for after a step, said with the step's outcome (a comment, not a
# docstring: Streamlit's magic would draw a bare string of a page script on the page)
NEXT_STEP = {"under_review": "cases.next.under_review", "confirmed": "cases.next.confirmed"}
# why a step was refused, by the refusal's rule (the service's English stays on an English
# page, and in the log; a rule not listed here keeps the service's words)
REFUSALS = {
    "case_status": "cases.refused.case_status",
    "case_date": "cases.refused.case_date",
    "reason_required": "cases.refused.reason_required",
    "officer_designation": "cases.refused.officer_designation",
    "officer_jurisdiction": "cases.refused.officer_jurisdiction",
    "backdate_window": "cases.refused.backdate_window",
    "posting_then_and_now": "cases.refused.posting_then_and_now",
    "future_date": "cases.refused.future_date",
    "second_factor": "cases.refused.second_factor",
    "role": "cases.refused.role",
}
STEPS = {
    "review": ("cases.step.review", "cases.step.review_button"),
    "confirm": ("cases.step.confirm", "cases.step.confirm_button"),
    "dismiss": ("cases.step.dismiss", "cases.step.dismiss_button"),
    "refer": ("cases.step.refer", "cases.step.refer_button"),
}


def severity(level: str, lang: str) -> str:
    return shared.coded(data.SEVERITIES, level, lang)


# --- the actions (callbacks) ---------------------------------------------------------


def _repeat(exc: LandgovError, previous: feedback.Feedback) -> bool:
    """A second click on a step already done: the case has moved on from the status the
    step needs, so the workflow refuses it on ``case_status``; the first success stays."""
    return isinstance(exc, CaseActionRefused) and exc.rule == "case_status"


def _in_language(exc: CaseActionRefused, lang: str) -> CaseActionRefused:
    """The refusal in ``lang`` by its rule; on an English page (and for a rule the
    catalogue does not know) the service's own sentence, which names the case and date."""
    key = REFUSALS.get(exc.rule)
    if lang == i18n.DEFAULT or key is None:
        return exc
    return CaseActionRefused(exc.rule, i18n.t(key, lang))


def act(url: str, case_id: int, action: str) -> None:
    """Callback of the review, confirm, dismiss and refer buttons, as the signed-in actor
    (the database checks the session again when the step binds it). Its outcome is the
    dashboard's one kind of confirmation (:mod:`app.shared.feedback`): a banner on the
    case kept until the next step, and a toast where the officer is looking."""
    from landgov.disputes import cases

    ctx = context.current()
    _ = i18n.Words(ctx.lang)

    def step() -> feedback.Feedback:
        actor = ctx.actor
        if actor is None:
            raise AuthenticationFailed("not signed in: sign in again")
        on = st.session_state.get("case_on") or date.today()
        engine = shared.engine(url)
        try:
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
        except CaseActionRefused as exc:
            raise _in_language(exc, ctx.lang) from exc
        data.forget()  # the queue and the case show the new status
        to = data.status_label(done.to_status, ctx.lang)
        number = i18n.record_number(str(case_id), ctx.lang)
        message = _(
            "cases.outcome",
            case=number,
            before=data.status_label(done.from_status, ctx.lang),
            after=to,
            on=done.on,
            who=panels.who(actor),
        )
        if done.decide_by is not None:
            message += " " + _("cases.outcome_deadline", date=done.decide_by)
        if done.to_status in NEXT_STEP:
            message += " " + _(NEXT_STEP[done.to_status])
        return feedback.success(_("cases.outcome_title", case=number, status=to), message,
                                scope=case_id)  # fmt: skip

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
    selected = st.session_state.get(TABLE_KEY)
    picked = getattr(getattr(selected, "selection", None), "rows", None)
    if picked is None and isinstance(selected, dict):
        picked = selected.get("selection", {}).get("rows")
    if picked:
        open_case(int(rows[int(picked[0])]["id"]))


def _pick_from_box() -> None:
    """The case picker opens the case it names (or none, when cleared)."""
    picked = st.session_state.get(CASE_KEY)
    open_case(None if picked is None else int(picked))


# --- the panels ------------------------------------------------------------------------


def case_powers(actor: Actor, lang: str = i18n.DEFAULT) -> str:
    """What ``actor`` may do with dispute cases, for the page's caption."""
    _ = i18n.Words(lang)
    if actor.has("case.decide"):
        return _("cases.powers.decide")
    if actor.has("case.review"):
        return _("cases.powers.review")
    if actor.designation == "patwari":
        return _("cases.powers.patwari")
    return _("cases.powers.read")


def outcome_panel(case_id: int) -> None:
    """The last step's outcome on this case, kept until the next step (or another case)."""
    feedback.show(OUTCOME_KEY, scope=case_id)


def as_of_note(as_of: date, today: date, lang: str) -> None:
    """Says that the page is as of today, and that the sidebar's date does not apply."""
    _ = i18n.Words(lang)
    if as_of == today:
        st.caption(_("cases.as_of_today", date=today))
        return
    st.info(_("cases.as_of_other", today=today, chosen=as_of), icon="📅")


def breakdown_panel(detail: dict[str, Any], lang: str) -> None:
    _ = i18n.Words(lang)
    st.subheader(_("cases.why"))
    if not detail["risk"]:
        st.info(_("cases.no_open_flag"))
        return
    st.dataframe(data.breakdown_table(detail["risk"], lang), hide_index=True, width="stretch")
    for b in detail["risk"]:
        with st.container(border=True):
            title, explain = data.rule_text(str(b["rule"]), lang)
            head = _(
                "cases.rule_head",
                title=title,
                severity=severity(str(b["severity"]), lang),
                flags=int(b["flags"]),
                points=i18n.number(float(b["points"]), lang, 0 if b["points"] % 1 == 0 else 1),
            )
            st.markdown(f"**{escape(head)}**\n\n{escape(explain)}")


def _facts_html(facts: list[tuple[str, str]], lang: str) -> str:
    """The labelled facts as a two-column table (HTML, escaped: a masked CNIC's asterisks
    would read as Markdown emphasis), aligned to the language's side."""
    side = "right" if i18n.rtl(lang) else "left"
    pad = "2px 0 2px 12px" if i18n.rtl(lang) else "2px 12px 2px 0"
    rows = "".join(
        f'<tr><th style="text-align:{side};font-weight:600;padding:{pad};'
        f'vertical-align:top;white-space:nowrap">{escape(label, quote=False)}</th>'
        f'<td style="padding:2px 0">{escape(text, quote=False)}</td></tr>'
        for label, text in facts
    )
    return f'<table style="border:none;font-size:0.92em">{rows}</table>'


def evidence_panel(detail: dict[str, Any], lang: str) -> None:
    """Each flag's evidence in words: the measure with its unit, the record it names, the
    before/after image chips of an encroachment, and the labelled facts."""
    _ = i18n.Words(lang)
    st.subheader(_("cases.evidence"))
    flags = data.flag_evidence(detail, load_settings().home, lang)
    if not flags:
        st.info(_("cases.no_flag"))
        return
    for f in flags:
        with st.container(border=True):
            head = [
                f"**{f['title']}**",
                _("cases.severity_of", level=severity(f["severity"], lang)),
            ]
            head += f["record"]
            if f["resolved"]:
                head.append(_("cases.resolved"))
            st.markdown(" · ".join(head))
            if f["measure"]:
                st.markdown(_("cases.measured", measure=f["measure"]))
            if f["images"]:
                columns = st.columns(max(len(f["images"]), 2), gap="small")
                for column, image in zip(columns, f["images"], strict=False):
                    with column:
                        if image["path"] is None:
                            st.caption(_("cases.image_missing", caption=image["caption"]))
                        else:
                            st.image(
                                str(image["path"]),
                                caption=image["caption"],
                                width=CHIP_WIDTH_PX,
                            )
            if f["facts"]:
                st.markdown(_facts_html(f["facts"], lang), unsafe_allow_html=True)


def _union(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _case_deck(
    base: list[pdk.Layer],
    view: tuple[float, float, float, float],
    parcels: pd.DataFrame,
    picked: pd.DataFrame,
    flags: pd.DataFrame,
    markers: pd.DataFrame,
) -> pdk.Deck:
    """The interactive case map: the imagery, the case's parcels, the khasra selected
    elsewhere when it is one of them, the flags on top and a ring around each; each outline
    carries the tooltip, so a strip thinner than a pixel still has one."""
    layers: list[pdk.Layer] = list(base)
    # (rows, layer id, outline px, hover highlight)
    drawn = [
        (parcels, PARCEL_LAYER_ID, data.PARCEL_LINE_PX, False),
        (picked, SELECTED_LAYER_ID, data.SELECTED_LINE_PX, False),
        (flags, FLAG_LAYER_ID, data.FLAG_MIN_LINE_PX, True),
    ]
    for rows, layer_id, width, highlight in drawn:
        if layer_id == SELECTED_LAYER_ID and not len(rows):
            continue
        layers += panels.polygon_layers(
            rows,
            layer_id,
            line_color="line_color",
            line_width=width,
            keep=("label", "detail"),
            highlight=highlight,
        )
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
                get_line_width=data.FLAG_MARKER_LINE_PX,
                line_width_min_pixels=data.FLAG_MARKER_LINE_PX,
                pickable=True,
            )
        )
    return panels.offline_deck(layers, view, MAP_HEIGHT_PX, "<b>{label}</b><br/>{detail}")


def case_map(url: str, detail: dict[str, Any], lang: str) -> None:
    """Subject parcels and flag geometries over the imagery nearest today.

    The first view is on the flags (:func:`app.views.cases.data.view_bounds`: their extent, at
    least a killa's side across), not on the whole case: fitted to a khasra's
    neighbourhood, a 2 m wide gap is under a pixel and reads as one more boundary line.
    Each flag is drawn in its rule's colour with an outline at least
    :data:`~app.views.cases.data.FLAG_MIN_LINE_PX` wide and ringed by a marker of fixed
    on-screen size, so it stays visible however far the officer zooms out. The imagery
    covers the whole case, so zooming out shows it too: the Sentinel-2 scene, and the
    orthophoto where one covers the case (0.5 m: a new structure reads on it), as on the
    Parcels map. The khasra selected on another page (:mod:`app.shared.selection`) is
    outlined when it is one of the case's, so the officer sees where it lies in the case.

    By default the map is a picture of that first view drawn on the server
    (:func:`app.views.cases.data.picture_overlays`, :mod:`imagery.picture`): a new WebGL
    map costs a browser without a graphics card about half a second each time a case
    opens. The switch above it gives the interactive map (zoom, a tooltip per shape)."""
    _ = i18n.Words(lang)
    view = data.view_bounds(detail)
    if view is None:
        st.info(_("cases.no_geometry"))
        return
    interactive = panels.interactive_map_switch("cases", lang)
    mouza_id = int(detail["case"]["mouza_id"])
    chosen = selection.current(mouza_id)
    picked = data.selected_polygons(detail["parcels"], chosen, lang)
    parcels = data.parcel_polygons(detail["parcels"], lang)
    flags = data.flag_polygons(detail["flags"], lang)
    markers = data.flag_markers(detail["flags"], lang)
    if interactive:
        geometries = [p["geojson"] for p in detail["parcels"]]
        geometries += [f["geojson"] for f in data.mapped_flags(detail["flags"])]
        whole = _union(data.case_bounds(geometries) or view, view)
        base = imagery.base_imagery(url, mouza_id, data.padded(whole), date.today())
        for caption in base.captions:
            st.caption(caption)
        deck = _case_deck(base.layers, view, parcels, picked, flags, markers)
        st.pydeck_chart(
            deck,
            height=MAP_HEIGHT_PX,
            key=f"case_map_{detail['case']['id']}",
            alt=_("cases.map_alt"),
        )
    else:
        # the picture shows what the interactive map opens on: the flags' neighbourhood
        frame = Frame.fitted(view, panels.PICTURE_WIDTH_PX, MAP_HEIGHT_PX)
        base = imagery.base_imagery(url, mouza_id, frame.bounds, date.today())
        for caption in base.captions:
            st.caption(caption)
        overlays = data.picture_overlays(parcels, picked, flags, markers)
        png = panels.map_picture(frame, base.under, overlays)
        panels.show_picture(png, _("cases.map_alt"))
    if chosen is not None and len(picked):
        st.caption(_("cases.selected_here", khasra=i18n.record_number(chosen.number, lang)))
    elif chosen is not None:
        st.caption(_("cases.selected_elsewhere", khasra=i18n.record_number(chosen.number, lang)))
    legend = {
        f["rule"]: data.rule_text(f["rule"], lang)[0] for f in data.mapped_flags(detail["flags"])
    }
    if legend:
        items = []
        for rule, title in legend.items():
            r, g, b, _a = data.rule_color(rule)
            items.append(
                f'<span style="display:inline-block;width:0.9em;height:0.9em;'
                f'background:rgb({r},{g},{b});border:1px solid #333"></span> {escape(title)}'
            )
        st.markdown(
            escape(_("cases.map_legend")) + " &nbsp; " + " &nbsp; ".join(items),
            unsafe_allow_html=True,
        )


def actions_panel(url: str, case: dict[str, Any], actor: Actor, lang: str) -> None:
    """Review / confirm / dismiss (reason required) / refer, as the actor's roles allow,
    enabled by the case's status; the workflow itself decides (jurisdiction, date)."""
    from landgov.disputes.cases import COMMITTEE_DAYS

    _ = i18n.Words(lang)
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
        st.caption(_("cases.as_who", who=panels.who(actor), powers=case_powers(actor, lang)))
        return
    status = str(case["status"])
    st.date_input(_("cases.step_date"), value=date.today(), key="case_on", format="YYYY-MM-DD")
    for column, step in zip(st.columns(len(steps), gap="small"), steps, strict=True):
        title_key, button_key = STEPS[step]
        with column, st.form(f"case_{step}_form", border=True):
            st.markdown(f"**{_(title_key)}**")
            if step == "review":
                st.caption(_("cases.step.review_help"))
                enabled = status == "open"
            elif step == "confirm":
                st.text_input(_("cases.step.note"), key="case_note",
                              placeholder=_("cases.step.optional"))  # fmt: skip
                enabled = status == "under_review"
            elif step == "dismiss":
                st.text_input(
                    _("cases.step.reason"),
                    key="case_reason",
                    placeholder=_("cases.step.reason_example"),
                )
                enabled = status in ("open", "under_review")
            else:
                on = st.session_state.get("case_on") or date.today()
                st.caption(
                    _("cases.step.refer_help", date=on + timedelta(days=COMMITTEE_DAYS),
                      days=COMMITTEE_DAYS)
                )  # fmt: skip
                enabled = status == "confirmed"
            st.form_submit_button(
                _(button_key),
                key=f"case_{step}",
                type="primary" if step == "confirm" else "secondary",
                disabled=not enabled,
                on_click=partial(act, url, int(case["id"]), step),
            )


def case_header(case: dict[str, Any], lang: str) -> None:
    _ = i18n.Words(lang)
    number = i18n.record_number(str(case["id"]), lang)
    st.header(
        _("cases.header", case=number, subject=data.subject_text(str(case["subject_label"]), lang),
          mouza=case["mouza"])
    )  # fmt: skip
    cols = st.columns(4)
    cols[0].metric(
        _("cases.risk"), i18n.number(float(case["risk"]), lang, data.places(case["risk"]))
    )
    cols[1].metric(_("cases.status"), data.status_label(str(case["status"]), lang))
    cols[2].metric(_("cases.opened"), shared.register_date(case["opened_at"].date(), lang))
    cols[3].metric(
        _("cases.decide_by"),
        "—" if case["decide_by"] is None else shared.register_date(case["decide_by"], lang),
    )
    facts = []
    if case["reviewed_by"]:
        facts.append(_("cases.reviewed_by", who=case["reviewed_by"]))
    if case["decided_by"]:
        facts.append(_("cases.decided_by", who=case["decided_by"], date=case["decided_on"]))
    if case["reason"]:
        facts.append(_("cases.reason_was", reason=case["reason"]))
    if facts:
        st.caption(_("cases.facts_sep").join(facts))
    if case["overdue"]:
        st.warning(_("cases.overdue", date=case["decide_by"]), icon="⏰")


def case_page(url: str, case_id: int, actor: Actor, lang: str) -> None:
    _ = i18n.Words(lang)
    with panels.database_errors(url):
        detail = data.detail(url, case_id, date.today())
    case = detail["case"]
    case_header(case, lang)
    st.caption(_("cases.address", address=f"`/disputes?{CASE_PARAM}={case_id}`"))
    outcome_panel(case_id)
    actions_panel(url, case, actor, lang)
    breakdown_panel(detail, lang)
    st.subheader(_("cases.on_the_map"))
    with st.container(border=True):
        case_map(url, detail, lang)
    evidence_panel(detail, lang)
    if detail["mutations"]:
        st.markdown(f"**{_('cases.mutations_named')}**")
        st.dataframe(
            data.mutations_table(detail["mutations"], lang), hide_index=True, width="stretch"
        )
    st.subheader(_("cases.chain"))
    chain = data.chain_table(detail["chain"], lang)
    if chain.empty:
        st.info(_("cases.no_chain"))
    else:
        st.dataframe(chain, hide_index=True, width="stretch")
    st.subheader(_("cases.history"))
    st.dataframe(data.audit_table(detail["audit"], lang), hide_index=True, width="stretch")


def main() -> None:
    from landgov.disputes.cases import LIVE_STATUSES, STATUSES

    ctx = context.require("case.read")
    url, mouza, actor, lang = ctx.url, ctx.mouza, ctx.actor, ctx.lang
    _ = ctx.words
    today = date.today()
    st.title(_("cases.title"))
    panels.metrics_never_cut()
    st.caption(_("cases.signed_in", who=panels.who(actor), powers=case_powers(actor, lang)))
    as_of_note(ctx.as_of, today, lang)
    statuses = st.multiselect(
        _("cases.status"),
        options=list(STATUSES),
        default=list(LIVE_STATUSES),
        format_func=partial(data.status_label, lang=lang),
        key=STATUS_KEY,
    )
    scope: tuple[int, ...] | None  # the mouzas whose cases the actor may open by address
    with panels.database_errors(url):
        if actor.officer_id is not None:
            scope = tuple(shared.jurisdiction(url, actor.officer_id, today))
            rows = data.queue(url, scope, tuple(statuses), today)
            where = _("cases.queue_jurisdiction")
        else:
            scope = None  # an auditor reads every mouza's cases
            rows = data.queue(url, (mouza.id,), tuple(statuses), today)
            where = _("cases.queue_mouza", mouza=shared.mouza_name(mouza, lang))
    by_id = {int(r["id"]): r for r in rows}
    chosen = requested_case()
    if chosen is not None and chosen not in by_id:
        with panels.database_errors(url):
            found = data.find_case(url, chosen, scope, today)
        if found is None:
            st.warning(
                _("cases.out_of_reach", case=i18n.record_number(str(chosen), lang)), icon="⚠️"
            )
            chosen = None
            open_case(None)
        else:
            by_id[chosen] = found  # e.g. dismissed, or filtered out by the statuses above
    if rows:
        st.caption(_("cases.queue_caption", where=where))
        shown = data.queue_table(rows, lang)
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            on_select=partial(_pick_from_table, rows),
            selection_mode="single-row",
            key=TABLE_KEY,
            column_config={
                _("cases.col.overdue"): st.column_config.CheckboxColumn(),
            },
        )
    elif chosen is None:
        st.info(_("cases.none_here"))
        return
    # the address decides which case is open; the picker shows it (its labels carry the
    # status, so a step that changes the status would otherwise reset it)
    st.session_state[CASE_KEY] = chosen
    picked = st.selectbox(
        _("cases.case"),
        options=list(by_id),
        format_func=lambda i: data.case_choice(by_id[i], lang),
        placeholder=_("cases.choose"),
        key=CASE_KEY,
        on_change=_pick_from_box,
    )
    if picked is None:
        return
    if int(picked) not in {int(r["id"]) for r in rows}:
        st.caption(_("cases.from_address"))
    case_page(url, int(picked), actor, lang)


main()
