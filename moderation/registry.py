"""Which dismissiveness model is in use, and which others there are. Pure Python (reads JSON,
writes one small file): the web process shows and switches versions, the worker loads them.

- The shipped model lives in moderation/models/dismissive (in the repository).
- Retrained versions live in `CANDOR_MODEL_DIR` (by default var/models), one folder each,
  named by the version (a hash of the weights).
- The file `active` in that folder names the version in use ("shipped", or a folder's name).
  Workers check it between batches and load a new choice; an admin can roll back from the
  status page or with `candor moderation use VERSION`.
- `CANDOR_DISMISSIVE_MODEL_PATH` pins one folder and overrides all of this.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forum.core.settings import PROJECT_ROOT, Settings

SHIPPED = "shipped"
SHIPPED_PATH = Path(__file__).resolve().parent / "models" / "dismissive"
VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")


@dataclass(frozen=True)
class ModelVersion:
    name: str  # "shipped" or the folder's name
    path: Path
    record: dict[str, Any]
    active: bool

    @property
    def version(self) -> str:
        return str(self.record.get("version", self.name))

    def figure(self, *keys: str) -> Any:
        value: Any = self.record
        for key in keys:
            value = value.get(key, {}) if isinstance(value, dict) else {}
        return value if value != {} else None


def models_dir(settings: Settings) -> Path:
    return Path(settings.model_dir) if settings.model_dir else PROJECT_ROOT / "var" / "models"


def _record(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "model.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not (folder / "weights.safetensors").exists():
        return None
    return data


def active_name(settings: Settings) -> str:
    try:
        name = (models_dir(settings) / "active").read_text().strip()
    except OSError:
        return SHIPPED
    return name if name == SHIPPED or VERSION_RE.match(name) else SHIPPED


def active_path(settings: Settings) -> Path:
    """The folder the worker should load."""
    if settings.dismissive_model_path:
        return Path(settings.dismissive_model_path)
    name = active_name(settings)
    if name != SHIPPED:
        folder = models_dir(settings) / name
        if _record(folder) is not None:
            return folder
    return SHIPPED_PATH


def versions(settings: Settings) -> list[ModelVersion]:
    """The shipped model and every retrained version, newest first after the shipped one."""
    current = active_path(settings).resolve()
    found = []
    shipped = _record(SHIPPED_PATH)
    if shipped is not None:
        found.append(ModelVersion(SHIPPED, SHIPPED_PATH, shipped, current == SHIPPED_PATH))
    folder = models_dir(settings)
    if folder.is_dir():
        others = []
        for child in folder.iterdir():
            record = _record(child) if child.is_dir() else None
            if record is not None and VERSION_RE.match(child.name):
                others.append(ModelVersion(child.name, child, record, current == child.resolve()))
        others.sort(key=lambda v: str(v.record.get("trained_at", "")), reverse=True)
        found += others
    return found


def use(settings: Settings, name: str) -> ModelVersion:
    """Make `name` the version in use; ValueError if there is no such version."""
    chosen = next((v for v in versions(settings) if v.name == name), None)
    if chosen is None:
        raise ValueError(f"There is no model version {name!r}.")
    folder = models_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "active.tmp"
    tmp.write_text(name + "\n")
    tmp.replace(folder / "active")
    return chosen


def active_record(settings: Settings) -> dict[str, Any] | None:
    return _record(active_path(settings))
