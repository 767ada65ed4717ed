"""This deployment's identity: one id per database, shared by its replicas.

It names the deployment that owns an Asterisk's rendered configuration
(``asterisk/render.py``), so two deployments with different databases never
silently overwrite each other's configuration on one Asterisk."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow


class DeploymentIdentity(Base):
    __tablename__ = "deployment_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    deployment: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


async def deployment_id(sessions: async_sessionmaker[AsyncSession]) -> str:
    """The id, created by the first process that asks (replicas racing: one wins)."""
    for _ in range(2):
        async with sessions() as s:
            found = await s.scalar(select(DeploymentIdentity.deployment).where(DeploymentIdentity.id == 1))
            if found:
                return found
            s.add(DeploymentIdentity(id=1, deployment=str(uuid.uuid4())))
            try:
                await s.commit()
            except IntegrityError:
                continue  # another replica created it first: read theirs
    async with sessions() as s:
        found = await s.scalar(select(DeploymentIdentity.deployment).where(DeploymentIdentity.id == 1))
    if not found:
        raise RuntimeError("could not create the deployment identity")
    return found
