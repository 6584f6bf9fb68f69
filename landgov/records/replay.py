"""Replaying a mouza's register against its stored shares.

The ``share`` table is what sanctions wrote; the register (:mod:`landgov.records.register`)
is the settlement's shares with every sanctioned mutation replayed in sanction order.
:func:`replay_mouza` compares the two, date by date, and reports where they part: rows
written, changed or ended outside any mutation, mutations an imported register recorded
but never applied, and the rules the register's own mutations broke (with party ids in
their messages turned back into CNICs). It reads only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.records.register import read_register
from landgov.records.rows import party_refs
from landgov.storage.lookup import resolve_mouza

__all__ = ["ReplayReport", "replay_mouza"]

_PARTY_IN_MESSAGE: Final = re.compile(r"party (\d+)")


@dataclass
class ReplayReport:
    """A mouza's register replayed (:mod:`landgov.records.register`) vs its shares.

    ``differences`` maps khewat numbers whose stored rights differ from the register,
    beyond the mutations not applied to them, to the first date they do (None: the khewat
    is on one side only): rows written, changed or ended outside any mutation.
    ``not_applied`` maps khewat numbers whose stored shares lack only sanctioned mutations
    recorded but never applied to them (an imported register) to those mutations'
    numbers: the register is the record, so that is not a difference. ``issues`` are the
    rules the register's sanctioned mutations broke, as (mutation number, khewat number,
    rule, message).
    """

    mouza: str
    mutations: int
    stored_rows: int
    replayed_rows: int
    differences: dict[int, date | None] = field(default_factory=dict)
    issues: list[tuple[int, int, str, str]] = field(default_factory=list)
    not_applied: dict[int, list[int]] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not self.differences


def replay_mouza(engine: Engine, mouza: str) -> ReplayReport:
    """Replays every sanctioned mutation of a mouza, imported or sanctioned here, from its
    settlement shares (:func:`landgov.records.register.read_register`) and compares the
    result with the ``share`` table, date by date."""

    with engine.connect() as conn:
        mouza_id = resolve_mouza(conn, mouza)
        name = conn.execute(text("SELECT name FROM mouza WHERE id = :m"), {"m": mouza_id}).scalar()
        reg = read_register(conn, [mouza_id])
        ids = {int(p) for i in reg.issues for p in _PARTY_IN_MESSAGE.findall(i.message)}
        refs = party_refs(conn, ids)

    def named(message: str) -> str:
        return _PARTY_IN_MESSAGE.sub(lambda g: refs.get(int(g[1]), g[0]), message)

    khewat_no = {k: n for k, (_, n) in reg.khewat_mouza.items()}
    number = {i: m.number for i, m in reg.mutations.items()}
    return ReplayReport(
        mouza=str(name),
        mutations=len(reg.mutations),
        stored_rows=len(reg.stored),
        replayed_rows=len(reg.periods),
        differences={khewat_no.get(k, k): d for k, d in reg.edited.items()},
        issues=[
            (number.get(i.mutation_id, i.mutation_id), khewat_no.get(i.khewat_id, i.khewat_id),
             i.rule, named(i.message))
            for i in reg.issues
        ],
        not_applied={khewat_no.get(k, k): [number[m] for m in ms]
                     for k, ms in reg.not_applied.items()},
    )  # fmt: skip
