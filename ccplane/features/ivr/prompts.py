"""Prompts: sound files uploaded for a domain, converted with sox to what
Asterisk plays best (8 kHz, mono, 16-bit WAV), and Asterisk's own sounds."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from aiohttp import BodyPartReader, MultipartReader
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from ...tools import run_tool
from ...web.context import ADMIN_ROLES, READ_ROLES, Principal
from ..domains.services import resolve_domain
from .models import Prompt
from .render import PROMPT_DIR

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_UPLOAD = 20 * 1024 * 1024
BUILTIN_DIRS = ("en_US_f_Allison", "en", "custom")


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
        return name, raw


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
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)

