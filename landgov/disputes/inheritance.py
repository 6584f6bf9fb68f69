"""Rules over inheritance and gifts, checked against the family (domain.md §6.4, §6.5).

A wirasat mutation names the heirs the patwari chose to name, so it cannot reveal an heir
it leaves out. These rules read the deceased's family from ``party_relation`` (NADRA's
family registration certificate) as it stood on the date of death, compute each person's
faraid share with :mod:`landgov.domain.succession`, and compare with what the mutation
gave. A deceased with no family on file, or with no descendant (siblings would inherit,
whom an FRC does not list), is not checked: the rule says nothing rather than guess.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, cast

from sqlalchemy import Connection, text

from landgov.disputes.rules import Finding, rule
from landgov.domain.faraid import School
from landgov.domain.succession import (
    Child,
    Family,
    Gender,
    NeedsWiderFamily,
    compare_to_record,
    shares_by_person,
)
from landgov.errors import InvalidHeirs


@dataclass(frozen=True)
class _Person:
    id: int
    name: str
    cnic: str | None
    gender: str | None
    born: date | None
    died: date | None

    def alive_on(self, day: date) -> bool:
        return (self.born is None or self.born <= day) and (self.died is None or self.died > day)

    def label(self) -> str:
        return f"{self.name} ({self.cnic})" if self.cnic else self.name


class _Genealogy:
    """The FRC links around a set of deceased persons, read in three queries."""

    def __init__(self, conn: Connection, deceased: list[int]) -> None:
        self.children: dict[int, list[int]] = defaultdict(list)
        self.parents: dict[int, list[int]] = defaultdict(list)
        self.spouses: dict[int, list[int]] = defaultdict(list)
        rows = conn.execute(
            text(
                "SELECT party_id, relative_id, relation FROM party_relation"
                " WHERE party_id = ANY(:d) OR (relative_id = ANY(:d) AND relation = 'child')"
                " OR party_id IN (SELECT relative_id FROM party_relation"
                "  WHERE party_id = ANY(:d) AND relation = 'child')"
                " ORDER BY party_id, relative_id"
            ),
            {"d": deceased},
        ).all()
        for r in rows:
            if r.relation == "child":
                self.children[int(r.party_id)].append(int(r.relative_id))
                self.parents[int(r.relative_id)].append(int(r.party_id))
            else:
                self.spouses[int(r.party_id)].append(int(r.relative_id))
        ids = set(deceased) | {int(r.party_id) for r in rows} | {int(r.relative_id) for r in rows}
        self.people = {
            int(p.id): _Person(int(p.id), p.name, p.cnic, p.gender, p.date_of_birth,
                               p.date_of_death)
            for p in conn.execute(
                text("SELECT id, name, cnic, gender, date_of_birth, date_of_death FROM party"
                     " WHERE id = ANY(:i)"), {"i": sorted(ids)})
        }  # fmt: skip

    def known(self, pid: int) -> bool:
        return pid in self.children or pid in self.spouses or pid in self.parents

    def family(self, pid: int, school: School) -> Family:
        me = self.people[pid]
        assert me.died is not None
        on = me.died
        children: list[Child] = []
        for cid in sorted(self.children.get(pid, []), key=self._birth_order):
            c = self.people[cid]
            if c.born is not None and c.born > on:
                continue
            if c.alive_on(on):
                children.append(Child(cid, _gender(c), True))
            else:
                grandchildren = tuple(
                    (g, _gender(self.people[g]))
                    for g in sorted(self.children.get(cid, []), key=self._birth_order)
                    if self.people[g].alive_on(on)
                )
                children.append(Child(cid, _gender(c), False, grandchildren))
        spouses = tuple(s for s in self.spouses.get(pid, []) if self.people[s].alive_on(on))
        father = mother = None
        for par in self.parents.get(pid, []):
            if self.people[par].alive_on(on):
                if self.people[par].gender == "male":
                    father = par
                else:
                    mother = par
        return Family(_gender(me), tuple(children), spouses, father, mother, school)

    def _birth_order(self, pid: int) -> tuple[date, int]:
        return (self.people[pid].born or date.min, pid)


def _gender(p: _Person) -> Gender:
    return cast(Gender, p.gender or "male")


def _fmt(f: Fraction) -> str:
    return f"{f.numerator}/{f.denominator}"


@rule("faraid_shares_differ")
@rule("omitted_heir")
def inheritance_against_family(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.5: a sanctioned wirasat that leaves out an heir (``omitted_heir``) or divides the
    estate in other fractions than faraid (``faraid_shares_differ``).

    The estate in each khewat is what the mutation moved out of the deceased's name there;
    each heir's recorded fraction is his or her lines over that. An omission is reported as
    such (it also changes everyone else's fraction, which is not a second finding).
    """
    default_school = School(str(thresholds.get("school", "hanafi")))
    rows = conn.execute(
        text(
            "SELECT m.id, m.mouza_id, m.number, m.decided_on, l.khewat_id,"
            " l.transferor_party_id AS deceased, l.transferee_party_id AS heir,"
            " l.numerator, l.denominator, mi.school"
            " FROM mutation m JOIN mutation_line l ON l.mutation_id = m.id"
            " LEFT JOIN mutation_inheritance mi ON mi.mutation_id = m.id"
            " WHERE m.mouza_id = ANY(:m) AND m.type = 'inheritance' AND m.status = 'sanctioned'"
            " AND l.right_type = 'ownership' AND l.transferor_party_id IS NOT NULL"
            " AND l.transferee_party_id IS NOT NULL AND m.decided_on >= :since"
            " ORDER BY m.id, l.line_no"
        ),
        {"m": mouza_ids, "since": since or date(1900, 1, 1)},
    ).all()
    # (mutation, deceased) -> khewat -> heir -> moved
    moved: dict[tuple[int, int], dict[int, dict[int, Fraction]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(Fraction))
    )
    meta: dict[int, Any] = {}
    for r in rows:
        moved[(int(r.id), int(r.deceased))][int(r.khewat_id)][int(r.heir)] += Fraction(
            r.numerator, r.denominator
        )
        meta[int(r.id)] = r
    family = _Genealogy(conn, sorted({d for _, d in moved}))
    out: list[Finding] = []
    for (mid, deceased), by_khewat in moved.items():
        person = family.people.get(deceased)
        if person is None or person.died is None or not family.known(deceased):
            continue
        m = meta[mid]
        school = School(m.school) if m.school else default_school
        try:
            expected = shares_by_person(family.family(deceased, school))
        except (NeedsWiderFamily, InvalidHeirs):
            continue
        omitted: set[int] = set()
        strangers: set[int] = set()
        different: dict[int, tuple[Fraction, Fraction]] = {}
        recorded_any: dict[int, Fraction] = {}
        for heirs in by_khewat.values():
            estate = sum(heirs.values(), Fraction(0))
            recorded = [(h, v / estate) for h, v in heirs.items()]
            recorded_any = dict(recorded)
            o, s, d = compare_to_record(expected, recorded)
            omitted |= set(o)
            strangers |= set(s)
            different.update({p: (want, got) for p, want, got in d})
        if not (omitted or strangers or different):
            continue
        want = dict(expected)
        evidence: dict[str, Any] = {
            "mutation_no": m.number, "deceased": person.label(), "deceased_party_id": deceased,
            "died_on": person.died.isoformat(), "school": school.value,
            "expected": {family.people[p].label(): _fmt(f) for p, f in expected},
            "recorded": {family.people[p].label() if p in family.people else str(p): _fmt(f)
                         for p, f in recorded_any.items()},
        }  # fmt: skip
        if omitted:
            left_out = [family.people[p] for p in sorted(omitted)]
            evidence["omitted"] = [
                {"party_id": p.id, "heir": p.label(), "gender": p.gender,
                 "faraid_share": _fmt(want[p.id])} for p in left_out
            ]  # fmt: skip
            evidence["female_heir_omitted"] = any(p.gender == "female" for p in left_out)
            out.append(Finding(
                rule="omitted_heir", mouza_id=int(m.mouza_id), mutation_id=mid,
                measure=float(sum(want[p] for p in omitted)), threshold=0.0,
                evidence=evidence, key=f"mutation:{mid}:{deceased}",
            ))  # fmt: skip
        else:
            evidence["differences"] = [
                {"heir": family.people[p].label(), "faraid": _fmt(w), "recorded": _fmt(g)}
                for p, (w, g) in sorted(different.items())
            ] + [{"heir": str(p), "faraid": "0", "recorded": "?"} for p in sorted(strangers)]
            out.append(Finding(
                rule="faraid_shares_differ", mouza_id=int(m.mouza_id), mutation_id=mid,
                measure=float(max((abs(w - g) for w, g in different.values()), default=1)),
                threshold=0.0, evidence=evidence, key=f"mutation:{mid}:{deceased}",
            ))  # fmt: skip
    return out


@rule("gift_before_death")
def gift_before_death(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.4: a gift (hiba) sanctioned within ``window_days`` before the donor's death, by a
    donor aged at least ``min_age``, that gives nothing to a daughter who survived him or
    her (a daughter's inheritance is defeated by emptying the estate first).

    ``window_days`` and ``min_age`` are the outer ends of the rule's grade ramps
    (``dispute_rule.grade``: the older the donor and the nearer the death, the higher),
    not cliffs: a donor of 69.9 is weighed a little less than one of 70, not ignored."""
    window = int(thresholds.get("window_days", 730))
    min_age = float(thresholds.get("min_age", 50))
    rows = conn.execute(
        text(
            "SELECT m.id, m.mouza_id, m.number, m.decided_on, l.transferor_party_id AS donor,"
            " array_agg(DISTINCT l.transferee_party_id) AS donees,"
            " p.date_of_birth, p.date_of_death"
            " FROM mutation m JOIN mutation_line l ON l.mutation_id = m.id"
            " JOIN party p ON p.id = l.transferor_party_id"
            " WHERE m.mouza_id = ANY(:m) AND m.type = 'gift' AND m.status = 'sanctioned'"
            " AND p.date_of_death IS NOT NULL AND p.date_of_birth IS NOT NULL"
            " AND m.decided_on <= p.date_of_death AND p.date_of_death - m.decided_on <= :w"
            " AND m.decided_on >= :since"
            " GROUP BY m.id, l.transferor_party_id, p.date_of_birth, p.date_of_death"
            " ORDER BY m.id"
        ),
        {"m": mouza_ids, "w": window, "since": since or date(1900, 1, 1)},
    ).all()
    family = _Genealogy(conn, sorted({int(r.donor) for r in rows}))
    out: list[Finding] = []
    for r in rows:
        age = (r.decided_on - r.date_of_birth).days / 365.25
        if age < min_age:
            continue
        donees = {int(d) for d in r.donees if d is not None}
        died = r.date_of_death
        daughters = [
            family.people[c] for c in family.children.get(int(r.donor), [])
            if family.people[c].gender == "female" and family.people[c].alive_on(died)
            and c not in donees
        ]  # fmt: skip
        if not daughters:
            continue
        donor = family.people[int(r.donor)]
        out.append(Finding(
            rule="gift_before_death", mouza_id=int(r.mouza_id), mutation_id=int(r.id),
            measure=float((died - r.decided_on).days), threshold=float(window),
            evidence={"mutation_no": r.number, "donor": donor.label(),
                      "age_at_gift": round(age, 2), "sanctioned_on": r.decided_on.isoformat(),
                      "days_before_death": (died - r.decided_on).days,
                      "died_on": died.isoformat(),
                      "donees": [family.people[d].label() if d in family.people else str(d)
                                 for d in sorted(donees)],
                      "daughters_left_out": [d.label() for d in daughters]},
            key=f"mutation:{r.id}:{r.donor}",
        ))  # fmt: skip
    return out
