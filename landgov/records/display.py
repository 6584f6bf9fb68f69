"""How a mutation reads for people: found by its register number, shown as plain values.

A mutation is known to officers and parties by its mouza and its number in that mouza's
register (``mutation 12 of mouza Kot A``), never by its database id:
:func:`find_mutation` turns the one into the other, and :func:`show` gives everything
recorded about a mutation (lines, flags, heirs, partition, who acted and when) with
references as people write them (CNICs, custodian codes, khewat and khasra numbers,
shares ``n/d``), ready for JSON, the CLI and the dashboard. Reads only: nothing here
checks who asks or writes anything.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.domain.shares import format_share
from landgov.storage.lookup import NotFound, resolve_mouza

__all__ = ["find_mutation", "show"]


def find_mutation(engine: Engine | Connection, mouza: str, number: int) -> int:
    """The id of mutation ``number`` in the register of ``mouza`` (name or hadbast).

    Raises:
        NotFound: no such mouza or mutation.
    """
    if isinstance(engine, Connection):
        return _find_mutation(engine, mouza, number)
    with engine.connect() as conn:
        return _find_mutation(conn, mouza, number)


def _find_mutation(conn: Connection, mouza: str, number: int) -> int:
    mouza_id = resolve_mouza(conn, mouza)
    mid = conn.execute(
        text("SELECT id FROM mutation WHERE mouza_id = :m AND number = :n"),
        {"m": mouza_id, "n": number},
    ).scalar()
    if mid is None:
        raise NotFound(f"no mutation {number} in the register of mouza '{mouza}'")
    return int(mid)


def show(engine: Engine, mutation_id: int) -> dict[str, Any]:
    """A mutation with its lines, flags, heirs and partition, as plain values (JSON-ready).

    Shares are strings ``n/d``; dates and times ISO strings. ``*_by_account`` are the
    usernames of the accounts that entered, verified and decided it (None for mutations
    loaded by the demo or imported), ``*recorded_at`` when the server recorded each step.
    """
    with engine.connect() as conn:
        row = (
            conn.execute(
                text(
                    "SELECT m.id, z.name AS mouza, m.number, m.type, m.status, m.entered_on,"
                    " m.verified_on, m.decided_on, m.rejection_reason, o.cnic AS officer_cnic,"
                    " o.name AS officer, v.cnic AS verified_by, m.deed_number, m.deed_date,"
                    " m.sub_registrar, m.consideration_rs, m.statutory_value_rs, m.fees_rs,"
                    " m.remarks, ue.username AS entered_by_account,"
                    " uv.username AS verified_by_account, ud.username AS decided_by_account,"
                    " m.recorded_at, m.verified_recorded_at, m.decided_recorded_at"
                    " FROM mutation m JOIN mouza z ON z.id = m.mouza_id"
                    " LEFT JOIN officer o ON o.id = m.officer_id"
                    " LEFT JOIN officer v ON v.id = m.verified_by"
                    " LEFT JOIN app_user ue ON ue.id = m.entered_by_user"
                    " LEFT JOIN app_user uv ON uv.id = m.verified_by_user"
                    " LEFT JOIN app_user ud ON ud.id = m.decided_by_user WHERE m.id = :m"
                ),
                {"m": mutation_id},
            )
            .mappings()
            .one_or_none()
        )
        if row is None:
            raise NotFound(f"no mutation with id {mutation_id}")
        out: dict[str, Any] = {
            k: (v.isoformat() if isinstance(v, date) else (int(v) if k.endswith("_rs") and v
                is not None else v))
            for k, v in row.items()
        }  # fmt: skip
        out["lines"] = [
            {
                "line_no": int(r.line_no),
                "khewat_no": int(r.khewat_no),
                "transferor": r.src,
                "transferee": r.dst,
                "share": format_share(Fraction(r.numerator, r.denominator)),
                "right_type": r.right_type,
            }
            for r in conn.execute(
                text(
                    "SELECT l.line_no, w.number AS khewat_no, coalesce(a.cnic, a.custodian) AS src,"
                    " coalesce(b.cnic, b.custodian) AS dst, l.numerator, l.denominator,"
                    " l.right_type FROM mutation_line l JOIN khewat w ON w.id = l.khewat_id"
                    " LEFT JOIN party a ON a.id = l.transferor_party_id"
                    " LEFT JOIN party b ON b.id = l.transferee_party_id"
                    " WHERE l.mutation_id = :m ORDER BY l.line_no"
                ),
                {"m": mutation_id},
            ).all()
        ]
        out["flags"] = [
            {"rule": r.rule, "details": r.details}
            for r in conn.execute(
                text("SELECT rule, details FROM mutation_flag WHERE mutation_id = :m ORDER BY id"),
                {"m": mutation_id},
            ).all()
        ]
        inh = conn.execute(
            text(
                "SELECT coalesce(p.cnic, p.custodian), i.school FROM mutation_inheritance i"
                " JOIN party p ON p.id = i.deceased_party_id WHERE i.mutation_id = :m"
            ),
            {"m": mutation_id},
        ).one_or_none()
        if inh is not None:
            out["inheritance"] = {
                "deceased": inh[0],
                "school": inh[1],
                "heirs": {
                    str(ref): str(kind)
                    for ref, kind in conn.execute(
                        text(
                            "SELECT coalesce(p.cnic, p.custodian), h.heir_kind FROM mutation_heir h"
                            " JOIN party p ON p.id = h.party_id WHERE h.mutation_id = :m"
                            " ORDER BY p.id"
                        ),
                        {"m": mutation_id},
                    ).all()
                },
            }
        part = conn.execute(
            text(
                "SELECT w.number, k.number FROM mutation_partition p"
                " JOIN khewat w ON w.id = p.khewat_id JOIN khasra k ON k.id = p.khasra_id"
                " WHERE p.mutation_id = :m"
            ),
            {"m": mutation_id},
        ).one_or_none()
        if part is not None:
            out["partition"] = {"khewat_no": int(part[0]), "khasra_no": str(part[1])}
        return out
