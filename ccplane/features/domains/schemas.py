from __future__ import annotations


from pydantic import BaseModel

from ..common import DEFAULT_ZONE, Input, Name, NotNull, Slug, Timestamp, TimeZone


class DomainCreate(Input):
    slug: Slug
    name: Name
    timezone: TimeZone = DEFAULT_ZONE


class DomainUpdate(Input):
    name: NotNull[Name] = None
    timezone: NotNull[TimeZone] = None


class DomainOut(BaseModel):
    slug: str
    name: str
    timezone: str
    created_at: Timestamp
