"""Farmer view: a farmer's own parcels and their advisories, behind a one-time code, made
for a phone and for Urdu.

Open to anonymous visitors (a farmer has no account; the sign-in page links here): the
farmer types their CNIC and asks for a code; it goes to the phone registered for them
through the SMS outbox. The answers never tell whether a CNIC is in the records or has a
phone, and codes are rate-limited with one failure budget per CNIC
(:mod:`landgov.advisories.farmer`). With the code the page shows only that person's
parcels (share, khewat, area, land class) and each parcel's advisories with the evidence
as a sentence and a chart (:mod:`app.views.farmer.evidence`); every view writes an
access-log row (``farmer:<masked CNIC>``). Nobody else's CNIC or name is ever read for
this page (:func:`landgov.advisories.farmer.farmer_view`). A farmer's sign-in lasts
:data:`~app.views.farmer.session.SESSION_MINUTES` minutes.

Made for a 400 px phone: one column, no sidebar and no officer navigation (the entry
script offers a signed-in farmer this page alone), the parcel picked from a list rather
than a wide table (the table is there, folded, for a larger screen). Every word comes
from the catalogue (:mod:`app.shared.i18n`) in the language of the switch at the top; a
farmer's first view opens in the language they registered for SMS unless they chose one.
Each advisory shows its date, and advice that no longer describes the field is marked
(:func:`landgov.advisories.age.advice_age`: from a season that has ended, or over 30
days old).
"""

from __future__ import annotations

import re
from datetime import date
from html import escape
from typing import Any

import pandas as pd
import streamlit as st

from app.shared import context, i18n, panels
from app.shared import data as shared
from app.views.farmer import data, evidence
from app.views.farmer.session import close_session, open_session, signed_in
from landgov.advisories.age import AdviceAge, advice_age
from landgov.advisories.farmer import CODE_FORMAT, CODE_MINUTES, CODE_REFUSED, CODE_SENT
from landgov.domain.calendar import season_of, season_window
from landgov.domain.units import KanalMarlaSarsai

CNIC = re.compile(r"^\d{5}-\d{7}-\d$", re.ASCII)
CNIC_EXAMPLE = "35401-1234567-1"
PARCEL_KEY = "farmer_parcel"
# (No attribute docstrings in a page script: Streamlit's "magic" would draw them.)
# the service's answers (landgov.advisories.farmer), by catalogue key
CODE_ANSWERS = {
    CODE_SENT: "farmer.code_sent",
    CODE_REFUSED: "farmer.code_refused",
    CODE_FORMAT: "farmer.code_format",
}
# a refused code request, by the rule that refused it
LIMIT_ANSWERS = {
    "farmer_codes_per_hour": "farmer.codes_per_hour",
    "farmer_codes_per_day": "farmer.codes_per_day",
}
KINDS = {
    "crop_health": "farmer.kind.crop_health",
    "yield_outlook": "farmer.kind.yield_outlook",
    "water_stress": "farmer.kind.water_stress",
    "late_sowing": "farmer.kind.late_sowing",
    "early_senescence": "farmer.kind.early_senescence",
    "insufficient_imagery": "farmer.kind.insufficient_imagery",
}
SEASONS = {"rabi": "season.rabi", "kharif": "season.kharif"}
AGE_NOTES = {AdviceAge.OLD: "farmer.age.old", AdviceAge.PAST_SEASON: "farmer.age.past_season"}


def where() -> tuple[str, date]:
    """The database and the date: the dashboard's when it drew its sidebar (an officer's
    session), else the configured database and today (an anonymous farmer)."""
    try:
        ctx = context.current()
    except KeyError:
        return shared.database_url(), date.today()
    return ctx.url, ctx.as_of


def season_text(season: str, year: int, lang: str) -> str:
    """``Rabi 2025-26`` / ``ربیع ۲۰۲۵-۲۶``: the girdawari season as offices write it."""
    years = f"{year - 1}-{year % 100:02d}" if season == "rabi" else str(year)
    key = SEASONS.get(season)
    if key is None:
        return f"{season} {i18n.record_number(years, lang)}"
    return i18n.t(key, lang, years=i18n.record_number(years, lang))


def login(url: str, lang: str) -> None:
    _ = i18n.Words(lang)
    st.markdown(_("farmer.login_help", minutes=CODE_MINUTES))
    example = i18n.digits(CNIC_EXAMPLE, lang)
    typed = st.text_input(_("farmer.cnic"), placeholder=example, key="farmer_cnic")
    cnic = i18n.ascii_digits(typed).strip()  # an Urdu keyboard's digits are digits
    if st.button(_("farmer.send_code"), key="farmer_send", icon=":material/sms:"):
        if not CNIC.match(cnic):
            st.error(_("farmer.cnic_format", example=example))
        else:
            with panels.database_errors(url):
                answer = data.send_code(url, cnic)  # counted whatever the answer
            if answer.refused_by is None:
                st.info(i18n.service_text(answer.message, CODE_ANSWERS, lang))
            elif answer.refused_by in LIMIT_ANSWERS:
                st.warning(_(LIMIT_ANSWERS[answer.refused_by]))
            else:  # a rule this page does not know yet: the service's own words
                st.warning(answer.message)
    code = i18n.ascii_digits(st.text_input(_("farmer.code"), max_chars=6, key="farmer_code"))
    if st.button(_("farmer.open"), key="farmer_open", icon=":material/lock_open:",
                 type="primary"):  # fmt: skip
        if not CNIC.match(cnic):
            st.error(_("farmer.cnic_format", example=example))
            return
        with panels.database_errors(url):
            pid, why = data.check_code(url, cnic, code.strip())  # a failure is counted
        if pid is None:
            st.error(i18n.service_text(why, CODE_ANSWERS, lang, minutes=CODE_MINUTES))
        else:
            open_session(cnic, pid)
            st.rerun()


def area_text(sarsai: int, lang: str) -> str:
    kms = KanalMarlaSarsai.from_sarsai(int(sarsai))
    return i18n.t("farmer.area", lang, kanal=kms.kanal, marla=kms.marla, sarsai=kms.sarsai)


def parcel_label(p: dict[str, Any], lang: str) -> str:
    """``Khasra 11 · Kot Pindi Das``, with a warning sign when it has a warning."""
    text = i18n.t("farmer.parcel_label", lang, khasra=i18n.record_number(str(p["khasra"]), lang),
                  mouza=data.mouza_name(p, lang))  # fmt: skip
    warned = any(a["level"] == "warning" for a in p["advisories"])
    return f"⚠️ {text}" if warned else text


def parcel_card(p: dict[str, Any], lang: str) -> None:
    _ = i18n.Words(lang)
    with st.container(border=True):
        st.markdown(
            "**"
            + _(
                "farmer.parcel_heading",
                khasra=i18n.record_number(str(p["khasra"]), lang),
                mouza=data.mouza_name(p, lang),
            )
            + "**"
        )
        st.markdown(
            _(
                "farmer.parcel_facts",
                share=i18n.fraction(str(p["share"]), lang),
                khewat=i18n.record_number(str(p["khewat"]), lang),
                area=area_text(int(p["area_sarsai"]), lang),
                land_class=data.land_class(str(p["land_class"]), lang),
            )
        )


def advisory_card(url: str, p: dict[str, Any], a: dict[str, Any], on: date, lang: str) -> None:
    _ = i18n.Words(lang)
    as_of = date.fromisoformat(str(a["as_of"]))
    season, year = str(a["season"]), int(a["year"])
    age = advice_age(as_of, season, year, on)
    warning = a["level"] == "warning"
    with st.container(border=True):
        title = _(KINDS.get(str(a["kind"]), "farmer.kind.other"))
        # Streamlit's own icon font: no emoji font needed on the phone
        icon = ":orange[:material/warning:]" if warning else ":blue[:material/info:]"
        st.markdown(f"{icon} **{title}**")
        st.caption(_("farmer.advice_meta", date=as_of, season=season_text(season, year, lang),
                     confidence=i18n.percent(float(a["confidence"]), lang)))  # fmt: skip
        if age.stale:
            st.warning(
                _(
                    AGE_NOTES[age.status],
                    date=as_of,
                    days=age.days,
                    ended=age.season_ended,
                    season=season_text(season, year, lang),
                ),
                icon=":material/history:",
            )
        body = a["text_ur"] if i18n.rtl(lang) else a["text_en"]
        st.markdown(f'<div lang="{lang}">{escape(str(body))}</div>', unsafe_allow_html=True)
        st.markdown(f"**{_('farmer.evidence.heading')}**  \n{evidence.sentence(a, lang)}")
        kind = str(a["kind"])
        series = pd.DataFrame()
        if kind != "yield_outlook":  # the yield chart needs no imagery
            with panels.database_errors(url):
                series = data.season_series(
                    url, int(p["khasra_id"]), season, year, evidence.index_of(kind)
                )
        chart = evidence.chart(a, series, season_window(season, year), lang)
        if chart is not None:
            st.altair_chart(chart, width="stretch", theme=None)


def parcels(url: str, view: dict[str, Any], on: date, lang: str) -> None:
    _ = i18n.Words(lang)
    name = view["name_ur"] if i18n.rtl(lang) and view.get("name_ur") else view["name"]
    st.subheader(str(name))
    st.caption(_("farmer.parcels_on", date=on))
    if st.button(_("farmer.sign_out"), key="farmer_signout", icon=":material/logout:"):
        close_session()
        st.rerun()
    if not view["parcels"]:
        st.info(_("farmer.no_parcels"))
        return
    # parcels with a warning first: on a phone the first one shown is the one to look at
    ordered = sorted(
        view["parcels"], key=lambda p: not any(a["level"] == "warning" for a in p["advisories"])
    )
    if len(ordered) == 1:
        chosen = ordered[0]
    else:
        # one picker per language (the browser keeps showing a picker's old labels when
        # only their language changes), carrying the parcel chosen over by khasra id
        by_id = {int(p["khasra_id"]): p for p in ordered}
        key = f"{PARCEL_KEY}_{lang}"
        if key not in st.session_state and st.session_state.get(PARCEL_KEY) in by_id:
            st.session_state[key] = st.session_state[PARCEL_KEY]
        picked = st.selectbox(_("farmer.parcel"), list(by_id), key=key,
                              format_func=lambda k: parcel_label(by_id[k], lang))  # fmt: skip
        st.session_state[PARCEL_KEY] = picked
        chosen = by_id[int(picked)]
    parcel_card(chosen, lang)
    st.markdown(f"#### {_('farmer.advice_heading')}")
    advisories = chosen["advisories"]
    if not advisories:
        st.info(_("farmer.no_advice"))
    else:
        now_season, now_year = season_of(on)
        if all(a["season"] != now_season or int(a["year"]) != now_year for a in advisories):
            st.info(_("farmer.no_current_advice",
                      season=season_text(now_season, now_year, lang)))  # fmt: skip
        for a in advisories:
            advisory_card(url, chosen, a, on, lang)
    with st.expander(_("farmer.all_parcels", n=len(view["parcels"]))):
        st.dataframe(data.parcels_table(view, lang), hide_index=True, width="stretch")


def main() -> None:
    url, on = where()
    who = signed_in()
    view = None
    if who is not None:
        with panels.database_errors(url):
            view = data.own_parcels(url, str(who["cnic"]), on)  # shown and logged together
        i18n.prefer(view.get("language"))  # before any word is drawn
    lang = i18n.current()
    _ = i18n.Words(lang)
    st.set_page_config(page_title=_("farmer.page_title"), initial_sidebar_state="collapsed")
    i18n.apply_style(lang, phone=True)
    i18n.switch(lang)
    st.title(_("farmer.title"))
    if view is None:
        login(url, lang)
    else:
        parcels(url, view, on, lang)


main()
