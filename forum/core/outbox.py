"""Outgoing mail leaves the request: a request writes the message to the outbox in its own
transaction (`queue_mail`), and the worker delivers it after commit (`deliver_due`), with
retries. A request never waits for a mail server, and a message is sent only if the request
that wrote it committed.

Each message is `queued` until delivered (`sent`), given up after `mail_max_attempts`
tries (`failed`, with the last error), or `kept` when no SMTP server is configured (admins
read it at /admin/outbox).

A message that carries a secret (a password reset link) is queued with a `redacted` text:
admins only ever see that, and the full text is erased as soon as the worker has handed it
to the mail server or given up; with no mail server, it goes to the worker's log instead
(the operator's console), never to the outbox page."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum

from sqlalchemy import Index, Integer, String, Text, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from forum.core.db import Base, Database, utcnow
from forum.core.settings import Settings

log = logging.getLogger("candor.mail")

# How long a worker may take to deliver what it claimed before another may try it.
CLAIM_SECONDS = 120


class MailStatus(StrEnum):
    queued = "queued"
    sent = "sent"
    failed = "failed"
    kept = "kept"


class OutboxMessage(Base):
    """Every e-mail Candor sends, kept so an admin can see what went out and what failed."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        # What one address got in the last hour (forum.notifications.fanout's allowance).
        Index("ix_outbox_to_address_created_at", "to_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # what admins see (redacted if it had a secret)
    # The text to send when it differs from `body` (it holds a secret); erased once handled.
    secret_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(
        String(20), default=MailStatus.queued.value, server_default=MailStatus.queued.value
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When a worker may (next) try to deliver it; also pushed ahead while one is trying.
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(Text, default="")
    # What sent it, where that matters: "notification" for forum.notifications' mail at once
    # (its hourly allowance counts only those: strangers' password-reset requests had used
    # up a member's allowance).
    kind: Mapped[str] = mapped_column(String(20), default="", server_default="")


def queue_mail(
    session: AsyncSession,
    to: str,
    subject: str,
    body: str,
    *,
    redacted: str | None = None,
    kind: str = "",
) -> OutboxMessage:
    """Write a message for the worker to deliver once this transaction commits. With
    `redacted`, `body` holds a secret: only the redacted text is ever shown."""
    record = OutboxMessage(
        to_address=to,
        subject=subject[:200],
        body=body if redacted is None else redacted,
        secret_body=None if redacted is None else body,
        status=MailStatus.queued.value,
        attempts=0,
        next_attempt_at=utcnow(),
        error="",
        kind=kind,
    )
    session.add(record)
    return record


def _send_smtp(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user and settings.smtp_password:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        smtp.send_message(message)


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, then 1, 2, 4 … minutes, at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class _Claimed:
    id: int
    to: str
    subject: str
    body: str  # the text to send
    attempts: int
    secret: bool


async def _claim(database: Database, limit: int) -> list[_Claimed]:
    now = utcnow()
    async with database.writing() as session:
        due = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == MailStatus.queued.value,
                or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if database.engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows = list((await session.scalars(due)).all())
        for row in rows:  # other workers leave it alone while this one tries
            row.next_attempt_at = now + timedelta(seconds=CLAIM_SECONDS)
        claimed = [
            _Claimed(
                r.id, r.to_address, r.subject, r.secret_body or r.body, r.attempts,
                r.secret_body is not None,
            )
            for r in rows
        ]  # fmt: skip
        await session.commit()
    return claimed


async def deliver_due(database: Database, settings: Settings, limit: int = 50) -> int:
    """Deliver queued messages whose time has come; the number handled. Runs in the worker,
    outside any request: the SMTP conversation holds no transaction open."""
    claimed = await _claim(database, limit)
    for message in claimed:
        status, error, sent_at = MailStatus.sent, "", None
        attempts = message.attempts + 1
        next_attempt: datetime | None = None
        if not settings.smtp_host:
            status, attempts = MailStatus.kept, message.attempts
            log.info(
                "mail to %s (no SMTP server configured; kept in the outbox): %s%s",
                message.to,
                message.subject,
                f"\n{message.body}" if message.secret else "",
            )
        else:
            email = EmailMessage()
            email["From"] = settings.mail_from
            email["To"] = message.to
            email["Subject"] = message.subject
            email.set_content(message.body)
            try:
                await asyncio.to_thread(_send_smtp, settings, email)
                sent_at = utcnow()
            except (OSError, smtplib.SMTPException) as exc:
                error = str(exc)[:500] or type(exc).__name__
                if attempts >= settings.mail_max_attempts:
                    status = MailStatus.failed
                    log.error("gave up delivering mail %s to %s: %s", message.id, message.to, exc)
                else:
                    status = MailStatus.queued
                    next_attempt = utcnow() + retry_delay(attempts)
                    log.warning("SMTP delivery to %s failed (will retry): %s", message.to, exc)
        # A secret is erased once handled: sent, given up, or logged for want of a server.
        keep_secret = message.secret and status is MailStatus.queued
        async with database.writing() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id)
                .values(
                    secret_body=message.body if keep_secret else None,
                    status=status.value,
                    attempts=attempts,
                    sent_at=sent_at,
                    error=error,
                    next_attempt_at=next_attempt,
                )
            )
            await session.commit()
    return len(claimed)
