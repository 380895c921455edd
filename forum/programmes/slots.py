"""Availability slots in words. A lead lists a programme's slots one a line, often as short
codes ("mon-am", "tue-pm"): members and the lead read them as "Monday morning", "Tuesday
afternoon". The codes are what is stored and compared; anything else reads as typed."""

from __future__ import annotations

import re

DAYS = {
    "mon": "Monday", "tue": "Tuesday", "tues": "Tuesday", "wed": "Wednesday",
    "thu": "Thursday", "thur": "Thursday", "thurs": "Thursday", "fri": "Friday",
    "sat": "Saturday", "sun": "Sunday",
}  # fmt: skip
DAYS.update({name.lower(): name for name in DAYS.values()})
PARTS = {
    "am": "morning", "morning": "morning", "pm": "afternoon", "afternoon": "afternoon",
    "eve": "evening", "evening": "evening", "lunch": "lunchtime", "lunchtime": "lunchtime",
}  # fmt: skip
# The pairing's note on a pair whose members gave slots, none of them shared: the proposal and
# the publish confirmation warn of such pairs (they will have to find a time themselves).
NO_COMMON_SLOT = "no time slot in common"

_CODE = re.compile(r"([a-z]+)(?:[-_ ]([a-z]+))?")


def slot_label(slot: str) -> str:
    """ "mon-am" reads "Monday morning", "wed" "Wednesday"; any other slot reads as typed."""
    found = _CODE.fullmatch(slot.strip().lower())
    if found is None or found[1] not in DAYS:
        return slot
    day, part = DAYS[found[1]], found[2]
    if part is None:
        return day
    return f"{day} {PARTS[part]}" if part in PARTS else slot


def slot_labels(slots: list[str]) -> str:
    """Several slots in words, in a sentence: "Monday morning, Tuesday afternoon"."""
    return ", ".join(slot_label(s) for s in slots)


# The grid a lead ticks a programme's slots on: weekdays, mornings and afternoons.
GRID_DAYS = ["mon", "tue", "wed", "thu", "fri"]
GRID_PARTS = ["am", "pm"]
_PART_CODES = {"morning": "am", "afternoon": "pm", "evening": "eve", "lunchtime": "lunch"}


def slot_code(slot: str) -> str | None:
    """A slot as its stored code ("Monday morning", "MON-AM" and "mon-am" are "mon-am"), or
    None when it names no day (with a part of the day, if any) this module knows."""
    found = _CODE.fullmatch(slot.strip().lower())
    if found is None or found[1] not in DAYS:
        return None
    day = DAYS[found[1]][:3].lower()
    if found[2] is None:
        return day
    if found[2] not in PARTS:
        return None
    return f"{day}-{_PART_CODES[PARTS[found[2]]]}"


def grid() -> list[tuple[str, list[tuple[str, str]]]]:
    """The form's grid: each day in words, with its (code, part in words) cells."""
    return [(DAYS[d], [(f"{d}-{p}", PARTS[p].capitalize()) for p in GRID_PARTS]) for d in GRID_DAYS]
