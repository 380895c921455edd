"""Mentoring programmes: enrolment, pairing by compatibility, pair spaces, check-ins, evaluation.

`forum.programmes.pairing` is the pairing engine (numpy/scipy): the worker and the CLI use it;
the web process never imports it.
"""
