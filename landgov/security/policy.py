"""Who may do what: roles, capabilities and the date rules, as pure functions.

Roles (docs/security.md):

- officer designations, from the officer row an account is bound to, acting only where
  posted on the day: ``patwari`` (enters mutations), ``girdawar`` (kanungo: verifies),
  ``naib_tehsildar``, ``tehsildar``, ``assistant_commissioner`` (verify, sanction or
  reject, decide dispute cases);
- ``revenue_analyst`` (valuation and tax; reads records with CNICs masked), ``auditor``
  (audit and access logs), ``administrator`` (accounts, rate tables and security
  settings; never changes the record), stored in ``user_role`` with validity dates;
- services for batch jobs, each with only its job: ``svc_demo`` (builds the demo,
  writes records everywhere), ``svc_disputes``, ``svc_valuation``, ``svc_advisories``,
  ``svc_imagery``, ``svc_models``, ``svc_audit``.

A capability names one kind of action; :data:`CAPABILITIES` says which roles hold it and
whether it is bounded by the officer's jurisdiction on the day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from landgov.errors import AccessDenied

OFFICER_ROLES: Final = (
    "patwari",
    "girdawar",
    "naib_tehsildar",
    "tehsildar",
    "assistant_commissioner",
)
DECIDING: Final = frozenset({"naib_tehsildar", "tehsildar", "assistant_commissioner"})
STAFF_ROLES: Final = ("revenue_analyst", "auditor", "administrator")
SERVICE_ROLES: Final = (
    "svc_demo",
    "svc_disputes",
    "svc_valuation",
    "svc_advisories",
    "svc_imagery",
    "svc_models",
    "svc_audit",
)
STORED_ROLES: Final = (*STAFF_ROLES, *SERVICE_ROLES)
"""Roles kept in ``user_role`` (officer roles come from the officer's designation)."""

SECOND_FACTOR_ROLES: Final = DECIDING | {"administrator"}
"""Roles that can sanction, decide a case or change rates: a TOTP code at every sign-in."""

_OFFICERS: Final = frozenset(OFFICER_ROLES)
_VERIFIERS: Final = DECIDING | {"girdawar"}


@dataclass(frozen=True)
class Capability:
    """Which roles may act, and whether only within their jurisdiction on the day."""

    roles: frozenset[str]
    jurisdiction: bool
    what: str


def _cap(roles: Iterable[str], jurisdiction: bool, what: str) -> Capability:
    return Capability(frozenset(roles), jurisdiction, what)


CAPABILITIES: Final[dict[str, Capability]] = {
    "mutation.enter": _cap({"patwari"}, True, "enter mutations"),
    "mutation.verify": _cap(_VERIFIERS, True, "verify mutations"),
    "mutation.sanction": _cap(DECIDING, True, "sanction mutations"),
    "mutation.reject": _cap(DECIDING, True, "reject mutations"),
    "records.import": _cap(_OFFICERS | {"svc_demo"}, True, "import parcels or mutation registers"),
    "records.load_demo": _cap({"svc_demo"}, False, "build the demo district"),
    "records.read": _cap((*OFFICER_ROLES, *STAFF_ROLES, *SERVICE_ROLES), False, "read the record"),
    "personal.read": _cap(
        (*OFFICER_ROLES, "revenue_analyst", "auditor"), False, "read owners and their shares"
    ),
    "personal.unmask": _cap(_OFFICERS, True, "see CNICs and phone numbers in full"),
    "fard.issue": _cap({"patwari", *DECIDING}, True, "issue a fard"),
    "jamabandi.generate": _cap(_OFFICERS | {"svc_demo"}, False, "generate a jamabandi"),
    "case.read": _cap((*OFFICER_ROLES, "auditor"), False, "read dispute cases"),
    "case.review": _cap(_VERIFIERS, True, "review dispute cases"),
    "case.decide": _cap(DECIDING, True, "confirm, dismiss or refer dispute cases"),
    "disputes.scan": _cap({"svc_disputes", "svc_demo"}, False, "scan for disputes"),
    "rates.change": _cap({"administrator", "svc_demo"}, False, "load rate tables"),
    "valuation.read": _cap(
        ("revenue_analyst", *DECIDING, "auditor", "svc_valuation"), False, "read valuations"
    ),
    "valuation.run": _cap(
        {"revenue_analyst", "svc_valuation", "svc_demo"}, False, "train models and run rolls"
    ),
    "advisories.run": _cap({"svc_advisories", "svc_demo"}, False, "run farmer advisories"),
    "advisories.contacts": _cap(
        {"administrator", "svc_advisories", "svc_demo"}, False, "load farmer contacts"
    ),
    "advisories.outbox": _cap(
        {"administrator", "auditor", "svc_advisories"}, False, "read the SMS outbox"
    ),
    "imagery.write": _cap({"svc_imagery", "svc_demo"}, False, "ingest and process imagery"),
    "models.write": _cap({"svc_models", "svc_demo"}, False, "train models, predict and detect"),
    "models.assign": _cap(
        {"administrator", "svc_models", "svc_demo"}, False, "choose the model serving a mouza"
    ),
    "audit.read": _cap({"auditor"}, False, "read and verify the audit and access logs"),
    "audit.checkpoint": _cap(
        ("auditor", *DECIDING, *SERVICE_ROLES), False, "sign a checkpoint of the audit chain"
    ),
    "accounts.manage": _cap({"administrator"}, False, "manage accounts and roles"),
    "settings.change": _cap({"administrator"}, False, "change security settings"),
    "api_clients.manage": _cap(
        {"administrator", "svc_demo"}, False, "register API clients and their scopes"
    ),
}

API_SCOPES: Final[dict[str, str]] = {
    "parcels:read": "khasras, mouza boundaries and state land (OGC API - Features); no owners",
    "fard:read": "verify a fard by its code: the holders and shares it names, as issued",
    "valuation:read": "values of khasras, transfer taxes of sales, under-declared sales",
    "holdings:read": "a person's record of rights by CNIC (every call in the access log)",
}
"""What an API client (another agency) may be granted; each endpoint needs one."""


def parse_scopes(given: str | Iterable[str]) -> frozenset[str]:
    """Scopes from ``fard:read,parcels:read`` (commas or spaces, as OAuth2 writes them).

    Raises:
        ValueError: an unknown scope (naming the known ones) or none at all.
    """
    items = given.replace(",", " ").split() if isinstance(given, str) else list(given)
    unknown = sorted(set(items) - API_SCOPES.keys())
    if unknown:
        raise ValueError(
            f"unknown scope(s) {', '.join(unknown)}: choose from {', '.join(sorted(API_SCOPES))}"
        )
    if not items:
        raise ValueError(f"give at least one scope: {', '.join(sorted(API_SCOPES))}")
    return frozenset(items)


def roles_of(designation: str | None, stored: Iterable[str]) -> frozenset[str]:
    """Every role of an account: its officer's designation plus its stored roles."""
    found = set(stored)
    if designation is not None:
        found.add(designation)
    return frozenset(found)


def needs_second_factor(roles: Iterable[str]) -> bool:
    """Whether an account with ``roles`` must give a TOTP code to sign in."""
    return bool(SECOND_FACTOR_ROLES & set(roles))


def capability(name: str) -> Capability:
    try:
        return CAPABILITIES[name]
    except KeyError:
        raise ValueError(f"unknown capability {name!r}") from None


def check_role(roles: Iterable[str], name: str, who: str) -> Capability:
    """The capability ``name`` if ``roles`` hold it.

    Raises:
        AccessDenied: rule ``role``, naming who (``who``: name and roles) lacks what and
            which roles have it.
    """
    cap = capability(name)
    if not cap.roles & set(roles):
        raise AccessDenied(
            "role",
            f"{who} may not {cap.what}; that needs "
            + " or ".join(r.replace("_", " ") for r in sorted(cap.roles)),
        )
    return cap


def check_action_date(
    on: date,
    today: date,
    *,
    window_days: int,
    posted_then: bool,
    posted_now: bool,
    place: str,
) -> bool:
    """Date rules of a dated action by an officer; True when it is back-dated.

    - ``future_date``: nothing is dated after today;
    - ``backdate_window``: nothing is dated more than ``window_days`` before today;
    - ``posting_then_and_now``: an officer acts in ``place`` only when posted there on
      the action's date and today (a transferred officer cannot reach back into his old
      charge, nor a new one into the time before his posting).
    """
    if on > today:
        raise AccessDenied(
            "future_date",
            f"an action cannot be dated {on.isoformat()}, after today ({today.isoformat()})",
        )
    if on < today - timedelta(days=window_days):
        raise AccessDenied(
            "backdate_window",
            f"{on.isoformat()} is more than {window_days} day(s) before today "
            f"({today.isoformat()}); the back-dating window is {window_days} day(s)",
        )
    if not posted_now:
        raise AccessDenied("jurisdiction", f"not posted in {place} today ({today.isoformat()})")
    if not posted_then:
        raise AccessDenied(
            "posting_then_and_now",
            f"not posted in {place} on {on.isoformat()}, the date given to the action",
        )
    return on < today


def separation_of_duties(
    step: str, actor_user: int, entered_by: int | None, verified_by: int | None
) -> None:
    """Who entered a mutation cannot verify it; who verified it cannot sanction it
    (nor reject it, which is the same decision).

    Raises:
        AccessDenied: rule ``separation_of_duties``.
    """
    if step == "verify" and entered_by is not None and actor_user == entered_by:
        raise AccessDenied("separation_of_duties", "who entered a mutation cannot also verify it")
    if step in {"sanction", "reject"} and actor_user in {entered_by, verified_by}:
        did = "verified" if actor_user == verified_by else "entered"
        raise AccessDenied("separation_of_duties", f"who {did} a mutation cannot also {step} it")
