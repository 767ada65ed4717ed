from __future__ import annotations

from pathlib import Path

import pytest

from ccplane.errors import SettingsError
from ccplane.settings import DEFAULT_CONFIG, load_settings


def test_defaults_come_from_the_documented_file() -> None:
    s = load_settings(env={})
    assert s.database.url == "sqlite+aiosqlite:///./ccplane.db"
    assert (s.server.host, s.server.port) == ("127.0.0.1", 8080)
    assert DEFAULT_CONFIG.exists()


def test_environment_overrides_file() -> None:
    s = load_settings(env={"CCPLANE_DATABASE_URL": "postgresql+psycopg://u@h/db",
                           "CCPLANE_SERVER_PORT": "9000", "CCPLANE_ASTERISK_ACTION_TIMEOUT": "1.5"})
    assert s.database.url == "postgresql+psycopg://u@h/db"
    assert s.server.port == 9000 and s.asterisk.action_timeout == 1.5


@pytest.mark.parametrize("env,key", [
    ({"CCPLANE_SERVER_PORT": "eighty"}, "server.port"),
    ({"CCPLANE_SERVER_PORT": "70000"}, "server.port"),
    ({"CCPLANE_DATABASE_URL": "mysql://x"}, "database.url"),
    ({"CCPLANE_LOG_LEVEL": "LOUD"}, "log.level"),
    ({"CCPLANE_ASTERISK_PING_INTERVAL": "0"}, "asterisk.ping_interval"),
    ({"CCPLANE_ASTERISK_ARI_URL": "ftp://x"}, "asterisk.ari_url"),
])
def test_invalid_settings_name_the_key(env: dict[str, str], key: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env=env)
    assert info.value.key == key and key in str(info.value)


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[server]\nprot = 1\n")
    with pytest.raises(SettingsError) as info:
        load_settings(cfg, env={})
    assert info.value.key == "server.prot"


def test_wrong_type_in_file_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[server]\nport = "x"\n')
    with pytest.raises(SettingsError, match="server.port"):
        load_settings(cfg, env={})


@pytest.mark.parametrize("pasted, used", [
    ("sqlite:///ccplane.db", "sqlite+aiosqlite:///ccplane.db"),
    ("sqlite:////var/lib/ccplane/cc.db", "sqlite+aiosqlite:////var/lib/ccplane/cc.db"),
    ("postgresql://cc:pw@db:5432/cc", "postgresql+psycopg://cc:pw@db:5432/cc"),
    ("postgres://cc:pw@db/cc", "postgresql+psycopg://cc:pw@db/cc"),
    ("postgresql+psycopg2://cc@db/cc", "postgresql+psycopg://cc@db/cc"),
    ("postgresql+psycopg://cc@db/cc", "postgresql+psycopg://cc@db/cc"),
    ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
])
def test_database_url_accepts_the_plain_forms(pasted: str, used: str) -> None:
    assert load_settings(env={"CCPLANE_DATABASE_URL": pasted}).database.url == used


def test_database_url_of_another_database_is_refused() -> None:
    with pytest.raises(SettingsError, match="database.url"):
        load_settings(env={"CCPLANE_DATABASE_URL": "mysql://root@db/cc"})


@pytest.mark.parametrize("env, key", [
    ({"CCPLANE_AUTH_PASSWORD_TIME_COST": "0"}, "auth.password_time_cost"),
    ({"CCPLANE_AUTH_PASSWORD_PARALLELISM": "0"}, "auth.password_parallelism"),
    ({"CCPLANE_AUTH_PASSWORD_PARALLELISM": "4", "CCPLANE_AUTH_PASSWORD_MEMORY_KIB": "16"}, "auth.password_memory_kib"),
    ({"CCPLANE_AUTH_PASSWORD_MEMORY_KIB": "x"}, "auth.password_memory_kib"),
])
def test_password_hash_cost_out_of_range_is_refused(env: dict[str, str], key: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env=env)
    assert info.value.key == key


def test_password_hash_cost_defaults_to_rfc_9106_low_memory() -> None:
    a = load_settings(env={}).auth
    assert (a.password_time_cost, a.password_memory_kib, a.password_parallelism) == (3, 65536, 4)
