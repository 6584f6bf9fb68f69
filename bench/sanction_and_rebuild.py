"""Record-of-rights rebuild from a register, and the sanction path through the database.

Run:  .venv/bin/python bench/sanction_and_rebuild.py [--mutations 1000000]
          [--khewats 200000] [--subset 10] [--sanctions 2000] [--skip-db]

(a) Rebuild. A synthetic district is generated in memory: ``--khewats`` khewats of one
    to four owners (settlement 2002), then ``--mutations`` sanctioned mutations in date
    order over 2003-2026: sales of whole or part shares (45 %), gifts (12 %),
    inheritances computed with the faraid calculator (12 %), mortgages and their
    redemptions, leases, exchanges between two khewats, court decrees and partitions
    (a new khewat per co-owner). Generation is not timed. Timed:
    :func:`landgov.domain.ledger.rebuild`, which turns the settlement and the register
    into every share period (what the ``share`` table holds). Goal: under 60 s.

    Peer, in the same run: a straightforward replay, the way the rule reads — a dict of
    Fractions per khewat, each line applied with Fraction arithmetic, the khewat's total
    re-added after every mutation to check it is 1, a period written for every changed
    holding. It runs on every ``--subset``-th khewat (and the lines that touch them), as
    does ledger.rebuild for a like-for-like ratio; the peer's full-district time is
    extrapolated from its subset rate.

(b) Sanctioning through the database. A throwaway database with one mouza of
    ``2 x --sanctions`` khewats, each of two owners; one sale per khewat is entered and
    verified (written in bulk by the owner role, not timed), and a tehsildar posted over
    the tehsil gets an account and signs in (password + TOTP). Timed:
    :func:`landgov.records.mutations.sanction` as that signed-in officer, through the
    application role (row-level security on), for ``--sanctions`` mutations on one
    connection, then ``--sanctions`` others from 4 threads, each with its own connection,
    on distinct khewats (so none conflicts). Every sanction is the full path: the actor
    bound and authorized, locks, rule checks, share rows, status, audit rows (the
    engine's and the database triggers').

Prints the figures and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import threading
import time
from datetime import date, timedelta
from fractions import Fraction

from sqlalchemy import create_engine, text

from landgov.config import load_settings
from landgov.domain import compute_shares, ledger
from landgov.domain.ledger import Line, ReplayMutation, SharePeriod
from landgov.storage import cluster
from landgov.storage.engine import get_engine

F = Fraction
SETTLED = date(2002, 1, 1)
START = date(2003, 1, 1)
DAYS = (date(2026, 11, 1) - START).days
OWN = "ownership"
COMPOSITIONS = [
    [F(1)],
    [F(1, 2), F(1, 2)],
    [F(2, 3), F(1, 3)],
    [F(1, 4), F(1, 4), F(1, 2)],
    [F(1, 8), F(7, 16), F(7, 16)],
    [F(1, 3), F(1, 3), F(1, 3)],
    [F(1, 4)] * 4,
    [F(3, 8), F(3, 8), F(1, 8), F(1, 8)],
]
HEIR_PATTERNS = [
    {"wife": 1, "son": 2, "daughter": 1},
    {"wife": 1, "son": 1, "daughter": 2},
    {"son": 2},
    {"husband": 1, "son": 1, "daughter": 1},
    {"wife": 1, "daughter": 2, "full_brother": 1},
    {"mother": 1, "father": 1, "son": 1},
    {"wife": 1, "son": 3, "daughter": 2},
]
MWP = "mortgage_with_possession"


def _heir_fractions() -> list[list[Fraction]]:
    """Each heir pattern's per-person shares, from the faraid calculator."""
    out = []
    for pattern in HEIR_PATTERNS:
        shares = []
        for s in compute_shares(pattern):
            shares += [s.share_each] * s.count if s.share_each else []
        out.append(shares)
    return out


def generate(
    n_khewats: int, n_mutations: int, seed: int = 7
) -> tuple[list[SharePeriod], list[ReplayMutation]]:
    """The settlement and a register of valid sanctioned mutations, in sanction order."""
    rnd = random.Random(seed)
    heirs = _heir_fractions()
    next_party = 1
    own: list[dict[int, Fraction]] = []
    enc: list[list[tuple[int, str, Fraction]]] = []  # (holder, right, share)
    last: list[int] = []
    initial: list[SharePeriod] = []
    for k in range(n_khewats):
        comp = rnd.choice(COMPOSITIONS)
        holders = {}
        for s in comp:
            holders[next_party] = s
            initial.append(SharePeriod(k, next_party, OWN, s.numerator, s.denominator,
                                       SETTLED, None, None, None))  # fmt: skip
            next_party += 1
        own.append(holders)
        enc.append([])
        last.append(-1)
    alive = list(range(n_khewats))
    dead = [False] * n_khewats
    first_buyer = next_party

    def person() -> int:
        """A buyer, heir, lender or lessee: a new party, or (one in five) a known one."""
        nonlocal next_party
        if next_party > first_buyer and rnd.random() < 0.2:
            return rnd.randrange(first_buyer, next_party)
        next_party += 1
        return next_party - 1

    muts: list[ReplayMutation] = []
    mid = 0
    while len(muts) < n_mutations:
        day_no = len(muts) * DAYS // n_mutations
        day = START + timedelta(days=day_no)
        k = alive[rnd.randrange(len(alive))]
        if dead[k] or last[k] >= day_no:
            continue
        held = own[k]
        roll = rnd.random()
        src = rnd.choice(list(held))
        have = held[src]
        lines: list[Line]
        if roll < 0.45:
            mtype = "sale"
            part = have if rnd.random() < 0.6 else have * rnd.choice((F(1, 2), F(1, 3)))
            dst = person()
            if dst == src:
                continue
            lines = [Line(k, src, dst, part)]
            held[src] = have - part
            held[dst] = held.get(dst, F(0)) + part
        elif roll < 0.57:
            mtype = "gift"
            a, b = person(), person()
            if len({a, b, src}) < 3:
                continue
            lines = [Line(k, src, a, have / 2), Line(k, src, b, have / 2)]
            held[src] = F(0)
            held[a] = held.get(a, F(0)) + have / 2
            held[b] = held.get(b, F(0)) + have / 2
        elif roll < 0.69:
            mtype = "inheritance"
            pattern = rnd.choice(heirs)
            takers = [person() for _ in pattern]
            if src in takers or len(set(takers)) < len(takers):
                continue
            lines = []
            held[src] = F(0)
            for h, each in zip(takers, pattern, strict=True):
                lines.append(Line(k, src, h, have * each))
                held[h] = held.get(h, F(0)) + have * each
        elif roll < 0.77:
            if enc[k]:
                continue
            mtype = "mortgage"
            lender, part = person(), have / rnd.choice((1, 2))
            if lender == src:
                continue
            lines = [Line(k, src, lender, part, MWP)]
            enc[k].append((lender, MWP, part))
        elif roll < 0.84:
            if not enc[k]:
                continue
            mtype = "redemption"
            holder, right, part = enc[k].pop()
            lines = [Line(k, holder, src, part, right)]
        elif roll < 0.88:
            if enc[k]:
                continue
            mtype = "lease"
            lessee = person()
            if lessee in held:
                continue
            lines = [Line(k, p, lessee, s, "lease") for p, s in held.items() if s]
            enc[k].append((lessee, "lease", F(1)))
        elif roll < 0.92:
            mtype = "exchange"
            k2 = alive[rnd.randrange(len(alive))]
            if k2 == k or dead[k2] or last[k2] >= day_no:
                continue
            other = rnd.choice(list(own[k2]))
            if other == src:
                continue
            have2 = own[k2][other]
            lines = [Line(k, src, other, have), Line(k2, other, src, have2)]
            held[src] = F(0)
            held[other] = held.get(other, F(0)) + have
            own[k2][other] = F(0)
            own[k2][src] = own[k2].get(src, F(0)) + have2
            own[k2] = {p: s for p, s in own[k2].items() if s}
            last[k2] = day_no
        elif roll < 0.96:
            mtype = "court_decree"
            dst = person()
            if dst == src:
                continue
            lines = [Line(k, src, dst, have)]
            held[src] = F(0)
            held[dst] = held.get(dst, F(0)) + have
        else:
            owners = [(p, s) for p, s in held.items() if s]
            if len(owners) < 2 or enc[k]:
                continue
            mtype = "partition"
            lines = []
            for p, s in owners:
                new = len(own)
                own.append({p: F(1)})
                enc.append([])
                last.append(day_no)
                dead.append(False)
                alive.append(new)
                lines.append(Line(new, None, p, F(1)))
                lines.append(Line(k, p, None, s))
            held.clear()
            dead[k] = True
        own[k] = {p: s for p, s in held.items() if s}
        last[k] = day_no
        mid += 1
        muts.append(ReplayMutation(mid, day, mtype, lines))
    return initial, muts


def naive_rebuild(initial: list[SharePeriod], muts: list[ReplayMutation]) -> int:
    """The peer: Fraction dicts, the total re-added after every mutation. Returns the
    number of periods written."""
    held: dict[int, dict[tuple[int, str], Fraction]] = {}
    opened: dict[tuple[int, int, str], date] = {}
    periods = []
    for p in initial:
        held.setdefault(p.khewat_id, {})[(p.party_id, p.right_type)] = F(p.numerator, p.denominator)
        opened[(p.khewat_id, p.party_id, p.right_type)] = p.valid_from
    for m in muts:
        touched: dict[int, dict[tuple[int, str], Fraction]] = {}
        for line in m.lines:
            h = held.setdefault(line.khewat_id, {})
            before = touched.setdefault(line.khewat_id, dict(h))
            del before  # only the copy's existence matters: the state before the mutation
            if m.type in ("mortgage", "lease"):
                key = (line.transferee, line.right_type)
                h[key] = h.get(key, F(0)) + line.share
                continue
            if line.transferor is not None:
                key = (line.transferor, line.right_type)
                h[key] = max(F(0), h.get(key, F(0)) - line.share)
            if line.transferee is not None and m.type != "redemption":
                key = (line.transferee, line.right_type)
                h[key] = h.get(key, F(0)) + line.share
        for k, before in touched.items():
            h = held[k]
            total = sum((s for (_, r), s in h.items() if r == OWN), F(0))
            if total != 1 and not (m.type == "partition" and total == 0):
                raise AssertionError(f"khewat {k} totals {total} after mutation {m.id}")
            for key in set(before) | set(h):
                if before.get(key, F(0)) != h.get(key, F(0)):
                    if before.get(key):
                        periods.append((k, key, before[key], opened.pop((k, *key)), m.on))
                    if h.get(key):
                        opened[(k, *key)] = m.on
                    else:
                        h.pop(key, None)
    return len(periods) + len(opened)


def subset(
    initial: list[SharePeriod], muts: list[ReplayMutation], every: int
) -> tuple[list[SharePeriod], list[ReplayMutation]]:
    """Every ``every``-th khewat and the lines that touch it; lines elsewhere dropped."""
    keep = [p for p in initial if p.khewat_id % every == 0]
    out = []
    for m in muts:
        lines = [line for line in m.lines if line.khewat_id % every == 0]
        if lines:
            out.append(m._replace(lines=lines))
    return keep, out


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def bench_rebuild(n_khewats: int, n_mutations: int, every: int) -> None:
    t0 = time.perf_counter()
    gc.disable()  # generation allocates millions of objects and no cycle
    initial, muts = generate(n_khewats, n_mutations)
    gc.enable()
    lines = sum(len(m.lines) for m in muts)
    khewats = len(
        {line.khewat_id for m in muts for line in m.lines} | {p.khewat_id for p in initial}
    )
    print(
        f"(a) generated {len(muts):,} sanctioned mutations ({lines:,} lines) over {khewats:,}"
        f" khewats and {len(initial):,} settlement rows in {time.perf_counter() - t0:.1f} s"
        f" (not timed); RSS {_rss_mib():,.0f} MiB"
    )
    t0 = time.perf_counter()
    result = ledger.rebuild(initial, muts)
    took = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  ledger.rebuild, whole district: {took:.2f} s, {len(muts) / took:,.0f} mutations/s,"
        f" {len(result.periods):,} share periods, {len(result.issues)} issues;"
        f" peak RSS {peak:,.0f} MiB"
    )
    assert not result.issues, result.issues[:5]
    s_init, s_muts = subset(initial, muts, every)
    t0 = time.perf_counter()
    ours = ledger.rebuild(s_init, s_muts)
    ours_t = time.perf_counter() - t0
    t0 = time.perf_counter()
    peer_periods = naive_rebuild(s_init, s_muts)
    peer_t = time.perf_counter() - t0
    assert peer_periods == len(ours.periods), (peer_periods, len(ours.periods))
    gc.disable()
    t0 = time.perf_counter()
    naive_rebuild(s_init, s_muts)
    peer_nogc = time.perf_counter() - t0
    gc.enable()
    scale = len(muts) / len(s_muts)
    print(
        f"  subset (every {every}th khewat, {len(s_muts):,} mutations):"
        f" ledger.rebuild {ours_t:.2f} s, naive Fraction replay {peer_t:.2f} s"
        f" ({peer_t / ours_t:.1f}x slower; {peer_nogc:.2f} s with the collector paused),"
        f" same {peer_periods:,} periods"
    )
    print(
        f"  naive replay extrapolated to the district: {peer_t * scale:.1f} s"
        f" (x{scale:.1f}); ledger.rebuild measured: {took:.1f} s"
    )


# --- (b) sanctioning through the database ------------------------------------------------------

DB = "landgov_bench_sanction"
OFFICER = "35202-2000001-1"
USERNAME = "bench.tehsildar"
PASSWORD = "bench sanction password 2024"


def _seed(engine, n_khewats: int, entered: date) -> list[int]:  # type: ignore[no-untyped-def]
    """One mouza of ``n_khewats`` two-owner khewats and one verified sale on each,
    entered on ``entered`` and verified the day after (the owner role writes them)."""
    verified = entered + timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO admin_unit (id, level, name) VALUES (1, 'province', 'Punjab');"
                "INSERT INTO admin_unit (id, level, name, parent_id)"
                " VALUES (2, 'district', 'Sheikhupura', 1), (3, 'tehsil', 'Ferozewala', 2);"
                "INSERT INTO mouza (id, tehsil_id, name, hadbast_number)"
                " VALUES (1, 3, 'Bench', 1);"
                "INSERT INTO officer (id, name, designation, cnic)"
                f" VALUES (1, 'T', 'tehsildar', '{OFFICER}');"
                "INSERT INTO officer_jurisdiction VALUES (1, 3, '2000-01-01', NULL);"
                "INSERT INTO khewat (id, mouza_id, number)"
                f" SELECT g, 1, g FROM generate_series(1, {n_khewats}) g;"
                "INSERT INTO party (id, kind, cnic, name, gender)"
                " SELECT g, 'person', lpad(g::text, 5, '0') || '-0000000-1', 'P' || g, 'male'"
                f" FROM generate_series(1, {3 * n_khewats}) g;"
                "INSERT INTO share (khewat_id, party_id, numerator, denominator, valid_from)"
                " SELECT k, 3 * k - 2, 1, 2, DATE '2002-01-01'"
                f" FROM generate_series(1, {n_khewats}) k"
                " UNION ALL SELECT k, 3 * k - 1, 1, 2, DATE '2002-01-01'"
                f" FROM generate_series(1, {n_khewats}) k;"
                "INSERT INTO mutation (id, mouza_id, number, type, status, entered_on,"
                " verified_on, deed_number, deed_date)"
                f" SELECT k, 1, k, 'sale', 'verified', DATE '{entered}', DATE '{verified}',"
                f" 'D-' || k, DATE '{entered}' FROM generate_series(1, {n_khewats}) k;"
                "INSERT INTO mutation_line (mutation_id, line_no, khewat_id,"
                " transferor_party_id, transferee_party_id, numerator, denominator)"
                f" SELECT k, 1, k, 3 * k - 2, 3 * k, 1, 2 FROM generate_series(1, {n_khewats}) k;"
                f"SELECT setval('mutation_id_seq', {n_khewats});"
                f"SELECT setval('party_id_seq', {3 * n_khewats});"
            )
        )
    return list(range(1, n_khewats + 1))


def _sign_in(owner, app):  # type: ignore[no-untyped-def]
    """The tehsildar's account (made with the owner's credentials, as an administrator
    would), signed in with password and a TOTP code."""
    from landgov.domain import totp
    from landgov.security import login
    from landgov.security.accounts import create_person, new_totp_secret

    secret = new_totp_secret()
    with owner.begin() as conn:
        create_person(conn, username=USERNAME, full_name="T", officer_cnic=OFFICER,
                      password=PASSWORD, totp_secret=secret)  # fmt: skip
    now = time.time()
    return login(app, USERNAME, PASSWORD, totp.totp(secret, now), channel="cli", now=now)


def bench_sanction(n: int) -> None:
    from overlaps import scratch_database

    from landgov.records.mutations import sanction

    settings = load_settings()
    if settings.uses_private_cluster:
        cluster.up(settings)
    with scratch_database(DB) as owner:
        with owner.connect() as conn:
            today = conn.execute(text("SELECT current_date")).scalar_one()
        ids = _seed(owner, 2 * n, today - timedelta(days=2))
        app = get_engine(settings, DB)  # the application role: row-level security applies
        actor = _sign_in(owner, app)
        engine = create_engine(app.url.render_as_string(hide_password=False), pool_size=4)
        on = today
        single, multi = ids[:n], ids[n:]
        warm = min(20, len(single) // 2)
        for mid in single[:warm]:  # warm up: connection, statement caches
            sanction(engine, mid, actor=actor, on=on)
        t0 = time.perf_counter()
        for mid in single[warm:]:
            sanction(engine, mid, actor=actor, on=on)
        one = time.perf_counter() - t0
        done_one = len(single) - warm
        print(f"(b) sanction through the database, {done_one:,} mutations on 1 connection:"
              f" {one:.2f} s, {done_one / one:,.0f} mutations/s")  # fmt: skip
        chunks = [multi[i::4] for i in range(4)]
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def worker(chunk: list[int]) -> None:
            barrier.wait()
            try:
                for mid in chunk:
                    sanction(engine, mid, actor=actor, on=on)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        four = time.perf_counter() - t0
        assert not errors, errors[:3]
        print(f"  {len(multi):,} mutations from 4 threads, one connection each (distinct"
              f" khewats): {four:.2f} s, {len(multi) / four:,.0f} mutations/s")  # fmt: skip
        with engine.connect() as conn:
            done = conn.execute(
                text("SELECT count(*) FROM mutation WHERE status = 'sanctioned'")
            ).scalar_one()
            audited = conn.execute(
                text("SELECT count(*) FROM audit_log WHERE action = 'mutation.sanction'"
                     " AND actor = :a"),
                {"a": actor.label},
            ).scalar_one()  # fmt: skip
        assert done == audited == 2 * n, (done, audited)
        engine.dispose()
        app.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutations", type=int, default=1_000_000)
    parser.add_argument("--khewats", type=int, default=200_000)
    parser.add_argument("--subset", type=int, default=10)
    parser.add_argument("--sanctions", type=int, default=2_000)
    parser.add_argument("--skip-db", action="store_true")
    args = parser.parse_args()
    bench_rebuild(args.khewats, args.mutations, args.subset)
    if not args.skip_db:
        bench_sanction(args.sanctions)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the whole run: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
