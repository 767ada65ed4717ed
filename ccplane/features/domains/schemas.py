from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ..common import Input, Name, Slug


class DomainCreate(Input):
    slug: Slug
    name: Name


class DomainUpdate(Input):
    name: Name | None = None


class DomainOut(BaseModel):
    slug: str
    name: str
    created_at: datetime
