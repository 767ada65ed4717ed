"""Attachments of monitored persons: at most 5 per person, 64 MB each,
streamed to disk (never held whole in memory), content type sniffed."""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

from aiohttp import BodyPartReader, MultipartReader
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from ...web.context import ADMIN_ROLES, Principal
from ..domains.services import resolve_domain
from .models import MonitoredPerson, PersonAttachment

MAX_FILES = 5
MAX_SIZE = 64 * 1024 * 1024
CHUNK = 256 * 1024
_SAFE_NAME = re.compile(r"[^\w.() -]", re.UNICODE)
TEAM = ADMIN_ROLES | {"supervisor", "agent"}

_MAGIC = [
    (b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"), (b"PK\x03\x04", "application/zip"),
    (b"ID3", "audio/mpeg"), (b"OggS", "audio/ogg"), (b"\x1a\x45\xdf\xa3", "video/webm"),
]


def sniff(head: bytes) -> str:
    """The content type from the first bytes, never from what the client claims."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    try:
        head.decode("utf-8")
        return "text/plain"
    except UnicodeDecodeError:
        return "application/octet-stream"


class AttachmentService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], storage: Path) -> None:
        self.sessions = sessions
        self.dir = storage / "attachments"

    async def _person(self, s: AsyncSession, me: Principal, slug: str, person_id: int) -> MonitoredPerson:
        domain = await resolve_domain(s, me, slug)
        person = await s.scalar(select(MonitoredPerson).where(MonitoredPerson.domain_id == domain.id,
                                                              MonitoredPerson.id == person_id))
        if person is None:
            raise NotFound(f"monitored person {person_id} not found", field="id")
        return person

    async def list(self, me: Principal, slug: str, person_id: int) -> list[PersonAttachment]:
        me.require(TEAM, "see attachments")
        async with self.sessions() as s:
            person = await self._person(s, me, slug, person_id)
            return list(await s.scalars(select(PersonAttachment).where(PersonAttachment.person_id == person.id)
                                        .order_by(PersonAttachment.id)))

    async def upload(self, me: Principal, slug: str, person_id: int, reader: MultipartReader,
                     declared_length: int | None) -> PersonAttachment:
        me.require(TEAM, "add attachments")
        async with self.sessions() as s:
            person = await self._person(s, me, slug, person_id)
            await self._room_for_one(s, person.id)
        if declared_length is not None and declared_length > MAX_SIZE + 64 * 1024:
            raise PayloadTooLarge(f"an attachment is at most {MAX_SIZE // 1024 // 1024} MB", field="file")
        part = await reader.next()
        while part is not None and (not isinstance(part, BodyPartReader) or part.name != "file"):
            part = await reader.next()
        if part is None:
            raise ValidationFailed("file is required (multipart field 'file')", field="file")
        filename = _SAFE_NAME.sub("_", part.filename or "attachment")[:200] or "attachment"
        self.dir.mkdir(parents=True, exist_ok=True)
        stored_as = secrets.token_hex(16)
        target = self.dir / stored_as
        digest, size, head = hashlib.sha256(), 0, b""
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                while chunk := await part.read_chunk(CHUNK):
                    size += len(chunk)
                    if size > MAX_SIZE:
                        raise PayloadTooLarge(f"an attachment is at most {MAX_SIZE // 1024 // 1024} MB",
                                              field="file")
                    if len(head) < 16:
                        head += chunk[:16]
                    digest.update(chunk)
                    out.write(chunk)
            async with self.sessions() as s:
                await self._room_for_one(s, person_id)  # another upload may have won meanwhile
                row = PersonAttachment(person_id=person_id, filename=filename, content_type=sniff(head),
                                       size=size, sha256=digest.hexdigest(), stored_as=stored_as)
                s.add(row)
                await s.commit()
                return row
        except BaseException:
            target.unlink(missing_ok=True)
            raise

    async def open(self, me: Principal, slug: str, person_id: int, aid: int) -> tuple[PersonAttachment, Path]:
        me.require(TEAM, "read attachments")
        async with self.sessions() as s:
            person = await self._person(s, me, slug, person_id)
            row = await s.scalar(select(PersonAttachment).where(PersonAttachment.person_id == person.id,
                                                                PersonAttachment.id == aid))
            if row is None:
                raise NotFound(f"attachment {aid} not found", field="aid")
            return row, self.dir / row.stored_as

    async def delete(self, me: Principal, slug: str, person_id: int, aid: int) -> None:
        row, path = await self.open(me, slug, person_id, aid)
        async with self.sessions() as s:
            await s.delete(await s.get(PersonAttachment, row.id))
            await s.commit()
        path.unlink(missing_ok=True)

    @staticmethod
    async def _room_for_one(s: AsyncSession, person_id: int) -> None:
        count = await s.scalar(select(func.count()).where(PersonAttachment.person_id == person_id)) or 0
        if count >= MAX_FILES:
            raise Conflict(f"a person has at most {MAX_FILES} attachments; delete one first", field="file")
