"""Signed checkpoints of the audit chain: what a database superuser can no longer hide.

The chain alone cannot tell a superuser who edits a row and recomputes every later hash
with the database's own ``audit_row_hash``, nor one who deletes the newest rows. These
tests do exactly that, as the real superuser of the test database, and check that
``audit.verify`` with the Ed25519-signed checkpoints (key and file outside the
database, under ``tmp_path`` here) reports ``rewritten`` and ``truncated``, and that a
checkpoint line not signed by the key file's key is reported as ``forged``.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from security_support import owner_engine, service_actor, superuser_engine
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.storage import audit
from landgov.storage import checkpoints as cps


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """(checkpoint file, private key path): both outside the database, neither made yet."""
    return tmp_path / "audit" / "checkpoints.jsonl", tmp_path / "secrets" / "audit-signing.key"


def _append(engine: Engine, n: int, start: int = 0) -> None:
    with engine.begin() as conn:
        for i in range(start, start + n):
            audit.append(
                conn, actor="user:patwari.1", action="edit", entity="khewat", details={"i": i}
            )


def _checkpoint(engine: Engine, files: tuple[Path, Path]) -> cps.Checkpoint:
    path, key = files
    label = service_actor(engine, "audit").label
    return audit.write_checkpoint(engine, actor_label=label, path=path, key=key)


def _verify(engine: Engine, files: tuple[Path, Path]) -> audit.AuditReport:
    path, key = files
    return audit.verify(engine, checkpoints=path, key=key)


def _head(engine: Engine) -> tuple[int, str]:
    with engine.connect() as conn:
        seq, row_hash = conn.execute(
            text("SELECT seq, row_hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        ).one()
    return int(seq), str(row_hash)


REWRITE = """
DO $$
DECLARE
    r record;
    prev text;
BEGIN
    SELECT row_hash INTO prev FROM audit_log WHERE seq = :seq - 1;
    FOR r IN SELECT * FROM audit_log WHERE seq >= :seq ORDER BY seq LOOP
        UPDATE audit_log SET prev_hash = prev,
               row_hash = audit_row_hash(prev, r.seq, r.at, r.actor, r.action, r.entity,
                                         r.entity_id, r.details)
         WHERE id = r.id RETURNING row_hash INTO prev;
    END LOOP;
END $$;
"""


def _rewrite_from(engine: Engine, seq: int, details: str) -> None:
    """As the superuser: append-only trigger off, edit row ``seq``, recompute every later
    hash with the database's own function, trigger on again: the chain is whole again."""
    with superuser_engine(engine).begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(
            text("UPDATE audit_log SET details = CAST(:d AS jsonb) WHERE seq = :s"),
            {"d": details, "s": seq},
        )
        conn.execute(text(REWRITE.replace(":seq", str(int(seq)))))
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


def _cut_from(engine: Engine, seq: int) -> None:
    """As the superuser: delete every row from ``seq`` on (the chain before stays whole)."""
    with superuser_engine(engine).begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(text("DELETE FROM audit_log WHERE seq >= :s"), {"s": seq})
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


# --- signing -----------------------------------------------------------------------------


def test_a_checkpoint_signs_the_verified_head_outside_the_database(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    path, key = files
    _append(engine, 5)
    seq, row_hash = _head(engine)
    cp = _checkpoint(engine, files)
    assert (cp.seq, cp.row_hash, cp.database, cp.line) == (seq, row_hash, engine.url.database, 1)

    # the key: PEM private key 0600 in a 0700 folder; public key beside it
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    pub = key.with_suffix(".pub").read_text(encoding="ascii").strip()
    assert pub == cp.key and len(pub) == 64
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    # the line, exactly the documented fields, verifiable with nothing but the public key
    (line,) = path.read_text(encoding="utf-8").splitlines()
    data = json.loads(line)
    assert list(data) == ["v", "database", "seq", "row_hash", "at", "key", "sig"]
    assert data["v"] == 1 and data["seq"] == seq and data["row_hash"] == row_hash
    unsigned = {k: v for k, v in data.items() if k != "sig"}
    message = json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(pub)).verify(
        bytes.fromhex(data["sig"]), message
    )  # raises InvalidSignature if not

    # the checkpoint is in the log too, naming who signed it
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT seq, actor, details FROM audit_log WHERE action = 'audit.checkpoint'")
        ).one()
    assert row.seq == seq + 1 and row.actor == "service:audit"
    assert row.details["seq"] == seq and row.details["row_hash"] == row_hash

    report = _verify(engine, files)
    assert report.ok, report.summary()
    assert report.checkpoints == 1 and report.latest_checkpoint == cp
    assert f"1 signed checkpoint(s) hold, newest seq {seq}" in report.summary()

    # a second checkpoint reuses the key and appends a second line
    again = _checkpoint(engine, files)
    assert (again.seq, again.line, again.key) == (seq + 1, 2, cp.key)
    assert _verify(engine, files).checkpoints == 2


def test_a_broken_or_empty_chain_is_never_signed(engine: Engine, files: tuple[Path, Path]) -> None:
    path, _ = files
    with pytest.raises(audit.CheckpointRefused, match="empty"):
        _checkpoint(engine, files)
    _append(engine, 4)
    with owner_engine(engine).begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2"))
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
    with pytest.raises(audit.CheckpointRefused, match=r"seq 2.*tampered"):
        _checkpoint(engine, files)
    assert not path.exists()


# --- what the checkpoints catch --------------------------------------------------------


def test_a_superusers_rewrite_of_the_chain_is_reported(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    _append(engine, 3)
    early = _checkpoint(engine, files)  # signs seq 3; its own row is seq 4
    _append(engine, 5, start=3)  # seq 5..9
    late = _checkpoint(engine, files)  # signs seq 9
    assert (early.seq, late.seq) == (3, 9)
    assert _verify(engine, files).ok

    _rewrite_from(engine, 6, '{"i": 999, "note": "never happened"}')

    chain_only = audit.verify(engine, checkpoints=False)
    assert chain_only.ok, chain_only.summary()  # the chain alone is fooled
    report = _verify(engine, files)
    assert not report.ok and report.problem is None
    assert report.kinds == ["rewritten"]
    (problem,) = report.checkpoint_problems
    assert (problem.kind, problem.seq, problem.at, problem.line) == ("rewritten", 9, late.at, 2)
    assert "recomputed after an edit" in problem.detail
    assert "after seq 3" in problem.detail  # the earlier checkpoint still holds
    summary = report.summary()
    assert "rewritten" in summary and late.at in summary and "seq 9" in summary

    # and the rewritten head is never signed
    with pytest.raises(audit.CheckpointRefused, match="rewritten"):
        _checkpoint(engine, files)


def test_deleting_the_newest_rows_is_reported_as_truncated(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    _append(engine, 7)
    cp = _checkpoint(engine, files)  # signs seq 7
    _cut_from(engine, 5)  # seq 5..8 gone (8: the checkpoint's own row)

    chain_only = audit.verify(engine, checkpoints=False)
    assert chain_only.ok and chain_only.last_seq == 4  # the chain alone is fooled
    report = _verify(engine, files)
    assert report.kinds == ["truncated"] and report.end_seq == 4
    (problem,) = report.checkpoint_problems
    assert (problem.seq, problem.at) == (7, cp.at)
    assert "log ends at seq 4" in problem.detail
    assert "at least 3 newest row(s) were cut off" in problem.detail

    _cut_from(engine, 1)  # everything
    emptied = _verify(engine, files)
    assert emptied.kinds == ["truncated"] and "the log is empty" in str(emptied.summary())


def test_a_forged_or_edited_checkpoint_line_is_reported(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    path, _ = files
    _append(engine, 3)
    real = _checkpoint(engine, files)
    database = str(engine.url.database)

    # a checkpoint signed by another key, claiming a head far beyond the log: not
    # trusted, so not taken for a truncation either
    other = cps.sign(
        Ed25519PrivateKey.generate(), database=database, seq=50, row_hash="a" * 64, at=real.at
    )
    cps.append(path, other)
    # a real line whose content was edited after signing
    edited = json.loads(real.to_json())
    edited["seq"] = 2
    # the key file's key, but a signature from elsewhere
    stolen = {**json.loads(other.to_json()), "key": real.key}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(edited) + "\n" + json.dumps(stolen) + "\n")
        fh.write("not a checkpoint at all\n")
        # another database's line is not this database's business
        elsewhere = {**json.loads(real.to_json()), "database": "another_db", "seq": 1}
        fh.write(json.dumps(elsewhere) + "\n")

    report = _verify(engine, files)
    assert report.problem is None and report.checkpoints == 1  # only the genuine one
    found = {(p.kind, p.line): p.detail for p in report.checkpoint_problems}
    assert set(found) == {("forged", 2), ("forged", 3), ("forged", 4), ("forged", 5)}
    assert "signed by another key" in found[("forged", 2)]
    assert "edited after it was signed" in found[("forged", 3)]
    assert "edited after it was signed" in found[("forged", 4)]
    assert "not a checkpoint" in found[("forged", 5)]
    assert "truncated" not in report.kinds
    assert not report.ok


def test_the_key_is_private_and_must_match_its_public_half(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    _, key = files
    _append(engine, 2)
    _checkpoint(engine, files)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    key.chmod(0o644)  # readable by every OS user: refused for signing
    with pytest.raises(cps.CheckpointError, match="0644"):
        _checkpoint(engine, files)
    key.chmod(0o600)

    # an auditor holding only the public key can verify
    hidden = key.with_name("elsewhere.key")
    key.rename(hidden)
    assert _verify(engine, files).ok
    # a public key replaced by another: nothing can be trusted
    pub = key.with_suffix(".pub")
    genuine = pub.read_text(encoding="ascii")
    pub.write_text(cps.public_hex(Ed25519PrivateKey.generate()) + "\n", encoding="ascii")
    assert _verify(engine, files).kinds == ["forged"]  # signed by another key than the file's
    hidden.rename(key)  # with the private key back, the mismatch itself is reported
    report = _verify(engine, files)
    assert report.kinds == ["unverifiable"]
    assert "does not match the signing key" in report.summary()
    # no key at all: the checkpoints cannot be checked, and that is said
    pub.unlink()
    key.unlink()
    report = _verify(engine, files)
    assert report.kinds == ["unverifiable"] and "no audit signing key" in report.summary()
    # a new key would not vouch for the old checkpoints: signing is refused until the
    # key is restored
    with pytest.raises(audit.CheckpointRefused, match="unverifiable"):
        _checkpoint(engine, files)
    pub.write_text(genuine, encoding="ascii")
    assert _verify(engine, files).ok
