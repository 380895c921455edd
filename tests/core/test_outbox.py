"""Mail leaves the request: requests queue it in the outbox; the worker delivers it by SMTP
after commit, retries failures, and keeps it when no server is configured."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage

import pytest
from pydantic import SecretStr
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.core.db import Database, utcnow
from forum.core.outbox import MailStatus, OutboxMessage, deliver_due, queue_mail, retry_delay
from forum.core.settings import Settings


class FakeSMTP:
    sent: list[EmailMessage] = []
    fail = False

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port = host, port

    def __enter__(self) -> FakeSMTP:
        if FakeSMTP.fail:
            raise ConnectionRefusedError("no SMTP server here")
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def starttls(self) -> None:
        pass

    def login(self, user: str, password: str) -> None:
        assert (user, password) == ("mailer", "s3cret")

    def send_message(self, message: EmailMessage) -> None:
        FakeSMTP.sent.append(message)


@pytest.fixture
def fake_smtp(monkeypatch: pytest.MonkeyPatch) -> type[FakeSMTP]:
    FakeSMTP.sent = []
    FakeSMTP.fail = False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    return FakeSMTP


def _smtp(settings: Settings, **extra: object) -> Settings:
    values: dict[str, object] = {"smtp_host": "mail.local", **extra}
    return settings.model_copy(update=values)


async def _queue(database: Database, to: str = "a@example.org") -> int:
    async with database.sessionmaker() as session:
        record = queue_mail(session, to, "Hello", "Body text")
        await session.commit()
        return record.id


async def _record(database: Database, message_id: int) -> OutboxMessage:
    async with database.sessionmaker() as session:
        record = await session.get(OutboxMessage, message_id)
        assert record is not None
        return record


async def test_the_worker_delivers_queued_mail_by_smtp(
    fresh_database: Database, settings: Settings, fake_smtp: type[FakeSMTP]
) -> None:
    message_id = await _queue(fresh_database)
    smtp = _smtp(settings, smtp_user="mailer", smtp_password=SecretStr("s3cret"))
    assert await deliver_due(fresh_database, smtp) == 1
    record = await _record(fresh_database, message_id)
    assert record.status == MailStatus.sent and record.sent_at is not None
    assert record.attempts == 1 and record.error == ""
    assert fake_smtp.sent[0]["To"] == "a@example.org"
    assert fake_smtp.sent[0].get_content().strip() == "Body text"
    assert await deliver_due(fresh_database, smtp) == 0  # sent once, never again


async def test_queued_mail_is_not_sent_inside_the_request(
    db: AsyncSession, settings: Settings, fake_smtp: type[FakeSMTP]
) -> None:
    record = queue_mail(db, "a@example.org", "Hello", "Body")
    await db.flush()
    assert record.status == MailStatus.queued and fake_smtp.sent == []


async def test_a_failed_delivery_is_retried_later(
    fresh_database: Database, settings: Settings, fake_smtp: type[FakeSMTP]
) -> None:
    message_id = await _queue(fresh_database)
    fake_smtp.fail = True
    assert await deliver_due(fresh_database, _smtp(settings)) == 1
    record = await _record(fresh_database, message_id)
    assert record.status == MailStatus.queued and record.attempts == 1
    assert "no SMTP server" in record.error
    assert record.next_attempt_at is not None and record.next_attempt_at > utcnow()
    assert await deliver_due(fresh_database, _smtp(settings)) == 0  # not due yet


async def test_delivery_gives_up_after_the_last_attempt(
    fresh_database: Database, settings: Settings, fake_smtp: type[FakeSMTP]
) -> None:
    message_id = await _queue(fresh_database)
    fake_smtp.fail = True
    smtp = _smtp(settings, mail_max_attempts=2)
    for _ in range(2):
        async with fresh_database.sessionmaker() as session:  # make it due again
            await session.execute(
                update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
            await session.commit()
        assert await deliver_due(fresh_database, smtp) == 1
    record = await _record(fresh_database, message_id)
    assert record.status == MailStatus.failed and record.attempts == 2


async def test_without_smtp_mail_is_kept_in_the_outbox(
    fresh_database: Database, settings: Settings, fake_smtp: type[FakeSMTP]
) -> None:
    message_id = await _queue(fresh_database, "b@example.org")
    assert await deliver_due(fresh_database, settings) == 1
    record = await _record(fresh_database, message_id)
    assert record.status == MailStatus.kept and record.sent_at is None and fake_smtp.sent == []


def test_retries_back_off_to_an_hour() -> None:
    delays = [retry_delay(n).total_seconds() for n in range(1, 10)]
    assert delays[:4] == [30, 60, 120, 240] and delays[-1] == 3600


async def test_a_secret_is_erased_once_the_mail_is_sent(
    fresh_database: Database, settings: Settings, fake_smtp: type[FakeSMTP]
) -> None:
    async with fresh_database.sessionmaker() as session:
        record = queue_mail(
            session, "c@example.org", "Reset", "Link: /password/reset/SECRET", redacted="Link: -"
        )
        await session.commit()
    stored = await _record(fresh_database, record.id)
    assert stored.body == "Link: -" and stored.secret_body == "Link: /password/reset/SECRET"
    assert await deliver_due(fresh_database, _smtp(settings)) == 1
    assert "SECRET" in fake_smtp.sent[0].get_content()  # the member gets the link
    stored = await _record(fresh_database, record.id)
    assert stored.secret_body is None and "SECRET" not in stored.body


async def test_without_smtp_a_secret_goes_to_the_log_not_the_outbox(
    fresh_database: Database,
    settings: Settings,
    fake_smtp: type[FakeSMTP],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with fresh_database.sessionmaker() as session:
        record = queue_mail(session, "d@example.org", "Reset", "/password/reset/S2", redacted="-")
        await session.commit()
    with caplog.at_level("INFO", logger="candor.mail"):
        await deliver_due(fresh_database, settings)
    assert "/password/reset/S2" in caplog.text
    stored = await _record(fresh_database, record.id)
    assert stored.status == MailStatus.kept and stored.secret_body is None
