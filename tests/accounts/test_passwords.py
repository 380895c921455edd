"""Hashing and checking passwords leave the event loop free for other requests."""

from __future__ import annotations

import asyncio
import threading

from forum.accounts.passwords import CONCURRENT, Passwords
from tests.conftest import make_settings


async def test_checks_run_off_the_event_loop_a_few_at_a_time() -> None:
    passwords = Passwords(make_settings("sqlite+aiosqlite:///:memory:"))
    stored = await passwords.hash("correct horse")
    loop_thread = threading.get_ident()
    seen: list[int] = []
    running, most = 0, 0
    lock = threading.Lock()
    real = passwords._verify

    def spy(password_hash: str, password: str) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            seen.append(threading.get_ident())
        try:
            threading.Event().wait(0.05)  # long enough for the others to pile up
            return real(password_hash, password)
        finally:
            with lock:
                running -= 1

    passwords._verify = spy  # type: ignore[method-assign]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    tick = asyncio.create_task(ticker())
    results = await asyncio.gather(
        *(passwords.verify(stored, "correct horse" if n % 2 else "wrong") for n in range(6))
    )
    tick.cancel()
    assert results == [False, True] * 3
    assert loop_thread not in seen  # never on the loop's thread ...
    assert ticks > 6  # ... which kept serving others meanwhile
    assert most == CONCURRENT  # and never more than a few at once (memory)
    await passwords.dummy_verify("anything")  # an unknown user's check costs the same
