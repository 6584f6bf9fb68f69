"""The hash-chained audit log: chaining, concurrency, tamper detection, the backfill.

``engine`` is the application role: it may append rows, never change them (the grants);
the owner, who may, is still refused by the append-only trigger; tampering below is done
as the owner with the table's triggers switched off, as only the owner or a superuser
could.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from security_support import owner_engine
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from landgov.storage import audit, migrate

ZEROS = "0" * 64


@pytest.fixture(autouse=True)
def _own_checkpoint_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checkpoint file and signing key of this test only (none written: chain checks)."""
    monkeypatch.setenv("LANDGOV_AUDIT_CHECKPOINTS", str(tmp_path / "audit" / "checkpoints.jsonl"))
    monkeypatch.setenv("LANDGOV_AUDIT_KEY", str(tmp_path / "secrets" / "audit-signing.key"))


def _append_many(engine: Engine, n: int, entity: str = "mouza") -> None:
    with engine.begin() as conn:
        for i in range(n):
            audit.append(
                conn,
                actor="tester",
                action="edit",
                entity=entity,
                entity_id=str(i),
                details={"i": i},
            )


def _chain(engine: Engine) -> list[tuple[int, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, prev_hash, row_hash FROM audit_log ORDER BY seq"))
        return [(int(s), str(p), str(h)) for s, p, h in rows]


@contextmanager
def tampering(engine: Engine) -> Iterator[Connection]:
    """As the table's owner: user triggers off (append-only and chaining), then on again."""
    with owner_engine(engine).begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        yield conn
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))


def _problem(engine: Engine, **kwargs: int) -> audit.AuditProblem:
    report = audit.verify(engine, **kwargs)
    assert not report.ok
    assert report.problem is not None
    return report.problem


# --- writing -------------------------------------------------------------------------


def test_append_chains_rows_from_the_genesis_hash(engine: Engine) -> None:
    with engine.begin() as conn:
        seqs = [
            audit.append(conn, actor="a", action="x", entity="mouza", entity_id="1"),
            audit.append(conn, actor="a", action="y", entity="khasra", details={"k": [1, 2]}),
            audit.append(conn, actor="b", action="z", entity="demo", details={"d": date_like()}),
        ]
    assert seqs == [1, 2, 3]
    chain = _chain(engine)
    assert chain[0][1] == ZEROS
    assert [p for _, p, _ in chain[1:]] == [h for _, _, h in chain[:-1]]
    assert len({h for _, _, h in chain}) == 3
    report = audit.verify(engine)
    assert report.ok and report.problem is None
    assert (report.rows, report.last_seq, report.last_hash) == (3, 3, chain[-1][2])
    assert report.summary() == f"audit log intact: 3 rows, last hash {chain[-1][2]}"


def date_like() -> object:
    return datetime(2024, 5, 1, tzinfo=UTC).date()  # not JSON: stored as its text


def test_empty_log_verifies(engine: Engine) -> None:
    report = audit.verify(engine)
    assert report.ok and report.rows == 0 and report.last_hash == ZEROS


def test_the_database_sets_time_and_chain_fields_not_the_caller(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, entity, seq, prev_hash, row_hash)"
                " VALUES ('2001-01-01', 'forger', 'x', 'y', 99, :h, :h)"
            ),
            {"h": "f" * 64},
        )
        at, seq, prev, row_hash = conn.execute(
            text("SELECT at, seq, prev_hash, row_hash FROM audit_log")
        ).one()
    assert datetime.now(UTC) - at < timedelta(minutes=5)
    assert (seq, prev) == (1, ZEROS) and row_hash != "f" * 64
    assert audit.verify(engine).ok


def test_hash_text_is_canonical(engine: Engine) -> None:
    sql = text(
        "SELECT audit_row_hash(:p, 1, CAST(:at AS timestamptz), :actor, 'act', 'ent', :eid,"
        " CAST(:d AS jsonb))"
    )
    base = {"p": ZEROS, "at": "2024-05-01 12:00:00.123456+00", "actor": "a|b", "eid": "c"}
    with engine.connect() as conn:

        def h(**changes: object) -> str:
            return str(conn.execute(sql, {**base, "d": '{"a": 1, "b": 2}', **changes}).scalar())

        reference = h()
        assert len(reference) == 64 and int(reference, 16) >= 0
        # the same instant written in another zone, or read in another session zone
        assert h(at="2024-05-01 17:00:00.123456+05") == reference
        conn.execute(text("SET TIME ZONE 'Asia/Karachi'"))
        assert h() == reference
        # jsonb's canonical text: key order and spacing do not matter
        assert h(d='{"b":2,   "a":1}') == reference
        # the separator cannot be forged by moving it between fields
        assert h(actor="a", eid="b|c") != reference
        # NULL and the text '\N' differ; microseconds count
        assert h(eid=None) != h(eid="\\N")
        assert h(at="2024-05-01 12:00:00.123457+00") != reference


def test_concurrent_writers_never_fork_the_chain(engine: Engine) -> None:
    writers, per_writer = 8, 50
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []
    seqs: list[int] = []
    lock = threading.Lock()

    def writer(w: int) -> None:
        try:
            with engine.connect() as conn:
                barrier.wait()
                for i in range(per_writer):
                    with conn.begin():
                        seq = audit.append(
                            conn, actor=f"w{w}", action="write", entity="t", entity_id=str(i)
                        )
                    with lock:
                        seqs.append(seq)
                    if i % 10 == 0:  # a rolled-back write leaves no gap
                        trans = conn.begin()
                        audit.append(conn, actor=f"w{w}", action="undone", entity="t")
                        trans.rollback()
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    total = writers * per_writer
    assert sorted(seqs) == list(range(1, total + 1))
    chain = _chain(engine)
    assert [s for s, _, _ in chain] == list(range(1, total + 1))
    prevs = [p for _, p, _ in chain]
    assert len(set(prevs)) == total  # no two rows chained onto the same head: no fork
    assert prevs[1:] == [h for _, _, h in chain[:-1]]
    with engine.connect() as conn:
        actors = conn.execute(text("SELECT count(DISTINCT actor) FROM audit_log")).scalar()
        undone = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'undone'"))
        assert actors == writers and undone.scalar() == 0
    report = audit.verify(engine)
    assert report.ok, report.summary()
    assert report.rows == total


def test_the_application_role_may_not_update_delete_or_truncate(engine: Engine) -> None:
    _append_many(engine, 3)
    for sql in (
        "UPDATE audit_log SET details = '{}' WHERE seq = 2",
        "UPDATE audit_log SET row_hash = prev_hash",
        "DELETE FROM audit_log WHERE seq = 3",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(DBAPIError) as info, engine.begin() as conn:
            conn.execute(text(sql))
        assert getattr(info.value.orig, "sqlstate", None) == "42501", sql  # no privilege
        assert "permission denied for table audit_log" in str(info.value.orig)
    assert len(_chain(engine)) == 3 and audit.verify(engine).ok


def test_the_owner_is_refused_by_the_append_only_trigger(engine: Engine) -> None:
    _append_many(engine, 3)
    owner = owner_engine(engine)
    for sql in (
        "UPDATE audit_log SET details = '{}' WHERE seq = 2",
        "UPDATE audit_log SET row_hash = prev_hash",
        "DELETE FROM audit_log WHERE seq = 3",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"), owner.begin() as conn:
            conn.execute(text(sql))
    assert len(_chain(engine)) == 3 and audit.verify(engine).ok


# --- detection -----------------------------------------------------------------------


@pytest.fixture
def ten(engine: Engine) -> Engine:
    _append_many(engine, 10)
    return engine


def test_changed_details_are_reported_as_tampered(ten: Engine) -> None:
    with tampering(ten) as conn:
        conn.execute(text("""UPDATE audit_log SET details = '{"i": 99}' WHERE seq = 5"""))
        row_id = conn.execute(text("SELECT id FROM audit_log WHERE seq = 5")).scalar()
    problem = _problem(ten)
    assert (problem.kind, problem.seq, problem.id) == ("tampered", 5, row_id)
    assert "details" in problem.detail
    report = audit.verify(ten)
    assert (report.rows, report.last_seq) == (5, 4)
    assert "seq 5" in report.summary() and "tampered" in report.summary()
    # the database refuses changes again once the triggers are back
    with pytest.raises(DBAPIError, match="append-only"), owner_engine(ten).begin() as conn:
        conn.execute(text("UPDATE audit_log SET details = '{}' WHERE seq = 5"))


def test_changed_time_or_actor_is_reported_as_tampered(ten: Engine) -> None:
    with tampering(ten) as conn:
        conn.execute(text("UPDATE audit_log SET at = at - interval '1 microsecond' WHERE seq = 8"))
        conn.execute(text("UPDATE audit_log SET actor = 'someone else' WHERE seq = 9"))
    problem = _problem(ten)
    assert (problem.kind, problem.seq) == ("tampered", 8)


def test_a_deleted_middle_row_is_reported(ten: Engine) -> None:
    with tampering(ten) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 6"))
        after = conn.execute(text("SELECT id FROM audit_log WHERE seq = 7")).scalar()
    problem = _problem(ten)
    assert (problem.kind, problem.seq, problem.id) == ("deleted", 7, after)
    assert "seq 6 missing" in problem.detail


def test_deleted_first_rows_are_reported(ten: Engine) -> None:
    with tampering(ten) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq <= 2"))
    problem = _problem(ten)
    assert (problem.kind, problem.seq) == ("deleted", 3)
    assert "seq 1–2 missing" in problem.detail


def test_deleting_and_renumbering_is_still_caught(ten: Engine) -> None:
    with tampering(ten) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 4"))
        for seq in range(5, 11):
            conn.execute(
                text("UPDATE audit_log SET seq = :n WHERE seq = :s"), {"s": seq, "n": seq - 1}
            )
    problem = _problem(ten)
    assert (problem.kind, problem.seq) == ("deleted", 4)
    assert "renumbered" in problem.detail


@pytest.mark.parametrize(("a", "b"), [(3, 7), (4, 5), (1, 10)])
def test_swapped_rows_are_reported_as_reordered(ten: Engine, a: int, b: int) -> None:
    with tampering(ten) as conn:
        swap = text("UPDATE audit_log SET seq = :to WHERE seq = :fr")
        conn.execute(swap, {"fr": a, "to": 1000})
        conn.execute(swap, {"fr": b, "to": a})
        conn.execute(swap, {"fr": 1000, "to": b})
    problem = _problem(ten)
    assert (problem.kind, problem.seq) == ("reordered", a)
    assert "chained after seq" in problem.detail


def test_rows_outside_the_chain_are_reported(ten: Engine) -> None:
    with tampering(ten) as conn:
        conn.execute(
            text(
                "ALTER TABLE audit_log ALTER seq DROP NOT NULL,"
                " ALTER prev_hash DROP NOT NULL, ALTER row_hash DROP NOT NULL"
            )
        )
        conn.execute(text("INSERT INTO audit_log (actor, action, entity) VALUES ('x', 'y', 'z')"))
        stray = conn.execute(text("SELECT id FROM audit_log WHERE seq IS NULL")).scalar()
    problem = _problem(ten)  # the chain itself is whole: the stray row comes after it
    assert (problem.kind, problem.seq, problem.id) == ("unchained", None, stray)
    with tampering(ten) as conn:
        conn.execute(text("UPDATE audit_log SET row_hash = NULL WHERE seq = 2"))
    problem = _problem(ten)
    assert (problem.kind, problem.seq) == ("unchained", 2)
    assert "row_hash" in problem.detail


def test_verify_streams_in_chunks_and_finds_a_late_break(engine: Engine) -> None:
    n = 20_000
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (actor, action, entity, entity_id, details)"
                " SELECT 'bulk', 'load', 'khasra', g::text, jsonb_build_object('g', g)"
                " FROM generate_series(1, :n) g"
            ),
            {"n": n},
        )
    report = audit.verify(engine, chunk=997)
    assert report.ok and report.rows == n and report.last_seq == n
    with tampering(engine) as conn:
        conn.execute(
            text("""UPDATE audit_log SET details = '{"g": 0}' WHERE seq = :s"""), {"s": n - 3}
        )
    problem = _problem(engine, chunk=997)
    assert (problem.kind, problem.seq) == ("tampered", n - 3)


# --- the migration -------------------------------------------------------------------


def test_migration_backfills_existing_rows_in_id_order(
    empty_engine: Engine, tmp_path: Path
) -> None:
    sql_dir = Path(migrate.SQL_DIR)
    for path in sorted(sql_dir.glob("00[1-4]_*.sql")):
        shutil.copy(path, tmp_path)
    assert [m.version for m in migrate.migrate(empty_engine, tmp_path)] == [1, 2, 3, 4]
    old = [
        ("2019-03-01 08:00:00+05", "patwari", "import parcels", "mouza", "7", '{"count": 3}'),
        ("2018-01-01 00:00:00.000001+00", "a|b\\N", "x", "y", None, "{}"),
        ("2020-12-31 23:59:59.999999+00", "tehsildar", "sanction", "mutation", "12", '{"b": 1}'),
    ]
    with empty_engine.begin() as conn:
        for row in old:
            conn.execute(
                text(
                    "INSERT INTO audit_log (at, actor, action, entity, entity_id, details)"
                    " VALUES (CAST(:at AS timestamptz), :actor, :action, :entity, :eid,"
                    " CAST(:d AS jsonb))"
                ),
                dict(zip(("at", "actor", "action", "entity", "eid", "d"), row, strict=True)),
            )
        before = conn.execute(text("SELECT id, at FROM audit_log ORDER BY id")).all()
    shutil.copy(sql_dir / "005_audit_chain.sql", tmp_path)
    assert [m.version for m in migrate.migrate(empty_engine, tmp_path)] == [5]

    with empty_engine.connect() as conn:
        after = conn.execute(text("SELECT id, at, seq FROM audit_log ORDER BY id")).all()
        nullable = conn.execute(
            text(
                "SELECT column_name, is_nullable FROM information_schema.columns"
                " WHERE table_name = 'audit_log'"
                " AND column_name IN ('seq', 'prev_hash', 'row_hash')"
            )
        ).all()
    assert [(i, at) for i, at, _ in after] == before  # times kept as they were
    assert [seq for _, _, seq in after] == [1, 2, 3]
    assert {c: n for c, n in nullable} == {"seq": "NO", "prev_hash": "NO", "row_hash": "NO"}
    report = audit.verify(empty_engine)
    assert report.ok and report.rows == 3, report.summary()

    # new rows chain on; the append-only trigger is back on
    with empty_engine.begin() as conn:
        assert audit.append(conn, actor="t", action="a", entity="e") == 4
    assert audit.verify(empty_engine).rows == 4
    with pytest.raises(DBAPIError, match="append-only"), empty_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 1"))


def test_migration_on_an_empty_log(engine: Engine) -> None:
    with engine.connect() as conn:
        triggers = conn.execute(
            text(
                "SELECT tgname, tgenabled FROM pg_trigger"
                " WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal ORDER BY tgname"
            )
        ).all()
        volatility = conn.execute(
            text("SELECT provolatile FROM pg_proc WHERE proname = 'audit_row_hash'")
        ).scalar()
    assert [(name, enabled) for name, enabled in triggers] == [
        ("audit_log_append_only", "O"),
        ("audit_log_chain", "O"),
        ("audit_log_no_truncate", "O"),
    ]
    assert volatility == "i"
