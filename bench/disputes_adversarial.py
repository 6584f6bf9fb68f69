"""The dispute rules against the adversarial planter, at full size (issue 16, item 6).

Run:  .venv/bin/python bench/disputes_adversarial.py [--seed 1] [--size full|small]
          [--truth FILE] [--keep]

A throwaway database is migrated and the demo district (seed 42) built into it, its DC
rate table loaded (as ``make demo`` does) and scanned once: the baseline. Then
:mod:`landgov.disputes.adversary` plants the plan of ``--seed`` (``full``: at least 10
anomalies of each of the 21 kinds, through every path the kind has, and 1,000 clean
changes), the district is scanned again and the flags scored against the truth
(:func:`landgov.disputes.scoring.score_stored` with ``after_scan`` = the baseline): the
table per rule and per family, each missed anomaly and each unexplained flag.

Officers. The engine path signs officers in: the demo's own accounts, taken over as an
administrator would (new password and TOTP secret, with the owner role). One tehsil's
three revenue officers may sanction 9 a day each without a volume spike, and the engine's
clean steps are dated today, so for a full plan the bench posts extra naib tehsildars to
the tehsil (``--extra-officers``, by default as many as the plan's engine sanctions need)
with no history: the planter never has one sanction ten in a day.

Goal (issue 16): recall >= 0.95 on every family, at most 1 unexplained flag per 1,000
clean changes. Goal met or not, the figures are printed; the exit status is 0.
"""

from __future__ import annotations

import argparse
import math
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

PASSWORD = "adversarial bench password 42"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--size", choices=("small", "full"), default="full")
    ap.add_argument("--truth", type=Path, default=None, help="also write the truth CSV here")
    ap.add_argument("--extra-officers", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the database (name printed)")
    args = ap.parse_args()

    from landgov.config import load_settings
    from landgov.demo import build_demo
    from landgov.disputes import adversary, scoring
    from landgov.disputes.scan import scan
    from landgov.security import service_login
    from landgov.security.accounts import provision_services, service_key_path
    from landgov.storage import cluster, migrate
    from landgov.storage.engine import get_engine
    from landgov.valuation.rates import load_dc_rates

    settings = load_settings()
    if settings.uses_private_cluster:
        cluster.up(settings)
    name = "landgov_bench_adversary"
    cluster.drop_database(settings, name)
    cluster.ensure_database(settings, name)
    owner = get_engine(settings, name, "owner")
    migrate.migrate(owner)
    app = get_engine(settings, name)
    work = Path(tempfile.mkdtemp(prefix="landgov-adversary-"))
    keys = work / "secrets"
    provision_services(owner, keys)

    def service(who: str) -> Any:
        return service_login(app, who, service_key_path(keys, who).read_text())

    t0 = time.perf_counter()
    build_demo(app, work / "demo", seed=42, actor=service("demo"))
    load_dc_rates(app, work / "demo" / "dc_rates.csv", actor=service("demo"))
    print(f"demo district built and rated in {time.perf_counter() - t0:.1f} s")

    plan = adversary.draw_plan(args.seed, args.size)
    engine_sanctions = sum(c.path in ("cli", "import+cli") for c in plan)
    extra = args.extra_officers
    if extra is None:
        extra = max(0, math.ceil(1.3 * engine_sanctions / adversary.MAX_SANCTIONS_A_DAY) - 3)
    _post_officers(owner, extra)

    t0 = time.perf_counter()
    base = scan(app, actor=service("disputes")).scan_id
    t_scan = time.perf_counter() - t0
    actors = _Accounts(owner, app)
    t0 = time.perf_counter()
    report = adversary.plant(app, plan, owner=owner, importer=service("demo"),
                             officer_actor=actors.actor, work_dir=work / "files")  # fmt: skip
    t_plant = time.perf_counter() - t0
    t0 = time.perf_counter()
    scan(app, actor=service("disputes"))
    t_scan2 = time.perf_counter() - t0
    truth = args.truth or work / "truth.csv"
    adversary.write_truth(truth, report.truth)
    with app.connect() as conn:
        s = scoring.score_stored(conn, truth, None, after_scan=base)

    paths: dict[str, int] = {}
    for r in report.truth:
        paths[r.path] = paths.get(r.path, 0) + 1
    print(f"plan: seed {args.seed}, size {args.size}: {len(plan)} cases; planted "
          f"{report.planted} truth rows of anomalies and {report.clean} clean changes "
          f"in {t_plant:.0f} s; by path {dict(sorted(paths.items()))}; "
          f"{extra} extra officers posted")  # fmt: skip
    print(f"baseline scan {t_scan:.1f} s, scan after planting {t_scan2:.1f} s")
    if report.refused:
        why: dict[str, int] = {}
        for r in report.refused:
            key = f"{r.kind}/{r.path}: {re.sub(r'[0-9-]{4,}', '#', r.reason)[:150]}"
            why[key] = why.get(key, 0) + 1
        print(f"{len(report.refused)} case(s) not planted:")
        for k, v in sorted(why.items()):
            print(f"  {v:4d}  {k}")
    print()
    print(scoring.format_adversarial(s))
    low = {f: round(n and found / n, 3) for f, (n, found) in s.families().items()
           if found / n < 0.95}  # fmt: skip
    per = s.per_1000_clean or 0.0
    print()
    print(
        f"goal recall >= 0.95 on every family: {'met' if not low else f'NOT met {low}'}; "
        f"<= 1 unexplained flag per 1,000 clean changes: "
        f"{'met' if per <= 1 else 'NOT met'} ({per:.2f})"
    )
    print(f"truth: {truth}")
    app.dispose()
    owner.dispose()
    if args.keep:
        print(f"database kept: {name}")
    else:
        cluster.drop_database(settings, name)


def _post_officers(owner: Any, n: int) -> None:
    """``n`` naib tehsildars posted to the demo's own tehsil from 1 January 2025."""
    if not n:
        return
    with owner.begin() as conn:
        tehsil = conn.execute(text("SELECT tehsil_id FROM mouza ORDER BY id LIMIT 1")).scalar_one()
        for i in range(n):
            oid = conn.execute(
                text("INSERT INTO officer (name, designation, cnic) VALUES (:n,"
                     " 'naib_tehsildar', :c) RETURNING id"),
                {"n": f"Bench Naib Tehsildar {i + 1}", "c": f"35404-{9900000 + i:07d}-1"},
            ).scalar_one()  # fmt: skip
            conn.execute(
                text("INSERT INTO officer_jurisdiction (officer_id, admin_unit_id, valid_from)"
                     " VALUES (:o, :a, DATE '2025-01-01')"),
                {"o": oid, "a": tehsil},
            )  # fmt: skip


class _Accounts:
    """Officers signed in: an officer's account (the demo's, or a new one) given a known
    password and TOTP secret with the owner role, as an administrator's reset would."""

    def __init__(self, owner: Any, app: Any) -> None:
        self.owner, self.app = owner, app
        self.cache: dict[str, Any] = {}

    def actor(self, cnic: str) -> Any:
        from landgov.domain import totp
        from landgov.security import login
        from landgov.security.accounts import create_person, new_totp_secret
        from landgov.security.passwords import hash_password

        if cnic in self.cache:
            return self.cache[cnic]
        secret = new_totp_secret()
        with self.owner.begin() as conn:
            row = conn.execute(
                text("SELECT u.username, u.totp_last_step FROM app_user u JOIN officer o"
                     " ON o.id = u.officer_id WHERE o.cnic = :c"), {"c": cnic},
            ).one_or_none()  # fmt: skip
            if row is None:
                username, last = f"bench.{cnic}", None
                create_person(conn, username=username, full_name=username,
                              officer_cnic=cnic, password=PASSWORD, totp_secret=secret)  # fmt: skip
            else:
                username, last = row.username, row.totp_last_step
                conn.execute(
                    text("UPDATE app_user SET password_hash = :p, totp_secret = :t,"
                         " failed_logins = 0, locked_until = NULL WHERE username = :u"),
                    {"p": hash_password(PASSWORD), "t": secret, "u": username},
                )  # fmt: skip
        at = max(time.time(), ((last or 0) + 1) * totp.STEP_SECONDS)
        actor = login(self.app, username, PASSWORD, totp.totp(secret, at), channel="cli", now=at)
        self.cache[cnic] = actor
        return actor


if __name__ == "__main__":
    main()
