"""The append-only, hash-chained audit log: writing rows and verifying the chain.

Every ``audit_log`` row carries its chain position ``seq`` (1, 2, 3... without gaps),
``prev_hash`` (the previous row's ``row_hash``; 64 zeros for seq 1) and ``row_hash``, the
SHA-256 of the row's canonical text. The database computes all three, and the time
``at``, in a BEFORE INSERT trigger (``sql/005_audit_chain.sql``) that serialises writers
with a transaction-level advisory lock, so the chain never forks; it refuses UPDATE,
DELETE and TRUNCATE.

:func:`append` is the one way landgov writes an audit row. :func:`verify` walks the chain
in seq order, streaming rows through a server-side cursor (memory stays flat for
millions of rows), and recomputes each hash with the same SQL function
``audit_row_hash`` the trigger used, so there is exactly one definition of the hash.

What verify can tell, for the first row where the chain breaks:

- ``tampered``: the row's content (time, actor, action, entity, details...) no longer
  hashes to its ``row_hash``;
- ``deleted``: seq jumps (rows missing before this one), or its ``prev_hash`` is the hash
  of no row in the log (rows deleted and the rest renumbered);
- ``reordered``: its ``prev_hash`` is the hash of another row than the one before it,
  or a seq appears twice;
- ``unchained``: the row has no seq, prev_hash or row_hash.

The chain cannot show that the newest rows were cut off, or that a superuser rewrote
every hash after an edit; keep the head verify reports (seq, row_hash) somewhere else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

GENESIS_HASH: Final = "0" * 64
"""``prev_hash`` of the first row (seq 1)."""

Problem = Literal["tampered", "deleted", "reordered", "unchained"]


def append(
    conn: Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None = None,
    details: Mapping[str, object] | None = None,
) -> int:
    """Writes one audit row inside the caller's transaction; returns its seq.

    The database sets the time, the seq and both hashes. The row is chained under an
    advisory lock held until the caller's transaction ends, so write audit rows last and
    commit soon (see ``sql/005_audit_chain.sql``). Values in ``details`` that JSON cannot
    hold (dates, paths...) are stored as their text.
    """
    seq = conn.execute(
        text(
            "INSERT INTO audit_log (actor, action, entity, entity_id, details)"
            " VALUES (:actor, :action, :entity, :entity_id, CAST(:details AS jsonb))"
            " RETURNING seq"
        ),
        {
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "details": json.dumps(dict(details or {}), default=str),
        },
    ).scalar_one()
    return int(seq)


@dataclass(frozen=True)
class AuditProblem:
    """The first row where the chain breaks."""

    kind: Problem
    seq: int | None
    id: int
    detail: str

    def __str__(self) -> str:
        where = f"seq {self.seq} (id {self.id})" if self.seq is not None else f"id {self.id}"
        return f"{where}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class AuditReport:
    """What :func:`verify` found.

    Attributes:
        rows: rows checked (all of them when ok; up to and including the bad one if not).
        last_seq: seq of the last good row (0 when there is none).
        last_hash: row_hash of the last good row (the chain's head when ok).
        problem: the first break, or None when the chain is intact.
    """

    rows: int
    last_seq: int
    last_hash: str
    problem: AuditProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.problem is None:
            return f"audit log intact: {self.rows} rows, last hash {self.last_hash}"
        return f"audit log broken at {self.problem}"


_ROWS = text(
    "SELECT id, seq, prev_hash, row_hash,"
    " audit_row_hash(prev_hash, seq, at, actor, action, entity, entity_id, details)"
    " FROM audit_log ORDER BY seq"  # the seq index: no sort; NULL seqs come last
)


def verify(engine: Engine, *, chunk: int = 10_000) -> AuditReport:
    """Walks the whole chain in seq order and reports the first row where it breaks.

    Rows stream from a server-side cursor ``chunk`` at a time, inside one read-only
    REPEATABLE READ transaction, so the walk sees one consistent state of the log while
    writers carry on.
    """
    with engine.connect() as raw:
        conn = raw.execution_options(isolation_level="REPEATABLE READ")
        conn.execute(text("SET TRANSACTION READ ONLY"))
        rows = conn.execution_options(yield_per=chunk).execute(_ROWS)
        count = 0
        last_seq, last_hash = 0, GENESIS_HASH
        problem: AuditProblem | None = None
        for id_, seq, prev_hash, row_hash, recomputed in rows:
            count += 1
            # the common case first; _check says what is wrong (or that nothing is)
            if not (seq == last_seq + 1 and prev_hash == last_hash and recomputed == row_hash):
                problem = _check(
                    conn, id_, seq, prev_hash, row_hash, recomputed, last_seq, last_hash
                )
                if problem is not None:
                    break
            last_seq, last_hash = seq, row_hash
        rows.close()
        conn.rollback()
    return AuditReport(count, last_seq, last_hash, problem)


def _check(
    conn: Connection,
    id_: int,
    seq: int | None,
    prev_hash: str | None,
    row_hash: str | None,
    recomputed: str | None,
    last_seq: int,
    last_hash: str,
) -> AuditProblem | None:
    if seq is None or prev_hash is None or row_hash is None:
        missing = [
            name
            for name, value in (("seq", seq), ("prev_hash", prev_hash), ("row_hash", row_hash))
            if value is None
        ]
        return AuditProblem(
            "unchained", seq, id_, f"no {', '.join(missing)}: the row was written outside the chain"
        )
    expected = last_seq + 1
    if seq > expected:
        gone = f"seq {expected}" if seq == expected + 1 else f"seq {expected}–{seq - 1}"
        return AuditProblem(
            "deleted", seq, id_, f"{gone} missing before it ({seq - expected} row(s) deleted)"
        )
    if seq < expected:
        return AuditProblem(
            "reordered", seq, id_, f"seq {seq} appears twice (expected seq {expected})"
        )
    if prev_hash != last_hash:
        before = "the genesis hash" if last_seq == 0 else f"the row_hash of seq {last_seq}"
        owner = conn.execute(
            text("SELECT seq FROM audit_log WHERE row_hash = :h ORDER BY seq LIMIT 1"),
            {"h": prev_hash},
        ).scalar_one_or_none()
        if owner is not None:
            return AuditProblem(
                "reordered",
                seq,
                id_,
                f"its prev_hash is the row_hash of seq {owner}, not {before}: "
                f"it was chained after seq {owner}",
            )
        return AuditProblem(
            "deleted",
            seq,
            id_,
            f"its prev_hash {prev_hash[:12]}… is not {before} nor any row's hash: "
            "the row(s) it followed were deleted and the rest renumbered",
        )
    if recomputed != row_hash:
        return AuditProblem(
            "tampered",
            seq,
            id_,
            f"its content hashes to {(recomputed or '')[:12]}…, not its row_hash "
            f"{row_hash[:12]}…: time, actor, action, entity, entity_id or details changed",
        )
    return None
