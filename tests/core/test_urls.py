"""Ids in paths: whole numbers the databases can hold, else no route matches (404)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from forum.core.urls import ID_MAX, IdConvertor, below


@pytest.mark.parametrize("limit", [9, 10, 99, 100, 2024, 65535, ID_MAX])
def test_below_matches_exactly_the_numbers_up_to_the_limit(limit: int) -> None:
    pattern = re.compile(below(limit) + "$")
    probes = {0, 1, limit // 2, limit - 1, limit, limit + 1, limit * 10, limit + 10**6}
    for n in probes:
        assert bool(pattern.match(str(n))) == (n <= limit), n


def test_an_id_beyond_the_bound_cannot_be_built_into_a_path() -> None:
    with pytest.raises(ValueError):
        IdConvertor().to_string(ID_MAX + 1)
    assert IdConvertor().to_string(ID_MAX) == str(ID_MAX)


async def test_a_thread_id_beyond_the_bound_is_a_404_not_an_error(
    client: httpx.AsyncClient,
) -> None:
    for path in (f"/t/{ID_MAX + 1}", "/t/99999999999999999999", f"/p/{ID_MAX + 1}/edit"):
        response = await client.get(path)
        assert response.status_code == 404, path


def test_templates_build_paths_from_route_names(app: Starlette) -> None:
    url = app.state.url
    assert url("thread", thread_id=42) == "/t/42"
    assert url("profile", username="olga") == "/u/olga"
    assert url("static", path="/candor.css") == "/static/candor.css"


def test_no_template_hard_codes_a_path() -> None:
    """Links and form targets come from route names (`url(...)`), so moving a route moves them."""
    templates = Path(__file__).resolve().parents[2] / "templates"
    hard_coded = re.compile(r'(?:href|action|src|data-composer)="/')
    found = [
        f"{path.relative_to(templates)}:{n}"
        for path in sorted(templates.rglob("*.html"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if hard_coded.search(line)
    ]
    assert found == []
