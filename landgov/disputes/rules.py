"""The rule registry and what a rule returns.

A detector is ``fn(conn, mouza_ids, since, thresholds) -> list[Finding]``; it reads only
and never decides severity or wording (those are data in ``dispute_rule``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from landgov.records.register import once_per_transaction  # noqa: F401  (for the rules)

SEVERITY_FACTOR = {"low": 0.5, "medium": 1.0, "high": 2.0, "critical": 4.0}
"""Multiplies a rule's weight in the risk score: a critical flag outweighs several low."""


@dataclass(frozen=True)
class Finding:
    """One thing a rule found, with the subject it is about and its evidence."""

    rule: str
    mouza_id: int
    khasra_id: int | None = None
    khewat_id: int | None = None
    mutation_id: int | None = None
    measure: float | None = None
    threshold: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    geom_wkb: bytes | None = None
    subject: tuple[str, int] | None = None  # the case's subject when no khasra/khewat
    key: str = ""  # what makes two findings of one rule the same (default: the ids)
    grade: float = 1.0  # in (0, 1]: how strongly the evidence points (landgov.disputes.grades)

    def fingerprint(self) -> str:
        """Stable id of (rule, subject): a re-scan updates the flag instead of adding one."""
        subject = self.key or f"{self.khasra_id}:{self.khewat_id}:{self.mutation_id}"
        return hashlib.sha256(f"{self.rule}|{subject}".encode()).hexdigest()[:32]

    def evidence_json(self) -> str:
        return json.dumps(self.evidence, sort_keys=True, default=str)


Detector = Callable[[Connection, list[int], date | None, dict[str, Any]], list[Finding]]
DETECTORS: dict[str, Detector] = {}


def rule(rule_id: str) -> Callable[[Detector], Detector]:
    """Registers a detector under ``rule_id`` (which must have a ``dispute_rule`` row)."""

    def register(fn: Detector) -> Detector:
        if rule_id in DETECTORS:
            raise ValueError(f"rule {rule_id} registered twice")
        DETECTORS[rule_id] = fn
        return fn

    return register
