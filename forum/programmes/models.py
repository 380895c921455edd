"""Mentoring programmes (issue #18): a programme run by its lead, members' applications with
their pairing profiles, training acknowledgements, pairing jobs and their proposals, the
published pairs (each with a private conversation) and the check-ins.

Lists the lead sets (topics, availability slots) and a member's lists (what they teach and
learn, slots, people to avoid, their reporting line) are stored one item a line."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from forum.core.db import Base, utcnow


class Kind(StrEnum):
    reverse = "reverse"  # a junior mentors a senior
    traditional = "traditional"  # a senior mentors a junior
    peer = "peer"  # members apply on both sides


class Side(StrEnum):
    junior = "junior"
    senior = "senior"


class ApplicationStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    withdrawn = "withdrawn"  # by the member: before pairing, or by leaving after it


class ProgrammeStatus(StrEnum):
    # Created from the form: seen by its lead and administrators only, taking no applications
    # until the lead opens it (a probe's programme took applications half-configured).
    draft = "draft"
    open = "open"  # taking applications
    published = "published"  # pairs published, running
    closed = "closed"  # ended by the lead: check-ins stop, the closing survey is asked


class PairStatus(StrEnum):
    active = "active"
    ended = "ended"  # a partner left, or the lead changed the pair after a report


# Closing-survey answers are stored as check-in answers of this round (rounds count from 1).
CLOSING_ROUND = 0


class JobStatus(StrEnum):
    queued = "queued"
    done = "done"
    failed = "failed"


class Programme(Base):
    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default=Kind.reverse.value)
    purpose: Mapped[str] = mapped_column(Text, default="")
    junior_learns: Mapped[str] = mapped_column(Text, default="")
    senior_learns: Mapped[str] = mapped_column(Text, default="")
    # How results will be evaluated: the measures and when.
    evaluation: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    pilot_size: Mapped[int] = mapped_column(Integer, default=8)
    ground_rules: Mapped[str] = mapped_column(Text, default="")
    # Ids of the board's articles both sides must read and acknowledge, one a line.
    training: Mapped[str] = mapped_column(Text, default="")
    # The lead's lists: topics members teach and learn, availability slots.
    topics: Mapped[str] = mapped_column(Text, default="")
    slots: Mapped[str] = mapped_column(Text, default="")
    # Pairing criteria (JSON: weights, the seniority gap range) and the lead's edits (JSON:
    # fixed and forbidden pairs of user ids, junior first).
    criteria: Mapped[str] = mapped_column(Text, default="{}")
    edits: Mapped[str] = mapped_column(Text, default="{}")
    checkin_days: Mapped[int] = mapped_column(Integer, default=14)
    # Check-in round 1 opens one interval after the start (pairs meet before they are asked
    # how it is going). True: it opened at the start, the rule of the programmes that had
    # started when migration 0032 came (their answers are stored by those rounds' numbers).
    checkins_from_start: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    status: Mapped[str] = mapped_column(String(20), default=ProgrammeStatus.open.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class Application(Base):
    """A member's application to one side of a programme, with their pairing profile."""

    __tablename__ = "programme_applications"
    __table_args__ = (UniqueConstraint("programme_id", "user_id", "side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(10))
    job_title: Mapped[str] = mapped_column(String(100), default="")
    department: Mapped[str] = mapped_column(String(100), default="")
    seniority: Mapped[int] = mapped_column(Integer, default=0)
    teaches: Mapped[str] = mapped_column(Text, default="")
    learns: Mapped[str] = mapped_column(Text, default="")
    free_text: Mapped[str] = mapped_column(Text, default="")
    availability: Mapped[str] = mapped_column(Text, default="")
    avoid: Mapped[str] = mapped_column(Text, default="")  # usernames
    reporting_line: Mapped[str] = mapped_column(Text, default="")  # usernames
    status: Mapped[str] = mapped_column(String(20), default=ApplicationStatus.pending.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The lead's latest decision: when, and for a decline why in words (optional; read by the
    # applicant, the lead and administrators only). Cleared when the member applies again.
    decided_at: Mapped[datetime | None]
    decline_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")


class TrainingAck(Base):
    """A member read one of a programme's training articles (before applying)."""

    __tablename__ = "programme_training_acks"
    __table_args__ = (UniqueConstraint("programme_id", "user_id", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PairingJob(Base):
    """The lead asked for a proposal; the worker or `candor programmes pair` runs it and
    stores the proposal (JSON) here."""

    __tablename__ = "programme_pairing_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.queued.value, index=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    result: Mapped[str] = mapped_column(Text, default="")


class Pair(Base):
    """A published pair: junior and senior members, the score explained (JSON), and their
    private conversation (forum.messages)."""

    __tablename__ = "programme_pairs"
    __table_args__ = (UniqueConstraint("programme_id", "junior_id", "senior_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    junior_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    senior_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    score: Mapped[str] = mapped_column(Text, default="{}")
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    # The last check-in round both partners were reminded of (the worker's outbox mail).
    reminded_round: Mapped[int] = mapped_column(Integer, default=0)
    # Undated meetings counted by one click each before meetings took a date (migration 0023):
    # kept apart on the dashboard, never added to. Dated meetings are `Meeting` rows.
    meetings: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Ended: when, by whom (the partner who left, or the lead), and why in words.
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ended_reason: Mapped[str] = mapped_column(String(200), default="")


class Meeting(Base):
    """A meeting of a pair on a day, logged by one of the two (once a day per pair: both
    partners logging the same meeting count it once)."""

    __tablename__ = "programme_meetings"
    __table_args__ = (UniqueConstraint("pair_id", "met_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(
        ForeignKey("programme_pairs.id", ondelete="CASCADE"), index=True
    )
    met_on: Mapped[date] = mapped_column(Date)
    logged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CheckinQuestion(Base):
    __tablename__ = "programme_checkin_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    prompt: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10), default="scale")  # "scale" (1-5) or "text"
    side: Mapped[str] = mapped_column(String(10), default="both")  # "junior", "senior", "both"
    # The frankness question every junior mentor is asked (never removable).
    frankness: Mapped[bool] = mapped_column(default=False)
    # Asked in the closing survey only (not in the regular check-ins).
    closing: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CheckinAnswer(Base):
    """One participant's answer to one question in one check-in round; only the lead reads
    it (never the partner)."""

    __tablename__ = "programme_checkin_answers"
    __table_args__ = (UniqueConstraint("question_id", "user_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("programme_checkin_questions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(10))
    round: Mapped[int] = mapped_column(Integer)
    value: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DismissiveReport(Base):
    """A one-click "this felt dismissive" report in a pair space, as the lead sees it: which
    pair (never which partner reported), and how the lead followed it up."""

    __tablename__ = "programme_dismissive_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    pair_id: Mapped[int] = mapped_column(
        ForeignKey("programme_pairs.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "word" (a word with the partner who wrote it: either may report), "change" (the pair
    # ended), "moderators" (left to the moderators' decision), "none" (no action needed);
    # empty while open.
    follow_up: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    followed_up_at: Mapped[datetime | None]
    followed_up_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
