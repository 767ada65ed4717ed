"""Typed settings: ``config/ccplane.toml`` defaults, overridden by ``CCPLANE_*``.

Example::

    >>> s = load_settings(env={"CCPLANE_SERVER_PORT": "9090"})
    >>> s.server.port
    9090

Every key is typed by its dataclass field; a value that does not convert (or
is out of range) raises :class:`SettingsError` naming the key, at start.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "ccplane.toml"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite+aiosqlite:///./ccplane.db"


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    # addresses (comma-separated) whose X-Forwarded-Proto is believed: the TLS-terminating proxy
    trusted_proxies: str = "127.0.0.1,::1"
    # origins (comma-separated, "https://host[:port]") whose pages may open the cookie feed
    # (/live) besides the site itself
    allowed_origins: str = ""


@dataclass(frozen=True)
class AuthSettings:
    secret_key: str = ""
    secret_file: str = "./ccplane.secret"
    access_token_ttl: int = 900
    refresh_token_ttl: int = 604800
    # argon2id cost of password hashes (argon2-cffi's defaults, RFC 9106's low-memory profile)
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    password_parallelism: int = 4


@dataclass(frozen=True)
class AsteriskSettings:
    ami_host: str = "127.0.0.1"
    ami_port: int = 0
    ami_username: str = ""
    ami_secret: str = ""
    ari_url: str = ""
    ari_username: str = ""
    ari_password: str = ""
    ari_app: str = "ccplane"
    config_dir: str = ""
    action_timeout: float = 5.0
    ping_interval: float = 2.0
    reconnect_max_delay: float = 3.0
    qualify_frequency: int = 10
    sounds_dir: str = ""
    monitor_dir: str = ""  # Asterisk's monitor spool directory as ccplane sees it (empty: the sandbox's)
    unknown_did_delay: int = 2
    # Render even into an Asterisk another deployment (another database) owns,
    # and become its owner. Off: such a render is refused with a message.
    take_over: bool = False


@dataclass(frozen=True)
class AdmissionSettings:
    """Ceilings on what enters ``ccplane-inbound`` (0: no ceiling). Beyond one, a call
    is refused before anything answers it (486 over its domain's ceiling, 503 over the
    total or the rate), so an overload is turned away at the door instead of breaking
    the calls already up."""
    max_calls: int = 0              # inbound calls up at once, all domains
    max_calls_per_domain: int = 0   # inbound calls up at once in one domain
    max_new_per_second: int = 0     # new inbound calls per second, all domains


@dataclass(frozen=True)
class SandboxSettings:
    dir: str = "~/.cache/ccplane/asterisk-22"
    name: str = "default"
    ami_port: int = 5038
    http_port: int = 8088
    sip_port: int = 5060
    rtp_start: int = 10000
    rtp_end: int = 10999

    @property
    def root(self) -> Path:
        return Path(self.dir).expanduser()

    @property
    def https_port(self) -> int:
        """Asterisk's HTTPS (WSS for WebRTC phones): the port after ``http_port``, so
        instances side by side never collide."""
        return self.http_port + 1


@dataclass(frozen=True)
class WebRtcSettings:
    """The agent screen's phone (docs/webrtc.md). Empty ``wss_url``: the sandbox's."""

    wss_url: str = ""          # e.g. wss://pbx.example.com:8089/ws (Asterisk's HTTPS server)
    sip_domain: str = ""       # host part of the phones' SIP URI; empty: the host of wss_url
    ice_servers: str = ""      # comma-separated stun:/turn:/turns: URLs given to the browser
    turn_secret: str = ""      # coturn static-auth-secret: time-limited TURN credentials
    turn_ttl: int = 43200      # seconds those credentials last
    stats_interval: int = 5    # seconds between the page's call-quality reports


@dataclass(frozen=True)
class StorageSettings:
    dir: str = "./data"


@dataclass(frozen=True)
class RecordingSettings:
    dir: str = "./data/recordings"  # finished recordings, outside Asterisk's spool
    poll_interval: float = 1.0      # seconds between looks for files MixMonitor finished


@dataclass(frozen=True)
class ClusterSettings:
    leader_election: bool = True
    retry_interval: float = 1.0
    check_interval: float = 1.0


@dataclass(frozen=True)
class LogSettings:
    level: str = "INFO"
    format: str = "json"


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    asterisk: AsteriskSettings = field(default_factory=AsteriskSettings)
    admission: AdmissionSettings = field(default_factory=AdmissionSettings)
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    recordings: RecordingSettings = field(default_factory=RecordingSettings)
    log: LogSettings = field(default_factory=LogSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    webrtc: WebRtcSettings = field(default_factory=WebRtcSettings)

    def replace(self, **sections: Any) -> "Settings":
        return dataclasses.replace(self, **sections)


_PORT_KEYS = {"server.port", "asterisk.ami_port", "sandbox.ami_port", "sandbox.http_port",
              "sandbox.sip_port", "sandbox.rtp_start", "sandbox.rtp_end"}


def _convert(key: str, typ: Any, value: Any) -> Any:
    try:
        if typ in ("int", int):
            if isinstance(value, bool):
                raise ValueError
            out: Any = int(value)
        elif typ in ("float", float):
            if isinstance(value, bool):
                raise ValueError
            out = float(value)
        elif typ in ("bool", bool):
            if isinstance(value, bool):
                out = value
            elif str(value).lower() in ("1", "true", "yes", "on"):
                out = True
            elif str(value).lower() in ("0", "false", "no", "off"):
                out = False
            else:
                raise ValueError
        else:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise ValueError
            out = str(value)
    except (TypeError, ValueError):
        raise SettingsError(key, f"expected {getattr(typ, '__name__', typ)}, got {value!r}") from None
    return out


# The forms people paste, mapped to the async drivers ccplane runs on.
_URL_FORMS = (("sqlite:///", "sqlite+aiosqlite:///"), ("sqlite+pysqlite:///", "sqlite+aiosqlite:///"),
              ("postgresql://", "postgresql+psycopg://"), ("postgres://", "postgresql+psycopg://"),
              ("postgresql+psycopg2://", "postgresql+psycopg://"), ("postgresql+asyncpg://", "postgresql+psycopg://"))


def database_url(url: str) -> str:
    """``sqlite:///x.db`` -> ``sqlite+aiosqlite:///x.db``, ``postgresql://…`` (or ``postgres://``)
    -> ``postgresql+psycopg://…``; the driver forms ccplane uses stay as they are.

    >>> database_url("postgres://u:pw@db/cc")
    'postgresql+psycopg://u:pw@db/cc'
    """
    for plain, driver in _URL_FORMS:
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


def _validate(s: Settings) -> None:
    for key in _PORT_KEYS:
        section, name = key.split(".")
        port = getattr(getattr(s, section), name)
        allow_zero = key == "asterisk.ami_port"
        if not (0 if allow_zero else 1) <= port <= 65535:
            raise SettingsError(key, f"port out of range: {port}")
    if s.log.level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError("log.level", f"unknown level {s.log.level!r}")
    if s.log.format not in ("json", "text"):
        raise SettingsError("log.format", f"must be json or text, got {s.log.format!r}")
    url = s.database.url
    if not (url.startswith("sqlite+aiosqlite://") or url.startswith("postgresql+psycopg://")):
        raise SettingsError("database.url", "must be a SQLite or PostgreSQL URL (sqlite:///file.db, "
                                            "postgresql://user:password@host/db, or their +aiosqlite/+psycopg forms)")
    if s.auth.access_token_ttl <= 0 or s.auth.refresh_token_ttl <= 0:
        raise SettingsError("auth.access_token_ttl", "token lifetimes must be positive")
    if not 1 <= s.auth.password_time_cost <= 100:
        raise SettingsError("auth.password_time_cost", "must be between 1 and 100")
    if not 1 <= s.auth.password_parallelism <= 64:
        raise SettingsError("auth.password_parallelism", "must be between 1 and 64")
    if not 8 * s.auth.password_parallelism <= s.auth.password_memory_kib <= 4 * 1024 * 1024:
        raise SettingsError("auth.password_memory_kib",
                            "must be at least 8 × auth.password_parallelism and at most 4 GiB (4194304)")
    for name in ("action_timeout", "ping_interval", "reconnect_max_delay"):
        if getattr(s.asterisk, name) <= 0:
            raise SettingsError(f"asterisk.{name}", "must be positive")
    if s.asterisk.ari_url and not s.asterisk.ari_url.startswith(("http://", "https://")):
        raise SettingsError("asterisk.ari_url", "must be an http:// or https:// URL")
    for name in ("retry_interval", "check_interval"):
        if getattr(s.cluster, name) <= 0:
            raise SettingsError(f"cluster.{name}", "must be positive")
    for name in ("max_calls", "max_calls_per_domain", "max_new_per_second"):
        if getattr(s.admission, name) < 0:
            raise SettingsError(f"admission.{name}", "must be 0 (no ceiling) or positive")
    if s.sandbox.rtp_start >= s.sandbox.rtp_end:
        raise SettingsError("sandbox.rtp_start", "must be below sandbox.rtp_end")
    if s.sandbox.http_port >= 65535:
        raise SettingsError("sandbox.http_port", "must leave room for its TLS port (http_port + 1)")
    if s.webrtc.wss_url and not s.webrtc.wss_url.startswith(("wss://", "ws://")):
        raise SettingsError("webrtc.wss_url", "must be a wss:// (or ws://) URL")
    for url in filter(None, (u.strip() for u in s.webrtc.ice_servers.split(","))):
        if not url.startswith(("stun:", "turn:", "turns:")):
            raise SettingsError("webrtc.ice_servers", f"{url!r} is not a stun:, turn: or turns: URL")
    if s.webrtc.turn_ttl <= 0 or s.webrtc.stats_interval <= 0:
        raise SettingsError("webrtc.turn_ttl", "turn_ttl and stats_interval must be positive")


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file, apply ``CCPLANE_<SECTION>_<KEY>`` overrides, validate."""
    env = os.environ if env is None else env
    path = Path(path or env.get("CCPLANE_CONFIG") or DEFAULT_CONFIG)
    try:
        raw = tomllib.loads(path.read_text()) if path.exists() else {}
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(str(path), f"invalid TOML: {exc}") from None
    sections: dict[str, Any] = {}
    for sec_field in dataclasses.fields(Settings):
        sec_cls = sec_field.default_factory  # type: ignore[misc]
        file_values = raw.get(sec_field.name, {})
        if not isinstance(file_values, dict):
            raise SettingsError(sec_field.name, "must be a table")
        known = {f.name: f for f in dataclasses.fields(sec_cls)}  # type: ignore[arg-type]
        for key in file_values:
            if key not in known:
                raise SettingsError(f"{sec_field.name}.{key}", "unknown setting")
        values: dict[str, Any] = {}
        for name, f in known.items():
            key = f"{sec_field.name}.{name}"
            env_key = f"CCPLANE_{sec_field.name}_{name}".upper()
            if env_key in env:
                values[name] = _convert(key, f.type, env[env_key])
            elif name in file_values:
                values[name] = _convert(key, f.type, file_values[name])
        sections[sec_field.name] = sec_cls(**values)  # type: ignore[misc]
    settings = Settings(**sections)
    settings = settings.replace(database=dataclasses.replace(settings.database,
                                                             url=database_url(settings.database.url)))
    _validate(settings)
    return settings
