"""Graded signals: how strongly a flag's evidence points, as a number in (0, 1].

Why grades: a rule that fires at a donor's 70th birthday and is silent at 69.9 is a cliff
an adversary steps around. Instead each graded rule states, in its ``dispute_rule.grade``
row, piecewise-linear ramps over named pieces of its evidence::

    {"factors": [{"evidence": "age_at_gift", "points": [[50, 0], [70, 1]]},
                 {"evidence": "days_before_death", "points": [[30, 1], [730, 0]]}],
     "source": "why these points"}

A flag's grade is the product of its factors' ramps, each read at the evidence value
(clamped to the ends of its ramp). Every ramp must be monotone (checked), so the grade is
monotone in each piece of evidence: more suspicious evidence never lowers it. A finding
whose grade is 0 is outside every ramp and is not a flag; any grade above 0 is, and its
risk points are weight × severity factor × grade (:mod:`landgov.disputes.scan`). A rule
without factors grades every flag 1: its evidence is a fact (a sale after death is one).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from landgov.errors import LandgovError


class GradeSpecInvalid(LandgovError, ValueError):
    """A ``dispute_rule.grade`` that is not a list of monotone ramps over evidence."""


def ramp(x: float, points: Sequence[Sequence[float]]) -> float:
    """Piecewise-linear interpolation of ``points`` ``[(x0, g0), (x1, g1), ...]`` at ``x``
    (x ascending), constant beyond the ends."""
    xs = [float(p[0]) for p in points]
    gs = [float(p[1]) for p in points]
    if x <= xs[0]:
        return gs[0]
    for (x0, g0), (x1, g1) in zip(zip(xs, gs, strict=True), zip(xs[1:], gs[1:], strict=True),
                                  strict=False):  # fmt: skip
        if x <= x1:
            return g0 + (g1 - g0) * (x - x0) / (x1 - x0)
    return gs[-1]


def check_spec(spec: Mapping[str, Any]) -> None:
    """Raises :class:`GradeSpecInvalid` unless every factor names its evidence and has at
    least two points, x strictly ascending, grades in [0, 1] and monotone."""
    for f in spec.get("factors", []):
        name = f.get("evidence")
        pts = f.get("points")
        if not isinstance(name, str) or not name:
            raise GradeSpecInvalid(f"a factor without its evidence name: {f!r}")
        if not isinstance(pts, list) or len(pts) < 2:
            raise GradeSpecInvalid(f"{name}: a ramp needs at least two points")
        xs = [float(p[0]) for p in pts]
        gs = [float(p[1]) for p in pts]
        if any(b <= a for a, b in itertools.pairwise(xs)):
            raise GradeSpecInvalid(f"{name}: the points' x must ascend strictly")
        if any(not 0 <= g <= 1 for g in gs):
            raise GradeSpecInvalid(f"{name}: grades must lie in [0, 1]")
        up = all(b >= a for a, b in itertools.pairwise(gs))
        down = all(b <= a for a, b in itertools.pairwise(gs))
        if not (up or down):
            raise GradeSpecInvalid(f"{name}: the ramp must be monotone")


def grade(spec: Mapping[str, Any], evidence: Mapping[str, Any]) -> float:
    """The product of the spec's ramps at the finding's evidence values.

    A factor whose evidence the finding lacks (None or absent) counts 1: the rule had no
    such measurement for this flag, which is not a reason to weigh it less.
    """
    g = 1.0
    for f in spec.get("factors", []):
        value = evidence.get(f["evidence"])
        if value is None:
            continue
        g *= ramp(float(value), f["points"])
    return max(0.0, min(1.0, g))
