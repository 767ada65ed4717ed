from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from ..common import Input, NotNull, Timestamp
from ..queues.schemas import GroupName, QueueName

Queues = Annotated[list[QueueName], Field(max_length=500)]


class GroupCreate(Input):
    name: GroupName
    # The queues this group covers; a queue belongs to one group at most (its monitoring_group).
    # Left out: the queues whose monitoring_group already names this group.
    queues: Queues = Field(default_factory=list)


class GroupUpdate(Input):
    name: NotNull[GroupName] = None
    queues: NotNull[Queues] = None


class GroupOut(BaseModel):
    name: str
    queues: list[str]
    # usernames of the users who belong (set through each user's monitoring_groups)
    members: list[str]
    created_at: Timestamp
