"""Settings, read once from the environment (prefix CANDOR_, plus DATABASE_URL) into one object."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_URL = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'candor.db'}"
SECRET_FILE = PROJECT_ROOT / "var" / "secret_key"


def _local_secret() -> SecretStr:
    """With no CANDOR_SECRET_KEY set, one key is made once and kept beside the project, so
    every web process and every restart signs cookies and CSRF tokens alike."""
    try:
        return SecretStr(SECRET_FILE.read_text().strip())
    except FileNotFoundError:
        SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        # O_EXCL: of several processes starting at once, one writes and the others read it.
        try:
            fd = os.open(SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return SecretStr(SECRET_FILE.read_text().strip())
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return SecretStr(key)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CANDOR_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_SQLITE_URL,
        validation_alias=AliasChoices("DATABASE_URL", "CANDOR_DATABASE_URL"),
    )
    # Deployments set CANDOR_SECRET_KEY; otherwise a key is kept in var/secret_key.
    secret_key: SecretStr = Field(default_factory=_local_secret)
    site_name: str = "Candor"
    base_url: str = "http://127.0.0.1:8000"
    debug: bool = False
    # None: mark cookies Secure exactly when the request arrived over https.
    cookie_secure: bool | None = None
    session_days: int = 30

    points_per_post: int = 5
    posts_per_page: int = 20
    threads_per_page: int = 25
    title_max: int = 150
    body_max: int = 20_000
    bio_max: int = 2_000

    # Failed logins allowed per window, per account and per client address.
    login_window_seconds: int = 900
    login_max_failures_account: int = 5
    login_max_failures_ip: int = 20
    register_max_per_ip_hour: int = 10
    posts_max_per_minute: int = 10
    reset_token_minutes: int = 60

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    mail_from: str = "candor@localhost"

    # argon2 cost; tests lower these to keep the suite quick.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
