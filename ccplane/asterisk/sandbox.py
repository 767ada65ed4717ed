"""A local Asterisk 22 on loopback: a cached Debian sid chroot, instances inside it.

Layout (``settings.root`` is ``~/.cache/ccplane/asterisk-22`` by default)::

    <root>/rootfs/                       the chroot (debootstrap, built once, about 600 MB)
    <root>/rootfs/srv/ccplane/<name>/    one instance ("default", "carrier", ...)
        state.json                       credentials, ports, pid (mode 0600)
        etc/                             asterisk.conf and every config file
        etc/ccplane/                     files ccplane writes (pjsip, dialplan, queues)
        db/ spool/ run/ log/ cache/      Asterisk's writable directories

Several instances share the rootfs, each on its own ports, so a second Asterisk
(e.g. a SIP carrier) can run beside the default one. The base config comes from
the templates in ``config/asterisk/`` and is rendered again on every ``up``.

Everything here needs root (chroot). Each failing step raises
:class:`~ccplane.errors.SandboxError` naming the step, with the tail of the log
that explains it.
"""
from __future__ import annotations

import base64
import contextlib
import dataclasses
import fcntl
import json
import math
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import wave
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator

import jinja2

from ..errors import SandboxError
from ..settings import SandboxSettings

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "config" / "asterisk"

SUITE = "sid"
PACKAGES = ("asterisk", "asterisk-modules", "asterisk-config", "asterisk-core-sounds-en")
CHROOT_INSTANCES = PurePosixPath("/srv/ccplane")
SECRET_FILES = frozenset({"manager.conf", "ari.conf"})
# Files under etc/ccplane/ that ccplane owns; created empty, never overwritten here.
CCPLANE_FILES = ("pjsip.conf", "extensions.conf", "queues.conf")
MOH_DIR = PurePosixPath("/var/lib/asterisk/moh")
MOH_FILE = "ccplane-hold.wav"
TLS_CERT = "asterisk.crt"
TLS_KEY = "asterisk.key"
INSTANCE_DIRS = ("etc", "db", "spool", "run", "log", "cache")
SPOOL_DIRS = ("outgoing", "tmp", "monitor", "recording", "voicemail", "system")

BOOT_TIMEOUT = 60.0
STOP_GRACE = 10.0
DEBOOTSTRAP_TIMEOUT = 1800.0
CHROOT_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_LOAD_RE = re.compile(r"^(load|require|preload)\s*=>\s*(\S+)\s*$")


@dataclass(frozen=True)
class SandboxState:
    """What a client needs to reach one instance; persisted as ``state.json``."""

    name: str
    ami_host: str
    ami_port: int
    ami_username: str
    ami_secret: str
    ari_url: str
    ari_username: str
    ari_password: str
    http_port: int
    sip_port: int
    config_dir: str
    rootfs: str
    pid: int | None
    # SIP over secure WebSocket (WebRTC phones): Asterisk's HTTPS server, port http_port + 1
    wss_url: str = ""
    ws_url: str = ""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SandboxState":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _confval(value: object) -> str:
    """Jinja filter: refuse values that could break out of a config line or section."""
    text = str(value)
    if any(ch in text for ch in "\r\n;[]"):
        raise ValueError(f"unsafe character in Asterisk config value {text!r}")
    return text


def _tail(path: Path, lines: int = 25) -> str:
    try:
        data = path.read_bytes()[-65536:]
    except OSError:
        return ""
    text = data.decode("utf-8", "replace").splitlines()[-lines:]
    return "\n".join(text)


class Sandbox:
    """One named Asterisk instance inside the cached sid rootfs."""

    def __init__(self, settings: SandboxSettings, progress: Callable[[str], None] = print) -> None:
        self.settings = settings
        self.progress = progress
        self.rootfs: Path = settings.root / "rootfs"
        self.partial: Path = settings.root / "rootfs.partial"
        self.chroot_dir = CHROOT_INSTANCES / settings.name
        self.instance_dir: Path = self.rootfs / "srv" / "ccplane" / settings.name
        self.etc_dir = self.instance_dir / "etc"
        self.log_dir = self.instance_dir / "log"
        self.run_dir = self.instance_dir / "run"
        self.state_path = self.instance_dir / "state.json"
        self.console_log = self.log_dir / "console.log"
        self.messages_log = self.log_dir / "messages.log"
        self.chroot_conf = str(self.chroot_dir / "etc" / "asterisk.conf")
        self._proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ public

    def load_state(self) -> SandboxState | None:
        """The persisted state, ``pid`` set to None unless that Asterisk still runs."""
        try:
            raw = self.state_path.read_text()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SandboxError("state", f"cannot read {self.state_path}: {exc}") from None
        try:
            state = SandboxState.from_json(json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise SandboxError("state", f"corrupt {self.state_path}: {exc}") from None
        if state.pid is not None and not self._is_ours(state.pid):
            state = dataclasses.replace(state, pid=None)
        return state

    def up(self) -> SandboxState:
        """Build the rootfs if needed, write the base config, start Asterisk, wait for boot."""
        self._preflight()
        with self._lock():
            self._ensure_rootfs()
            self._ensure_hosts()
            self._ensure_instance_dirs()
            state = self._adopt_orphan(self.load_state())
            if state is not None and state.pid is not None:
                self._warn_port_drift(state)
                self.progress(f"sandbox '{self.settings.name}': already running (pid {state.pid})")
                if not state.wss_url:
                    self.progress(f"sandbox '{self.settings.name}': started before WSS existed: no WebRTC "
                                  "phones until `sandbox down` then `up`")
                return state
            state = self._new_state(state)
            self._write_config(state)
            self._check_ports_free()
            self._clean_run_dir()
            pid = self._start()
            state = dataclasses.replace(state, pid=pid)
            self._save_state(state)
            try:
                self._wait_booted(pid)
            except BaseException:
                self._stop_pid(pid)
                self._save_state(dataclasses.replace(state, pid=None))
                raise
            self.progress(f"sandbox '{self.settings.name}': Asterisk running (pid {pid}), "
                          f"AMI 127.0.0.1:{state.ami_port}, ARI {state.ari_url}, "
                          f"SIP 127.0.0.1:{state.sip_port}, WSS {state.wss_url}")
            return state

    def down(self) -> bool:
        """Stop the Asterisk this instance started; True if one was running."""
        self._preflight()
        if not self.instance_dir.exists():
            return False
        with self._lock():
            state = self._adopt_orphan(self.load_state())
            if state is None or state.pid is None:
                if state is not None:
                    self._clean_run_dir()
                return False
            self._stop_pid(state.pid)
            self._clean_run_dir()
            self._save_state(dataclasses.replace(state, pid=None))
            self.progress(f"sandbox '{self.settings.name}': stopped Asterisk (pid {state.pid})")
            return True

    def status(self) -> dict[str, Any]:
        state = self.load_state()
        out: dict[str, Any] = {"name": self.settings.name, "running": False, "pid": None, "version": None,
                     "ami": False, "ari": False}
        if state is None:
            out.update({k: None for k in ("ami_host", "ami_port", "ami_username", "ami_secret",
                                          "ari_url", "ari_username", "ari_password", "http_port",
                                          "sip_port")})
            out["config_dir"] = str(self.etc_dir)
            out["rootfs"] = str(self.rootfs)
            return out
        data = state.to_json()
        data.pop("name")
        out.update(data)
        if state.pid is not None:
            out["running"] = True
            try:
                m = re.search(r"Asterisk\s+(\d+(?:\.\d+)*)", self.cli("core show version", timeout=10))
                out["version"] = m.group(1) if m else None
            except SandboxError:
                out["version"] = None
            out["ami"] = _ami_banner_ok(state.ami_host, state.ami_port)
            out["ari"] = _ari_ok(state.ari_url, state.ari_username, state.ari_password)
        return out

    def cli(self, command: str, *, timeout: float = 30.0) -> str:
        """Run one Asterisk CLI command on this instance; its output."""
        if not self.rootfs.exists():
            raise SandboxError("cli", f"no sandbox rootfs at {self.rootfs}; run `sandbox up` first")
        argv = ["chroot", str(self.rootfs), "asterisk", "-C", self.chroot_conf, "-rx", command]
        try:
            res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                 env=CHROOT_ENV, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise SandboxError("cli", f"{command!r} did not answer within {timeout:.0f} s") from None
        except OSError as exc:
            raise SandboxError("cli", f"cannot run chroot: {exc}") from None
        if res.returncode != 0:
            msg = (res.stderr.strip() or res.stdout.strip() or f"exit code {res.returncode}")
            raise SandboxError("cli", f"{command!r} on instance '{self.settings.name}': {msg}")
        if res.stdout.startswith("No such command"):
            raise SandboxError("cli", res.stdout.strip())
        return res.stdout

    # ------------------------------------------------------------- preflight

    def _preflight(self) -> None:
        if os.geteuid() != 0:
            raise SandboxError("preflight", "the sandbox needs root (it runs Asterisk in a chroot); "
                                            "run it as root")
        s = self.settings
        if not _NAME_RE.match(s.name):
            raise SandboxError("preflight", f"instance name {s.name!r}: use letters, digits, '-' "
                                            "and '_' (at most 32)")
        if len({s.ami_port, s.http_port, s.https_port, s.sip_port}) != 4:
            raise SandboxError("preflight", f"ami_port {s.ami_port}, http_port {s.http_port} (and "
                                            f"its TLS port {s.https_port}) and sip_port {s.sip_port} "
                                            "must differ")
        if not s.rtp_start < s.rtp_end:
            raise SandboxError("preflight", "rtp_start must be below rtp_end")

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise up/down of every instance of this sandbox dir (and the first build)."""
        self.settings.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.settings.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # ---------------------------------------------------------------- rootfs

    def _ensure_rootfs(self) -> None:
        if (self.rootfs / "usr" / "sbin" / "asterisk").exists():
            return
        if self.rootfs.exists():
            raise SandboxError("debootstrap", f"{self.rootfs} exists but has no usr/sbin/asterisk; "
                                              "remove it to rebuild")
        self._remove_partial()
        debootstrap = self._ensure_debootstrap()
        self.progress(f"sandbox: building the Debian {SUITE} rootfs with Asterisk 22 in "
                      f"{self.rootfs} (first run only, about a minute)")
        self.progress("sandbox: Debian has no pt-BR Asterisk sounds; installing the English ones "
                      "(pt-BR prompts are generated later with espeak-ng)")
        argv = [debootstrap, "--variant=minbase", "--include=" + ",".join(PACKAGES),
                SUITE, str(self.partial)]
        started = time.monotonic()
        last: list[str] = []
        env = dict(os.environ)
        env["PATH"] = CHROOT_ENV["PATH"] + ":" + env.get("PATH", "")
        env.setdefault("LANG", "C.UTF-8")
        try:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, text=True, errors="replace", env=env,
                                    start_new_session=True)
        except OSError as exc:
            raise SandboxError("debootstrap", f"cannot run {debootstrap}: {exc}") from None
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.rstrip()
                if not line:
                    continue
                last = (last + [line])[-30:]
                if line.startswith(("I: ", "E: ", "W: ")):
                    self.progress(f"  [{time.monotonic() - started:4.0f}s] {line}")
                if time.monotonic() - started > DEBOOTSTRAP_TIMEOUT:
                    last.append(f"(killed after {DEBOOTSTRAP_TIMEOUT:.0f} s)")
                    _stop_group(proc)
                    break
            rc = proc.wait()
        except BaseException:
            _stop_group(proc)  # its exit trap unmounts what it mounted in the target
            raise
        if rc != 0:
            tail = "\n".join(last)
            log = _tail(self.partial / "debootstrap" / "debootstrap.log", 20)
            raise SandboxError("debootstrap", f"debootstrap exited with {rc} after "
                                              f"{time.monotonic() - started:.0f} s:\n{tail}"
                                              + (f"\n--- debootstrap.log ---\n{log}" if log else ""))
        if not (self.partial / "usr" / "sbin" / "asterisk").exists():
            raise SandboxError("debootstrap", "debootstrap finished but usr/sbin/asterisk is missing")
        self._prepare_rootfs(self.partial)
        os.rename(self.partial, self.rootfs)
        self.progress(f"sandbox: rootfs ready in {time.monotonic() - started:.0f} s")

    def _ensure_hosts(self) -> None:
        """Give the chroot an /etc/hosts naming this machine. debootstrap writes none, so
        Asterisk's ast_find_ourip() (run for RTP sessions bound to a wildcard address)
        resolves the host name over DNS, fails, then looks up A.ROOT-SERVERS.NET; with
        no reachable resolver some of those lookups hang for seconds inside PJSIP's
        threads and calls pile up at a few calls/s. The file is the same for every
        instance sharing the rootfs, and rewritten only when it differs."""
        path = self.rootfs / "etc" / "hosts"
        text = hosts_file(socket.gethostname())
        with contextlib.suppress(OSError):
            if path.read_text() == text:
                return
        tmp = path.with_name(f".hosts.{os.getpid()}.tmp")
        try:
            tmp.write_text(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except OSError as exc:
            raise SandboxError("write-config", f"cannot write {path}: {exc}") from None

    def _prepare_rootfs(self, root: Path) -> None:
        (root / "run" / "asterisk").mkdir(parents=True, exist_ok=True)
        (root / "srv" / "ccplane").mkdir(parents=True, exist_ok=True)
        dirs = ["/run/asterisk", "/var/lib/asterisk", "/var/log/asterisk", "/var/spool/asterisk"]
        dirs = [d for d in dirs if (root / d.lstrip("/")).exists()]
        res = subprocess.run(["chroot", str(root), "chown", "-R", "asterisk:asterisk", *dirs],
                             capture_output=True, text=True, env=CHROOT_ENV)
        if res.returncode != 0:
            raise SandboxError("debootstrap", f"chown of Asterisk's directories failed: "
                                              f"{res.stderr.strip()}")

    def _ensure_debootstrap(self) -> str:
        found = shutil.which("debootstrap") or shutil.which("debootstrap", path=CHROOT_ENV["PATH"])
        if found:
            return found
        self.progress("sandbox: installing debootstrap (apt-get install -y debootstrap)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        cmd = ["apt-get", "install", "-y", "--no-install-recommends", "debootstrap"]
        res = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if res.returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, text=True, env=env)
            res = subprocess.run(cmd, capture_output=True, text=True, env=env)
        found = shutil.which("debootstrap") or shutil.which("debootstrap", path=CHROOT_ENV["PATH"])
        if res.returncode != 0 or not found:
            out = "\n".join((res.stdout + res.stderr).strip().splitlines()[-15:])
            raise SandboxError("debootstrap", f"cannot install debootstrap:\n{out}")
        return found

    def _remove_partial(self) -> None:
        """Drop the leftovers of an interrupted build (unmounting what debootstrap mounted)."""
        if not self.partial.exists():
            return
        self.progress(f"sandbox: removing an unfinished build at {self.partial}")
        prefix = str(self.partial.resolve()) + "/"
        for mnt in sorted(_mount_points(), key=len, reverse=True):
            if mnt.startswith(prefix):
                subprocess.run(["umount", "-l", mnt], capture_output=True)
        if any(m.startswith(prefix) for m in _mount_points()):
            raise SandboxError("debootstrap", f"{self.partial} still has mounts; unmount them and "
                                              "remove it")
        shutil.rmtree(self.partial)

    # -------------------------------------------------------------- instance

    def _asterisk_ids(self) -> tuple[int, int]:
        def lookup(path: Path) -> int:
            try:
                for line in path.read_text().splitlines():
                    parts = line.split(":")
                    if parts[0] == "asterisk" and len(parts) > 2:
                        return int(parts[2])
            except (OSError, ValueError):
                pass
            raise SandboxError("write-config", f"no 'asterisk' entry in {path}")
        return lookup(self.rootfs / "etc" / "passwd"), lookup(self.rootfs / "etc" / "group")

    def _ensure_instance_dirs(self) -> None:
        uid, gid = self._asterisk_ids()
        try:
            self.instance_dir.mkdir(parents=True, exist_ok=True)
            os.chmod(self.instance_dir, 0o755)
            for sub in INSTANCE_DIRS:
                d = self.instance_dir / sub
                d.mkdir(exist_ok=True)
                os.chown(d, uid, gid)
                os.chmod(d, 0o750 if sub in ("db", "spool") else 0o755)
            for sub in SPOOL_DIRS:
                d = self.instance_dir / "spool" / sub
                d.mkdir(exist_ok=True)
                os.chown(d, uid, gid)
            ccplane_dir = self.etc_dir / "ccplane"
            ccplane_dir.mkdir(exist_ok=True)
            os.chmod(ccplane_dir, 0o755)
            for name in CCPLANE_FILES:
                path = ccplane_dir / name
                if not path.exists():
                    path.write_text("; written by ccplane\n")
                    os.chmod(path, 0o644)
        except OSError as exc:
            raise SandboxError("write-config", f"cannot prepare {self.instance_dir}: {exc}") from None

    def _new_state(self, old: SandboxState | None) -> SandboxState:
        """Credentials kept from ``old`` (or generated once), ports from the settings."""
        s = self.settings
        return SandboxState(
            name=s.name,
            ami_host="127.0.0.1",
            ami_port=s.ami_port,
            ami_username=old.ami_username if old else "ccplane",
            ami_secret=old.ami_secret if old else secrets.token_urlsafe(24),
            ari_url=f"http://127.0.0.1:{s.http_port}",
            ari_username=old.ari_username if old else "ccplane",
            ari_password=old.ari_password if old else secrets.token_urlsafe(24),
            http_port=s.http_port,
            sip_port=s.sip_port,
            config_dir=str(self.etc_dir),
            rootfs=str(self.rootfs),
            pid=None,
            wss_url=f"wss://127.0.0.1:{s.https_port}/ws",
            ws_url=f"ws://127.0.0.1:{s.http_port}/ws",
        )

    def _adopt_orphan(self, state: SandboxState | None) -> SandboxState | None:
        """If the state lost the pid of an Asterisk still running this instance, take it back."""
        if state is None or state.pid is not None:
            return state
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and self._is_ours(int(entry.name)):
                state = dataclasses.replace(state, pid=int(entry.name))
                self._save_state(state)
                break
        return state

    def _save_state(self, state: SandboxState) -> None:
        tmp = self.state_path.with_name(".state.json.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(state.to_json(), fh, indent=2)
                fh.write("\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.state_path)
        except OSError as exc:
            raise SandboxError("state", f"cannot write {self.state_path}: {exc}") from None

    def _warn_port_drift(self, state: SandboxState) -> None:
        s = self.settings
        running = (state.ami_port, state.http_port, state.sip_port)
        wanted = (s.ami_port, s.http_port, s.sip_port)
        if running != wanted:
            self.progress(f"sandbox '{s.name}': already running with ports ami/http/sip "
                          f"{'/'.join(map(str, running))}, settings say "
                          f"{'/'.join(map(str, wanted))}; run `sandbox down` then `up` to apply")

    # ---------------------------------------------------------------- config

    def _moddir(self) -> PurePosixPath:
        """Debian's module directory (multiarch path), from its own asterisk.conf."""
        debian_conf = self.rootfs / "etc" / "asterisk" / "asterisk.conf"
        with contextlib.suppress(OSError):
            for line in debian_conf.read_text().splitlines():
                m = re.match(r"^\s*astmoddir\s*=>\s*(\S+)", line)
                if m and (self.rootfs / m.group(1).lstrip("/")).is_dir():
                    return PurePosixPath(m.group(1))
        found = sorted(self.rootfs.glob("usr/lib/*/asterisk/modules"))
        if not found:
            raise SandboxError("write-config", f"no Asterisk module directory in {self.rootfs}")
        return PurePosixPath("/") / found[0].relative_to(self.rootfs)

    def _render_all(self, state: SandboxState) -> dict[str, str]:
        if not TEMPLATE_DIR.is_dir():
            raise SandboxError("write-config", f"template directory {TEMPLATE_DIR} is missing")
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                                 autoescape=False, undefined=jinja2.StrictUndefined,
                                 trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        env.filters["confval"] = _confval
        moddir = self._moddir()
        ctx = {
            "name": self.settings.name,
            "instance_dir": str(self.chroot_dir),
            "moddir": str(moddir),
            "ami_port": state.ami_port,
            "ami_username": state.ami_username,
            "ami_secret": state.ami_secret,
            "ari_username": state.ari_username,
            "ari_password": state.ari_password,
            "http_port": state.http_port,
            "https_port": self.settings.https_port,
            "tls_cert": str(self.chroot_dir / "etc" / "keys" / TLS_CERT),
            "tls_key": str(self.chroot_dir / "etc" / "keys" / TLS_KEY),
            "ice_host_candidates": host_addresses(),
            "sip_port": state.sip_port,
            "rtp_start": self.settings.rtp_start,
            "rtp_end": self.settings.rtp_end,
            "moh_dir": str(MOH_DIR),
            "maxfiles": _maxfiles(),
        }
        out: dict[str, str] = {}
        for tpl in sorted(TEMPLATE_DIR.glob("*.conf")):
            try:
                out[tpl.name] = env.get_template(tpl.name).render(ctx)
            except (jinja2.TemplateError, ValueError) as exc:
                raise SandboxError("write-config", f"template {tpl.name}: {exc}") from None
        if "modules.conf" in out:
            out["modules.conf"] = self._drop_missing_modules(out["modules.conf"], moddir)
        return out

    def _drop_missing_modules(self, text: str, moddir: PurePosixPath) -> str:
        host_moddir = self.rootfs / str(moddir).lstrip("/")
        lines = []
        for line in text.splitlines(keepends=True):
            m = _LOAD_RE.match(line.strip())
            if m and not (host_moddir / m.group(2)).exists():
                self.progress(f"sandbox: module {m.group(2)} is not in this Asterisk build; skipped")
                line = f"; not in this build: {line}"
            lines.append(line)
        return "".join(lines)

    def _write_config(self, state: SandboxState) -> None:
        rendered = self._render_all(state)
        uid, gid = self._asterisk_ids()
        self._ensure_moh(uid, gid)
        self._ensure_certificate(uid, gid)
        try:
            for name, text in rendered.items():
                path = self.etc_dir / name
                tmp = path.with_name(f".{name}.tmp")
                secret = name in SECRET_FILES
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(text)
                os.chown(tmp, 0, gid if secret else 0)
                os.chmod(tmp, 0o640 if secret else 0o644)
                os.replace(tmp, path)
        except OSError as exc:
            raise SandboxError("write-config", f"cannot write {self.etc_dir}: {exc}") from None

    def _ensure_certificate(self, uid: int, gid: int) -> None:
        """A self-signed certificate for Asterisk's HTTPS server (WSS for WebRTC phones),
        made once per instance; production uses a real one (docs/webrtc.md)."""
        keys = self.etc_dir / "keys"
        cert, key = keys / TLS_CERT, keys / TLS_KEY
        if cert.exists() and key.exists():
            return
        try:
            keys.mkdir(exist_ok=True)
            os.chmod(keys, 0o750)
            os.chown(keys, 0, gid)
        except OSError as exc:
            raise SandboxError("certificate", f"cannot create {keys}: {exc}") from None
        argv = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", str(key), "-out", str(cert)]
        try:
            res = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                                 stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxError("certificate", f"cannot run openssl: {exc}") from None
        if res.returncode != 0:
            raise SandboxError("certificate", f"openssl failed: {res.stderr.strip()[-500:]}")
        try:
            for path in (cert, key):
                os.chown(path, 0, gid)
                os.chmod(path, 0o640)
        except OSError as exc:
            raise SandboxError("certificate", f"cannot set owner of {keys}: {exc}") from None

    def _ensure_moh(self, uid: int, gid: int) -> None:
        """Debian ships no hold music with Asterisk: give the default class one file."""
        moh = self.rootfs / str(MOH_DIR).lstrip("/")
        path = moh / MOH_FILE
        if path.exists():
            return
        try:
            moh.mkdir(parents=True, exist_ok=True)
            tmp = moh / f".{MOH_FILE}.tmp"
            _write_chime(tmp)
            os.chown(tmp, uid, gid)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except OSError as exc:
            raise SandboxError("write-config", f"cannot write {path}: {exc}") from None

    # ----------------------------------------------------------------- start

    def _check_ports_free(self) -> None:
        s = self.settings
        checks = [("ami_port", s.ami_port, socket.SOCK_STREAM),
                  ("http_port", s.http_port, socket.SOCK_STREAM),
                  ("http_port + 1 (WSS)", s.https_port, socket.SOCK_STREAM),
                  ("sip_port", s.sip_port, socket.SOCK_STREAM),
                  ("sip_port", s.sip_port, socket.SOCK_DGRAM)]
        for key, port, kind in checks:
            with socket.socket(socket.AF_INET, kind) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError as exc:
                    proto = "TCP" if kind == socket.SOCK_STREAM else "UDP"
                    raise SandboxError("start", f"{key} {port}/{proto} on 127.0.0.1 is taken "
                                                f"({exc.strerror}); is another Asterisk running? "
                                                "Pick other sandbox ports") from None

    def _clean_run_dir(self) -> None:
        for name in ("asterisk.ctl", "asterisk.pid"):
            with contextlib.suppress(FileNotFoundError):
                (self.run_dir / name).unlink()

    def _start(self) -> int:
        argv = ["chroot", str(self.rootfs), "asterisk", "-f", "-U", "asterisk", "-G", "asterisk",
                "-C", self.chroot_conf]
        uid, gid = self._asterisk_ids()
        with contextlib.suppress(OSError):
            if self.console_log.stat().st_size > 1_000_000:
                os.replace(self.console_log, self.console_log.with_name("console.log.1"))
        try:
            log = open(self.console_log, "ab")
        except OSError as exc:
            raise SandboxError("start", f"cannot open {self.console_log}: {exc}") from None
        with log:
            with contextlib.suppress(OSError):
                os.chown(self.console_log, uid, gid)
            log.write(f"\n=== ccplane sandbox start {time.strftime('%F %T')} ===\n".encode())
            log.flush()
            try:
                self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True,
                                              env=CHROOT_ENV)
            except OSError as exc:
                raise SandboxError("start", f"cannot run chroot: {exc}") from None
        self.progress(f"sandbox '{self.settings.name}': starting Asterisk (pid {self._proc.pid})")
        return self._proc.pid

    def _logs_tail(self) -> str:
        parts = []
        for path in (self.console_log, self.messages_log):
            tail = _tail(path)
            if tail:
                parts.append(f"--- {path} ---\n{tail}")
        return "\n".join(parts)

    def _wait_booted(self, pid: int) -> None:
        deadline = time.monotonic() + BOOT_TIMEOUT
        last = ""
        while True:
            if not self._alive(pid):
                code = self._proc.poll() if self._proc is not None else None
                raise SandboxError("start", f"Asterisk exited during boot (exit code {code}):\n"
                                            + self._logs_tail())
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxError("wait-booted", f"Asterisk not fully booted after "
                                                  f"{BOOT_TIMEOUT:.0f} s ({last})\n" + self._logs_tail())
            try:
                self.cli("core waitfullybooted", timeout=max(1.0, min(remaining, 15.0)))
                break
            except SandboxError as exc:
                last = str(exc)
                time.sleep(0.2)
        state = self.load_state()
        assert state is not None
        # manager and http start during boot; check the ports really answer
        while not (_ami_banner_ok(state.ami_host, state.ami_port)
                   and _ari_ok(state.ari_url, state.ari_username, state.ari_password)):
            if time.monotonic() > deadline:
                raise SandboxError("wait-booted", f"Asterisk booted but AMI (port {state.ami_port}) "
                                                  f"or ARI ({state.ari_url}) does not answer\n"
                                                  + self._logs_tail())
            time.sleep(0.2)

    # ------------------------------------------------------------------ stop

    def _alive(self, pid: int) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            # our own child: right after Popen it may still be `chroot`, not yet asterisk
            return self._proc.poll() is None
        self._reap(pid)
        return self._is_ours(pid)

    def _reap(self, pid: int) -> None:
        """Collect an exited child of this process so it does not linger as a zombie."""
        if self._proc is not None and self._proc.pid == pid:
            self._proc.poll()
            return
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)

    def _is_ours(self, pid: int) -> bool:
        """True if ``pid`` is an Asterisk started with this instance's asterisk.conf."""
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False
        args = [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]
        if not args or not Path(args[0]).name.startswith("asterisk"):
            return False
        return any(a == "-C" and b == self.chroot_conf for a, b in zip(args, args[1:]))

    def _stop_pid(self, pid: int) -> None:
        for sig, grace in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, 5.0)):
            if not self._alive(pid):
                return
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                if not self._alive(pid):
                    return
                time.sleep(0.1)
        if self._alive(pid):
            raise SandboxError("stop", f"Asterisk pid {pid} survived SIGKILL")


def host_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses. Asterisk never offers loopback as
    an ICE candidate, so rtp.conf maps each of these to 127.0.0.1 in
    [ice_host_candidates]: a browser on this machine then reaches the sandbox's RTP on
    loopback. With no such address (a namespace with only lo) there is no candidate
    and no WebRTC media."""
    try:
        res = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True,
                             timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = re.findall(r"\binet\s+(\d+\.\d+\.\d+\.\d+)/", res.stdout)
    return sorted({a for a in found if not a.startswith("127.")})


def hosts_file(hostname: str) -> str:
    """/etc/hosts for the chroot: loopback names and this machine's name, all on
    127.0.0.1 (the sandbox serves loopback only)."""
    names = " ".join(dict.fromkeys(n for n in ("localhost", hostname, hostname.split(".")[0]) if n))
    return (f"127.0.0.1\t{names}\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\n")


def _maxfiles(wanted: int = 65536) -> int:
    """Asterisk's open-file limit: ``wanted``, capped by our hard limit (it cannot go above)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)


def _write_chime(path: Path, rate: int = 8000) -> None:
    """A soft four-note chime and a pause, 8 kHz mono 16-bit WAV (about 6 s, loops)."""
    frames = bytearray()
    note_len = int(rate * 0.45)
    fade = int(rate * 0.05)
    for freq in (523.25, 659.25, 783.99, 659.25, 587.33, 523.25):
        for i in range(note_len):
            env = min(1.0, i / fade, (note_len - i) / fade)
            sample = int(5000 * env * math.sin(2 * math.pi * freq * i / rate))
            frames += sample.to_bytes(2, "little", signed=True)
    frames += bytes(2 * rate * 3)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def _stop_group(proc: "subprocess.Popen[Any]") -> None:
    """SIGTERM a process group (SIGKILL after 15 s) and reap its leader."""
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _mount_points() -> list[str]:
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    return [line.split()[1].replace("\\040", " ") for line in lines if len(line.split()) > 1]


def _ami_banner_ok(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            data = b""
            while b"\n" not in data and len(data) < 256:
                chunk = sock.recv(256)
                if not chunk:
                    break
                data += chunk
            return b"Asterisk Call Manager" in data
    except OSError:
        return False


def _ari_ok(url: str, username: str, password: str, timeout: float = 3.0) -> bool:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    req = urllib.request.Request(url.rstrip("/") + "/ari/asterisk/info",
                                 headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False
