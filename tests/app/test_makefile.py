"""The Makefile's installs: `make run` installs the app and the worker extra, never the test
tools; `make test` and `make lint` add them; the stamps keep either from reinstalling after the
other. Driven with a stand-in Python whose venv holds recording stand-ins for pip and friends."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_TOOLS = ("pytest", "playwright", "hypothesis", "mypy", "ruff", "httpx", "import-linter")

FAKE_PYTHON = textwrap.dedent(
    """\
    #!/bin/sh
    # Stands in for python3: `-m venv DIR` makes DIR/bin with recording stand-ins.
    [ "$1" = "-m" ] && [ "$2" = "venv" ] || exit 1
    mkdir -p "$3/bin"
    for tool in python pip candor pytest ruff lint-imports mypy; do
      printf '#!/bin/sh\\necho "%s $*" >> "$MAKE_LOG"\\n' "$tool" > "$3/bin/$tool"
      chmod +x "$3/bin/$tool"
    done
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.fail("make is missing")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    return tmp_path


def make(project: Path, target: str) -> list[str]:
    """Run `make TARGET` and return the commands the stand-ins recorded."""
    log = project / "commands.log"
    log.write_text("")
    env = {**os.environ, "MAKE_LOG": str(log)}
    subprocess.run(
        ["make", "-s", target, f"PYTHON={project / 'fake-python'}"],
        cwd=project, env=env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return log.read_text().splitlines()


def installs(commands: list[str]) -> list[str]:
    return [c for c in commands if c.startswith("pip install") and "--upgrade pip" not in c]


def edit_pyproject(project: Path) -> None:
    """pyproject.toml changed after the installs (stamps aged rather than a future mtime)."""
    for stamp in (project / ".venv" / "bin").glob(".installed-*"):
        os.utime(stamp, (time.time() - 20, time.time() - 20))
    os.utime(project / "pyproject.toml", (time.time() - 10, time.time() - 10))


def test_run_installs_only_what_running_needs_and_test_adds_the_test_extra(project: Path) -> None:
    run = make(project, "run")
    assert installs(run) == ["pip install --quiet -e .[worker]"]
    assert not any(tool in c for c in run for tool in TEST_TOOLS)
    assert [c.split()[:2] for c in run if c.startswith("candor")] == [
        ["candor", "db"], ["candor", "demo"], ["candor", "serve"],
    ]  # fmt: skip

    test = make(project, "test")
    assert installs(test) == ["pip install --quiet -e .[worker,test]"]
    assert [c.split()[0] for c in test if not c.startswith("pip")] == [
        "ruff", "ruff", "lint-imports", "mypy", "pytest",
    ]  # fmt: skip

    # Neither reinstalls after the other.
    assert installs(make(project, "run")) == []
    assert installs(make(project, "test")) == []
    assert installs(make(project, "lint")) == []

    # A changed pyproject.toml: each installs its own set again, once.
    edit_pyproject(project)
    assert installs(make(project, "run")) == ["pip install --quiet -e .[worker]"]
    assert installs(make(project, "run")) == []
    assert installs(make(project, "test")) == ["pip install --quiet -e .[worker,test]"]
    assert installs(make(project, "run")) == []


def test_run_after_a_first_test_install_installs_nothing(project: Path) -> None:
    assert installs(make(project, "lint")) == ["pip install --quiet -e .[worker,test]"]
    assert installs(make(project, "run")) == []


def test_running_needs_no_test_tool() -> None:
    """What `make run` starts (the CLI, the web app, the worker) imports no test-only package."""
    blocked = ["pytest", "httpx", "hypothesis", "playwright", "axe_playwright_python", "mypy",
               "ruff", "importlinter"]  # fmt: skip
    code = textwrap.dedent(
        f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {blocked!r}:
                    raise ImportError("test tool imported at run time: " + name)
        sys.meta_path.insert(0, Block())
        import forum.cli, forum.asgi, moderation.worker, moderation.cli
        """
    )
    env = {**os.environ, "DATABASE_URL": "sqlite+aiosqlite:///:memory:", "CANDOR_SECRET_KEY": "k"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
