"""Concurrent sanctions over real connections: exactly one of two conflicting sanctions
wins, and hundreds of randomized concurrent sanctions neither lose nor duplicate a share.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from fractions import Fraction

import pytest
from records_support import (
    ALI,
    BILAL,
    CHAND,
    GUL,
    HINA,
    MOUZA,
    NAIB,
    PERSONS,
    TEHSILDAR,
    World,
    build,
    draft,
    entered_and_verified,
    officer,
    open_shares,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from landgov.errors import SanctionConflict, SanctionRefused
from landgov.records import mutations as mut
from landgov.security import Actor

ON = date(2024, 2, 1)
OWN = "ownership"
THREADS = 8


def test_two_officers_at_the_same_moment_one_wins_one_conflicts(world: World) -> None:
    """Both sell Ali's whole 1/2 of khewat 1. The first sanction is held open inside its
    transaction (the ``hold`` hook) while the second runs: the second hits the lock and
    gets a conflict, writing nothing. Run again after the first committed, it is refused
    because Ali no longer holds the share."""
    e, p = world.engine, world.party
    tehsildar, naib = officer(e, TEHSILDAR), officer(e, NAIB)
    first = entered_and_verified(e, draft("sale", [(1, ALI, GUL, "1/2")]))
    second = entered_and_verified(e, draft("sale", [(1, ALI, HINA, "1/2")]))
    locked, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def hold() -> None:
        locked.set()
        assert release.wait(30)

    def officer_one() -> None:
        try:
            outcome["one"] = mut.sanction(e, first, actor=tehsildar, on=ON, hold=hold)
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            outcome["one"] = exc

    thread = threading.Thread(target=officer_one)
    thread.start()
    try:
        assert locked.wait(30)
        with pytest.raises(SanctionConflict, match="khewat 1 is being changed by another"):
            mut.sanction(e, second, actor=naib, on=ON)
    finally:
        release.set()
        thread.join(30)
    assert isinstance(outcome["one"], mut.SanctionResult)
    with e.connect() as conn:
        status = conn.execute(text("SELECT status FROM mutation WHERE id = :m"), {"m": second})
        assert status.scalar() == "verified"  # the conflict wrote nothing
    with pytest.raises(SanctionRefused) as info:
        mut.sanction(e, second, actor=naib, on=date(2024, 2, 2))
    assert info.value.rule == "transferor_holds_share"
    assert open_shares(e, world.khewat[1]) == {
        (p[GUL], OWN): Fraction(1, 2),
        (p[BILAL], OWN): Fraction(1, 4),
        (p[CHAND], OWN): Fraction(1, 4),
    }


def test_the_same_mutation_sanctioned_twice_at_once(world: World) -> None:
    e = world.engine
    tehsildar, naib = officer(e, TEHSILDAR), officer(e, NAIB)
    mid = entered_and_verified(e, draft("sale", [(1, ALI, GUL, "1/2")]))
    locked, release = threading.Event(), threading.Event()
    done: list[object] = []

    def hold() -> None:
        locked.set()
        release.wait(30)

    thread = threading.Thread(
        target=lambda: done.append(mut.sanction(e, mid, actor=tehsildar, on=ON, hold=hold))
    )
    thread.start()
    try:
        assert locked.wait(30)
        with pytest.raises(SanctionConflict, match="being decided by another officer"):
            mut.sanction(e, mid, actor=naib, on=ON)
    finally:
        release.set()
        thread.join(30)
    assert len(done) == 1


def test_racing_officers_with_a_barrier_exactly_one_wins(world: World) -> None:
    """No hook: two threads released together, ten times, each selling the current
    holder's whole 1/2 of khewat 1 to a different buyer. Whichever order the database
    sees, exactly one succeeds; the other is a conflict (it came while the winner held
    the lock) or refused (it came after: same date, or the share is gone)."""
    e = world.engine
    sanctioning = (officer(e, TEHSILDAR), officer(e, NAIB))
    holder = ALI
    outcomes: Counter[str] = Counter()
    day = ON
    for _ in range(10):
        buyers = [b for b in (ALI, GUL, HINA) if b != holder]
        entered = day - timedelta(days=5)
        ids = [
            entered_and_verified(
                e, draft("sale", [(1, holder, b, "1/2")], entered=entered),
                verified=entered + timedelta(days=1),
            )
            for b in buyers
        ]  # fmt: skip
        barrier = threading.Barrier(2)
        results: dict[int, object] = {}

        def run(
            mid: int,
            actor: Actor,
            on: date = day,
            barrier: threading.Barrier = barrier,
            results: dict[int, object] = results,
        ) -> None:
            barrier.wait()
            try:
                results[mid] = mut.sanction(e, mid, actor=actor, on=on)
            except (SanctionConflict, SanctionRefused) as exc:
                results[mid] = exc

        threads = [
            threading.Thread(target=run, args=(mid, actor))
            for mid, actor in zip(ids, sanctioning, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        won = [mid for mid, r in results.items() if isinstance(r, mut.SanctionResult)]
        assert len(won) == 1, results
        (loser,) = (r for mid, r in results.items() if mid not in won)
        if isinstance(loser, SanctionConflict):
            outcomes["conflict"] += 1
        else:
            assert isinstance(loser, SanctionRefused)
            assert loser.rule in ("sanction_date_order", "transferor_holds_share")
            outcomes[loser.rule] += 1
        holder = buyers[ids.index(won[0])]
        held = open_shares(e, world.khewat[1])
        assert held[(world.party[holder], OWN)] == Fraction(1, 2)
        assert sum(v for (_, r), v in held.items() if r == OWN) == 1
        day += timedelta(days=10)
    assert sum(outcomes.values()) == 10


# --- hundreds of randomized concurrent sanctions ---------------------------------------------

POOL = [c for c, (_, _, died) in PERSONS.items() if died is None]
N_KHEWATS = 20
N_MUTATIONS = 300
COMPOSITIONS = [
    [Fraction(1, 4)] * 4,
    [Fraction(1, 2), Fraction(1, 6), Fraction(1, 6), Fraction(1, 6)],
    [Fraction(3, 8), Fraction(3, 8), Fraction(1, 8), Fraction(1, 8)],
    [Fraction(2, 5), Fraction(3, 10), Fraction(1, 5), Fraction(1, 10)],
    [Fraction(7, 24), Fraction(7, 24), Fraction(1, 3), Fraction(1, 12)],
]


@pytest.fixture
def pooled(engine: Engine) -> Iterator[Engine]:
    """A second engine on the test database with a pool of at least THREADS connections."""
    url = engine.url.render_as_string(hide_password=False)
    eng = create_engine(url, pool_size=THREADS, max_overflow=4, future=True)
    yield eng
    eng.dispose()


def _khewats(rnd: random.Random) -> dict[int, dict[str, Fraction]]:
    out = {}
    for n in range(1, N_KHEWATS + 1):
        owners = rnd.sample(POOL, 4)
        shares = rnd.choice(COMPOSITIONS)
        out[n] = dict(zip(owners, shares, strict=True))
    return out


def _random_mutations(
    rnd: random.Random, khewats: dict[int, dict[str, Fraction]]
) -> list[tuple[str, list[tuple[int, str, str, Fraction]]]]:
    """Mutations drawn against the settlement's holdings, so many of them conflict: the
    same seller's share is sold several times, exchanges overlap sales."""
    hot = list(range(1, 7))  # most mutations fall on six khewats, to make collisions likely
    out: list[tuple[str, list[tuple[int, str, str, Fraction]]]] = []
    for _ in range(N_MUTATIONS):
        k = rnd.choice(hot) if rnd.random() < 0.7 else rnd.randrange(1, N_KHEWATS + 1)
        seller, held = rnd.choice(sorted(khewats[k].items()))
        roll = rnd.random()
        if roll < 0.15:
            k2 = rnd.choice([x for x in range(1, N_KHEWATS + 1) if x != k])
            other, held2 = rnd.choice(sorted(khewats[k2].items()))
            if other == seller:
                continue
            out.append(("exchange", [(k, seller, other, held), (k2, other, seller, held2)]))
            continue
        buyers = [b for b in POOL if b != seller]
        part = held if rnd.random() < 0.5 else held * rnd.choice([Fraction(1, 2), Fraction(1, 3)])
        if rnd.random() < 0.2:  # two buyers
            b1, b2 = rnd.sample(buyers, 2)
            lines = [(k, seller, b1, part / 2), (k, seller, b2, part / 2)]
        else:
            lines = [(k, seller, rnd.choice(buyers), part)]
        out.append(("gift" if roll > 0.85 else "sale", lines))
    return out


def _independent_replay(engine: Engine) -> dict[int, dict[tuple[int, str], Fraction]]:
    """Open holdings recomputed from the settlement and the sanctioned mutations' lines,
    with plain Fraction dictionaries (not the ledger), in sanction order."""
    with engine.connect() as conn:
        held: dict[int, dict[tuple[int, str], Fraction]] = {}
        for k, p, r, n, d in conn.execute(
            text(
                "SELECT khewat_id, party_id, right_type, numerator, denominator FROM share"
                " WHERE created_by_mutation_id IS NULL"
            )
        ):
            held.setdefault(k, {})[(p, r)] = held.get(k, {}).get((p, r), Fraction(0)) + Fraction(
                n, d
            )
        lines = conn.execute(
            text(
                "SELECT l.khewat_id, l.transferor_party_id, l.transferee_party_id, l.numerator,"
                " l.denominator, l.right_type FROM mutation_line l"
                " JOIN mutation m ON m.id = l.mutation_id WHERE m.status = 'sanctioned'"
                " ORDER BY m.decided_on, m.id, l.line_no"
            )
        ).all()
    for k, src, dst, n, d, r in lines:
        h = held.setdefault(k, {})
        share = Fraction(n, d)
        h[(src, r)] = h.get((src, r), Fraction(0)) - share
        assert h[(src, r)] >= 0, "a sanctioned line transferred more than was held"
        h[(dst, r)] = h.get((dst, r), Fraction(0)) + share
    return {k: {key: v for key, v in h.items() if v} for k, h in held.items()}


def test_hundreds_of_random_concurrent_sanctions_keep_every_khewat_whole(
    engine: Engine, pooled: Engine
) -> None:
    rnd = random.Random(20240201)
    khewats = _khewats(rnd)
    world = build(engine, khewats=khewats)
    entered = date(2023, 1, 10)
    ids: list[int] = []
    for mtype, lines in _random_mutations(rnd, khewats):
        d = draft(mtype, lines, entered=entered)  # type: ignore[arg-type]
        ids.append(entered_and_verified(engine, d, verified=date(2023, 1, 12)))
    assert len(ids) >= 250

    lines_of: dict[int, set[int]] = {}
    with engine.connect() as conn:
        for mid, k in conn.execute(text("SELECT mutation_id, khewat_id FROM mutation_line")):
            lines_of.setdefault(int(mid), set()).add(int(k))
    pending = list(ids)
    rnd.shuffle(pending)
    attempts: dict[int, int] = Counter()
    outcomes: Counter[str] = Counter()
    conflicted: set[int] = set()
    succeeded: list[tuple[int, mut.SanctionResult]] = []
    officers = [officer(engine, TEHSILDAR), officer(engine, NAIB)]
    day = date(2023, 2, 1)
    wave = 0
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        while pending:
            # a wave of up to 8, most of them on one or two khewats, released together
            focus = lines_of[pending[0]]
            batch = [m for m in pending if lines_of[m] & focus][: THREADS // 2]
            batch += [m for m in pending if m not in batch][: THREADS - len(batch)]
            for m in batch:
                pending.remove(m)
            barrier = threading.Barrier(len(batch))

            def run(
                mid: int, actor: Actor, on: date, barrier: threading.Barrier = barrier
            ) -> tuple[int, object]:
                barrier.wait()
                try:
                    return mid, mut.sanction(pooled, mid, actor=actor, on=on)
                except (SanctionConflict, SanctionRefused) as exc:
                    return mid, exc

            futures = [pool.submit(run, m, officers[i % 2], day) for i, m in enumerate(batch)]
            for future in futures:
                mid, result = future.result(timeout=120)
                attempts[mid] += 1
                if isinstance(result, mut.SanctionResult):
                    outcomes["sanctioned"] += 1
                    succeeded.append((mid, result))
                elif isinstance(result, SanctionConflict):
                    outcomes["conflict"] += 1
                    conflicted.add(mid)
                    if attempts[mid] < 3:  # an officer tries again in a later wave
                        pending.insert(rnd.randrange(len(pending) + 1), mid)
                else:
                    assert isinstance(result, SanctionRefused)
                    outcomes[f"refused:{result.rule}"] += 1
            wave += 1
            day += timedelta(days=1)
    print(f"\n{len(ids)} mutations, {sum(attempts.values())} sanctions in {wave} waves: "
          f"{dict(sorted(outcomes.items()))}")  # fmt: skip

    assert outcomes["conflict"] > 0
    assert outcomes["sanctioned"] > 20
    assert any(k.startswith("refused:transferor_holds_share") for k in outcomes)
    sanctioned_ids = {mid for mid, _ in succeeded}
    assert len(sanctioned_ids) == len(succeeded)  # none twice

    with engine.connect() as conn:
        # 1. every khewat's open ownership totals exactly 1
        for kid in world.khewat.values():
            held = open_shares(engine, kid)
            assert sum(v for (_, r), v in held.items() if r == OWN) == 1, kid
        # 2. the database agrees with the outcomes: what succeeded is sanctioned, with one
        #    audit row; everything else (conflicts included) wrote nothing
        status = dict(conn.execute(text("SELECT id, status FROM mutation")).all())
        assert {m for m, s in status.items() if s == "sanctioned"} == sanctioned_ids
        assert all(status[m] == "verified" for m in set(ids) - sanctioned_ids)
        audited = Counter(
            int(eid)
            for (eid,) in conn.execute(
                text("SELECT entity_id FROM audit_log WHERE action = 'mutation.sanction'")
            )
        )
        assert audited == Counter(sanctioned_ids)
        created = Counter(
            int(m)
            for (m,) in conn.execute(
                text("SELECT created_by_mutation_id FROM share WHERE created_by_mutation_id"
                     " IS NOT NULL")
            )
        )  # fmt: skip
        ended = Counter(
            int(m)
            for (m,) in conn.execute(
                text(
                    "SELECT ended_by_mutation_id FROM share WHERE ended_by_mutation_id IS NOT NULL"
                )
            )
        )
        assert set(created) <= sanctioned_ids and set(ended) <= sanctioned_ids
        for mid, result in succeeded:
            assert (created[mid], ended[mid]) == (result.opened, result.closed)
        # 3. no two rows of one party, khewat and right overlap in time
        overlaps = conn.execute(
            text(
                "SELECT count(*) FROM share a JOIN share b ON a.khewat_id = b.khewat_id"
                " AND a.party_id = b.party_id AND a.right_type = b.right_type AND a.id < b.id"
                " AND daterange(a.valid_from, a.valid_to) && daterange(b.valid_from, b.valid_to)"
            )
        ).scalar_one()
        assert overlaps == 0
    # 4. nothing lost or duplicated: replaying the sanctioned mutations in sanction order
    #    from the settlement gives exactly the stored open shares (plain Fractions here,
    #    and the ledger's replay of every period below)
    replayed = _independent_replay(engine)
    for kid in world.khewat.values():
        assert replayed.get(kid, {}) == open_shares(engine, kid), kid
    report = mut.replay_mouza(engine, MOUZA)
    assert report.equal, report.differences
    assert report.issues == []
    assert report.mutations == len(sanctioned_ids)
