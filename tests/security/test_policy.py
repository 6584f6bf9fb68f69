"""The pure rules of who may do what (landgov.security.policy)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from landgov.errors import AccessDenied
from landgov.security import policy

TODAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("roles", "capability", "allowed"),
    [
        ({"patwari"}, "mutation.enter", True),
        ({"patwari"}, "mutation.verify", False),
        ({"girdawar"}, "mutation.verify", True),
        ({"girdawar"}, "mutation.sanction", False),
        ({"naib_tehsildar"}, "mutation.sanction", True),
        ({"tehsildar"}, "case.decide", True),
        ({"revenue_analyst"}, "valuation.run", True),
        ({"revenue_analyst"}, "mutation.enter", False),
        ({"revenue_analyst"}, "personal.unmask", False),
        ({"auditor"}, "audit.read", True),
        ({"auditor"}, "mutation.sanction", False),
        ({"administrator"}, "accounts.manage", True),
        ({"administrator"}, "rates.change", True),
        ({"administrator"}, "mutation.enter", False),  # no record changes
        ({"administrator"}, "mutation.sanction", False),
        ({"svc_valuation"}, "valuation.run", True),
        ({"svc_valuation"}, "disputes.scan", False),
        ({"svc_disputes"}, "records.load_demo", False),
    ],
)
def test_capabilities_by_role(roles: set[str], capability: str, allowed: bool) -> None:
    if allowed:
        policy.check_role(roles, capability, "someone")
    else:
        with pytest.raises(AccessDenied) as info:
            policy.check_role(roles, capability, "someone")
        assert info.value.rule == "role"


def test_only_deciding_roles_and_administrators_need_a_second_factor() -> None:
    assert policy.needs_second_factor({"naib_tehsildar"})
    assert policy.needs_second_factor({"administrator"})
    assert not policy.needs_second_factor({"patwari", "girdawar", "revenue_analyst", "auditor"})


@pytest.mark.parametrize(
    ("on", "then", "now", "rule"),
    [
        (TODAY + timedelta(days=1), True, True, "future_date"),
        (date(2099, 1, 1), True, True, "future_date"),
        (TODAY - timedelta(days=8), True, True, "backdate_window"),
        (TODAY - timedelta(days=2), True, False, "jurisdiction"),
        (TODAY - timedelta(days=2), False, True, "posting_then_and_now"),
    ],
)
def test_date_rules_refuse(on: date, then: bool, now: bool, rule: str) -> None:
    with pytest.raises(AccessDenied) as info:
        policy.check_action_date(on, TODAY, window_days=7, posted_then=then, posted_now=now,
                                 place="mouza X")  # fmt: skip
    assert info.value.rule == rule


def test_date_rules_allow_today_and_flag_back_dating_within_the_window() -> None:
    kw = {"window_days": 7, "posted_then": True, "posted_now": True, "place": "mouza X"}
    assert policy.check_action_date(TODAY, TODAY, **kw) is False  # type: ignore[arg-type]
    assert policy.check_action_date(TODAY - timedelta(days=7), TODAY, **kw) is True  # type: ignore[arg-type]


def test_separation_of_duties() -> None:
    policy.separation_of_duties("verify", 2, entered_by=1, verified_by=None)
    policy.separation_of_duties("sanction", 3, entered_by=1, verified_by=2)
    policy.separation_of_duties("sanction", 3, entered_by=None, verified_by=None)  # history
    for step, actor, entered, verified, word in [
        ("verify", 1, 1, None, "entered"),
        ("sanction", 2, 1, 2, "verified"),
        ("sanction", 1, 1, 2, "entered"),
        ("reject", 2, 1, 2, "verified"),
    ]:
        with pytest.raises(AccessDenied, match=word) as info:
            policy.separation_of_duties(step, actor, entered_by=entered, verified_by=verified)
        assert info.value.rule == "separation_of_duties"
