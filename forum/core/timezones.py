"""Times as a member reads them: in the time zone they chose (Settings), else UTC.

The database keeps every moment in UTC; only what a page prints moves. A zone is stored by its
IANA name ("Europe/London"); an empty name is UTC."""

from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, date, datetime, time, tzinfo
from importlib import resources
from typing import Any

# The names a member may pick: the regions' zones (not the old aliases such as "US/Eastern"
# or "Etc/GMT+5", whose signs read backwards).
_REGIONS = (
    "Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/",
    "Europe/", "Indian/", "Pacific/",
)  # fmt: skip


def _tzdata_text(name: str) -> str:
    try:
        return (resources.files("tzdata.zoneinfo") / name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return ""


@functools.cache
def _known() -> frozenset[str]:
    """Every zone of the regions, old names too (a browser may still send "Asia/Calcutta")."""
    return frozenset(n for n in zoneinfo.available_timezones() if n.startswith(_REGIONS))


@functools.cache
def zone_names() -> tuple[str, ...]:
    """The zones a member is offered, UTC first, the rest by name: each country's zones as the
    tz database lists them (zone.tab, zone1970.tab), without the old names that stand for
    them ("Asia/Calcutta" beside "Asia/Kolkata": 490 names had been listed)."""
    listed = {
        line.split("\t")[2]
        for table in ("zone.tab", "zone1970.tab")
        for line in _tzdata_text(table).splitlines()
        if line and not line.startswith("#") and line.count("\t") >= 2
    }
    names = sorted(n for n in _known() if n in listed) or sorted(_known())
    return ("UTC", *names)


@functools.cache
def _links() -> dict[str, str]:
    """Old name -> the zone it stands for (tzdata.zi's "L target name" lines)."""
    found = {}
    for line in _tzdata_text("tzdata.zi").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "L":
            found[parts[2]] = parts[1]
    return found


def valid(name: str) -> bool:
    return name == "UTC" or name in _known()


def canonical(name: str) -> str:
    """`name` as the list offers it: an old name as the zone it stands for."""
    if name in zone_names():
        return name
    target = _links().get(name, name)
    return target if target in _known() else name


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    if not name or name == "UTC" or not valid(name):
        return UTC
    return zoneinfo.ZoneInfo(name)


def zone_of(member: Any) -> str:
    """The member's zone name ("" for UTC, or when there is no member)."""
    return getattr(member, "time_zone", "") or ""


def local(value: datetime, name: str) -> datetime:
    """`value` (UTC, or naive meaning UTC) as the clock in zone `name` shows it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone(name))


def _abbreviation(moment: datetime) -> str:
    """ "UTC", "BST", "CET", "IST"; zones without a letter name as "UTC-03" or "UTC+05:45"."""
    if moment.tzinfo is UTC:
        return "UTC"
    label = moment.tzname() or ""
    if label[:1] in "+-" and label[1:].isdigit():
        hours, minutes = label[1:3], label[3:5]
        if hours == "00" and minutes in ("", "00"):
            return "UTC"  # ("+00": Antarctica/Troll in winter read "UTC+00")
        return f"UTC{label[0]}{hours}" + (f":{minutes}" if minutes and minutes != "00" else "")
    return label or "UTC"


def when(value: datetime | None, name: str = "") -> str:
    """A moment with date, time and zone: "07 Dec 2026, 18:05 CET"."""
    if value is None:
        return ""
    moment = local(value, name)
    return f"{moment:%d %b %Y, %H:%M} {_abbreviation(moment)}"


def day(value: date | datetime | None, name: str = "", fmt: str = "%d %b %Y") -> str:
    """A date; a moment is first moved to the zone (23:30 UTC is the next day in Tokyo)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value, name)
    return value.strftime(fmt)


def day_starts(value: date, name: str = "") -> datetime:
    """The UTC moment at which `value` begins on the clocks of zone `name` (a search "from"
    1 March in Tokyo starts at 15:00 UTC on 28 February)."""
    return datetime.combine(value, time(), _zone(name)).astimezone(UTC)
