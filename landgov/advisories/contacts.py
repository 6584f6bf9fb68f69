"""Farmers' phones and consent, loaded from CSV: ``cnic, phone, language, opted_in_on,
opted_out_on`` (the last three optional: language ``ur`` by default; no opt-in date means
no messages).

Phones are normalised to E.164 (``03001234567``, ``+92 300 1234567`` and ``923001234567``
all become ``+923001234567``); only Pakistani mobile numbers (03xx) are accepted. A
CNIC must belong to a person already in the records. The file is one transaction: every
bad row is named (file, row, field, reason) and nothing is written; loading the same
person again updates the contact (a new opt-out, a new phone).
"""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.errors import ImportRejected, RowProblem

if TYPE_CHECKING:
    from landgov.security import Actor

COLUMNS: Final = ("cnic", "phone", "language", "opted_in_on", "opted_out_on")
_PHONE: Final = re.compile(r"^(?:\+?92|0)(3\d{9})$")


def normalise_phone(raw: str) -> str | None:
    """``+923001234567`` from the usual ways of writing a Pakistani mobile, else None."""
    digits = re.sub(r"[\s\-()]", "", raw)
    m = _PHONE.match(digits)
    return None if m is None else f"+92{m.group(1)}"


def _date(raw: str) -> date | None:
    return None if not raw.strip() else date.fromisoformat(raw.strip())


def load_contacts(engine: Engine, path: str | Path, *, actor: Actor, source: str = "import") -> int:
    """Loads the file (module docstring); returns the number of contacts written.

    ``actor`` must hold ``advisories.contacts`` (an administrator, the advisories or the
    demo service); the load is one transaction bound to it, with one audit row naming
    it, the file and its SHA-256 (no phone numbers: the audit log is not a phone book).

    Raises:
        AccessDenied: the actor may not load contacts.
        ImportRejected: a missing column or any bad row; nothing is written.
    """
    from landgov.security import authorize, bind
    from landgov.storage import audit

    path = Path(path)
    with engine.connect() as conn:
        authorize(conn, actor, "advisories.contacts")  # before reading a phone number
    problems: list[RowProblem] = []
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            rows = list(reader)
    except OSError as exc:
        raise ImportRejected(str(path), [RowProblem(None, None, f"cannot read: {exc}")]) from exc
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            str(path), [RowProblem(None, None, f"not UTF-8 text (byte {exc.start})")]
        ) from None
    except csv.Error as exc:
        raise ImportRejected(str(path), [RowProblem(None, None, f"not CSV: {exc}")]) from None
    missing = [c for c in ("cnic", "phone") if c not in header]
    if missing:
        raise ImportRejected(str(path), [RowProblem(None, c, "column missing") for c in missing])
    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, "advisories.contacts")
        people: dict[str, int] = dict(conn.execute(text(
            "SELECT cnic, id FROM party WHERE kind = 'person' AND cnic = ANY(:c)"),
            {"c": [(r.get("cnic") or "").strip() for r in rows]}).all())  # fmt: skip
        clean = []
        for n, r in enumerate(rows, start=1):
            cnic = (r.get("cnic") or "").strip()
            party = people.get(cnic)
            if party is None:
                problems.append(RowProblem(n, "cnic", f"{cnic!r} is no person in the records"))
            phone = normalise_phone(r.get("phone") or "")
            if phone is None:
                problems.append(
                    RowProblem(n, "phone", f"{r.get('phone')!r} is not a Pakistani mobile number")
                )
            lang = (r.get("language") or "ur").strip() or "ur"
            if lang not in ("ur", "en"):
                problems.append(RowProblem(n, "language", f"{lang!r}: ur or en"))
            dates: list[date | None] = []
            for col in ("opted_in_on", "opted_out_on"):
                try:
                    dates.append(_date(r.get(col) or ""))
                except ValueError:
                    problems.append(
                        RowProblem(n, col, f"{r.get(col)!r} is not a date (YYYY-MM-DD)")
                    )
                    dates.append(None)
            if dates[0] and dates[1] and dates[1] < dates[0]:
                problems.append(RowProblem(n, "opted_out_on", "before opted_in_on"))
            clean.append((party, phone, lang, *dates))
        if problems:
            raise ImportRejected(str(path), problems)
        conn.execute(
            text(
                "INSERT INTO farmer_contact (party_id, phone, language, opted_in_on,"
                " opted_out_on, source) VALUES (:p, :ph, :l, :i, :o, :src)"
                " ON CONFLICT (party_id) DO UPDATE SET phone = EXCLUDED.phone,"
                " language = EXCLUDED.language, opted_in_on = EXCLUDED.opted_in_on,"
                " opted_out_on = EXCLUDED.opted_out_on, source = EXCLUDED.source"
            ),
            [{"p": p, "ph": ph, "l": lang, "i": i, "o": o, "src": source}
             for p, ph, lang, i, o in clean],
        )  # fmt: skip
        audit.append(conn, actor=actor.label, action="load farmer contacts",
                     entity="farmer_contact",
                     details={"file": str(path), "sha256": digest, "contacts": len(clean),
                              "source": source})  # fmt: skip
    return len(clean)
