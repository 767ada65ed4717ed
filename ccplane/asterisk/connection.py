"""Where the Asterisk we drive is: explicit settings, or the local sandbox's."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import SettingsError
from ..settings import Settings


@dataclass(frozen=True)
class AsteriskTarget:
    ami_host: str
    ami_port: int
    ami_username: str
    ami_secret: str
    ari_url: str
    ari_username: str
    ari_password: str
    config_dir: Path
    sounds_dir: Path | None
    monitor_dir: Path | None = None  # Asterisk's <spool>/monitor, as this host sees it
    wss_url: str = ""  # SIP over WSS for WebRTC phones (webrtc.wss_url, else the sandbox's)


def resolve_target(settings: Settings) -> AsteriskTarget:
    a = settings.asterisk
    state = None
    if not (a.ami_username and a.ari_url and a.ari_username and a.config_dir and a.ami_port):
        from .sandbox import Sandbox
        state = Sandbox(settings.sandbox, progress=lambda _m: None).load_state()
        if state is None:
            missing = next(k for k in ("ami_username", "ari_url", "ari_username", "config_dir", "ami_port")
                           if not getattr(a, k))
            raise SettingsError(f"asterisk.{missing}",
                                f"not set and no sandbox '{settings.sandbox.name}' under {settings.sandbox.root}; "
                                "run `ccplane sandbox up` or set CCPLANE_ASTERISK_* for your own Asterisk")
    return AsteriskTarget(
        ami_host=a.ami_host or (state.ami_host if state else "127.0.0.1"),
        ami_port=a.ami_port or (state.ami_port if state else 0),
        ami_username=a.ami_username or (state.ami_username if state else ""),
        ami_secret=a.ami_secret or (state.ami_secret if state else ""),
        ari_url=a.ari_url or (state.ari_url if state else ""),
        ari_username=a.ari_username or (state.ari_username if state else ""),
        ari_password=a.ari_password or (state.ari_password if state else ""),
        config_dir=Path(a.config_dir or (state.config_dir if state else "")),
        sounds_dir=Path(a.sounds_dir) if a.sounds_dir else (
            Path(state.rootfs) / "usr/share/asterisk/sounds" if state else None),
        monitor_dir=Path(a.monitor_dir) if a.monitor_dir else (
            Path(state.config_dir).parent / "spool" / "monitor" if state else None),
        wss_url=settings.webrtc.wss_url or _sandbox_wss(settings, state),
    )


def _sandbox_wss(settings: Settings, state: object | None) -> str:
    """The sandbox's WSS URL, also when explicit AMI/ARI settings skipped reading its state."""
    url = str(getattr(state, "wss_url", "") or "")
    if url:
        return url
    from .sandbox import Sandbox
    loaded = Sandbox(settings.sandbox, progress=lambda _m: None).load_state()
    return loaded.wss_url if loaded is not None else ""
