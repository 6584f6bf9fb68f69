"""Parcels page: the mouza map; a khasra's owners, mutation chain and fard.

For every signed-in role that reads the record (``records.read``). Owners are shown to
roles that read personal data (``personal.read``), with CNICs masked unless the actor
may unmask them in this mouza (:func:`landgov.security.may_unmask`); each owner list
shown is an access-log row (who read whom). The fard is offered to those who may issue
one here today.

The map takes most of the page: imagery under the parcels (the clearest scene near the
date, an orthophoto where there is one), state land, the mouza boundary, the selected
khasra and, zoomed in, the khasra numbers; the sidebar's legend lists each of them. A
click on a parcel selects it for every page (:mod:`app.shared.selection`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from app.shared import context, imagery, maplayers, panels, selection
from app.shared import data as shared
from app.views.parcels import data, record


def owners_section(ctx: context.StaffContext, facts: data.KhasraFacts, panel_col: Any) -> None:
    """The fard and the owners on the date (and today); each list shown is logged."""
    url, mouza, as_of, actor = ctx.url, ctx.mouza, ctx.as_of, ctx.actor
    today = date.today()
    with panels.database_errors(url):
        unmasked = shared.unmask_allowed(url, actor, mouza.id)
        owners = data.owners(url, facts.khasra_id, as_of)
        khewat_ids = tuple(sorted({int(i) for i in owners["khewat_id"]}))
        areas = data.khewat_areas(url, khewat_ids, as_of) if khewat_ids else {}
        shared.log_owner_read(url, actor, mouza, facts.number, owners, as_of, unmasked=unmasked)
    with panel_col:
        record.fard_panel(url, mouza, owners, as_of, actor)
    record.owners_panel(owners, areas, as_of, unmasked=unmasked)
    if as_of != today:
        with panels.database_errors(url):
            owners_now = data.owners(url, facts.khasra_id, today)
            ids_now = tuple(sorted({int(i) for i in owners_now["khewat_id"]}))
            areas_now = data.khewat_areas(url, ids_now, today) if ids_now else {}
            chain = data.mutation_chain(url, facts.khasra_id)
            shared.log_owner_read(
                url, actor, mouza, facts.number, owners_now, today, unmasked=unmasked
            )
        record.changes_since(chain, as_of, today)
        record.owners_panel(
            owners_now,
            areas_now,
            today,
            title=record.owners_today_title(today, ctx.lang),
            unmasked=unmasked,
        )


def main() -> None:
    ctx = context.require("records.read")
    url, mouza, as_of, actor = ctx.url, ctx.mouza, ctx.as_of, ctx.actor
    st.title(record.title(ctx.lang))
    with panels.database_errors(url):
        parcels = data.parcels(url, mouza.id, as_of)
        overlays = data.overlays(url, mouza.id)
    record.mouza_header(mouza, parcels, as_of)
    if parcels.empty:
        with st.sidebar:
            panels.legend(data.land_class_counts(parcels))
        st.info(record.no_khasra(mouza, as_of, ctx.lang))
        return

    map_key = "parcel_map"  # one chart for every mouza: a new mouza is new data, not a new map
    picker_key = f"khasra_{mouza.id}"
    map_col, panel_col = st.columns([7, 3], gap="medium")
    with panel_col:
        numbers = parcels["khasra_no"].tolist()
        selected = record.khasra_picker(numbers, picker_key=picker_key, mouza_id=mouza.id)
    bbox = shared.bounds(parcels)
    with map_col, st.container(border=True):
        with panels.database_errors(url):
            base = imagery.base_imagery(url, mouza.id, bbox, as_of)
            parcels_json, edges_json = data.map_files(url, mouza.id, as_of)
            parcels_url = maplayers.media_url(parcels_json, "application/json")
            outline_url = maplayers.media_url(edges_json, "application/json")
            labels = maplayers.media_url(
                data.label_points(url, mouza.id, as_of), "application/geo+json"
            )
        record.parcel_map(
            parcels_url,
            outline_url,
            bbox,
            [] if selected is None else data.khasra_rings(parcels, selected),
            mouza_id=mouza.id,
            map_key=map_key,
            picker_key=picker_key,
            base=base.layers,
            overlays=overlays,
            labels_url=labels,
        )
        for caption in base.captions:
            st.caption(caption)
    with st.sidebar:
        panels.legend(
            data.land_class_counts(parcels), record.map_legend(overlays, selected, base.legend)
        )
    data.warm_up()  # after the map: what a click needs loads while the officer looks
    if selected is None:
        selection.clear(mouza.id)
        with panel_col:
            st.caption(record.select_prompt(ctx.lang))
        return
    facts = data.khasra_facts(parcels, selected)
    if facts is None:  # not live on this date
        return
    selection.select(selection.SelectedKhasra(mouza.id, facts.khasra_id, facts.number))
    with panel_col:
        record.khasra_panel(facts)
    today = date.today()
    with panels.database_errors(url):
        chain = data.mutation_chain(url, facts.khasra_id)
    if actor.has("personal.read"):
        owners_section(ctx, facts, panel_col)
    else:
        with panel_col:
            st.caption(record.owners_not_shown(actor, ctx.lang))
        if as_of != today:
            record.changes_since(chain, as_of, today)
    record.mutation_chain_panel(chain, facts.number, as_of)
    record.ndvi_panel(url, mouza.name, mouza.id, facts.khasra_id, facts.number)


main()
