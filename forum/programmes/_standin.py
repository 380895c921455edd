"""A tiny greedy stand-in for forum.programmes.pairing (the `pairing` helper's module, with the
same names and signatures), so this part's code and tests run before that module is merged.
It is not optimal; `pairing_module()` prefers the real module whenever it exists."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType


@dataclass(frozen=True)
class Person:
    id: int
    side: str
    department: str = ""
    seniority: int = 0
    teaches: frozenset[str] = frozenset()
    learns: frozenset[str] = frozenset()
    availability: frozenset[str] = frozenset()
    avoid: frozenset[int] = frozenset()
    reporting_line: frozenset[int] = frozenset()
    capacity: int = 1


@dataclass(frozen=True)
class Criteria:
    overlap: float = 1.0
    availability: float = 1.0
    department: float = 1.0
    gap: float = 1.0
    gap_min: int = 0
    gap_max: int = 40


@dataclass(frozen=True)
class Edits:
    fixed: frozenset[tuple[int, int]] = frozenset()
    forbidden: frozenset[tuple[int, int]] = frozenset()


@dataclass
class Score:
    total: float
    parts: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class ProposedPair:
    junior_id: int
    senior_id: int
    score: Score
    fixed: bool = False


@dataclass
class Unmatched:
    person_id: int
    side: str
    reason: str


@dataclass
class Proposal:
    pairs: list[ProposedPair]
    unmatched: list[Unmatched]
    total: float


def breakdown(junior: Person, senior: Person, criteria: Criteria) -> Score:
    wanted = (junior.teaches & senior.learns) | (senior.teaches & junior.learns)
    offered = (junior.teaches | senior.teaches) or {""}
    shared = junior.availability & senior.availability
    gap = senior.seniority - junior.seniority
    parts = {
        "overlap": criteria.overlap * min(1.0, len(wanted) / len(offered)),
        "availability": criteria.availability * (1.0 if shared else 0.0),
        "department": criteria.department
        * (1.0 if junior.department != senior.department else 0.0),
        "gap": criteria.gap * (1.0 if criteria.gap_min <= gap <= criteria.gap_max else 0.0),
    }
    notes = {
        "overlap": ", ".join(sorted(wanted)) or "nothing in common",
        "availability": ", ".join(sorted(shared)) or "no shared slot",
        "department": "different departments" if parts["department"] else "same department",
        "gap": f"{gap} years",
    }
    return Score(sum(parts.values()), parts, notes)


def refusal(junior: Person, senior: Person, edits: Edits) -> str | None:
    if senior.id in junior.reporting_line or junior.id in senior.reporting_line:
        return "in the same reporting line"
    if senior.id in junior.avoid or junior.id in senior.avoid:
        return "one asked not to be paired with the other"
    if (junior.id, senior.id) in edits.forbidden:
        return "forbidden by the lead"
    return None


def propose(
    juniors: Sequence[Person], seniors: Sequence[Person], criteria: Criteria, edits: Edits = Edits()
) -> Proposal:
    pairs: list[ProposedPair] = []
    used_j: set[int] = set()
    used_s: set[int] = set()
    unmatched: list[Unmatched] = []
    by_j = {p.id: p for p in juniors}
    by_s = {p.id: p for p in seniors}
    for j, s in sorted(edits.fixed):
        if j in by_j and s in by_s and refusal(by_j[j], by_s[s], edits) is None:
            if j not in used_j and s not in used_s:
                pairs.append(ProposedPair(j, s, breakdown(by_j[j], by_s[s], criteria), True))
                used_j.add(j)
                used_s.add(s)
    options = sorted(
        ((breakdown(j, s, criteria).total, j.id, s.id) for j in juniors for s in seniors
         if refusal(j, s, edits) is None),
        key=lambda t: (-t[0], t[1], t[2]),
    )  # fmt: skip
    for _total, j, s in options:
        if j not in used_j and s not in used_s:
            pairs.append(ProposedPair(j, s, breakdown(by_j[j], by_s[s], criteria)))
            used_j.add(j)
            used_s.add(s)
    for person in [*juniors, *seniors]:
        if person.id not in (used_j if person.side == "junior" else used_s):
            unmatched.append(Unmatched(person.id, person.side, "no allowed partner was left"))
    return Proposal(pairs, unmatched, sum(p.score.total for p in pairs))


def pairing_module() -> ModuleType:
    """forum.programmes.pairing once merged, else this stand-in."""
    try:
        return importlib.import_module("forum.programmes.pairing")
    except ModuleNotFoundError:
        return importlib.import_module(__name__)
