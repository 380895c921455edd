"""Outgoing mail: always written to the outbox table; sent by SMTP when a server is configured."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import OutboxMessage
from forum.db import utcnow
from forum.settings import Settings

log = logging.getLogger("candor.mail")


def _send_smtp(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user and settings.smtp_password:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        smtp.send_message(message)


async def send_mail(
    session: AsyncSession, settings: Settings, to: str, subject: str, body: str
) -> OutboxMessage:
    record = OutboxMessage(to_address=to, subject=subject, body=body)
    session.add(record)
    if not settings.smtp_host:
        log.info(
            "mail to %s (no SMTP server configured; kept in the outbox): %s\n%s", to, subject, body
        )
        return record
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        await asyncio.to_thread(_send_smtp, settings, message)
        record.sent_at = utcnow()
    except (OSError, smtplib.SMTPException) as exc:
        # The message stays in the outbox with its error; the request itself still succeeds.
        log.warning("SMTP delivery to %s failed: %s", to, exc)
        record.error = str(exc)[:500]
    return record
