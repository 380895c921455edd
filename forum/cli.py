"""The `candor` command-line tool."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging.config
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from forum.core.logs import log_config
from forum.core.settings import PROJECT_ROOT, Settings
from forum.programmes.cli import programmes_app
from moderation.cli import moderation_app, run_worker

app = typer.Typer(
    help="Candor: a forum for mentoring programmes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema and maintenance.", no_args_is_help=True)
ROLES_HELP = "member, editor, programme_lead, moderator or admin."
user_app = typer.Typer(help="Manage members.", no_args_is_help=True)
category_app = typer.Typer(
    help="The board's categories (also on the Admin page, /admin/categories).",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(category_app, name="category")
app.add_typer(moderation_app, name="moderation")
app.add_typer(programmes_app, name="programmes")


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    return config


def upgrade_database(url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), "head")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (creates the SQLite file if needed)."""
    settings = Settings()
    upgrade_database(settings.database_url)
    typer.echo("database is up to date")


@db_app.command("check")
def db_check() -> None:
    """Fail if the models and the migrations disagree."""
    from alembic import command

    command.check(alembic_config(Settings().database_url))


@db_app.command("recount")
def db_recount() -> None:
    """Recompute every member's points (from the ledger) and post count (from live posts),
    and every category's thread and post counts (from its live threads)."""
    from forum.accounts.services import recount_points
    from forum.board.categories import refresh_category_stats
    from forum.board.threads import recount_post_counts, recount_thread_posts
    from forum.core.db import connect

    async def run() -> int:
        database = connect(Settings().database_url)
        try:
            async with database.sessionmaker() as session, session.begin():
                await recount_thread_posts(session)
                await refresh_category_stats(session)
                await recount_post_counts(session)
                return await recount_points(session)
        finally:
            await database.dispose()

    typer.echo(f"recounted {asyncio.run(run())} members")


@user_app.command("create")
def user_create(
    username: str,
    email: Annotated[str, typer.Option(help="The member's e-mail address.")],
    password_file: Annotated[
        Path,
        typer.Option(
            "--password-file", help="A file whose first line is the password ('-' for stdin)."
        ),
    ],
    role: Annotated[str, typer.Option(help=ROLES_HELP)] = "member",
    location: Annotated[str, typer.Option(help="Shown on the member's posts.")] = "",
) -> None:
    """Create a member, editor, programme lead, moderator or admin."""
    from forum.accounts.passwords import Passwords
    from forum.accounts.services import AccountError, create_user
    from forum.core.db import connect

    raw = sys.stdin.read() if str(password_file) == "-" else password_file.read_text()
    password = raw.splitlines()[0] if raw.strip() else ""
    settings = Settings()

    async def run() -> None:
        database = connect(settings.database_url)
        try:
            async with database.sessionmaker() as session, session.begin():
                await create_user(
                    session,
                    Passwords(settings),
                    username=username,
                    email=email,
                    password=password,
                    role=role,
                    location=location,
                )
        finally:
            await database.dispose()

    try:
        asyncio.run(run())
    except AccountError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"created {role} {username}")


@user_app.command("role")
def user_role(
    username: str,
    role: Annotated[str, typer.Argument(help=ROLES_HELP)],
) -> None:
    """Change an existing member's role (an account registered on the web made administrator,
    a member made programme lead). Logged in the moderation log."""
    from forum.accounts.services import AccountError, find_user, set_role_from_the_command_line
    from forum.core.db import connect

    settings = Settings()

    async def run() -> str:
        database = connect(settings.database_url)
        try:
            async with database.sessionmaker() as session, session.begin():
                member = await find_user(session, username)
                if member is None:
                    raise AccountError("username", f"No member is called {username!r}.")
                return await set_role_from_the_command_line(session, member, role)
        finally:
            await database.dispose()

    try:
        change = asyncio.run(run())
    except AccountError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{username}: {change}")


@category_app.command("list")
def category_list() -> None:
    """Every category as the home page lists them: top-level ones with their sub-forums."""
    from forum.board.categories import category_tree
    from forum.core.db import connect

    async def run() -> list[str]:
        database = connect(Settings().database_url)
        try:
            async with database.sessionmaker() as session:
                lines = []
                for root in await category_tree(session):  # as a visitor: staff-only left out
                    for depth, node in [(0, root)] + [(1, child) for child in root.children]:
                        c = node.category
                        lines.append(
                            f"{'  ' * depth}{c.id:>4}  {c.name}  /c/{c.slug}  "
                            f"({node.total_threads} threads, {node.total_posts} posts)"
                        )
                return lines
        finally:
            await database.dispose()

    lines = asyncio.run(run())
    typer.echo("\n".join(lines) if lines else "no categories (visible to everyone) yet")


@category_app.command("add")
def category_add(
    name: str,
    parent: Annotated[
        str, typer.Option(help="The top-level category it goes under (its name or address).")
    ] = "",
    description: Annotated[str, typer.Option(help="One line under its name.")] = "",
    slug: Annotated[str, typer.Option(help="Its address, /c/SLUG (default: from the name).")] = "",
    position: Annotated[
        int | None, typer.Option(help="Its place among its siblings (default: last).")
    ] = None,
    qa: Annotated[bool, typer.Option("--qa", help="A Q&A category.")] = False,
    staff_only: Annotated[
        bool, typer.Option("--staff-only", help="Seen by moderators and administrators only.")
    ] = False,
) -> None:
    """Add a category, as the Admin page does (the audit log names no member for it)."""
    from types import SimpleNamespace

    from forum.admin.categories import CategoryError, CategoryForm, add_category, find_parent
    from forum.core.db import connect

    async def run() -> str:
        database = connect(Settings().database_url)
        try:
            async with database.sessionmaker() as session, session.begin():
                found = await find_parent(session, parent) if parent else None
                form = CategoryForm(
                    name=name, slug=slug, description=description,
                    parent_id=str(found.id) if found else "",
                    position="" if position is None else str(position),
                    is_qa=qa, staff_only=staff_only,
                )  # fmt: skip
                category = await add_category(session, SimpleNamespace(id=None), form)
                return f"added {category.name} at /c/{category.slug}" + (
                    f" under {found.name}" if found else ""
                )
        finally:
            await database.dispose()

    try:
        typer.echo(asyncio.run(run()))
    except CategoryError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None


@app.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if the board has categories.")
    ] = False,
) -> None:
    """Load the demo board: categories, members and mentoring threads."""
    from forum.app import wire
    from forum.demo import load_demo

    wire()

    created = asyncio.run(load_demo(Settings(), if_empty=if_empty))
    typer.echo("demo content loaded" if created else "board already has content; demo skipped")


def proxy_options(settings: Settings) -> dict[str, Any]:
    """Believe X-Forwarded-For/-Proto only from the proxies listed in CANDOR_TRUSTED_PROXIES:
    otherwise any client (one on this machine included) could pick the address that rate
    limits count it by."""
    trusted = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}


def served_base_url(host: str, port: int) -> str:
    """The public address mailed links use when CANDOR_BASE_URL is not set: the one `serve`
    listens on. A wildcard address (0.0.0.0, ::) is not one a reader can open, and listening on
    every interface means being reached from other machines: this machine's host name stands
    for it (set CANDOR_BASE_URL for a public name or https). Never the request's Host header,
    which a client chooses (password-reset link poisoning)."""
    host = host.strip()
    if host in WILDCARD_HOSTS:
        host = socket.gethostname() or "127.0.0.1"
    else:
        try:
            if ipaddress.ip_address(host.strip("[]")).version == 6:
                host = f"[{host.strip('[]')}]"
        except ValueError:
            pass  # a host name
    return f"http://{host}" + ("" if port == 80 else f":{port}")


def publish_base_url(host: str, port: int) -> str:
    """Set CANDOR_BASE_URL for this process and those it starts (uvicorn's web processes, the
    worker, which also writes mail) unless the environment or .env already sets it; the
    address mailed links use."""
    settings = Settings()
    if "base_url" in settings.model_fields_set:
        return settings.base_url
    os.environ["CANDOR_BASE_URL"] = served_base_url(host, port)
    return os.environ["CANDOR_BASE_URL"]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Web processes (production: one per core).")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    with_worker: Annotated[
        bool, typer.Option("--with-worker", help="Also start a moderation worker process.")
    ] = False,
) -> None:
    """Serve the forum."""
    import subprocess

    import uvicorn

    base_url = publish_base_url(host, port)
    worker = None
    if with_worker:
        # Its own process: model inference must never block the web server's event loop.
        worker = subprocess.Popen(
            [sys.executable, "-m", "forum.cli", "worker"],
            env={**os.environ, "CANDOR_WORKER_PARENT": str(os.getpid())},
        )
    settings = Settings()
    metrics_dir = None
    if (workers > 1 or reload) and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each web process counts its own requests: a shared folder lets /metrics sum them.
        metrics_dir = tempfile.mkdtemp(prefix="candor-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    typer.echo(f"Candor on http://{host}:{port}/ (links in mail: {base_url})")
    try:
        # No access log of uvicorn's: the app logs one line per request (forum.core.metrics)
        # naming the route, never the path (links with tokens in them) or the query string.
        uvicorn.run(
            "forum.asgi:app",
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            access_log=False,
            log_level="info",
            log_config=log_config(settings.log_format),
            **proxy_options(settings),
        )
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


# `candor programmes pair ID` joins the engine's `propose` (forum.programmes.cli).


@programmes_app.command("pair")
def programmes_pair(programme_id: int) -> None:
    """Run the pairing of a programme now (what the worker does for a lead's request): the
    proposal appears on the lead's pairing page."""
    from forum.core.db import connect
    from forum.programmes import pairing
    from forum.programmes.services import run_for_programme

    async def run() -> tuple[int, int]:
        database = connect(Settings().database_url)
        try:
            async with database.sessionmaker() as session, session.begin():
                job = await run_for_programme(session, programme_id, pairing)
                result = json.loads(job.result)
                return len(result["pairs"]), len(result["unmatched"])
        finally:
            await database.dispose()

    pairs, unmatched = asyncio.run(run())
    typer.echo(f"proposed {pairs} pairs, {unmatched} unmatched")


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Decide what is queued now, then exit.")] = False,
) -> None:
    """Run a moderation worker (PostgreSQL: as many as you like; SQLite: one)."""
    run_worker(once=once)


def main() -> None:
    logging.config.dictConfig(log_config(Settings().log_format))
    app()


if __name__ == "__main__":
    main()
