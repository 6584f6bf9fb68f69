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

The chain alone cannot show that the newest rows were cut off, or that a superuser
rewrote every hash after an edit. Signed checkpoints of the head, kept outside the
database (:mod:`landgov.storage.checkpoints`; :func:`write_checkpoint`, ``landgov audit
checkpoint``), close that gap: :func:`verify` also checks every checkpoint of this
database and reports

- ``truncated``: the newest checkpoint's seq is beyond the log's last row;
- ``rewritten``: the row at a checkpoint's seq has another hash than the one signed;
- ``forged``: a checkpoint line that is not signed by the key file's key, or was edited;
- ``unverifiable``: checkpoints exist but there is no public key to check them with;
- ``deleted``: the row at a checkpoint's seq is missing inside the log.

Rows newer than the newest checkpoint are protected by the chain only: checkpoint often
(every batch job and every sanction day do).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.errors import LandgovError

if TYPE_CHECKING:
    from landgov.storage.checkpoints import Checkpoint, CheckpointProblem

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
        problem: the first break of the chain, or None when the chain is intact.
        checkpoints: signed checkpoints of this database whose signature is valid.
        latest_checkpoint: the newest of them (highest seq), or None.
        checkpoint_problems: where the log disagrees with its checkpoints, and lines of
            the checkpoint file that are not valid checkpoints (see the module notes).
        end_seq: the highest seq in the log (0 when empty), whether or not it chains.
        checkpoint_file: the checkpoint file read, or None when not checked.
    """

    rows: int
    last_seq: int
    last_hash: str
    problem: AuditProblem | None
    checkpoints: int = 0
    latest_checkpoint: Checkpoint | None = None
    checkpoint_problems: tuple[CheckpointProblem, ...] = ()
    end_seq: int = 0
    checkpoint_file: str | None = None

    @property
    def ok(self) -> bool:
        """The chain is intact and agrees with every signed checkpoint."""
        return self.problem is None and not self.checkpoint_problems

    @property
    def kinds(self) -> list[str]:
        """Every kind of problem found (the chain's first), e.g. ``['rewritten']``."""
        found = [self.problem.kind] if self.problem is not None else []
        return found + [p.kind for p in self.checkpoint_problems]

    def summary(self) -> str:
        """One line when all is well; else a headline and one line per problem."""
        if self.ok:
            line = f"audit log intact: {self.rows} rows, last hash {self.last_hash}"
            newest = self.latest_checkpoint
            if newest is not None:
                line += (
                    f"; {self.checkpoints} signed checkpoint(s) hold, newest seq "
                    f"{newest.seq} signed {newest.at}"
                )
            return line
        if self.problem is not None:
            head = f"audit log broken at {self.problem}"
        else:
            head = (
                f"audit log chain intact ({self.rows} rows, last hash {self.last_hash}) "
                "but it disagrees with its signed checkpoints"
            )
        return "\n".join([head, *(f"  {p}" for p in self.checkpoint_problems)])

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (``landgov audit verify --json``)."""
        problem = self.problem
        newest = self.latest_checkpoint
        return {
            "ok": self.ok,
            "rows": self.rows,
            "last_seq": self.last_seq,
            "last_hash": self.last_hash,
            "end_seq": self.end_seq,
            "problem": None
            if problem is None
            else {
                "kind": problem.kind,
                "seq": problem.seq,
                "id": problem.id,
                "detail": problem.detail,
            },
            "checkpoint_file": self.checkpoint_file,
            "checkpoints": self.checkpoints,
            "latest_checkpoint": None
            if newest is None
            else {**newest.to_dict(), "line": newest.line},
            "checkpoint_problems": [p.to_dict() for p in self.checkpoint_problems],
            "kinds": self.kinds,
        }


_ROWS = text(
    "SELECT id, seq, prev_hash, row_hash,"
    " audit_row_hash(prev_hash, seq, at, actor, action, entity, entity_id, details)"
    " FROM audit_log ORDER BY seq"  # the seq index: no sort; NULL seqs come last
)


def newest(conn: Connection, *, entity: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The ``limit`` newest audit rows (about ``entity`` if given), oldest first, with their
    chain hashes."""
    where = "WHERE entity = :entity" if entity is not None else ""
    rows = conn.execute(
        text(
            "SELECT * FROM (SELECT seq, id, at, actor, action, entity, entity_id,"
            f" details, prev_hash, row_hash FROM audit_log {where}"
            " ORDER BY seq DESC LIMIT :limit) newest ORDER BY seq"
        ),
        {"entity": entity, "limit": limit},
    ).mappings()
    return [dict(r) for r in rows]


def verify(
    engine: Engine,
    *,
    chunk: int = 10_000,
    checkpoints: str | Path | Literal[False] | None = None,
    key: str | Path | None = None,
) -> AuditReport:
    """Walks the whole chain in seq order and reports the first row where it breaks, then
    checks the log against every signed checkpoint of this database.

    Rows stream from a server-side cursor ``chunk`` at a time, inside one read-only
    REPEATABLE READ transaction, so the walk sees one consistent state of the log while
    writers carry on. The checkpoint file is read before that snapshot is taken, so every
    checkpoint read signs a head the snapshot holds (a newer one cannot look truncated).

    Args:
        checkpoints: the checkpoint file (default
            :func:`~landgov.storage.checkpoints.default_checkpoints_path`); False checks
            the chain only.
        key: the private signing key's path (default
            :func:`~landgov.storage.checkpoints.default_key_path`); its ``.pub`` file
            is enough to verify.
    """
    from landgov.storage import checkpoints as cps

    path: Path | None = None
    loaded = cps.Loaded((), (), 0)
    if checkpoints is not False:
        path = Path(checkpoints) if checkpoints is not None else cps.default_checkpoints_path()
        key_path = Path(key) if key is not None else cps.default_key_path()
        loaded = cps.load(path, _database(engine), key_path)
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
        end_seq = int(
            conn.execute(text("SELECT coalesce(max(seq), 0) FROM audit_log")).scalar_one()
        )
        held: dict[int, str] = {}
        if loaded.checkpoints:
            held = {
                int(s): str(h)
                for s, h in conn.execute(
                    text("SELECT seq, row_hash FROM audit_log WHERE seq = ANY(:seqs)"),
                    {"seqs": sorted({c.seq for c in loaded.checkpoints})},
                )
            }
        conn.rollback()
    found = list(loaded.problems) + _against_checkpoints(loaded.checkpoints, held, end_seq)
    newest = max(loaded.checkpoints, key=lambda c: (c.seq, c.line or 0), default=None)
    return AuditReport(
        count,
        last_seq,
        last_hash,
        problem,
        checkpoints=len(loaded.checkpoints),
        latest_checkpoint=newest,
        checkpoint_problems=tuple(found),
        end_seq=end_seq,
        checkpoint_file=None if path is None else str(path),
    )


def _database(engine: Engine) -> str:
    if engine.url.database:
        return str(engine.url.database)
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT current_database()")).scalar_one())


def _against_checkpoints(
    signed: tuple[Checkpoint, ...], held: dict[int, str], end_seq: int
) -> list[CheckpointProblem]:
    """Truncation, rewrites and missing rows, by comparing each checkpoint with the row
    at its seq (``held``: seq -> row_hash of the rows found)."""
    from landgov.storage.checkpoints import CheckpointProblem

    problems: list[CheckpointProblem] = []
    ordered = sorted(signed, key=lambda c: (c.seq, c.line or 0))
    beyond = [c for c in ordered if c.seq > end_seq]
    if beyond:
        newest = beyond[-1]
        ends = "the log is empty" if end_seq == 0 else f"the log ends at seq {end_seq}"
        problems.append(
            CheckpointProblem(
                "truncated",
                newest.line,
                newest.seq,
                newest.at,
                f"it signed seq {newest.seq} (hash {newest.row_hash[:12]}…) but {ends}: "
                f"at least {newest.seq - end_seq} newest row(s) were cut off",
            )
        )
    holding: Checkpoint | None = None
    rewritten: list[Checkpoint] = []
    for cp in ordered:
        if cp.seq > end_seq:
            continue
        found = held.get(cp.seq)
        if found is None:
            problems.append(
                CheckpointProblem(
                    "deleted",
                    cp.line,
                    cp.seq,
                    cp.at,
                    f"no row has seq {cp.seq}, which it signed (the log goes to seq {end_seq})",
                )
            )
        elif found != cp.row_hash:
            rewritten.append(cp)
        elif not rewritten:
            holding = cp
    if rewritten:
        first = rewritten[0]
        since = (
            f"after seq {holding.seq}, whose checkpoint (signed {holding.at}) still holds,"
            if holding is not None
            else "somewhere"
        )
        later = (
            f"; {len(rewritten) - 1} later checkpoint(s) disagree too" if len(rewritten) > 1 else ""
        )
        problems.append(
            CheckpointProblem(
                "rewritten",
                first.line,
                first.seq,
                first.at,
                f"the row at seq {first.seq} hashes to {held[first.seq][:12]}…, not the "
                f"{first.row_hash[:12]}… signed then: the chain was recomputed after an edit "
                f"{since} up to seq {first.seq}{later}",
            )
        )
    return problems


class CheckpointRefused(LandgovError):
    """A checkpoint was not signed: the log is broken, disagrees with its checkpoints, or
    is empty. Nothing was written."""


def write_checkpoint(
    engine: Engine,
    *,
    actor_label: str,
    path: str | Path | None = None,
    key: str | Path | None = None,
) -> Checkpoint:
    """Verifies the log, signs its head and appends the checkpoint to the file outside the
    database; records it with an ``audit.checkpoint`` row naming ``actor_label``.

    ``path`` and ``key`` default to :func:`~landgov.storage.checkpoints.
    default_checkpoints_path` and :func:`~landgov.storage.checkpoints.default_key_path`;
    the key is made on first use.

    Returns:
        The checkpoint written (with its line number in the file).

    Raises:
        CheckpointRefused: the chain is broken, disagrees with a checkpoint, or is empty:
            a broken chain is never signed.
        CheckpointError: the signing key cannot be read or is readable by others.
    """
    from landgov.storage import checkpoints as cps

    file = Path(path) if path is not None else cps.default_checkpoints_path()
    key_path = Path(key) if key is not None else cps.default_key_path()
    report = verify(engine, checkpoints=file, key=key_path)
    if not report.ok:
        raise CheckpointRefused(
            "refusing to sign a checkpoint of a log that does not verify: " + report.summary()
        )
    if report.last_seq == 0:
        raise CheckpointRefused("the audit log is empty: there is no head to sign")
    signer = cps.signing_key(key_path, create=True)
    checkpoint = cps.append(
        file,
        cps.sign(
            signer,
            database=_database(engine),
            seq=report.last_seq,
            row_hash=report.last_hash,
            at=datetime.now(UTC),
        ),
    )
    with engine.begin() as conn:
        append(
            conn,
            actor=actor_label,
            action="audit.checkpoint",
            entity="audit_log",
            entity_id=str(checkpoint.seq),
            details={
                "seq": checkpoint.seq,
                "row_hash": checkpoint.row_hash,
                "at": checkpoint.at,
                "key": checkpoint.key,
                "file": str(file),
                "line": checkpoint.line,
            },
        )
    return checkpoint


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
