"""Pages of a list: which page is shown, how many there are, and which numbers to link."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Page:
    number: int
    count: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count

    @property
    def links(self) -> list[int | None]:
        """Page numbers to link: the first, the last and two either side of this one; None
        where a run is left out. (A loop over every page in the template cost a thousand-page
        thread a millisecond per render.)"""
        near = range(max(2, self.number - 2), min(self.count - 1, self.number + 2) + 1)
        shown = [1, *near, self.count] if self.count > 1 else [1]
        out: list[int | None] = []
        previous = 0
        for n in shown:
            if out and n - previous > 1:
                out.append(None)
            out.append(n)
            previous = n
        return out


def paginate(total: int, per_page: int, requested: int | None, last: bool = False) -> Page:
    count = max(1, math.ceil(total / per_page))
    number = count if last else (requested or 1)
    return Page(number=min(max(1, number), count), count=count, total=total)
