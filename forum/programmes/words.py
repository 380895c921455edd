"""Counts in words: "1 pair", "3 pairs". Templates use the `count` macro of
templates/programmes/_words.html, which follows the same rule."""

from __future__ import annotations


def count(n: int, one: str, many: str | None = None) -> str:
    """`n` with the noun in the singular for exactly one, else in the plural (`many`, or
    `one` with an "s")."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
