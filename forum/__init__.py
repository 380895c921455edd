"""Candor: a discussion forum for mentoring and reverse-mentoring programmes."""
