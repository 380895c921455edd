"""Atom feeds of the board's public content: /latest.atom, each category's, each thread's."""
