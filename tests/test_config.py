from pathlib import Path

import pytest

from clinic.config import Config, ConfigError


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"VAR_DIR": str(tmp_path), **extra}


def test_defaults_are_the_embedded_mode(tmp_path: Path) -> None:
    config = Config.from_env(env(tmp_path))
    assert config.database_url == f"sqlite:///{tmp_path / 'clinic.db'}"
    assert config.redis_url is None
    assert config.sla_hours == 24
    assert config.sla_warn_hours == (6.0, 2.0)
    assert config.sla_repeat_hours == 4
    assert config.timezone == "Asia/Bangkok"
    assert (config.host, config.port) == ("127.0.0.1", 5000)
    assert not config.line_enabled and not config.messenger_enabled


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Config.from_env(env(tmp_path)).secret_key
    second = Config.from_env(env(tmp_path)).secret_key
    assert first == second and len(first) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert Config.from_env(env(tmp_path, SECRET_KEY="given")).secret_key == "given"


def test_fractional_hours_for_watching_the_cycle_in_minutes(tmp_path: Path) -> None:
    config = Config.from_env(env(tmp_path, SLA_HOURS="0.05", SLA_WARN_HOURS="0.02, 0.04", SLA_REPEAT_HOURS="0.01"))
    assert config.sla_hours == 0.05
    assert config.sla_warn_hours == (0.04, 0.02)  # largest lead first
    assert config.sla_repeat_hours == 0.01


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://localhost:6379"}, "REDIS_URL"),
        ({"SLA_HOURS": "a day"}, "SLA_HOURS"),
        ({"SLA_HOURS": "0"}, "SLA_HOURS"),
        ({"SLA_WARN_HOURS": "6,x"}, "SLA_WARN_HOURS"),
        ({"PORT": "99999"}, "PORT"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"LINE_CHANNEL_ACCESS_TOKEN": "token"}, "LINE_CHANNEL_SECRET"),
        ({"LINE_CHANNEL_SECRET": "secret"}, "LINE_CHANNEL_ACCESS_TOKEN"),
        ({"MESSENGER_APP_SECRET": "s", "MESSENGER_PAGE_ACCESS_TOKEN": "t"}, "MESSENGER_VERIFY_TOKEN"),
        ({"LINE_API_BASE_URL": "api.line.me"}, "LINE_API_BASE_URL"),
    ],
)
def test_bad_configuration_names_the_variable(tmp_path: Path, extra: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_env(env(tmp_path, **extra))
    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"{variable}: ")


def test_channels_enabled_when_both_halves_are_set(tmp_path: Path) -> None:
    config = Config.from_env(
        env(tmp_path, LINE_CHANNEL_SECRET="s", LINE_CHANNEL_ACCESS_TOKEN="t", LINE_API_BASE_URL="http://127.0.0.1:1/")
    )
    assert config.line_enabled
    assert config.line_api_base_url == "http://127.0.0.1:1"
