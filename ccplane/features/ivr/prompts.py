"""Prompts: sound files uploaded for a domain, converted with sox to what
Asterisk plays best (8 kHz, mono, 16-bit WAV), and Asterisk's own sounds.

An upload is a WAV or an MP3 (told by its first bytes, not by its name), at most
``MAX_UPLOAD`` bytes, and plays between a tenth of a second and ``MAX_SECONDS``
once converted. A prompt an IVR tree plays cannot be deleted (409 naming the
nodes)."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, MultipartReader
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from ...tools import run_tool
from ...web.context import ADMIN_ROLES, READ_ROLES, Principal
from ..domains.services import resolve_domain
from .models import IvrTree, Prompt
from .render import PROMPT_DIR

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_UPLOAD = 20 * 1024 * 1024
MAX_SECONDS = 600
MIN_SECONDS = 0.1
BUILTIN_DIRS = ("en_US_f_Allison", "en", "custom")
PROMPT_FIELDS = ("prompt", "invalid_prompt", "timeout_prompt")


@dataclass(frozen=True)
class PromptInfo:
    """An uploaded prompt as the admin page lists it."""
    name: str
    seconds: float | None  # None: the converted file is missing on this host
    size: int | None
    created_at: datetime
    used_by: list[str]  # "<tree>:<node path>" of the IVR nodes that play it


def sniff_format(head: bytes) -> str | None:
    """``wav`` or ``mp3`` from a file's first bytes; None for anything else."""
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate() or 1)


def prompt_users(slug: str, name: str, trees: list[tuple[str, Any]]) -> list[str]:
    """``<tree>:<node path>.<field>`` of every node of ``trees`` that plays prompt ``name``
    (by its name, or by its full sound path ``ccplane/<slug>/<name>``)."""
    wanted = {name, f"{PROMPT_DIR}/{slug}/{name}"}
    found: list[str] = []
    for tree, root in trees:
        stack: list[tuple[Any, str]] = [(root, "root")]
        while stack:
            node, path = stack.pop()
            if not isinstance(node, dict):
                continue
            for key in PROMPT_FIELDS:
                if node.get(key) in wanted:
                    found.append(f"{tree}:{path}.{key}")
            for key, child in node.items():
                if key == "options" and isinstance(child, dict):
                    stack.extend((c, f"{path}.options.{k}") for k, c in child.items())
                elif isinstance(child, dict):
                    stack.append((child, f"{path}.{key}"))
    return sorted(found)


class PromptService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], sounds_dir: Path | None) -> None:
        self.sessions = sessions
        self.sounds_dir = sounds_dir

    def builtin_sound(self, name: str) -> bool:
        """True when Asterisk ships a sound of that name (or when we cannot look)."""
        if self.sounds_dir is None or not self.sounds_dir.is_dir():
            return True
        if name.startswith(f"{PROMPT_DIR}/system/"):
            return (self.sounds_dir / f"{name}.wav").exists()
        for sub in BUILTIN_DIRS:
            base = self.sounds_dir / sub / name
            if base.parent.is_dir() and any(base.parent.glob(base.name + ".*")):
                return True
        return False

    async def list(self, me: Principal, slug: str) -> list[str]:
        me.require(READ_ROLES, "list prompts")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            return list(await s.scalars(select(Prompt.name).where(Prompt.domain_id == domain.id)
                                        .order_by(Prompt.name)))

    async def details(self, me: Principal, slug: str) -> list[PromptInfo]:
        """The uploaded prompts with their length, size and the IVR nodes that play them."""
        me.require(READ_ROLES, "list prompts")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            rows = list(await s.scalars(select(Prompt).where(Prompt.domain_id == domain.id).order_by(Prompt.name)))
            trees = [(t.name, t.root) for t in await s.scalars(select(IvrTree).where(IvrTree.domain_id == domain.id))]
            domain_slug = domain.slug
        out = []
        for row in rows:
            path = self.audio_path(domain_slug, row.name)
            seconds = size = None
            if path is not None and path.is_file():
                size = path.stat().st_size
                try:
                    seconds = round(wav_seconds(path), 1)
                except (wave.Error, EOFError):
                    seconds = None
            out.append(PromptInfo(row.name, seconds, size, row.created_at,
                                  prompt_users(domain_slug, row.name, trees)))
        return out

    def audio_path(self, slug: str, name: str) -> Path | None:
        if self.sounds_dir is None:
            return None
        return self.sounds_dir / PROMPT_DIR / slug / f"{name}.wav"

    async def audio(self, me: Principal, slug: str, name: str) -> Path:
        """The converted file of one uploaded prompt (what Asterisk plays)."""
        me.require(READ_ROLES, "listen to prompts")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            found = await s.scalar(select(Prompt.id).where(Prompt.domain_id == domain.id, Prompt.name == name))
            domain_slug = domain.slug
        path = self.audio_path(domain_slug, name)
        if found is None or path is None or not path.is_file():
            raise NotFound(f"prompt {name} not found", field="name")
        return path

    async def upload(self, me: Principal, slug: str, reader: MultipartReader) -> str:
        me.require(ADMIN_ROLES | {"supervisor"}, "upload prompts")
        if self.sounds_dir is None:
            raise Conflict("asterisk.sounds_dir is not configured; prompts cannot be stored", field=None)
        name, raw = await self._receive(reader)
        try:
            async with self.sessions() as s:
                domain = await resolve_domain(s, me, slug)
                if await s.scalar(select(Prompt.id).where(Prompt.domain_id == domain.id, Prompt.name == name)):
                    raise Conflict(f"prompt {name} already exists", field="name")
                domain_id, domain_slug = domain.id, domain.slug
            # no transaction stays open while sox runs
            target = self.sounds_dir / PROMPT_DIR / domain_slug / f"{name}.wav"
            await _convert(raw, target)
            async with self.sessions() as s:
                s.add(Prompt(domain_id=domain_id, name=name))
                try:
                    await s.commit()
                except IntegrityError:
                    raise Conflict(f"prompt {name} already exists", field="name") from None
        finally:
            raw.unlink(missing_ok=True)
        return name

    async def delete(self, me: Principal, slug: str, name: str) -> None:
        me.require(ADMIN_ROLES | {"supervisor"}, "delete prompts")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            row = await s.scalar(select(Prompt).where(Prompt.domain_id == domain.id, Prompt.name == name))
            if row is None:
                raise NotFound(f"prompt {name} not found", field="name")
            trees = [(t.name, t.root) for t in await s.scalars(select(IvrTree).where(IvrTree.domain_id == domain.id))]
            users = prompt_users(domain.slug, name, trees)
            if users:
                raise Conflict(f"prompt {name} is played by IVR nodes {', '.join(users)}; "
                               "change those nodes first", field="name")
            await s.delete(row)
            await s.commit()
        if self.sounds_dir is not None:
            (self.sounds_dir / PROMPT_DIR / slug / f"{name}.wav").unlink(missing_ok=True)

    @staticmethod
    async def _receive(reader: MultipartReader) -> tuple[str, Path]:
        name: str | None = None
        raw: Path | None = None
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "name":
                name = (await part.text()).strip()
            elif part.name == "file":
                if raw is not None:
                    raw.unlink(missing_ok=True)
                fd, tmp = tempfile.mkstemp(prefix="ccplane-upload-")
                raw, size = Path(tmp), 0
                with os.fdopen(fd, "wb") as out:
                    while chunk := await part.read_chunk(64 * 1024):
                        size += len(chunk)
                        if size > MAX_UPLOAD:
                            raw.unlink(missing_ok=True)
                            raise PayloadTooLarge(f"a prompt is at most {MAX_UPLOAD // 1024 // 1024} MB",
                                                  field="file")
                        out.write(chunk)
        if raw is None:
            raise ValidationFailed("file is required (multipart field 'file')", field="file")
        if not name or not NAME_RE.match(name):
            raw.unlink(missing_ok=True)
            raise ValidationFailed("name is required: lower case letters, digits, _ and -", field="name")
        with raw.open("rb") as f:
            kind = sniff_format(f.read(16))
        if kind is None:
            raw.unlink(missing_ok=True)
            raise ValidationFailed("file must be a WAV or an MP3 sound", field="file")
        typed = raw.with_name(raw.name + "." + kind)
        os.replace(raw, typed)
        return name, typed


async def _convert(raw: Path, target: Path) -> None:
    sox = shutil.which("sox")
    if sox is None:
        raise Conflict("sox is not installed on the server (apt-get install sox)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.wav")
    code, err = await run_tool(sox, str(raw), "-r", "8000", "-c", "1", "-b", "16", str(tmp))
    if code != 0:
        tmp.unlink(missing_ok=True)
        reason = err.strip().splitlines()[-1:] or ["unknown format"]
        raise ValidationFailed(f"not a sound file sox can read: {reason[0]}", field="file")
    try:
        seconds = wav_seconds(tmp)
    except (wave.Error, EOFError):
        seconds = 0.0
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        tmp.unlink(missing_ok=True)
        raise ValidationFailed(f"a prompt plays from {MIN_SECONDS} to {MAX_SECONDS} seconds; "
                               f"this one plays {seconds:.1f} s", field="file")
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)

