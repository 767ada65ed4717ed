from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints, WithJsonSchema

from ..common import Input, NotReserved, Timestamp

# A node tree (API.md): described here by its node types and fields; the
# server checks the rest (required fields per type, targets, prompts, loops,
# depth) and names the path of what it refuses.
_NODE_TYPES = ["menu", "collect", "play", "queue", "extension", "ivr", "call_group", "callgroup", "hangup", "callback"]
IVR_NODE_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["type"],
    "description": "an IVR node: menu, collect, play, or a terminal (queue, extension, ivr, call_group "
                   "(also spelled callgroup), hangup, callback: target names the queue whose line the callback "
                   "joins; without it, the tree's first queue node's queue)",
    "properties": {
        "type": {"enum": _NODE_TYPES}, "prompt": {"type": "string"}, "target": {"type": "string"},
        "options": {"type": "object", "additionalProperties": {"type": "object"}},
        "invalid": {"type": "object"}, "timeout": {"type": "object"}, "next": {"type": "object"},
        "failed": {"type": "object"}, "digits": {"type": "integer"},
        "check": {"anyOf": [{"enum": ["cpf_registered"]}, {"type": "null"}]},
        "input_timeout": {"type": "integer"}, "max_retries": {"type": "integer"},
        "invalid_prompt": {"type": "string"}, "timeout_prompt": {"type": "string"},
    },
}
IvrNode = Annotated[dict[str, Any], WithJsonSchema(IVR_NODE_SCHEMA)]

IvrName = Annotated[str, StringConstraints(min_length=1, max_length=24, pattern=r"^[a-z0-9][a-z0-9-]*$"), NotReserved]


class IvrCreate(Input):
    name: IvrName
    root: IvrNode


class IvrUpdate(Input):
    root: IvrNode


class IvrOut(BaseModel):
    name: str
    root: dict[str, Any]
    entry_context: str


class IvrStepOut(BaseModel):
    tree: str
    node: str
    step: str
    digits: str | None
    at: Timestamp
