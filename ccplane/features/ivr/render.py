"""What the dialplan template needs for IVR trees and inbound routes; all the
decisions are made here so the template only loops and branches on node type."""
from __future__ import annotations

from typing import Any

from ..callgroups.domain import CALLGROUP_CONTEXT, callgroup_exten
from ..extensions.domain import domain_context
from ..queues.domain import QUEUE_CONTEXT, asterisk_queue_name
from .domain import Catalog, FlatNode, validate_tree

PROMPT_DIR = "ccplane"  # uploaded prompts live in <sounds>/ccplane/<domain>/<name>


# "_" never occurs in slugs or IVR names, so these cannot collide across domains
# (IVR "x-main" of "acme" vs "main" of "acme-x") or with another tree's nodes.
def ivr_entry_context(slug: str, name: str) -> str:
    return f"ccplane-ivr-{slug}_{name}"


def node_context(slug: str, name: str, index: int) -> str:
    return f"ccplane-ivr-{slug}_{name}_n{index}"


def goto_destination(slug: str, kind: str, target: str | None) -> str:
    """The dialplan application that sends a caller to a destination."""
    if kind == "queue":
        return f"Goto({QUEUE_CONTEXT},{asterisk_queue_name(slug, str(target))},1)"
    if kind == "extension":
        return f"Goto({domain_context(slug)},{target},1)"
    if kind == "ivr":
        return f"Goto({ivr_entry_context(slug, str(target))},s,1)"
    if kind == "callgroup":
        return f"Goto({CALLGROUP_CONTEXT},{callgroup_exten(slug, str(target))},1)"
    if kind == "callback":  # the request dialplan of features/callbacks; it hangs up
        return f"Gosub(ccplane-callback-request,s,1({slug},{target},{asterisk_queue_name(slug, str(target))}))"
    return "Hangup()"


def sound(slug: str, name: str, uploaded: set[str]) -> str:
    return f"{PROMPT_DIR}/{slug}/{name}" if name in uploaded else name


def tree_model(slug: str, name: str, root: dict[str, Any], uploaded: set[str]) -> dict[str, Any]:
    nodes = validate_tree(root, Catalog(strict=False), self_name=name)
    return {"entry": ivr_entry_context(slug, name), "name": name, "slug": slug,
            "first": node_context(slug, name, 0),
            "nodes": [_node_model(slug, name, n, uploaded) for n in nodes]}


def _node_model(slug: str, name: str, node: FlatNode, uploaded: set[str]) -> dict[str, Any]:
    ctx = {key: node_context(slug, name, idx) for key, idx in node.children.items()}
    model: dict[str, Any] = {"context": node_context(slug, name, node.index), "type": node.type,
                             "path": node.path, "var": f"n{node.index}"}
    spec = node.spec
    for key in ("prompt", "invalid_prompt", "timeout_prompt"):
        if key in spec:
            model[key] = sound(slug, spec[key], uploaded)
    if node.type == "menu":
        model.update(input_timeout=spec["input_timeout"], max_retries=spec["max_retries"],
                      options=[(key.split(".", 1)[1], target) for key, target in sorted(ctx.items())
                               if key.startswith("options.")],
                      invalid=ctx["invalid"], timeout=ctx["timeout"])
    elif node.type == "collect":
        model.update(digits=spec["digits"], input_timeout=spec["input_timeout"], check=spec["check"],
                     next=ctx["next"], failed=ctx["failed"])
    elif node.type == "play":
        model.update(next=ctx["next"])
    else:
        model["goto"] = goto_destination(slug, node.type, spec.get("target"))
    return model
