"""Signed checkpoints of the audit chain's head, kept outside the database.

The hash chain (:mod:`landgov.storage.audit`) shows an edit inside the log, but not a
database superuser who edits a row and recomputes every later hash with the database's
own ``audit_row_hash``, nor one who deletes the newest rows. A checkpoint pins the head
(seq and row_hash) at a moment, signed with an Ed25519 key that lives outside the
database, in a file outside the database; ``landgov audit verify`` then reports a head
that was rewritten or cut off.

- The private key: ``$LANDGOV_HOME/secrets/audit-signing.key`` (PKCS#8 PEM, mode 0600 in
  a 0700 folder, made on first use); its public key beside it, ``audit-signing.pub``
  (raw key in hex). ``LANDGOV_AUDIT_KEY`` moves the private key (the public key follows
  it: same name, ``.pub``).
- The checkpoints: ``$LANDGOV_HOME/audit/checkpoints.jsonl`` (folder 0700), one JSON
  object a line, appended and never rewritten; ``LANDGOV_AUDIT_CHECKPOINTS`` moves it::

    {"v": 1, "database": "landgov", "seq": 812, "row_hash": "9f…", "at": "2026-03-05T…",
     "key": "<public key hex>", "sig": "<signature hex>"}

  ``sig`` signs the canonical JSON (keys sorted, no spaces, ASCII) of the other fields.

A line is trusted only under the key file's public key: a line signed by any other key,
or edited after signing, is reported as ``forged``. Deleting lines from the file, or
rewriting rows newer than the newest checkpoint, cannot be seen: keep a copy of the file
(or send each line) somewhere the database's administrators cannot write.

This module only signs, writes and reads lines; comparing them with the rows is
:func:`landgov.storage.audit.verify`, and :func:`landgov.storage.audit.write_checkpoint`
signs a verified head.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from landgov.errors import LandgovError

VERSION: Final = 1
KEY_ENV: Final = "LANDGOV_AUDIT_KEY"
CHECKPOINTS_ENV: Final = "LANDGOV_AUDIT_CHECKPOINTS"
KEY_NAME: Final = "audit-signing.key"

_HASH = re.compile(r"^[0-9a-f]{64}$")
_SIG = re.compile(r"^[0-9a-f]{128}$")

CheckpointProblemKind = Literal["forged", "unverifiable", "truncated", "rewritten", "deleted"]


class CheckpointError(LandgovError):
    """A checkpoint cannot be signed or written: the chain is broken or empty, or the
    signing key is missing, unreadable, or readable by other users."""


@dataclass(frozen=True)
class Checkpoint:
    """One signed checkpoint: the head ``seq``/``row_hash`` of ``database`` at ``at``.

    ``line`` is its line number in the checkpoint file (1-based), when read from one.
    """

    database: str
    seq: int
    row_hash: str
    at: str
    key: str
    sig: str
    v: int = VERSION
    line: int | None = field(default=None, compare=False)

    def signed_fields(self) -> dict[str, object]:
        """The fields the signature covers (all but ``sig``)."""
        return {
            "v": self.v,
            "database": self.database,
            "seq": self.seq,
            "row_hash": self.row_hash,
            "at": self.at,
            "key": self.key,
        }

    def to_dict(self) -> dict[str, object]:
        return {**self.signed_fields(), "sig": self.sig}

    def to_json(self) -> str:
        """The checkpoint's line (without the newline)."""
        return json.dumps(self.to_dict(), ensure_ascii=True, separators=(", ", ": "))

    def where(self) -> str:
        at = f"line {self.line}, " if self.line is not None else ""
        return f"checkpoint ({at}seq {self.seq}, signed {self.at})"


@dataclass(frozen=True)
class CheckpointProblem:
    """A checkpoint the log disagrees with, or a line that is not a valid checkpoint.

    Kinds:

    - ``forged``: the line is not valid JSON of a checkpoint, was signed by another key
      than the key file's, or its content no longer matches its signature;
    - ``unverifiable``: there is no public key to check the signatures against (or the
      public key file does not match the private key);
    - ``truncated``: the newest checkpoint's seq is beyond the log's last row: the
      newest rows were cut off;
    - ``rewritten``: the row at a checkpoint's seq has another hash than the one signed:
      the chain was recomputed after an edit;
    - ``deleted``: the row at a checkpoint's seq is missing inside the log.
    """

    kind: CheckpointProblemKind
    line: int | None
    seq: int | None
    at: str | None
    detail: str

    def __str__(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.seq is not None:
            parts.append(f"seq {self.seq}")
        if self.at is not None:
            parts.append(f"signed {self.at}")
        where = f"checkpoint ({', '.join(parts)})" if parts else "checkpoints"
        return f"{where}: {self.kind}: {self.detail}"

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "line": self.line,
            "seq": self.seq,
            "at": self.at,
            "detail": self.detail,
        }


# --- where -------------------------------------------------------------------------------


def _home() -> Path:
    from landgov.config import load_settings

    return load_settings().home


def default_key_path() -> Path:
    """``$LANDGOV_AUDIT_KEY``, else ``$LANDGOV_HOME/secrets/audit-signing.key``."""
    override = os.environ.get(KEY_ENV)
    if override:
        return Path(override)
    from landgov.config import load_settings

    return load_settings().secrets_dir / KEY_NAME


def default_checkpoints_path() -> Path:
    """``$LANDGOV_AUDIT_CHECKPOINTS``, else ``$LANDGOV_HOME/audit/checkpoints.jsonl``."""
    override = os.environ.get(CHECKPOINTS_ENV)
    if override:
        return Path(override)
    return _home() / "audit" / "checkpoints.jsonl"


def public_key_path(key_path: Path) -> Path:
    """The public key file beside the private key ``key_path`` (same name, ``.pub``)."""
    if key_path.suffix == ".pub":
        raise CheckpointError(
            f"{key_path} names a public key: the signing key path must be the private key"
        )
    return key_path.with_suffix(".pub")


# --- keys --------------------------------------------------------------------------------


def public_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw 32-byte public key in hex."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def _load_private(path: Path) -> Ed25519PrivateKey:
    st = path.stat()
    if st.st_mode & 0o077 or st.st_uid != os.getuid():
        raise CheckpointError(
            f"the audit signing key {path} can be read by other users or is not yours "
            f"(mode {st.st_mode & 0o777:04o}): refusing it; make it 0600"
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError:
        raise CheckpointError(f"{path} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path} is not an Ed25519 key")
    return key


def _write_public(path: Path, key: Ed25519PrivateKey) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(public_hex(key) + "\n")
    os.replace(tmp, path)


def signing_key(path: Path | None = None, *, create: bool = True) -> Ed25519PrivateKey:
    """The private signing key at ``path`` (default :func:`default_key_path`), made on
    first use (0600, with the public key beside it) when ``create``.

    Raises:
        CheckpointError: no key and not ``create``; the file is readable by others, not
            the user's, or not an Ed25519 PEM key.
    """
    from landgov.storage.cluster import write_private

    path = Path(path) if path is not None else default_key_path()
    public_key_path(path)  # refuses a .pub path before anything is written
    if path.exists():
        return _load_private(path)
    if not create:
        raise CheckpointError(f"no audit signing key at {path}")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # two first uses at once must not each make a key: the second one waits, then reads
    lock_path = path.parent / f".{path.name}.lock"
    fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if path.exists():
            return _load_private(path)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_private(path, pem.decode("ascii"))
        _write_public(public_key_path(path), key)
        return key
    finally:
        os.close(fd)


def trusted_public_key(path: Path | None = None) -> tuple[Ed25519PublicKey | None, str | None]:
    """The public key checkpoints are checked against, and why there is none (or why it
    cannot be trusted).

    The private key's own public half when the private key is readable here (and then the
    ``.pub`` file must match it), else the ``.pub`` file beside it. Nothing is created.
    """
    path = Path(path) if path is not None else default_key_path()
    pub_path = public_key_path(path)
    published: Ed25519PublicKey | None = None
    try:
        published = Ed25519PublicKey.from_public_bytes(
            bytes.fromhex(pub_path.read_text(encoding="ascii").strip())
        )
    except FileNotFoundError:
        pass
    except (OSError, ValueError):
        return None, f"the public key file {pub_path} cannot be read as an Ed25519 key"
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (FileNotFoundError, PermissionError):
        private = None
    except ValueError:
        return None, f"{path} is not a PEM private key"
    if isinstance(private, Ed25519PrivateKey):
        if published is not None and public_hex(published) != public_hex(private):
            return None, (
                f"the public key file {pub_path} does not match the signing key {path}: "
                "one of them was replaced"
            )
        return private.public_key(), None
    if private is not None:
        return None, f"{path} is not an Ed25519 key"
    if published is None:
        return None, f"there is no audit signing key at {path} nor its public key {pub_path}"
    return published, None


# --- lines -------------------------------------------------------------------------------


def canonical(fields: dict[str, object]) -> bytes:
    """The bytes a checkpoint's signature covers: its fields' canonical JSON."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign(
    key: Ed25519PrivateKey, *, database: str, seq: int, row_hash: str, at: datetime | str
) -> Checkpoint:
    """A checkpoint of ``database``'s head ``seq``/``row_hash``, signed with ``key``."""
    when = at.isoformat() if isinstance(at, datetime) else at
    unsigned = Checkpoint(database, int(seq), row_hash, when, public_hex(key), "")
    signature = key.sign(canonical(unsigned.signed_fields()))
    return Checkpoint(database, int(seq), row_hash, when, unsigned.key, signature.hex())


def append(path: Path, checkpoint: Checkpoint) -> Checkpoint:
    """Appends ``checkpoint`` as one line of ``path`` (made with a 0700 folder when
    missing); returns it with its line number. Appends are serialised with a file lock
    and synced to disk before returning."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with open(path, "rb") as fh:
            content = fh.read()
        lines = content.count(b"\n")
        prefix = b"" if not content or content.endswith(b"\n") else b"\n"
        if prefix:
            lines += 1  # a last line without its newline stays its own line
        os.write(fd, prefix + checkpoint.to_json().encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    return replace(checkpoint, line=lines + 1)


def _parse(raw: str) -> Checkpoint | str:
    """The checkpoint on a line, or what is wrong with it."""
    try:
        data = json.loads(raw)
    except ValueError:
        return "it is not JSON"
    if not isinstance(data, dict):
        return "it is not a JSON object"
    expected = {"v", "database", "seq", "row_hash", "at", "key", "sig"}
    if set(data) != expected:
        missing = sorted(expected - set(data))
        extra = sorted(set(data) - expected)
        said = [f"missing {', '.join(missing)}"] if missing else []
        said += [f"unexpected {', '.join(extra)}"] if extra else []
        return f"its fields are wrong ({'; '.join(said)})"
    if data["v"] != VERSION or isinstance(data["v"], bool):
        return f"unknown version {data['v']!r}"
    seq = data["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return f"seq {seq!r} is not a positive integer"
    for name in ("database", "at"):
        if not isinstance(data[name], str) or not data[name]:
            return f"{name} is not text"
    if not isinstance(data["row_hash"], str) or not _HASH.match(data["row_hash"]):
        return "row_hash is not 64 hex digits"
    if not isinstance(data["key"], str) or not _HASH.match(data["key"]):
        return "key is not a 64-hex-digit Ed25519 public key"
    if not isinstance(data["sig"], str) or not _SIG.match(data["sig"]):
        return "sig is not a 128-hex-digit Ed25519 signature"
    return Checkpoint(data["database"], seq, data["row_hash"], data["at"], data["key"], data["sig"])


@dataclass(frozen=True)
class Loaded:
    """The valid checkpoints of one database in a file, and the problems of its lines.

    ``lines`` counts the file's non-blank lines (every database's).
    """

    checkpoints: tuple[Checkpoint, ...]
    problems: tuple[CheckpointProblem, ...]
    lines: int


def load(path: Path, database: str, key_path: Path | None = None) -> Loaded:
    """Reads ``path`` and checks the signature of every checkpoint of ``database``
    under the trusted public key (:func:`trusted_public_key`).

    Lines of other databases are skipped; lines that cannot be read as a checkpoint at
    all (so belong to no known database) are reported as ``forged``. No file: nothing.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Loaded((), (), 0)
    public, why_not = trusted_public_key(key_path)
    trusted_hex = public_hex(public) if public is not None else None
    good: list[Checkpoint] = []
    problems: list[CheckpointProblem] = []
    unchecked = 0
    count = 0
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        count += 1
        try:
            parsed = _parse(line.decode("utf-8"))
        except UnicodeDecodeError:
            parsed = "it is not UTF-8 text"
        if isinstance(parsed, str):
            problems.append(
                CheckpointProblem(
                    "forged", number, None, None, f"line {number} is not a checkpoint: {parsed}"
                )
            )
            continue
        if parsed.database != database:
            continue
        cp = replace(parsed, line=number)
        if public is None or trusted_hex is None:
            unchecked += 1
            continue
        if cp.key != trusted_hex:
            problems.append(
                CheckpointProblem(
                    "forged",
                    number,
                    cp.seq,
                    cp.at,
                    f"signed by another key ({cp.key[:16]}…), not the audit signing key "
                    f"({trusted_hex[:16]}…)",
                )
            )
            continue
        try:
            public.verify(bytes.fromhex(cp.sig), canonical(cp.signed_fields()))
        except InvalidSignature:
            problems.append(
                CheckpointProblem(
                    "forged",
                    number,
                    cp.seq,
                    cp.at,
                    "its signature does not match its content: the line was edited after "
                    "it was signed, or forged",
                )
            )
            continue
        good.append(cp)
    if unchecked:
        problems.append(
            CheckpointProblem(
                "unverifiable",
                None,
                None,
                None,
                f"{unchecked} checkpoint(s) of {database} in {path} cannot be checked: {why_not}",
            )
        )
    return Loaded(tuple(good), tuple(problems), count)


__all__ = [
    "CHECKPOINTS_ENV",
    "KEY_ENV",
    "Checkpoint",
    "CheckpointError",
    "CheckpointProblem",
    "Loaded",
    "append",
    "canonical",
    "default_checkpoints_path",
    "default_key_path",
    "load",
    "public_hex",
    "public_key_path",
    "sign",
    "signing_key",
    "trusted_public_key",
]
