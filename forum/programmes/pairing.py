"""Pairing juniors with seniors by compatibility: scores, hard constraints, the best assignment.

Worker/CLI side only (numpy and scipy): the web process never imports this module.

Each criterion scores a junior–senior pair in [0, 1] and is multiplied by the lead's weight; a
pair's total is the weighted sum. Hard constraints (the same person, a reporting line either way,
someone either side asked to avoid, a pair the lead forbade) make a pair *refused*: it is never
proposed. `propose` places the lead's fixed pairs first, then finds the assignment of the rest
with the largest total (the Hungarian algorithm, `scipy.optimize.linear_sum_assignment`), a person
with capacity c taking up to c partners, never the same partner twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment, linprog
from scipy.sparse import coo_matrix

from forum.core.text import counted
from forum.programmes.slots import NO_COMMON_SLOT, slot_label

JUNIOR = "junior"
SENIOR = "senior"
CRITERIA = ("overlap", "availability", "department", "gap")


@dataclass(frozen=True)
class Person:
    id: int
    side: str  # "junior" or "senior"
    department: str = ""
    seniority: int = 0  # years (or a level); the gap is senior - junior
    teaches: frozenset[str] = frozenset()
    learns: frozenset[str] = frozenset()
    availability: frozenset[str] = frozenset()  # slot names, e.g. "mon-am"
    avoid: frozenset[int] = frozenset()  # ids this person asked not to be paired with
    reporting_line: frozenset[int] = frozenset()  # ids in this person's reporting line
    capacity: int = 1


@dataclass(frozen=True)
class Criteria:
    overlap: float = 1.0  # what one teaches that the other wants to learn (both ways)
    availability: float = 1.0  # shared slots
    department: float = 1.0  # different departments
    gap: float = 1.0  # seniority gap within [gap_min, gap_max]
    gap_min: int = 0
    gap_max: int = 40


@dataclass(frozen=True)
class Edits:
    fixed: frozenset[tuple[int, int]] = frozenset()  # (junior_id, senior_id) that must be paired
    forbidden: frozenset[tuple[int, int]] = frozenset()  # pairs the lead forbade


@dataclass(frozen=True)
class Score:
    total: float
    parts: dict[str, float]  # weighted part per criterion; they add up to total
    notes: dict[str, str]  # plain words per criterion


@dataclass(frozen=True)
class ProposedPair:
    junior_id: int
    senior_id: int
    score: Score
    fixed: bool = False


@dataclass(frozen=True)
class Unmatched:
    person_id: int
    side: str
    reason: str


@dataclass(frozen=True)
class RefusedFix:
    """A pair the lead fixed that could not be placed, and why."""

    junior_id: int
    senior_id: int
    reason: str


@dataclass(frozen=True)
class Proposal:
    pairs: list[ProposedPair]
    unmatched: list[Unmatched]
    total: float
    refused_fixed: list[RefusedFix] = field(default_factory=list)


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


# --- departments, as people write them ---------------------------------------------------------
# Department is free text: "People team", "people" and "People" name one department, as do
# "R&D" and "R and D". Two names are the same department by the first rule that matches:
# written the same but for case and spacing; the same once "&" is read as "and", punctuation
# is dropped and words such as "team" or "department" are set aside; or one name is the
# other's first whole words ("People", "People operations"). The pair's explanation says
# which rule matched.

DEPARTMENT_WORDS = frozenset({"team", "teams", "dept", "depts", "department", "departments"})
SAME_CASE = "written the same but for case and spacing"
SAME_WORDS = "the same once “&”, punctuation and words such as “team” or “department” are set aside"
SAME_START = "one name is the start of the other"


def department_words(text: str) -> tuple[str, ...]:
    """A department's name as words to compare: lower case, "&" read as "and", punctuation
    dropped, and "team", "dept" or "department" (and a leading "the", or "department of")
    set aside. A name made only of such words keeps them."""
    spaced = "".join(c if c.isalnum() else " " for c in text.casefold().replace("&", " and "))
    words = tuple(spaced.split())
    kept = tuple(w for w in words if w not in DEPARTMENT_WORDS)
    while kept[:1] in (("the",), ("of",)):  # "the People team", "Department of Finance"
        kept = kept[1:]
    return kept or words


def same_department(a: str, b: str) -> str:
    """Which rule makes `a` and `b` one department, or "" (different, or either not given)."""
    if not _norm(a) or not _norm(b):
        return ""
    if _norm(a) == _norm(b):
        return SAME_CASE
    wa, wb = department_words(a), department_words(b)
    if wa == wb:
        return SAME_WORDS
    short, long = sorted((wa, wb), key=len)
    if short and long[: len(short)] == short:
        return SAME_START
    return ""


def _words(items: Iterable[str]) -> str:
    names = sorted(items)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _gap_fits(gap: int, criteria: Criteria) -> bool:
    return criteria.gap_min <= gap <= criteria.gap_max


def breakdown(junior: Person, senior: Person, criteria: Criteria) -> Score:
    """The pair's score criterion by criterion, with plain words for each part."""
    parts: dict[str, float] = {}
    notes: dict[str, str] = {}

    j_gives = junior.teaches & senior.learns
    s_gives = senior.teaches & junior.learns
    wanted = len(junior.learns) + len(senior.learns)
    parts["overlap"] = criteria.overlap * (
        (len(j_gives) + len(s_gives)) / wanted if wanted else 0.0
    )
    said = []
    if j_gives:
        said.append(f"the junior teaches {_words(j_gives)}, which the senior wants to learn")
    if s_gives:
        said.append(f"the senior teaches {_words(s_gives)}, which the junior wants to learn")
    notes["overlap"] = (
        "; ".join(said)
        + f" ({len(j_gives) + len(s_gives)} of {counted(wanted, 'wish', 'wishes')} met)"
        if said
        else "neither teaches what the other wants to learn"
    )

    shared = junior.availability & senior.availability
    fewest = min(len(junior.availability), len(senior.availability))
    parts["availability"] = criteria.availability * (len(shared) / fewest if fewest else 0.0)
    if shared:
        of = counted(fewest, "slot")
        # In words ("Tuesday afternoon"), as members and the lead read the slots.
        free = _words(slot_label(s) for s in shared)
        notes["availability"] = f"both free {free} ({len(shared)} of {of})"
    elif fewest:
        notes["availability"] = NO_COMMON_SLOT
    else:
        notes["availability"] = "availability not given"

    j_dept, s_dept = _norm(junior.department), _norm(senior.department)
    rule = same_department(junior.department, senior.department)
    differ = bool(j_dept and s_dept and not rule)
    parts["department"] = criteria.department * (1.0 if differ else 0.0)
    if differ:
        notes["department"] = f"different departments ({junior.department}, {senior.department})"
    elif rule and junior.department.strip() == senior.department.strip():
        notes["department"] = f"same department ({junior.department.strip()})"
    elif rule:
        notes["department"] = (
            f"same department ({junior.department.strip()}, {senior.department.strip()}: {rule})"
        )
    else:
        notes["department"] = "department not given"

    gap = senior.seniority - junior.seniority
    fits = _gap_fits(gap, criteria)
    parts["gap"] = criteria.gap * (1.0 if fits else 0.0)
    where = "within" if fits else "outside"
    notes["gap"] = (
        f"seniority gap {gap}, {where} the range {criteria.gap_min} to {criteria.gap_max}"
    )

    total = 0.0
    for name in CRITERIA:
        total += parts[name]
    return Score(total=total, parts=parts, notes=notes)


def refusal(junior: Person, senior: Person, edits: Edits) -> str | None:
    """Why this pair may not be proposed (a hard constraint), or None if it may."""
    if junior.id == senior.id:
        return "the same person"
    if senior.id in junior.reporting_line or junior.id in senior.reporting_line:
        return "in the same reporting line"
    if senior.id in junior.avoid:
        return "the junior asked not to be paired with the senior"
    if junior.id in senior.avoid:
        return "the senior asked not to be paired with the junior"
    if (junior.id, senior.id) in edits.forbidden:
        return "the lead forbade this pair"
    return None


# --- Vectorised scoring (no Python loop over pairs) -------------------------------------------


def _one_hot(groups: Sequence[frozenset[str]], vocab: dict[str, int]) -> NDArray[np.float64]:
    rows = [i for i, g in enumerate(groups) for item in g if item in vocab]
    cols = [vocab[item] for g in groups for item in g if item in vocab]
    m = coo_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(groups), max(len(vocab), 1))
    ).toarray()
    return np.minimum(m, 1.0)


def _shared(a: Sequence[frozenset[str]], b: Sequence[frozenset[str]]) -> NDArray[np.float64]:
    """Size of each intersection a[i] & b[j], as an len(a) x len(b) matrix."""
    vocab = {item: k for k, item in enumerate(sorted(set().union(*a, *b)))}
    if not vocab:
        return np.zeros((len(a), len(b)))
    return _one_hot(a, vocab) @ _one_hot(b, vocab).T


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.zeros(np.broadcast_shapes(num.shape, den.shape))
    np.divide(num, den, out=out, where=den > 0)
    return out


def score_matrix(
    juniors: Sequence[Person], seniors: Sequence[Person], criteria: Criteria
) -> NDArray[np.float64]:
    """Every pair's total score (juniors x seniors), the same numbers `breakdown` gives."""
    nj, ns = len(juniors), len(seniors)
    if not nj or not ns:
        return np.zeros((nj, ns))
    j_learns = np.array([len(p.learns) for p in juniors], dtype=float)
    s_learns = np.array([len(p.learns) for p in seniors], dtype=float)
    met = _shared([p.teaches for p in juniors], [p.learns for p in seniors]) + _shared(
        [p.learns for p in juniors], [p.teaches for p in seniors]
    )
    overlap = _ratio(met, j_learns[:, None] + s_learns[None, :])

    j_slots = np.array([len(p.availability) for p in juniors], dtype=float)
    s_slots = np.array([len(p.availability) for p in seniors], dtype=float)
    common = _shared([p.availability for p in juniors], [p.availability for p in seniors])
    availability = _ratio(common, np.minimum(j_slots[:, None], s_slots[None, :]))

    # Different departments, by `same_department` (not transitive: "People" is "People team"
    # and "People operations", which are not each other), over the distinct names (normalised:
    # as `same_department` reads them).
    codes: dict[str, int] = {}
    j_dept = np.array([codes.setdefault(_norm(p.department), len(codes)) for p in juniors],
                      dtype=int)  # fmt: skip
    s_dept = np.array([codes.setdefault(_norm(p.department), len(codes)) for p in seniors],
                      dtype=int)  # fmt: skip
    names = list(codes)
    differ = np.array(
        [[bool(a and b and not same_department(a, b)) for b in names] for a in names],
        dtype=float,
    ).reshape(len(names), len(names))
    department = differ[j_dept[:, None], s_dept[None, :]]

    gaps = (
        np.array([p.seniority for p in seniors])[None, :]
        - np.array([p.seniority for p in juniors])[:, None]
    )
    gap = ((gaps >= criteria.gap_min) & (gaps <= criteria.gap_max)).astype(float)

    return (
        criteria.overlap * overlap
        + criteria.availability * availability
        + criteria.department * department
        + criteria.gap * gap
    )


def refused_matrix(
    juniors: Sequence[Person], seniors: Sequence[Person], edits: Edits
) -> NDArray[np.bool_]:
    """True where `refusal` would give a reason (juniors x seniors)."""
    refused = np.zeros((len(juniors), len(seniors)), dtype=bool)
    j_at = {p.id: i for i, p in enumerate(juniors)}
    s_at = {p.id: k for k, p in enumerate(seniors)}
    for i, p in enumerate(juniors):
        for other in p.avoid | p.reporting_line | {p.id}:
            if other in s_at:
                refused[i, s_at[other]] = True
    for k, p in enumerate(seniors):
        for other in p.avoid | p.reporting_line:
            if other in j_at:
                refused[j_at[other], k] = True
    for j_id, s_id in edits.forbidden:
        if j_id in j_at and s_id in s_at:
            refused[j_at[j_id], s_at[s_id]] = True
    return refused


# --- The assignment ---------------------------------------------------------------------------


def _assign(
    scores: NDArray[np.float64],
    allowed: NDArray[np.bool_],
    j_cap: NDArray[np.int_],
    s_cap: NDArray[np.int_],
) -> list[tuple[int, int]]:
    """The allowed pairs (row, col) with the largest total, each side within its capacity and no
    pair twice. Scores are >= 0, so a person may stay unmatched at no cost."""
    j_rows = np.repeat(np.arange(len(j_cap)), j_cap)
    s_cols = np.repeat(np.arange(len(s_cap)), s_cap)
    if not len(j_rows) or not len(s_cols):
        return []
    if (j_cap > 1).any() and (s_cap > 1).any():
        # Repeating people on both sides could pair the same two twice: solve the exact problem.
        return _b_matching(scores, allowed, j_cap, s_cap)
    nr = len(j_rows)
    # A refused cell costs more than any allowed assignment can gain, and every row has a spare
    # "stay unmatched" column worth 0, so a refused cell can never win; it is dropped anyway.
    never = -(float(np.abs(scores).sum()) + 1.0) * 2.0
    block = np.where(allowed[np.ix_(j_rows, s_cols)], scores[np.ix_(j_rows, s_cols)], never)
    full = np.hstack([block, np.zeros((nr, nr))])
    rows, cols = linear_sum_assignment(full, maximize=True)
    chosen = [
        (int(j_rows[r]), int(s_cols[c]))
        for r, c in zip(rows, cols, strict=True)
        if c < len(s_cols) and allowed[j_rows[r], s_cols[c]]
    ]
    if len(set(chosen)) == len(chosen):  # always so when one side has capacity 1
        return chosen
    return _b_matching(scores, allowed, j_cap, s_cap)  # pragma: no cover


def _b_matching(
    scores: NDArray[np.float64],
    allowed: NDArray[np.bool_],
    j_cap: NDArray[np.int_],
    s_cap: NDArray[np.int_],
    keep: int = 12,
) -> list[tuple[int, int]]:
    """The best pairing when people on both sides take several partners, never the same two twice:
    a bipartite b-matching, whose LP has integral vertices, so the simplex answer is a matching.
    The LP is solved over each person's best few allowed partners first and
    widened until no pair left out could raise the total (every left-out pair's reduced cost,
    from the LP's duals, is <= 0), which proves the answer optimal over all pairs."""
    useful = allowed & (scores > 0)
    if not useful.any():
        return []
    nj, ns = scores.shape
    masked = np.where(useful, scores, -1.0)
    chosen = np.zeros_like(useful)
    top = min(keep, ns)
    rows = np.argpartition(-masked, top - 1, axis=1)[:, :top]
    chosen[np.arange(nj)[:, None], rows] = True
    top = min(keep, nj)
    cols = np.argpartition(-masked, top - 1, axis=0)[:top, :]
    chosen[cols, np.arange(ns)[None, :]] = True
    chosen &= useful
    b_ub = np.concatenate([j_cap, s_cap]).astype(float)
    while True:
        ii, kk = np.nonzero(chosen)
        n = len(ii)
        edges = np.arange(n)
        a = coo_matrix(
            (np.ones(2 * n), (np.concatenate([ii, nj + kk]), np.concatenate([edges, edges]))),
            shape=(nj + ns, n),
        ).tocsr()
        # The interior-point method (with HiGHS's crossover to a vertex) is the fastest here; the
        # simplex is the fallback should it ever stop inside the optimal face.
        for method in ("highs-ipm", "highs-ds"):
            result = linprog(-scores[ii, kk], A_ub=a, b_ub=b_ub, bounds=(0, 1), method=method)
            if result.status == 0 and np.all(np.abs(result.x - np.round(result.x)) <= 1e-6):
                break
        if result.status != 0:  # pragma: no cover - always feasible (x = 0) and bounded
            raise RuntimeError(f"pairing LP failed: {result.message}")
        duals = -np.asarray(result.ineqlin.marginals)
        reduced = scores - duals[:nj, None] - duals[None, nj:]
        better = useful & ~chosen & (reduced > 1e-9)
        if not better.any():
            break
        chosen |= better
    if np.any(np.abs(result.x - np.round(result.x)) > 1e-6):  # pragma: no cover - a TU matrix
        raise RuntimeError("pairing LP gave a fractional answer")  # (the simplex never does)
    take = result.x > 0.5
    return [(int(i), int(k)) for i, k in zip(ii[take], kk[take], strict=True)]


def propose(
    juniors: Sequence[Person],
    seniors: Sequence[Person],
    criteria: Criteria,
    edits: Edits = Edits(),
) -> Proposal:
    """The allowed pairing with the largest total score, the lead's fixed pairs included."""
    for group, side in ((juniors, "juniors"), (seniors, "seniors")):
        ids = [p.id for p in group]
        if len(set(ids)) != len(ids):
            raise ValueError(f"the {side} have repeated ids")
        if any(p.capacity < 0 for p in group):
            raise ValueError(f"a capacity among the {side} is negative")
    j_at = {p.id: i for i, p in enumerate(juniors)}
    s_at = {p.id: k for k, p in enumerate(seniors)}
    j_cap = np.array([p.capacity for p in juniors], dtype=int)
    s_cap = np.array([p.capacity for p in seniors], dtype=int)

    scores = score_matrix(juniors, seniors, criteria)
    allowed = ~refused_matrix(juniors, seniors, edits)

    placed: list[tuple[int, int]] = []
    refused_fixed: list[RefusedFix] = []
    for j_id, s_id in sorted(edits.fixed):
        if j_id not in j_at or s_id not in s_at:
            refused_fixed.append(RefusedFix(j_id, s_id, "not both in this group"))
            continue
        i, k = j_at[j_id], s_at[s_id]
        why = refusal(juniors[i], seniors[k], edits)
        if why is None and (j_cap[i] < 1 or s_cap[k] < 1):
            why = "one of them has no place left"
        if why is not None:
            refused_fixed.append(RefusedFix(j_id, s_id, why))
            continue
        placed.append((i, k))
        j_cap[i] -= 1
        s_cap[k] -= 1
    fixed_cells = set(placed)

    rest = allowed.copy()
    for i, k in placed:
        rest[i, k] = False  # never the same two twice
    solved = _assign(scores, rest, j_cap, s_cap)

    pairs = [
        ProposedPair(
            juniors[i].id,
            seniors[k].id,
            breakdown(juniors[i], seniors[k], criteria),
            fixed=(i, k) in fixed_cells,
        )
        for i, k in placed + sorted(solved)
    ]
    total = 0.0
    for pair in pairs:
        total += pair.score.total

    used_j = np.zeros(len(juniors), dtype=int)
    used_s = np.zeros(len(seniors), dtype=int)
    for i, k in placed + solved:
        used_j[i] += 1
        used_s[k] += 1
    unmatched = _unmatched(
        juniors, seniors, allowed, scores, used_j, used_s, j_places=int(j_cap.sum()) + len(placed),
        s_places=int(s_cap.sum()) + len(placed), edits=edits,
    )  # fmt: skip
    return Proposal(pairs=pairs, unmatched=unmatched, total=total, refused_fixed=refused_fixed)


def _unmatched(
    juniors: Sequence[Person],
    seniors: Sequence[Person],
    allowed: NDArray[np.bool_],
    scores: NDArray[np.float64],
    used_j: NDArray[np.int_],
    used_s: NDArray[np.int_],
    *,
    j_places: int,
    s_places: int,
    edits: Edits,
) -> list[Unmatched]:
    out: list[Unmatched] = []
    sides = (
        (juniors, seniors, allowed, scores, used_j, used_s, JUNIOR, "seniors", j_places, s_places),
        (seniors, juniors, allowed.T, scores.T, used_s, used_j, SENIOR, "juniors", s_places,
         j_places),
    )  # fmt: skip
    for group, others, ok, sc, used, used_other, side, other_name, mine, theirs in sides:
        for i, person in enumerate(group):
            if used[i]:
                continue
            if person.capacity < 1:
                reason = "capacity is 0"
            elif not ok[i].any():
                reason = "no allowed partner: " + _refusal_summary(person, others, side, edits)
            else:
                free = ok[i] & (used_other < np.array([p.capacity for p in others], dtype=int))
                if mine > theirs:
                    reason = (
                        f"more {side}s than {other_name[:-1]} places "
                        f"({counted(mine, side + ' place')}, "
                        f"{counted(theirs, other_name[:-1] + ' place')})"
                    )
                elif free.any() and not (sc[i][free] > 0).any():
                    reason = "the allowed partners with places left score nothing with this person"
                else:
                    reason = (
                        "all allowed partners' places are taken by pairs that give a higher "
                        "total (or that the lead fixed)"
                    )
            out.append(Unmatched(person.id, side, reason))
    return out


def _refusal_summary(person: Person, others: Sequence[Person], side: str, edits: Edits) -> str:
    if not others:
        return "nobody on the other side"
    counts: dict[str, int] = {}
    for other in others:
        j, s = (person, other) if side == JUNIOR else (other, person)
        why = refusal(j, s, edits) or "allowed"
        counts[why] = counts.get(why, 0) + 1
    return "; ".join(f"{why} ({n})" for why, n in sorted(counts.items()))


# --- JSON in and out (the CLI and the worker) --------------------------------------------------


def _strings(value: object, name: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of strings")
    return frozenset(value)


def _ids(value: object, name: str) -> frozenset[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ValueError(f"{name} must be a list of whole numbers")
    return frozenset(value)


def _int(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number")
    return value


def _person(raw: object, at: int) -> Person:
    if not isinstance(raw, dict):
        raise ValueError(f"people[{at}] must be an object")
    where = f"people[{at}]"
    side = raw.get("side")
    if side not in (JUNIOR, SENIOR):
        raise ValueError(f'{where}.side must be "junior" or "senior"')
    department = raw.get("department", "")
    if not isinstance(department, str):
        raise ValueError(f"{where}.department must be a string")
    return Person(
        id=_int(raw.get("id"), f"{where}.id"),
        side=side,
        department=department,
        seniority=_int(raw.get("seniority", 0), f"{where}.seniority"),
        teaches=_strings(raw.get("teaches", []), f"{where}.teaches"),
        learns=_strings(raw.get("learns", []), f"{where}.learns"),
        availability=_strings(raw.get("availability", []), f"{where}.availability"),
        avoid=_ids(raw.get("avoid", []), f"{where}.avoid"),
        reporting_line=_ids(raw.get("reporting_line", []), f"{where}.reporting_line"),
        capacity=_int(raw.get("capacity", 1), f"{where}.capacity"),
    )


def _pairs(value: object, name: str) -> frozenset[tuple[int, int]]:
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list of [junior_id, senior_id]")
    out = set()
    for item in value:
        if not isinstance(item, list) or len(item) != 2:
            raise ValueError(f"{name} must be a list of [junior_id, senior_id]")
        out.add((_int(item[0], name), _int(item[1], name)))
    return frozenset(out)


def problem_from_dict(
    data: object,
) -> tuple[list[Person], list[Person], Criteria, Edits]:
    """Read {"people": [...], "criteria": {...}, "edits": {"fixed": [...], "forbidden": [...]}}.

    Raises ValueError with a plain message on bad input."""
    if not isinstance(data, dict):
        raise ValueError("the file must hold a JSON object")
    people = data.get("people")
    if not isinstance(people, list):
        raise ValueError('"people" must be a list')
    persons = [_person(raw, at) for at, raw in enumerate(people)]
    raw_criteria = data.get("criteria", {})
    if not isinstance(raw_criteria, dict):
        raise ValueError('"criteria" must be an object')
    values: dict[str, float | int] = {}
    for name, default in Criteria().__dict__.items():
        value = raw_criteria.get(name, default)
        if isinstance(default, int):
            values[name] = _int(value, f"criteria.{name}")
        elif isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            values[name] = float(value)
        else:
            raise ValueError(f"criteria.{name} must be a number >= 0")
    unknown = set(raw_criteria) - set(values)
    if unknown:
        raise ValueError(f"unknown criteria: {', '.join(sorted(unknown))}")
    raw_edits = data.get("edits", {})
    if not isinstance(raw_edits, dict):
        raise ValueError('"edits" must be an object')
    edits = Edits(
        fixed=_pairs(raw_edits.get("fixed", []), "edits.fixed"),
        forbidden=_pairs(raw_edits.get("forbidden", []), "edits.forbidden"),
    )
    juniors = [p for p in persons if p.side == JUNIOR]
    seniors = [p for p in persons if p.side == SENIOR]
    return juniors, seniors, Criteria(**values), edits  # type: ignore[arg-type]


def proposal_to_dict(proposal: Proposal) -> dict[str, object]:
    return {
        "total": proposal.total,
        "pairs": [
            {
                "junior_id": p.junior_id,
                "senior_id": p.senior_id,
                "fixed": p.fixed,
                "score": {"total": p.score.total, "parts": p.score.parts, "notes": p.score.notes},
            }
            for p in proposal.pairs
        ],
        "unmatched": [
            {"person_id": u.person_id, "side": u.side, "reason": u.reason}
            for u in proposal.unmatched
        ],
        "refused_fixed": [
            {"junior_id": r.junior_id, "senior_id": r.senior_id, "reason": r.reason}
            for r in proposal.refused_fixed
        ],
    }
