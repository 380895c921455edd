"""Model versions: a retrained model replaces the one in use only if it does at least as well
on the fixed test split; an admin rolls back (status page or CLI); workers follow the choice."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.core.audit import AuditEntry
from forum.core.settings import Settings
from moderation import registry, training
from moderation.dismissive import DismissiveStage
from moderation.pipeline import Pipeline
from moderation.worker import Worker
from tests.conftest import make_settings
from tests.helpers import login, make_user, post_form
from tests.review.test_moderator_labels import _fixture


@pytest.fixture
def msettings(tmp_path: Path) -> Settings:
    return make_settings("sqlite+aiosqlite://", model_dir=str(tmp_path / "models"))


def test_a_retrained_model_is_used_only_if_it_is_at_least_as_good(
    msettings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    figures = {"candidate": 0.80, "current": 0.70}

    def fake_auc(folder: Path, base: str | None = None, rows: object = None) -> float:
        return figures["current" if folder == registry.active_path(msettings) else "candidate"]

    monkeypatch.setattr(training, "fixed_test_auc", fake_auc)
    assert registry.active_path(msettings) == registry.SHIPPED_PATH
    better = training.retrain(msettings, [], epochs=1, examples=_fixture())
    assert better["promoted"] and better["candidate_auc"] == 0.8
    assert registry.active_name(msettings) == better["version"]
    assert (registry.models_dir(msettings) / better["version"] / "weights.safetensors").exists()
    # A worse candidate is kept aside; the better one stays in use.
    figures.update(candidate=0.60, current=0.80)
    extra = [("Leave the strategy to people who have done this for years.", 1, "My plan.")]
    worse = training.retrain(msettings, extra, epochs=1, examples=_fixture())
    assert not worse["promoted"] and registry.active_name(msettings) == better["version"]
    names = [v.name for v in registry.versions(msettings)]
    assert names[0] == "shipped" and set(names[1:]) == {better["version"], worse["version"]}
    # Rolling back to the shipped model; a worker follows between batches.
    pipeline = Pipeline(msettings, [DismissiveStage(str(registry.active_path(msettings)))])
    worker = Worker(msettings, None, pipeline)  # type: ignore[arg-type]
    registry.use(msettings, "shipped")
    assert worker.refresh_model()
    assert (
        pipeline.states[0].loaded and pipeline.states[0].stage.model_path == registry.SHIPPED_PATH
    )
    assert not worker.refresh_model()  # nothing changed since
    with pytest.raises(ValueError):
        registry.use(msettings, "../../etc")


async def test_an_admin_rolls_back_from_the_status_page(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    settings.model_dir = str(tmp_path / "models")
    await make_user(db, settings, username="modelmod", role="moderator")
    await make_user(db, settings, username="modeladmin", role="admin")
    await db.commit()
    await login(client, "modelmod")
    page = await client.get("/mod/status")
    assert "Dismissiveness model" in page.text and "(shipped)" in page.text
    refused = await post_form(client, "/mod/models", {"version": "shipped"}, "/mod/status")
    assert refused.status_code == 403  # moderators read the figures; admins switch
    await login(client, "modeladmin")
    unknown = await post_form(client, "/mod/models", {"version": "pair-nope"}, "/mod/status")
    assert unknown.status_code == 400
    chosen = await post_form(client, "/mod/models", {"version": "shipped"}, "/mod/status")
    assert chosen.status_code == 303
    assert registry.active_name(settings) == "shipped"
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "use_model"))
    assert entry is not None and "pair-" in entry.detail


async def test_the_worker_retrains_on_its_schedule_only(
    msettings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[str, ...]] = []

    class Running:
        pid = 4242
        returncode: int | None = None

    async def fake_exec(*args: str, **_kw: object) -> Running:
        started.append(args)
        return Running()

    monkeypatch.setattr("asyncio.create_subprocess_exec", fake_exec)
    worker = Worker(msettings, None, Pipeline(msettings, []))  # type: ignore[arg-type]
    assert not await worker.maybe_retrain()  # off by default
    msettings.retrain_every_hours = 24
    assert await worker.maybe_retrain()
    assert started and started[0][-3:] == ("forum.cli", "moderation", "retrain")
    assert not await worker.maybe_retrain()  # one at a time
    assert worker.retraining is not None
    worker.retraining.returncode = 0  # type: ignore[misc]
    assert not await worker.maybe_retrain()  # and not again within the interval
    assert len(started) == 1
