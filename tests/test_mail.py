"""Mail goes by SMTP when a server is configured, and always lands in the outbox."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from forum.mail import send_mail
from forum.settings import Settings


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


async def test_smtp_delivery_and_outbox(
    db: AsyncSession, settings: Settings, fake_smtp: type[FakeSMTP]
) -> None:
    smtp = settings.model_copy(
        update={
            "smtp_host": "mail.local",
            "smtp_user": "mailer",
            "smtp_password": SecretStr("s3cret"),
        }
    )
    record = await send_mail(db, smtp, "a@example.org", "Hello", "Body text")
    await db.flush()
    assert record.sent_at is not None and record.error == ""
    assert fake_smtp.sent[0]["To"] == "a@example.org"
    assert fake_smtp.sent[0].get_content().strip() == "Body text"


async def test_smtp_failure_is_recorded_not_raised(
    db: AsyncSession, settings: Settings, fake_smtp: type[FakeSMTP]
) -> None:
    fake_smtp.fail = True
    smtp = settings.model_copy(update={"smtp_host": "mail.local"})
    record = await send_mail(db, smtp, "a@example.org", "Hello", "Body")
    await db.flush()
    assert record.sent_at is None and "no SMTP server" in record.error


async def test_without_smtp_mail_stays_in_outbox(db: AsyncSession, settings: Settings) -> None:
    record = await send_mail(db, settings, "b@example.org", "Hi", "Body")
    await db.flush()
    assert record.id is not None and record.sent_at is None and record.error == ""
