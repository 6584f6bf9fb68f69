"""Islamic inheritance (faraid): the exact share of each heir of a Muslim (domain.md §5).

Every share is a :class:`fractions.Fraction` of the whole estate; floats are never used,
so the shares of those who inherit always total exactly 1 (the same rule as a khewat,
domain.md §2). The result feeds an inheritance mutation (wirasat): each heir's share of
the deceased's share in every khewat.

Sources
    * Hanafi (the default): al-Sirajiyyah of Siraj al-Din al-Sajawandi, in Rumsey's
      translation, as summarised in Mulla, *Principles of Mahomedan Law*, and Fyzee,
      *Outlines of Muhammadan Law* (Hanafi chapters).
    * Jafari (Ithna 'Ashari): al-Muhaqqiq al-Hilli, *Shara'i' al-Islam*, and the
      inheritance chapters of the current manuals of practice (e.g. al-Sistani, *Islamic
      Laws*), as summarised by Fyzee (Ithna 'Ashari chapters).
    * Muslim Family Laws Ordinance 1961 (MFLO), s.4: the children of a son or daughter
      who died before the propositus take, per stirpes, the share their parent would have
      taken if alive when the succession opened.

Hanafi rules implemented
    Fixed-share heirs (ashab al-furud): husband 1/2 (1/4 with a descendant); wives 1/4
    (1/8 with a descendant), shared; daughters 1/2 or 2/3 when there is no son; son's
    daughters likewise when there is no child, and 1/6 with one daughter (completing
    2/3); mother 1/6 with a descendant or two or more siblings, 1/3 otherwise, and 1/3 of
    what remains after the spouse in the two 'umariyyatan cases (spouse and both parents,
    no descendant, fewer than two siblings); father 1/6 with a descendant, plus the
    residue when the descendants are all female, and residuary otherwise; paternal
    grandfather the same when there is no father (Abu Hanifa: he excludes every sibling;
    with him the mother keeps 1/3 of the whole, 'umariyyatan being a rule of the father);
    grandmothers 1/6, shared (the maternal one excluded by the mother, the paternal one by
    the mother or the father); uterine siblings 1/6 for one, 1/3 shared equally by two or
    more (excluded by any descendant, the father and the grandfather); full sisters 1/2 or
    2/3 when there is no full brother; consanguine sisters likewise, and 1/6 with one
    full sister. Residuaries ('asaba), the first present taking the residue: sons (with
    daughters, 2:1), son's sons (with son's daughters, 2:1), father, grandfather, full
    brothers (with full sisters, 2:1), full sisters with daughters ('asaba ma'a
    al-ghayr), consanguine brothers (with consanguine sisters, 2:1), consanguine sisters
    with daughters, full brother's sons, full paternal uncles. Exclusion (hajb) follows
    from that order; siblings who are themselves excluded still reduce the mother to 1/6
    (the majority view). 'Awl: fixed shares above the whole are all scaled down in
    proportion. Radd: a surplus with no residuary returns to the fixed-share heirs other
    than the spouses, in proportion to their shares, after the spouse takes the spouse's
    share. Mushtaraka (husband, mother, two or more uterine siblings, full brother): the
    Hanafi answer is followed, so the full brother gets nothing.

Jafari rules implemented
    Three classes, a higher one excluding the lower: class 1 parents and descendants,
    class 2 grandparents and siblings (and, with no sibling, a full brother's sons),
    class 3 uncles (here the full paternal uncle). Spouses inherit with every class:
    husband 1/2 (1/4 with a descendant), wife 1/4 (1/8). No 'asaba and no 'awl: a
    shortfall falls on the daughters or sisters, never on a spouse or a parent; a surplus
    returns (radd) to the blood relatives in proportion to their shares, never to a wife.
    Class 1: each parent 1/6 with a descendant; sons and daughters (2:1) take the rest;
    daughters alone 1/2 or 2/3, with radd to daughters and parents. Without a descendant
    the mother takes 1/3 of the whole (no 'umariyyatan), or 1/6 when the father is alive
    and the deceased has two brothers, one brother and two sisters, or four sisters (full
    or consanguine), who are themselves excluded; such a mother also gets no radd. A
    son's children, when there is no child, stand in the place of a son. Class 2: full
    siblings exclude consanguine ones; the paternal side (full or else consanguine
    siblings, the paternal grandfather counted as a brother and the paternal grandmother
    as a sister) takes what remains after the spouse and the maternal side (uterine
    siblings: 1/6 for one, 1/3 for more, shared equally; the maternal grandmother shares
    it with them, and takes 1/3 beside paternal grandparents alone). Either side alone
    takes all that remains after the spouse. A husband who is the only heir takes the
    whole; a wife who is the only heir takes 1/4 and the other 3/4 goes to the Imam,
    i.e. the state in practice, returned as a separate entry named ``bait_ul_mal``
    (:data:`BAIT_UL_MAL`). Some Shia jurists give that remainder to the wife during the
    Occultation; that view is not followed here (to confirm for Pakistani practice).

MFLO s.4 (both schools)
    The ordinance applies to Muslims generally, so it is applied under both schools: each
    predeceased son or daughter who left children is counted as a living son or daughter,
    the estate is computed, and that child's share is divided among his or her children,
    sons 2 : daughters 1. A predeceased child with no children is ignored. Counting the
    predeceased child as alive also reduces a spouse's or parent's share and excludes
    siblings, exactly as a living child would; that is the statute's effect. The Federal
    Shariat Court held s.4 repugnant to Islam (Allah Rakha, PLD 2000 FSC 1), but the
    appeal is pending before the Shariat Appellate Bench, so s.4 is applied here (to
    confirm with the Board of Revenue's current instructions). Grandchildren are given
    either as ``sons_son``/``sons_daughter`` (classical rules) or through ``predeceased``
    (s.4), never both: all son's children would come under s.4.

Design choices
    * ``sons_son`` and ``sons_daughter`` stand for the son's children at any depth,
      collapsed to one level and treated as one stirps; to divide among several
      predeceased sons per stirpes, give them through ``predeceased``.
    * Every heir given is listed in the result, an excluded one with share 0 and a basis
      naming who excluded it, so an officer can explain a mutation.
    * A spouse who is the only heir under the Hanafi school takes the whole (the later
      Hanafi jurists' radd to a spouse when no bait-ul-mal is run on Islamic lines; the
      classical rule sent the surplus to the treasury).
    * Combinations whose answer the sources above do not settle clearly raise
      :class:`~landgov.errors.InvalidHeirs` rather than return a doubtful answer.

Not covered
    Distant kindred (dhawu al-arham: daughter's children outside s.4, maternal uncles,
    aunts...), great-grandparents, the sons of consanguine brothers and of uncles,
    consanguine and half uncles, aunts and the maternal relatives of class 3, the
    Maliki, Shafi'i and Hanbali schools, bars to inheriting (homicide, difference of
    religion), the unborn and the missing (mafqud), and bequests (wasiyya, at most 1/3)
    and debts, which come off the estate first. Under the Jafari school two combinations
    are refused with :class:`~landgov.errors.InvalidHeirs`: a maternal grandmother as the
    only maternal relative beside full or consanguine siblings (the texts differ on
    1/6 or 1/3), and a full brother's son beside grandparents. The Jafari rule that a
    (childless) wife takes no share of the land itself, only of buildings and movables,
    is not applied: jurists differ on its scope (to confirm).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Final, Literal

from landgov.domain.shares import format_share
from landgov.errors import InvalidHeirs

__all__ = [
    "BAIT_UL_MAL",
    "Heir",
    "HeirShare",
    "Heirs",
    "PredeceasedChild",
    "School",
    "compute_shares",
    "parse_heirs",
    "parse_predeceased",
]


class School(StrEnum):
    """The school of law that governs the succession (the deceased's school)."""

    HANAFI = "hanafi"  # Sunni; most of Pakistan
    JAFARI = "jafari"  # Ithna 'Ashari Shia


class Heir(StrEnum):
    """The relatives the calculator knows, each counted by :class:`Heirs`.

    ``sons_son`` and ``sons_daughter`` are a son's children (or a son's son's, at any
    depth, collapsed to one level). Brothers and sisters are full (same father and
    mother), consanguine (same father) or uterine (same mother).
    """

    HUSBAND = "husband"
    WIFE = "wife"
    SON = "son"
    DAUGHTER = "daughter"
    SONS_SON = "sons_son"
    SONS_DAUGHTER = "sons_daughter"
    FATHER = "father"
    MOTHER = "mother"
    PATERNAL_GRANDFATHER = "paternal_grandfather"
    PATERNAL_GRANDMOTHER = "paternal_grandmother"
    MATERNAL_GRANDMOTHER = "maternal_grandmother"
    FULL_BROTHER = "full_brother"
    FULL_SISTER = "full_sister"
    CONSANGUINE_BROTHER = "consanguine_brother"
    CONSANGUINE_SISTER = "consanguine_sister"
    UTERINE_BROTHER = "uterine_brother"
    UTERINE_SISTER = "uterine_sister"
    FULL_BROTHERS_SON = "full_brothers_son"
    FULL_PATERNAL_UNCLE = "full_paternal_uncle"


BAIT_UL_MAL: Final = "bait_ul_mal"
"""Name of the result entry for a remainder no heir takes (Jafari: a wife alone)."""

_MAX_COUNT: Final[Mapping[Heir, int]] = {
    Heir.HUSBAND: 1,
    Heir.WIFE: 4,
    Heir.FATHER: 1,
    Heir.MOTHER: 1,
    Heir.PATERNAL_GRANDFATHER: 1,
    Heir.PATERNAL_GRANDMOTHER: 1,
    Heir.MATERNAL_GRANDMOTHER: 1,
}

_VALID_NAMES: Final = ", ".join(heir.value for heir in Heir)

_ZERO: Final = Fraction(0)
_ONE: Final = Fraction(1)
_HALF: Final = Fraction(1, 2)
_THIRD: Final = Fraction(1, 3)
_QUARTER: Final = Fraction(1, 4)
_SIXTH: Final = Fraction(1, 6)
_EIGHTH: Final = Fraction(1, 8)
_TWO_THIRDS: Final = Fraction(2, 3)


def _check_count(name: str, count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, int):
        raise InvalidHeirs(f"heir {name!r}: count {count!r} is not a whole number")
    if count < 0:
        raise InvalidHeirs(f"heir {name!r}: count {count} cannot be negative")
    return count


def _heir_named(name: str | Heir) -> Heir:
    text = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Heir(text)
    except ValueError:
        raise InvalidHeirs(f"unknown heir {name!r}; valid heirs: {_VALID_NAMES}") from None


@dataclass(frozen=True)
class Heirs:
    """How many of each kind of relative survive the deceased, e.g. ``Heirs(wife=1, son=2)``.

    Raises:
        InvalidHeirs: a count is not a whole number >= 0, there is more than one
            husband, father, mother or grandparent of a kind, more than four wives, or
            both a husband and a wife.
    """

    husband: int = 0
    wife: int = 0
    son: int = 0
    daughter: int = 0
    sons_son: int = 0
    sons_daughter: int = 0
    father: int = 0
    mother: int = 0
    paternal_grandfather: int = 0
    paternal_grandmother: int = 0
    maternal_grandmother: int = 0
    full_brother: int = 0
    full_sister: int = 0
    consanguine_brother: int = 0
    consanguine_sister: int = 0
    uterine_brother: int = 0
    uterine_sister: int = 0
    full_brothers_son: int = 0
    full_paternal_uncle: int = 0

    def __post_init__(self) -> None:
        for heir in Heir:
            count = _check_count(heir.value, getattr(self, heir.value))
            limit = _MAX_COUNT.get(heir)
            if limit is not None and count > limit:
                what = "wives (a man may have at most four)" if heir is Heir.WIFE else heir
                raise InvalidHeirs(f"at most {limit} {what}, got {count}")
        if self.husband and self.wife:
            raise InvalidHeirs(
                "a husband and a wife cannot both be heirs: a deceased woman leaves a "
                "husband, a deceased man leaves one to four wives"
            )

    @classmethod
    def from_mapping(cls, counts: Mapping[Heir, int] | Mapping[str, int]) -> Heirs:
        """Builds heirs from ``{heir: count}``; names are read as :func:`parse_heirs` does.

        Raises:
            InvalidHeirs: an unknown name (listing the valid ones), or any problem of
                :class:`Heirs`.
        """
        values: dict[str, int] = {}
        for name, count in counts.items():
            values[_heir_named(name).value] = _check_count(str(name), count)
        return cls(**values)

    def count(self, heir: Heir) -> int:
        """How many of ``heir`` survive."""
        value: int = getattr(self, Heir(heir).value)
        return value

    def counts(self) -> dict[Heir, int]:
        """Every heir's count, zeros included, in :class:`Heir` order."""
        return {heir: self.count(heir) for heir in Heir}

    def __str__(self) -> str:
        return ",".join(f"{heir}={n}" for heir, n in self.counts().items() if n)


@dataclass(frozen=True)
class PredeceasedChild:
    """A son or daughter who died before the deceased, with the children he or she left.

    Under MFLO 1961 s.4 those children take, per stirpes, the share their parent would
    have taken if alive (see the module docstring).

    Raises:
        InvalidHeirs: the gender is not ``son`` or ``daughter``, or a count is not a whole
            number >= 0.
    """

    gender: Literal["son", "daughter"]
    sons: int = 0
    daughters: int = 0

    def __post_init__(self) -> None:
        if self.gender not in ("son", "daughter"):
            raise InvalidHeirs(
                f"predeceased child: gender {self.gender!r} must be 'son' or 'daughter'"
            )
        _check_count(f"predeceased {self.gender}'s sons", self.sons)
        _check_count(f"predeceased {self.gender}'s daughters", self.daughters)


@dataclass(frozen=True)
class HeirShare:
    """One line of the result: a kind of heir, how many, and what they take.

    Attributes:
        heir: an :class:`Heir` value, ``predeceased_son_1.son`` style for the children
            of a predeceased child (MFLO s.4), or :data:`BAIT_UL_MAL`.
        count: how many such heirs there are.
        share: what they take together, as a fraction of the whole estate.
        share_each: what each takes; ``count * share_each == share``.
        basis: why, e.g. ``fixed 1/8``, ``residuary (2:1 with daughter)``, ``fixed 1/2,
            reduced by 'awl``, ``fixed 1/6 + radd``, ``excluded by son``.
    """

    heir: str
    count: int
    share: Fraction
    share_each: Fraction
    basis: str


def parse_heirs(text: str) -> Heirs:
    """Reads heirs written as ``wife=1,son=2,daughter=1``.

    Names are case-insensitive and may use ``-`` or spaces for ``_``; a name without
    ``=count`` means one; a count of 0 is allowed.

    Raises:
        InvalidHeirs: the text is empty, a name is unknown (the message lists the valid
            names) or repeated, a count is not a whole number, or the heirs break a rule
            of :class:`Heirs` (husband with wife, more than four wives...).
    """
    values: dict[Heir, int] = {}
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise InvalidHeirs(
            f"no heirs given; write them as 'wife=1,son=2,daughter=1' (valid heirs: {_VALID_NAMES})"
        )
    for item in items:
        if not item:
            continue
        name, sep, count_text = item.partition("=")
        heir = _heir_named(name)
        if heir in values:
            raise InvalidHeirs(f"heir {heir.value!r} is given twice in {text!r}")
        count_text = count_text.strip()
        if not sep:
            count = 1
        elif count_text.isascii() and count_text.isdigit():
            count = int(count_text)
        else:
            raise InvalidHeirs(
                f"heir {heir.value!r}: count {count_text!r} is not a whole number >= 0"
            )
        values[heir] = count
    return Heirs.from_mapping(values)


def parse_predeceased(text: str) -> PredeceasedChild:
    """Reads a predeceased child written as ``son:sons=1,daughters=2`` (MFLO 1961 s.4).

    The part before ``:`` is ``son`` or ``daughter``; after it, ``sons=N`` and
    ``daughters=N`` (either may be left out, meaning 0).

    Raises:
        InvalidHeirs: the text is not of that form.
    """
    gender, sep, rest = text.strip().partition(":")
    gender = gender.strip().lower()
    if not sep or gender not in ("son", "daughter"):
        raise InvalidHeirs(
            f"predeceased child {text!r}: write it as 'son:sons=1,daughters=2' "
            "or 'daughter:sons=0,daughters=1'"
        )
    counts = {"sons": 0, "daughters": 0}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        name, _, value = item.partition("=")
        name, value = name.strip().lower(), value.strip()
        if name not in counts or not (value.isascii() and value.isdigit()):
            raise InvalidHeirs(
                f"predeceased child {text!r}: {item!r} is not 'sons=N' or 'daughters=N'"
            )
        counts[name] = int(value)
    return PredeceasedChild("son" if gender == "son" else "daughter", **counts)


# --- the calculation ---------------------------------------------------------------------


def _fmt(value: Fraction) -> str:
    return format_share(value)


@dataclass
class _Ledger:
    """Working state of one calculation: counts, exclusions and final group shares."""

    n: Mapping[Heir, int]
    share: dict[Heir, Fraction] = field(default_factory=dict)
    basis: dict[Heir, str] = field(default_factory=dict)
    bait_ul_mal: Fraction = _ZERO

    def active(self, heir: Heir) -> bool:
        """Present and not excluded (nor already settled)."""
        return self.n[heir] > 0 and heir not in self.basis

    def names(self, *heirs: Heir) -> list[str]:
        return [heir.value for heir in heirs if self.active(heir)]

    def exclude(self, heir: Heir, by: Sequence[str], why: str = "") -> None:
        if by and self.active(heir):
            self.set(heir, _ZERO, f"excluded by {', '.join(by)}{why}")

    def set(self, heir: Heir, share: Fraction, basis: str) -> None:
        self.share[heir] = share
        self.basis[heir] = basis

    def split(self, group: Sequence[tuple[Heir, int]], amount: Fraction) -> dict[Heir, Fraction]:
        """Divides ``amount`` among the active heirs of ``group`` by weight x count."""
        members = [(heir, weight * self.n[heir]) for heir, weight in group if self.active(heir)]
        total = sum(units for _, units in members)
        return {heir: amount * Fraction(units, total) for heir, units in members}


_DESCENDANTS: Final = (Heir.SON, Heir.DAUGHTER, Heir.SONS_SON, Heir.SONS_DAUGHTER)
_SIBLINGS: Final = (
    Heir.FULL_BROTHER,
    Heir.FULL_SISTER,
    Heir.CONSANGUINE_BROTHER,
    Heir.CONSANGUINE_SISTER,
    Heir.UTERINE_BROTHER,
    Heir.UTERINE_SISTER,
)


def _spouse_fixed(led: _Ledger, has_descendant: bool) -> dict[Heir, Fraction]:
    fixed: dict[Heir, Fraction] = {}
    if led.n[Heir.HUSBAND]:
        fixed[Heir.HUSBAND] = _QUARTER if has_descendant else _HALF
    if led.n[Heir.WIFE]:
        fixed[Heir.WIFE] = _EIGHTH if has_descendant else _QUARTER
    return fixed


def _residuary_bases(led: _Ledger, group: Sequence[tuple[Heir, int]]) -> dict[Heir, str]:
    members = [heir for heir, _ in group if led.active(heir)]
    if len(members) == 2:
        male, female = members
        return {male: f"residuary (2:1 with {female})", female: f"residuary with {male} (2:1)"}
    return {heir: "residuary" for heir in members}


def _hanafi(n: Mapping[Heir, int]) -> _Ledger:
    led = _Ledger(n)
    h = Heir
    male_descendant = n[h.SON] + n[h.SONS_SON] > 0
    female_descendant = n[h.DAUGHTER] + n[h.SONS_DAUGHTER] > 0
    descendant = male_descendant or female_descendant

    # Exclusion (hajb), nearest first so that an excluded heir never excludes another.
    led.exclude(h.SONS_SON, led.names(h.SON))
    led.exclude(h.SONS_DAUGHTER, led.names(h.SON))
    if n[h.DAUGHTER] >= 2 and not n[h.SONS_SON]:
        led.exclude(h.SONS_DAUGHTER, ["2 or more daughters"], " (they take all of 2/3)")
    led.exclude(h.PATERNAL_GRANDFATHER, led.names(h.FATHER))
    led.exclude(h.MATERNAL_GRANDMOTHER, led.names(h.MOTHER))
    led.exclude(h.PATERNAL_GRANDMOTHER, led.names(h.MOTHER, h.FATHER))
    near = (h.SON, h.SONS_SON, h.FATHER, h.PATERNAL_GRANDFATHER)
    uterine_by = led.names(h.SON, h.DAUGHTER, h.SONS_SON, h.SONS_DAUGHTER, *near[2:])
    led.exclude(h.UTERINE_BROTHER, uterine_by)
    led.exclude(h.UTERINE_SISTER, uterine_by)
    led.exclude(h.FULL_BROTHER, led.names(*near))
    led.exclude(h.FULL_SISTER, led.names(*near))
    full_sister_with_daughters = (
        led.active(h.FULL_SISTER) and not n[h.FULL_BROTHER] and female_descendant
    )
    with_daughters = []
    if full_sister_with_daughters:
        with_daughters.append("full_sister (residuary with daughters)")
    led.exclude(h.CONSANGUINE_BROTHER, led.names(*near, h.FULL_BROTHER) + with_daughters)
    led.exclude(h.CONSANGUINE_SISTER, led.names(*near, h.FULL_BROTHER) + with_daughters)
    if n[h.FULL_SISTER] >= 2 and not n[h.CONSANGUINE_BROTHER]:
        led.exclude(h.CONSANGUINE_SISTER, ["2 or more full_sisters"], " (they take all of 2/3)")
    consanguine_sister_with_daughters = (
        led.active(h.CONSANGUINE_SISTER)
        and not n[h.CONSANGUINE_BROTHER]
        and not n[h.FULL_SISTER]
        and female_descendant
    )
    if consanguine_sister_with_daughters:
        with_daughters.append("consanguine_sister (residuary with daughters)")
    collateral = (*near, h.FULL_BROTHER, h.CONSANGUINE_BROTHER)
    led.exclude(h.FULL_BROTHERS_SON, led.names(*collateral) + with_daughters)
    led.exclude(h.FULL_PATERNAL_UNCLE, led.names(*collateral, h.FULL_BROTHERS_SON) + with_daughters)

    # Fixed shares (furud).
    fixed = _spouse_fixed(led, descendant)
    notes: dict[Heir, str] = {}
    spouse_share = sum(fixed.values(), _ZERO)
    if n[h.DAUGHTER] and not n[h.SON]:
        fixed[h.DAUGHTER] = _HALF if n[h.DAUGHTER] == 1 else _TWO_THIRDS
    if led.active(h.SONS_DAUGHTER) and not n[h.SONS_SON]:
        if not n[h.DAUGHTER]:
            fixed[h.SONS_DAUGHTER] = _HALF if n[h.SONS_DAUGHTER] == 1 else _TWO_THIRDS
        else:
            fixed[h.SONS_DAUGHTER] = _SIXTH
            notes[h.SONS_DAUGHTER] = " (completes 2/3 with the daughter)"
    if n[h.MOTHER]:
        siblings = sum(n[sibling] for sibling in _SIBLINGS)
        if descendant or siblings >= 2:
            fixed[h.MOTHER] = _SIXTH
        elif n[h.FATHER] and spouse_share:
            fixed[h.MOTHER] = (1 - spouse_share) / 3
            notes[h.MOTHER] = ": 1/3 of what remains after the spouse ('umariyyatan)"
        else:
            fixed[h.MOTHER] = _THIRD
    father_like = next((x for x in (h.FATHER, h.PATERNAL_GRANDFATHER) if led.active(x)), None)
    if father_like is not None and descendant:
        fixed[father_like] = _SIXTH
    grandmothers = [x for x in (h.PATERNAL_GRANDMOTHER, h.MATERNAL_GRANDMOTHER) if led.active(x)]
    for grandmother in grandmothers:
        fixed[grandmother] = _SIXTH / len(grandmothers)
        if len(grandmothers) == 2:
            notes[grandmother] = " (half of 1/6 shared by the grandmothers)"
    uterine = [x for x in (h.UTERINE_BROTHER, h.UTERINE_SISTER) if led.active(x)]
    uterine_count = sum(n[x] for x in uterine)
    for sibling in uterine:
        pool = _SIXTH if uterine_count == 1 else _THIRD
        fixed[sibling] = pool * Fraction(n[sibling], uterine_count)
        if uterine_count > 1:
            notes[sibling] = f" (of 1/3 shared equally by {uterine_count} uterine siblings)"
    if led.active(h.FULL_SISTER) and not n[h.FULL_BROTHER] and not full_sister_with_daughters:
        fixed[h.FULL_SISTER] = _HALF if n[h.FULL_SISTER] == 1 else _TWO_THIRDS
    if (
        led.active(h.CONSANGUINE_SISTER)
        and not n[h.CONSANGUINE_BROTHER]
        and not consanguine_sister_with_daughters
    ):
        if not n[h.FULL_SISTER]:
            fixed[h.CONSANGUINE_SISTER] = _HALF if n[h.CONSANGUINE_SISTER] == 1 else _TWO_THIRDS
        else:
            fixed[h.CONSANGUINE_SISTER] = _SIXTH
            notes[h.CONSANGUINE_SISTER] = " (completes 2/3 with the full sister)"

    # Residuaries ('asaba): the first group present takes what the fixed shares leave.
    candidates: list[tuple[bool, tuple[tuple[Heir, int], ...]]] = [
        (n[h.SON] > 0, ((h.SON, 2), (h.DAUGHTER, 1))),
        (led.active(h.SONS_SON), ((h.SONS_SON, 2), (h.SONS_DAUGHTER, 1))),
        (led.active(h.FATHER) and not male_descendant, ((h.FATHER, 1),)),
        (
            led.active(h.PATERNAL_GRANDFATHER) and not male_descendant,
            ((h.PATERNAL_GRANDFATHER, 1),),
        ),
        (led.active(h.FULL_BROTHER), ((h.FULL_BROTHER, 2), (h.FULL_SISTER, 1))),
        (full_sister_with_daughters, ((h.FULL_SISTER, 1),)),
        (
            led.active(h.CONSANGUINE_BROTHER),
            ((h.CONSANGUINE_BROTHER, 2), (h.CONSANGUINE_SISTER, 1)),
        ),
        (consanguine_sister_with_daughters, ((h.CONSANGUINE_SISTER, 1),)),
        (led.active(h.FULL_BROTHERS_SON), ((h.FULL_BROTHERS_SON, 1),)),
        (led.active(h.FULL_PATERNAL_UNCLE), ((h.FULL_PATERNAL_UNCLE, 1),)),
    ]
    group = next((members for present, members in candidates if present), ())
    bases = _residuary_bases(led, group)
    for sister in (h.FULL_SISTER, h.CONSANGUINE_SISTER):
        if len(group) == 1 and group[0][0] is sister:
            bases[sister] = "residuary with daughters ('asaba ma'a al-ghayr)"
    if group and group[0][0] is h.FULL_BROTHER and uterine:
        nothing = " (mushtaraka: Hanafi full siblings do not share the uterine third)"
    else:
        nothing = ""
    _settle_sunni(led, fixed, notes, group, bases, nothing)
    return led


def _settle_sunni(
    led: _Ledger,
    fixed: Mapping[Heir, Fraction],
    notes: Mapping[Heir, str],
    group: Sequence[tuple[Heir, int]],
    bases: Mapping[Heir, str],
    nothing_note: str,
) -> None:
    """Applies 'awl, the residue or radd to the fixed shares and the residuary group."""
    basis = {heir: f"fixed {_fmt(share)}{notes.get(heir, '')}" for heir, share in fixed.items()}
    total = sum(fixed.values(), _ZERO)
    if total > 1:
        for heir, share in fixed.items():
            led.set(heir, share / total, f"{basis[heir]}, reduced by 'awl to {_fmt(share / total)}")
        for heir in bases:
            if heir not in fixed:
                led.set(heir, _ZERO, f"{bases[heir]}; nothing remains ('awl)")
    elif bases:
        residue = 1 - total
        parts = led.split(group, residue)
        for heir, share in fixed.items():
            if heir not in parts:
                led.set(heir, share, basis[heir])
        for heir, part in parts.items():
            text = bases[heir]
            if heir in fixed:
                text = f"{basis[heir]} + {text}" if residue else f"{basis[heir]} (no residue left)"
            elif residue == 0:
                text += f"; nothing remains after the fixed shares{nothing_note}"
            led.set(heir, fixed.get(heir, _ZERO) + part, text)
    elif total < 1:
        spouses = {heir: share for heir, share in fixed.items() if heir in _SPOUSES}
        blood = {heir: share for heir, share in fixed.items() if heir not in _SPOUSES}
        if not blood:
            for heir in spouses:
                led.set(heir, _ONE, f"{basis[heir]} + radd (the only heir; modern practice)")
            return
        for heir, share in spouses.items():
            led.set(heir, share, basis[heir])
        rest = 1 - sum(spouses.values(), _ZERO)
        blood_total = sum(blood.values(), _ZERO)
        for heir, share in blood.items():
            led.set(heir, rest * share / blood_total, f"{basis[heir]} + radd")
    else:
        for heir, share in fixed.items():
            led.set(heir, share, basis[heir])


_SPOUSES: Final = (Heir.HUSBAND, Heir.WIFE)
_CLASS_1: Final = (
    Heir.SON,
    Heir.DAUGHTER,
    Heir.SONS_SON,
    Heir.SONS_DAUGHTER,
    Heir.FATHER,
    Heir.MOTHER,
)
_CLASS_2: Final = (
    Heir.PATERNAL_GRANDFATHER,
    Heir.PATERNAL_GRANDMOTHER,
    Heir.MATERNAL_GRANDMOTHER,
    *_SIBLINGS,
    Heir.FULL_BROTHERS_SON,
)
_CLASS_3: Final = (Heir.FULL_PATERNAL_UNCLE,)


def _jafari(n: Mapping[Heir, int]) -> _Ledger:
    led = _Ledger(n)
    h = Heir
    children = n[h.SON] + n[h.DAUGHTER]
    descendant = children + n[h.SONS_SON] + n[h.SONS_DAUGHTER] > 0
    led.exclude(h.SONS_SON, led.names(h.SON, h.DAUGHTER))
    led.exclude(h.SONS_DAUGHTER, led.names(h.SON, h.DAUGHTER))
    fixed = _spouse_fixed(led, descendant)
    for spouse, share in fixed.items():
        led.set(spouse, share, f"fixed {_fmt(share)}")
    spouse_share = sum(fixed.values(), _ZERO)

    class_1 = led.names(*_CLASS_1)
    class_2 = led.names(*_CLASS_2)
    if class_1:
        for heir in (*_CLASS_2, *_CLASS_3):
            led.exclude(heir, class_1, " (class 1 excludes classes 2 and 3)")
        _jafari_class_1(led, spouse_share)
    elif class_2:
        for heir in _CLASS_3:
            led.exclude(heir, class_2, " (class 2 excludes class 3)")
        _jafari_class_2(led, spouse_share)
    elif led.active(h.FULL_PATERNAL_UNCLE):
        led.set(h.FULL_PATERNAL_UNCLE, 1 - spouse_share, "residuary (class 3)")
    elif n[h.HUSBAND]:
        led.set(h.HUSBAND, _ONE, "fixed 1/2 + radd (the husband is the only heir)")
    elif n[h.WIFE]:
        led.basis[h.WIFE] = "fixed 1/4 (the only heir; no radd to a wife)"
        led.bait_ul_mal = 1 - spouse_share
    return led


def _jafari_class_1(led: _Ledger, spouse_share: Fraction) -> None:
    h = Heir
    n = led.n
    parents = [parent for parent in (h.FATHER, h.MOTHER) if n[parent]]
    children = n[h.SON] + n[h.DAUGHTER]
    brothers_bar_mother = (
        n[h.FATHER] > 0
        and 2 * (n[h.FULL_BROTHER] + n[h.CONSANGUINE_BROTHER])
        + n[h.FULL_SISTER]
        + n[h.CONSANGUINE_SISTER]
        >= 4
    )
    barred = " (reduced by the deceased's brothers/sisters, who are themselves excluded)"
    if n[h.SON] or (not children and (n[h.SONS_SON] or n[h.SONS_DAUGHTER])):
        for parent in parents:
            led.set(parent, _SIXTH, "fixed 1/6")
        if children:
            group = ((h.SON, 2), (h.DAUGHTER, 1))
            bases = _residuary_bases(led, group)
        else:
            group = ((h.SONS_SON, 2), (h.SONS_DAUGHTER, 1))
            bases = {
                heir: f"{text}, standing in the place of a son"
                for heir, text in _residuary_bases(led, group).items()
            }
        rest = 1 - spouse_share - _SIXTH * len(parents)
        for heir, part in led.split(group, rest).items():
            led.set(heir, part, bases[heir])
    elif n[h.DAUGHTER]:
        fixed = {h.DAUGHTER: _HALF if n[h.DAUGHTER] == 1 else _TWO_THIRDS}
        fixed.update({parent: _SIXTH for parent in parents})
        total = spouse_share + sum(fixed.values(), _ZERO)
        basis = {heir: f"fixed {_fmt(share)}" for heir, share in fixed.items()}
        if total > 1:
            for parent in parents:
                led.set(parent, _SIXTH, basis[parent])
            led.set(
                h.DAUGHTER,
                fixed[h.DAUGHTER] - (total - 1),
                f"{basis[h.DAUGHTER]}, reduced (no 'awl: the shortfall falls on the daughters)",
            )
        else:
            takers = {
                heir: share
                for heir, share in fixed.items()
                if not (heir is h.MOTHER and brothers_bar_mother)
            }
            surplus = 1 - total
            takers_total = sum(takers.values(), _ZERO)
            for heir, share in fixed.items():
                if heir not in takers:
                    led.set(heir, share, f"{basis[heir]} (no radd: barred by brothers/sisters)")
                elif surplus:
                    led.set(heir, share + surplus * share / takers_total, f"{basis[heir]} + radd")
                else:
                    led.set(heir, share, basis[heir])
    else:
        rest = 1 - spouse_share
        if n[h.MOTHER] and n[h.FATHER]:
            mother = _SIXTH if brothers_bar_mother else _THIRD
            led.set(
                h.MOTHER, mother, f"fixed {_fmt(mother)}" + (barred if brothers_bar_mother else "")
            )
            led.set(h.FATHER, rest - mother, "residuary")
        elif n[h.MOTHER]:
            led.set(h.MOTHER, rest, "fixed 1/3 + radd")
        else:
            led.set(h.FATHER, rest, "residuary")


def _jafari_class_2(led: _Ledger, spouse_share: Fraction) -> None:
    h = Heir
    n = led.n
    led.exclude(h.CONSANGUINE_BROTHER, led.names(h.FULL_BROTHER, h.FULL_SISTER))
    led.exclude(h.CONSANGUINE_SISTER, led.names(h.FULL_BROTHER, h.FULL_SISTER))
    led.exclude(h.FULL_BROTHERS_SON, led.names(*_SIBLINGS))
    grandparents = led.names(h.PATERNAL_GRANDFATHER, h.PATERNAL_GRANDMOTHER, h.MATERNAL_GRANDMOTHER)
    if led.active(h.FULL_BROTHERS_SON) and grandparents:
        raise InvalidHeirs(
            "Jafari: a full brother's son together with grandparents is not supported; "
            "divide this estate by hand"
        )
    paternal_siblings = led.names(
        h.FULL_BROTHER, h.FULL_SISTER, h.CONSANGUINE_BROTHER, h.CONSANGUINE_SISTER
    )
    uterine = led.names(h.UTERINE_BROTHER, h.UTERINE_SISTER)
    if led.active(h.MATERNAL_GRANDMOTHER) and paternal_siblings and not uterine:
        raise InvalidHeirs(
            "Jafari: a maternal grandmother beside full or consanguine siblings (with no "
            "uterine sibling) is not supported, as the texts differ on her share; divide "
            "this estate by hand"
        )
    maternal = [(x, 1) for x in (h.UTERINE_BROTHER, h.UTERINE_SISTER, h.MATERNAL_GRANDMOTHER)]
    paternal = [
        (h.FULL_BROTHER, 2),
        (h.CONSANGUINE_BROTHER, 2),
        (h.PATERNAL_GRANDFATHER, 2),
        (h.FULL_BROTHERS_SON, 2),
        (h.FULL_SISTER, 1),
        (h.CONSANGUINE_SISTER, 1),
        (h.PATERNAL_GRANDMOTHER, 1),
    ]
    maternal_count = sum(n[x] for x, _ in maternal if led.active(x))
    paternal_count = sum(n[x] for x, _ in paternal if led.active(x))
    rest = 1 - spouse_share
    if maternal_count:
        if not paternal_count:
            side, basis = rest, "maternal side takes all that remains, shared equally"
        elif maternal_count == 1 and not led.active(h.MATERNAL_GRANDMOTHER):
            side, basis = _SIXTH, "fixed 1/6"
        else:
            side, basis = _THIRD, "fixed 1/3 for the maternal side, shared equally"
        for heir, part in led.split(maternal, side).items():
            led.set(heir, part, basis)
        rest -= side
    if not paternal_count:
        return
    sisters_only = all(
        not led.active(x) for x, weight in paternal if weight == 2 or x is h.PATERNAL_GRANDMOTHER
    )
    for heir, part in led.split(paternal, rest).items():
        if sisters_only:
            share = _HALF if n[heir] == 1 else _TWO_THIRDS
            if part > share:
                basis = f"fixed {_fmt(share)} + radd"
            elif part < share:
                basis = (
                    f"fixed {_fmt(share)}, reduced (no 'awl: the shortfall falls on the sisters)"
                )
            else:
                basis = f"fixed {_fmt(share)}"
        elif heir is h.FULL_BROTHERS_SON:
            basis = "residuary, in the place of his father (no sibling survives)"
        else:
            basis = "residuary of the paternal side (male 2 : female 1)"
        led.set(heir, part, basis)


def compute_shares(
    heirs: Heirs | Mapping[Heir, int] | Mapping[str, int],
    *,
    school: School | str = School.HANAFI,
    predeceased: Sequence[PredeceasedChild] = (),
) -> list[HeirShare]:
    """Divides an estate among the heirs of a Muslim, exactly.

    Args:
        heirs: the surviving relatives, as :class:`Heirs` or a mapping heir -> count.
        school: :attr:`School.HANAFI` (default) or :attr:`School.JAFARI`.
        predeceased: sons and daughters who died before the deceased, whose children
            inherit under MFLO 1961 s.4 (entries named ``predeceased_son_1.son`` and so
            on, numbered by position among the predeceased of the same gender).

    Returns:
        One :class:`HeirShare` per kind of heir given (in :class:`Heir` order, excluded
        heirs with share 0), then the grandchildren under s.4, then a ``bait_ul_mal``
        entry when part of the estate goes to no heir (Jafari: a wife alone). The shares
        total exactly 1.

    Raises:
        InvalidHeirs: no heir is given, grandchildren are given both ways (as
            ``sons_son``/``sons_daughter`` and through ``predeceased``), an unknown school,
            or a Jafari combination that is not supported (see the module docstring).
    """
    living = heirs if isinstance(heirs, Heirs) else Heirs.from_mapping(heirs)
    try:
        school = School(school)
    except ValueError:
        valid = ", ".join(s.value for s in School)
        raise InvalidHeirs(f"unknown school {school!r}; valid schools: {valid}") from None
    n = living.counts()
    stirpes: list[tuple[str, PredeceasedChild]] = []
    numbers = {"son": 0, "daughter": 0}
    for child in predeceased:
        if not isinstance(child, PredeceasedChild):
            raise InvalidHeirs(f"predeceased entry {child!r} is not a PredeceasedChild")
        numbers[child.gender] += 1
        if child.sons or child.daughters:
            stirpes.append((f"predeceased_{child.gender}_{numbers[child.gender]}", child))
    if stirpes and (n[Heir.SONS_SON] or n[Heir.SONS_DAUGHTER]):
        raise InvalidHeirs(
            "grandchildren are given twice: as sons_son/sons_daughter and through "
            "predeceased children (MFLO s.4); give every son's child through the "
            "predeceased son instead"
        )
    for _, child in stirpes:
        n[Heir(child.gender)] += 1
    if not any(n.values()):
        raise InvalidHeirs(
            "no heirs given (a predeceased child without children does not count); "
            f"valid heirs: {_VALID_NAMES}"
        )
    led = _hanafi(n) if school is School.HANAFI else _jafari(n)

    result: list[HeirShare] = []
    for heir in Heir:
        count = living.count(heir)
        if count:
            each = led.share.get(heir, _ZERO) / n[heir]
            result.append(HeirShare(heir.value, count, each * count, each, led.basis[heir]))
    for name, child in stirpes:
        parent = Heir(child.gender)
        parent_share = led.share[parent] / n[parent]
        units = 2 * child.sons + child.daughters
        for kind, count, weight in (("son", child.sons, 2), ("daughter", child.daughters, 1)):
            if count:
                each = parent_share * Fraction(weight, units)
                basis = (
                    f"s.4 via {name.replace('_', ' ')}: the {child.gender}'s share "
                    f"{_fmt(parent_share)} ({led.basis[parent]}), sons 2 : daughters 1"
                )
                result.append(HeirShare(f"{name}.{kind}", count, each * count, each, basis))
    if led.bait_ul_mal:
        result.append(
            HeirShare(
                BAIT_UL_MAL,
                1,
                led.bait_ul_mal,
                led.bait_ul_mal,
                "remainder with no heir to take it: to the Imam, i.e. the state (Jafari)",
            )
        )
    total = sum((line.share for line in result), _ZERO)
    if total != 1:  # pragma: no cover - a bug in the rules above, never the caller's fault
        raise AssertionError(f"faraid shares total {_fmt(total)} for {living}")
    return result
