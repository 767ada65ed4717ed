from __future__ import annotations


from pydantic import BaseModel

from ..common import Input, Name, NotNull, Slug, Timestamp


class DomainCreate(Input):
    slug: Slug
    name: Name


class DomainUpdate(Input):
    name: NotNull[Name] = None


class DomainOut(BaseModel):
    slug: str
    name: str
    created_at: Timestamp
