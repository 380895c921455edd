"""Candor's moderation: the classifier pipeline and the worker that runs it.

Only `moderation.cues`, `moderation.signals` and `moderation.policy` are pure Python and may be
imported by the web process; everything that loads a model (torch) lives in the other modules
and is imported only by the worker and the `candor moderation` commands.
"""
