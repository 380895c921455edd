"""bench/fanout.py runs (small numbers) on both engines and measures what it says."""

from __future__ import annotations

import pytest

from bench import fanout
from tests.conftest import BACKENDS, run_in_thread


@pytest.mark.parametrize("engine", BACKENDS)
def test_fanout_bench_runs(engine: str) -> None:
    result = run_in_thread(fanout.run, engine, 25, 2)
    assert result["watchers"] == 25
    assert result["work_rows_handled"] == 1
    assert result["notifications_made"] == 25  # one per watcher, none for the author
    assert result["worker_fan_out_ms"] > 0 and result["reply_request_ratio"] > 0
