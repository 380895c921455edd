"""The demo board and the command-line tool."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import func, select

from forum.accounts.models import PointsEntry, User
from forum.accounts.services import load_ranks
from forum.app import create_app
from forum.board.models import Category, Post, Thread
from forum.core.db import Database
from forum.demo import populate
from forum.demo.content import DEMO_PASSWORD, MEMBERS, THREADS
from tests.conftest import make_settings


async def test_demo_board_is_complete_and_every_page_renders(
    fresh_url: str, fresh_database: Database
) -> None:
    settings = make_settings(fresh_url)
    async with fresh_database.sessionmaker() as session:
        await populate(session, settings)
        await session.commit()
    async with fresh_database.sessionmaker() as session:
        names = set((await session.scalars(select(Category.name))).all())
        assert {
            "Human Resources",
            "Employee Relations",
            "Mentoring",
            "Reverse Mentoring",
            "Coaching",
            "Learning & Development",
        } <= names
        assert await session.scalar(select(func.count(User.id))) == len(MEMBERS) >= 12
        assert await session.scalar(select(func.count(Thread.id))) == len(THREADS)
        ranks = await load_ranks(session)
        users = (await session.scalars(select(User))).all()
        shown = {ranks.rank_for(u.points, u.special_rank_id) for u in users}
        assert {"Newcomer", "Executive", "Director", "Moderator"} <= shown
        for user in users:
            live = await session.scalar(
                select(func.count(Post.id)).where(Post.author_id == user.id)
            )
            ledger = await session.scalar(
                select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(
                    PointsEntry.user_id == user.id
                )
            )
            assert user.post_count == live and user.points == ledger
        thread_ids = (await session.scalars(select(Thread.id))).all()
    app = create_app(settings, fresh_database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        home = await c.get("/")
        slugs = set(re.findall(r'href="/c/([a-z0-9-]+)"', home.text))
        for slug in slugs:
            assert (await c.get(f"/c/{slug}")).status_code == 200
        for thread_id in thread_ids:
            page = await c.get(f"/t/{thread_id}")
            assert page.status_code == 200 and "author-panel" in page.text
        token = re.search(r'name="csrftoken" value="([^"]+)"', (await c.get("/login")).text).group(
            1
        )  # type: ignore[union-attr]
        r = await c.post(
            "/login", data={"username": "ada_admin", "password": DEMO_PASSWORD, "csrftoken": token}
        )
        assert r.status_code == 303


def test_cli_upgrade_demo_and_user_create(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "PATH": "/usr/bin:/bin",
        "CANDOR_ARGON2_TIME_COST": "1",
        "CANDOR_ARGON2_MEMORY_COST": "1024",
    }
    candor = [sys.executable, "-m", "forum.cli"]

    def run(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*candor, *args],
            env=env,
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert run("db", "upgrade").returncode == 0
    assert run("db", "check").returncode == 0
    first = run("demo", "--if-empty")
    assert first.returncode == 0 and "demo content loaded" in first.stdout
    second = run("demo", "--if-empty")
    assert second.returncode == 0 and "skipped" in second.stdout
    password = tmp_path / "pw"
    password.write_text("a strong password\n")
    made = run(
        "user",
        "create",
        "newmod",
        "--email",
        "newmod@example.org",
        "--password-file",
        str(password),
        "--role",
        "moderator",
    )
    assert made.returncode == 0, made.stderr
    dup = run(
        "user", "create", "NEWMOD", "--email", "x@example.org", "--password-file", str(password)
    )
    assert dup.returncode == 2 and "taken" in dup.stderr
    weak = run(
        "user",
        "create",
        "weakling",
        "--email",
        "w@example.org",
        "--password-file",
        "-",
        input="short\n",
    )
    assert weak.returncode == 2 and "at least 10" in weak.stderr
    bad_role = run(
        "user",
        "create",
        "rolly",
        "--email",
        "r@example.org",
        "--password-file",
        str(password),
        "--role",
        "king",
    )
    assert bad_role.returncode == 2
    # An existing account's role changes from the command line (the first administrator of a
    # board registered on the web had no way to become one), and the log says so.
    promoted = run("user", "role", "newmod", "admin")
    assert promoted.returncode == 0 and "Moderator → Administrator" in promoted.stdout
    lead = run("user", "role", "weakling", "programme_lead")
    assert lead.returncode == 2 and "No member is called 'weakling'" in lead.stderr
    unknown = run("user", "role", "newmod", "king")
    assert unknown.returncode == 2 and "programme_lead" in unknown.stderr
    assert "programme_lead" in run("user", "create", "--help").stdout

    async def logged() -> tuple[str | None, str | None]:
        from sqlalchemy import select

        from forum.accounts.models import Rank, User
        from forum.core.audit import AuditEntry
        from forum.core.db import connect

        database = connect(env["DATABASE_URL"])
        try:
            async with database.sessionmaker() as session:
                entry = await session.scalar(
                    select(AuditEntry).where(AuditEntry.action == "set_role")
                )
                rank = await session.scalar(
                    select(Rank.name).join(User, User.special_rank_id == Rank.id)
                    .where(User.username == "newmod")
                )  # fmt: skip
                return (entry.detail if entry else None), rank
        finally:
            await database.dispose()

    detail, rank = asyncio.run(logged())
    assert detail == "Moderator → Administrator (from the command line)"
    assert rank == "Administrator"
    assert run("db", "recount").returncode == 0
