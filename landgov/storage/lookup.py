"""Finding records by the references people type (mouza names, hadbast numbers)."""

from __future__ import annotations

import operator
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection

from landgov.errors import LandgovError


class NotFound(LandgovError):
    """A referenced record does not exist, or the reference is ambiguous."""


MouzaRef = int | str
"""How people and callers name a mouza: its id, its name or its hadbast number."""


def resolve_mouza(conn: Connection, ref: MouzaRef) -> int:
    """Id of the mouza ``ref`` names: the one rule every command and job uses.

    * an ``int`` is a mouza id (callers in code hold ids);
    * a string of digits is a mouza id or a hadbast number: the imagery and model commands
      have always taken ids (``--mouza 1``), the record commands and register files hadbast
      numbers (``--mouza 117``); both keep working, and a number that is the id of one
      mouza and the hadbast of another is refused as ambiguous rather than guessed;
    * any other string is a name, matched case-insensitively (spaces around it ignored).

    Raises:
        NotFound: nothing matches (the message lists known mouzas), or several mouzas do
            (the message lists them with id, hadbast and tehsil, so the user can pick).
    """
    if not isinstance(ref, str | bool) and hasattr(ref, "__index__"):
        ref = operator.index(ref)  # a numpy or pandas integer id is an id too
    if isinstance(ref, bool) or not isinstance(ref, int | str):
        raise NotFound(f"mouza {ref!r}: give an id, a name or a hadbast number")
    params: dict[str, int | str]
    if isinstance(ref, int):
        where, params, by = "m.id = :id", {"id": ref}, "by id"
    elif (key := ref.strip()).isdigit():
        where, params, by = (
            "(m.id = :id OR m.hadbast_number = :id)",
            {"id": int(key)},
            "by id or hadbast number",
        )
    else:
        where, params, by = (
            "lower(m.name) = lower(:name)",
            {"name": key},
            "by name or hadbast number",
        )
    rows = conn.execute(
        text(
            "SELECT m.id, m.name, m.hadbast_number, t.name FROM mouza m"
            f" LEFT JOIN admin_unit t ON t.id = m.tehsil_id WHERE {where} ORDER BY m.id"
        ),
        params,
    ).all()
    shown = ref if isinstance(ref, int) else f"'{ref}'"
    if not rows:
        known = conn.execute(text("SELECT name FROM mouza ORDER BY name LIMIT 20")).scalars().all()
        hint = f" Known mouzas: {', '.join(known)}." if known else " No mouza exists yet."
        raise NotFound(f"no mouza {shown} ({by}).{hint}")
    if len(rows) > 1:
        listed = "; ".join(f"{r[1]} (id {r[0]}, hadbast {r[2]}, tehsil {r[3]})" for r in rows)
        raise NotFound(f"mouza {shown} is ambiguous: {listed}")
    return int(rows[0][0])


def resolve_mouzas(
    conn: Connection, refs: MouzaRef | Sequence[MouzaRef] | None
) -> list[tuple[int, str]]:
    """(id, name) of every mouza (``refs`` None) or of the named ones (each by
    :func:`resolve_mouza`), in id order, each once.

    Raises:
        NotFound: a reference matches no mouza or several; ``None`` and no mouza exists.
    """
    if refs is None:
        rows = conn.execute(text("SELECT id, name FROM mouza ORDER BY id")).all()
        if not rows:
            raise NotFound("there is no mouza in the database")
        return [(int(r[0]), str(r[1])) for r in rows]
    items = [refs] if isinstance(refs, int | str) else list(refs)
    ids = sorted({resolve_mouza(conn, r) for r in items})
    names: dict[int, str] = dict(
        conn.execute(text("SELECT id, name FROM mouza WHERE id = ANY(:ids)"), {"ids": ids}).all()
    )
    return [(i, str(names[i])) for i in ids]


def find_khasra(conn: Connection, mouza_id: int, number: str) -> int:
    """Id of khasra ``number`` (e.g. ``45//12/1``) in a mouza.

    Raises:
        NotFound: no such khasra in that mouza.
    """
    found = conn.execute(
        text("SELECT id FROM khasra WHERE mouza_id = :m AND number = :n"),
        {"m": mouza_id, "n": number.strip()},
    ).scalar()
    if found is None:
        raise NotFound(f"no khasra '{number}' in mouza {mouza_id}")
    return int(found)
