"""`candor category add` and `candor category list`: a fresh board's categories from the
command line, checked as the Admin page checks them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_cli_adds_and_lists_categories(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cats.db'}", "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "forum.cli", *args],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    assert run("db", "upgrade").returncode == 0
    assert "no categories" in run("category", "list").stdout
    hr = run("category", "add", "Human Resources", "--description", "People matters")
    assert hr.returncode == 0 and "added Human Resources at /c/human-resources" in hr.stdout
    child = run("category", "add", "Employee Relations", "--parent", "Human Resources", "--qa")
    assert child.returncode == 0 and "under Human Resources" in child.stdout
    deeper = run("category", "add", "Deeper", "--parent", "Employee Relations")
    assert (
        deeper.returncode == 2
        and "no top-level category called Employee Relations" in deeper.stderr
    )
    twice = run("category", "add", "human resources")
    assert twice.returncode == 2 and "already a category called" in twice.stderr
    listing = run("category", "list").stdout.splitlines()
    assert [line.split("  ")[-3:-1] for line in listing] == [
        ["Human Resources", "/c/human-resources"],
        ["Employee Relations", "/c/employee-relations"],
    ]
    assert listing[1].startswith("  ")  # a sub-forum, under its parent
