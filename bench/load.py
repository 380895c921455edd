"""Load and measurement helpers: servers as subprocesses, wrk as the load generator, CPU time
read from /proc for the server's process tree and the database server."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def process_tree(root: int) -> list[int]:
    tree = _children()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) each process has used so far."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    return found


Pids = Callable[[], list[int]]


def cpu_used(pids: Pids, before: dict[int, float]) -> float:
    """CPU used since `before` by the processes `pids()` lists now. The set is read again at
    the end: a database server starts a backend process per new connection, and a connection
    opened during the run (or after a fixed list was taken) must be billed too."""
    now = cpu_by_pid(pids())
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items())


class Server:
    """`uvicorn APP --workers N` in its own process group, as production would run it."""

    def __init__(self, app: str, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
            env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def wait(self, path: str = "/", timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if httpx.get(self.url + path, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {Path(self.log.name).read_text()[-2000:]}")
            time.sleep(0.3)
        raise RuntimeError("server did not start")

    def pids(self) -> list[int]:
        return process_tree(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


@dataclass
class Run:
    name: str
    concurrency: int
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _lua(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk(
    name: str,
    url: str,
    concurrency: int,
    seconds: int,
    cpu_pids: Pids,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    body: str = "",
    rotate: list[tuple[str, dict[str, str], str]] | None = None,
) -> Run:
    """Drive `url` with wrk for `seconds` (bounded) and read latency, throughput and CPU.
    `rotate` lists (path, headers, body) requests sent in turn (several members posting)."""
    lines = [f"wrk.method = {_lua(method)}"]
    for k, v in (headers or {}).items():
        lines.append(f"wrk.headers[{_lua(k)}] = {_lua(v)}")
    if body:
        lines.append(f"wrk.body = {_lua(body)}")
    if rotate:
        lines.append("local reqs, i = {}, 0")
        lines.append("init = function(args)")
        for path, hdrs, payload in rotate:
            fields = ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in hdrs.items())
            lines.append(
                f"  table.insert(reqs, wrk.format({_lua(method)}, {_lua(path)}, {{{fields}}}, {_lua(payload)}))"
            )
        lines.append("end")
        lines.append("request = function() i = i % #reqs + 1; return reqs[i] end")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    before = cpu_by_pid(cpu_pids())
    out = subprocess.run(
        ["wrk", "-t", str(min(concurrency, 2)), "-c", str(concurrency), "-d", f"{seconds}s",
         "--timeout", "10s", "--latency", "-s", script.name, url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout  # fmt: skip
    cpu = cpu_used(cpu_pids, before)
    os.unlink(script.name)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in m.groups())
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    return Run(name, concurrency, requests, errors, rps, p50, p99, cpu * 1000 / max(requests, 1))


def settle(base: str, path: str = "/healthz", timeout: float = 60.0) -> None:
    """Wait until the server answers quickly again: work queued by a previous run (a slow
    query still running in the database) must not be billed to the next."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        started = time.perf_counter()
        try:
            httpx.get(base + path, timeout=5)
        except httpx.HTTPError:
            pass
        if time.perf_counter() - started < 0.05:
            time.sleep(1)
            return
        time.sleep(0.5)
