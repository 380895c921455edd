"""The demo board: categories, members, threads and articles written for Candor."""

from forum.demo.loader import load_demo, populate

__all__ = ["load_demo", "populate"]
