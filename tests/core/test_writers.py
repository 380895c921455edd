"""SQLite writers take turns (forum.core.writers): in arrival order within a process, behind an
flock across processes; the queue never blocks a writer for good."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from forum.core.db import connect
from forum.core.writers import WriterQueue


@pytest.fixture
def held_elsewhere(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The lock file, locked through a descriptor of its own: flock treats that as another
    process holding the turn."""
    path = str(tmp_path / "board.db-writers")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    yield path, fd
    os.close(fd)


def _free(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True


async def _freed(fd: int, seconds: float = 2.0) -> bool:
    """Whether the lock is free within `seconds` (a waiting thread may still take and return it)."""
    for _ in range(int(seconds / 0.02)):
        if _free(fd):
            return True
        await asyncio.sleep(0.02)
    return False


async def test_writers_of_one_process_go_one_at_a_time_in_arrival_order(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "board.db-writers"))
    inside, order = 0, []

    async def writer(n: int) -> None:
        nonlocal inside
        async with queue.turn():
            inside += 1
            assert inside == 1
            order.append(n)
            await asyncio.sleep(0.002)
            inside -= 1

    tasks = []
    for n in range(12):
        tasks.append(asyncio.create_task(writer(n)))
        await asyncio.sleep(0)  # each arrives before the next
    await asyncio.gather(*tasks)
    assert order == list(range(12))
    queue.close()


async def test_a_writer_waits_while_another_process_has_the_turn(
    held_elsewhere: tuple[str, int],
) -> None:
    path, fd = held_elsewhere
    queue = WriterQueue(path)
    entered = asyncio.Event()

    async def writer() -> None:
        async with queue.turn():
            entered.set()
            assert not _free(fd)  # this process holds it now
            await asyncio.sleep(0.01)

    task = asyncio.create_task(writer())
    await asyncio.sleep(0.2)
    assert not entered.is_set()
    fcntl.flock(fd, fcntl.LOCK_UN)
    await asyncio.wait_for(task, 5)
    assert entered.is_set() and _free(fd)  # given back after the turn
    queue.close()


async def test_a_turn_held_too_long_elsewhere_does_not_block_for_good(
    held_elsewhere: tuple[str, int],
) -> None:
    path, fd = held_elsewhere
    queue = WriterQueue(path, patience=0.2)
    async with asyncio.timeout(5):
        async with queue.turn():  # goes ahead after 0.2 s; SQLite's lock still guards data
            pass
    fcntl.flock(fd, fcntl.LOCK_UN)
    # The thread still waiting for the file lock got it after all, and gave it back.
    assert await _freed(fd)
    async with asyncio.timeout(5), queue.turn():
        pass
    queue.close()


async def test_a_stuck_writer_of_this_process_does_not_block_the_others_for_good(
    tmp_path: Path,
) -> None:
    queue = WriterQueue(str(tmp_path / "board.db-writers"), patience=0.2)
    stuck = asyncio.Event()

    async def hold() -> None:
        async with queue.turn():
            stuck.set()
            await asyncio.sleep(30)

    holder = asyncio.create_task(hold())
    await stuck.wait()
    async with asyncio.timeout(5), queue.turn():
        pass
    holder.cancel()
    with pytest.raises(asyncio.CancelledError):
        await holder
    async with asyncio.timeout(1), queue.turn():  # the stuck writer's turn was given back
        pass
    queue.close()


async def test_a_cancelled_waiter_gives_the_file_lock_back(
    held_elsewhere: tuple[str, int],
) -> None:
    path, fd = held_elsewhere
    queue = WriterQueue(path)

    async def writer() -> None:
        async with queue.turn():
            pass

    task = asyncio.create_task(writer())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    fcntl.flock(fd, fcntl.LOCK_UN)
    assert await _freed(fd)
    queue.close()


async def test_without_a_usable_lock_file_writers_still_take_turns(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "missing-dir" / "board.db-writers"))
    async with asyncio.timeout(5):
        async with queue.turn():
            pass
        async with queue.turn():
            pass
    assert not (tmp_path / "missing-dir").exists()


async def test_sqlite_databases_queue_writers_beside_the_file(tmp_path: Path) -> None:
    database = connect(f"sqlite+aiosqlite:///{tmp_path / 'board.db'}")
    async with database.writing() as session:
        assert session.in_transaction()
        assert (tmp_path / "board.db-writers").exists()
    await database.dispose()
