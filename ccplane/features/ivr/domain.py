"""IVR trees: validation with node paths, and the flat list of nodes the
dialplan templates render (one context per node).

A tree is JSON (API.md): ``menu``, ``collect``, ``play`` and the terminals
``queue``, ``extension``, ``ivr``, ``call_group`` (``callgroup`` is taken too),
``hangup``, ``callback``. Adding a node kind means one entry in ``NODE_KINDS``
and one branch in the template.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

DIGIT_KEYS = set("0123456789*#")
PROMPT_RE = re.compile(r"[a-z0-9][a-z0-9_/-]{0,79}")
TARGET_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
TERMINALS = {"queue", "extension", "ivr", "call_group", "callgroup", "hangup", "callback"}
ALIASES = {"call_group": "callgroup"}  # the contract's spelling -> the one the dialplan renders
MAX_NODES = 200
MAX_DEPTH = 12


@dataclass(frozen=True)
class NodeKind:
    fields: dict[str, str]        # field -> "prompt" | "node" | "int:lo:hi" | "target" | "check" | "options"
    required: frozenset[str]


NODE_KINDS: dict[str, NodeKind] = {
    "menu": NodeKind({"prompt": "prompt", "options": "options", "invalid": "node", "timeout": "node",
                      "input_timeout": "int:1:60", "max_retries": "int:0:10", "invalid_prompt": "prompt",
                      "timeout_prompt": "prompt"}, frozenset({"prompt", "options"})),
    "collect": NodeKind({"prompt": "prompt", "digits": "int:1:32", "check": "check", "next": "node",
                         "failed": "node", "input_timeout": "int:1:60"}, frozenset({"prompt", "digits", "next"})),
    "play": NodeKind({"prompt": "prompt", "next": "node"}, frozenset({"prompt"})),
    "queue": NodeKind({"target": "target"}, frozenset({"target"})),
    "extension": NodeKind({"target": "target"}, frozenset({"target"})),
    "ivr": NodeKind({"target": "target"}, frozenset({"target"})),
    "call_group": NodeKind({"target": "target"}, frozenset({"target"})),
    "callgroup": NodeKind({"target": "target"}, frozenset({"target"})),
    "hangup": NodeKind({}, frozenset()),
    # the caller leaves a callback (features/callbacks): it joins the target queue's line
    # at its end, confirmed number and all, as a waiting caller pressing the queue's key does;
    # with no target, the tree's queue (its first queue node, depth first)
    "callback": NodeKind({"target": "target"}, frozenset()),
}
CHECKS = {"cpf_registered"}
# ccplane's own pt-BR prompts (features/ivr/system_prompts.py), generated at start.
DEFAULTS = {"input_timeout": 5, "max_retries": 2, "invalid_prompt": "ccplane/system/opcao-invalida",
            "timeout_prompt": "ccplane/system/tempo-esgotado"}


class TreeError(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass
class Catalog:
    """What targets and prompts exist, for validation."""
    queues: set[str] = field(default_factory=set)
    extensions: set[str] = field(default_factory=set)
    ivrs: set[str] = field(default_factory=set)
    callgroups: set[str] = field(default_factory=set)
    prompt_exists: Callable[[str], bool] = lambda _name: True
    # False when rendering: a tree saved earlier must still render if a
    # target was deleted since (the dialplan then fails that branch, loudly).
    strict: bool = True


@dataclass
class FlatNode:
    index: int
    path: str
    type: str
    spec: dict[str, Any]
    children: dict[str, int] = field(default_factory=dict)  # "options.1"/"invalid"/"next"... -> node index


def validate_tree(root: Any, catalog: Catalog, *, self_name: str | None = None) -> list[FlatNode]:
    """Check a tree and flatten it depth-first; raise TreeError naming the path."""
    nodes: list[FlatNode] = []

    def walk(node: Any, path: str, depth: int) -> int:
        if not isinstance(node, dict):
            raise TreeError(path, "a node must be an object with a type")
        kind_name = node.get("type")
        kind = NODE_KINDS.get(kind_name) if isinstance(kind_name, str) else None
        if kind is None or not isinstance(kind_name, str):
            raise TreeError(f"{path}.type", f"unknown node type {kind_name!r}; one of {sorted(NODE_KINDS)}")
        if depth > MAX_DEPTH:
            raise TreeError(path, f"tree deeper than {MAX_DEPTH} levels")
        if len(nodes) >= MAX_NODES:
            raise TreeError(path, f"tree larger than {MAX_NODES} nodes")
        for key in node:
            if key != "type" and key not in kind.fields:
                raise TreeError(f"{path}.{key}", f"unknown field for a {kind_name} node")
        for key in kind.fields:  # in declaration order: the same error every time
            if key in kind.required and key not in node:
                raise TreeError(f"{path}.{key}", "is required")
        flat = FlatNode(len(nodes), path, ALIASES.get(kind_name, kind_name), {})
        nodes.append(flat)
        for key, rule in kind.fields.items():
            value = node.get(key)
            where = f"{path}.{key}"
            if rule == "node":
                flat.children[key] = walk(value if key in node else {"type": "hangup"}, where, depth + 1)
            elif rule == "options":
                if not isinstance(value, dict) or not value:
                    raise TreeError(where, "needs at least one option")
                for digit, child in sorted(value.items()):
                    if digit not in DIGIT_KEYS:
                        raise TreeError(f"{where}.{digit}", "options are single keys 0-9, * or #")
                    flat.children[f"options.{digit}"] = walk(child, f"{where}.{digit}", depth + 1)
            elif value is None and key not in node:
                if key in DEFAULTS:
                    flat.spec[key] = DEFAULTS[key]
                elif rule == "check":
                    flat.spec[key] = None
            elif rule.startswith("int:"):
                lo, hi = (int(x) for x in rule.split(":")[1:])
                if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                    raise TreeError(where, f"must be an integer from {lo} to {hi}")
                flat.spec[key] = value
            elif rule == "prompt":
                if not isinstance(value, str) or not PROMPT_RE.fullmatch(value):
                    raise TreeError(where, "a prompt is a sound name (lower case, digits, _ - /)")
                if catalog.strict and not catalog.prompt_exists(value):
                    raise TreeError(where, f"no such prompt or sound: {value}")
                flat.spec[key] = value
            elif rule == "check":
                if value is not None and value not in CHECKS:
                    raise TreeError(where, f"unknown check {value!r}; one of {sorted(CHECKS)}")
                flat.spec[key] = value
            elif rule == "target":
                _check_target(kind_name, value, where, catalog, self_name)
                flat.spec[key] = value
        return flat.index

    walk(root, "root", 0)
    untargeted = [n for n in nodes if n.type == "callback" and "target" not in n.spec]
    if untargeted:
        queue = next((n.spec["target"] for n in nodes if n.type == "queue"), None)
        if queue is None:
            raise TreeError(f"{untargeted[0].path}.target",
                            "is required: a callback without a target joins the tree's queue, and this tree has none")
        for n in untargeted:
            n.spec["target"] = queue
    return nodes


def _check_target(kind: str, value: Any, where: str, catalog: Catalog, self_name: str | None) -> None:
    if not isinstance(value, str) or not TARGET_RE.fullmatch(value):
        raise TreeError(where, "must name a target (lower case, digits, -)")
    if not catalog.strict:
        return
    known = {"queue": catalog.queues, "callback": catalog.queues, "extension": catalog.extensions,
             "ivr": catalog.ivrs, "callgroup": catalog.callgroups, "call_group": catalog.callgroups}[kind]
    if kind == "ivr" and value == self_name:
        return  # a deliberate return to this tree's start
    if value not in known:
        raise TreeError(where, f"no such {'queue' if kind == 'callback' else ALIASES.get(kind, kind)}: {value}")


# Transitions a call takes with no key pressed: a play's next, a menu's
# timeout (after its retries), a collect's failed (it times out there too).
# A cycle of trees through these alone is a call that Goto's forever (and
# writes its IVR step to AstDB on every pass); a key press on the way (a menu
# option, a collect's digits) makes returning to a tree deliberate.
_NO_INPUT = {"play": ("next",), "menu": ("timeout",), "collect": ("failed",)}


def unattended_ivr_jumps(root: Any) -> list[tuple[str, str]]:
    """``(path of the target field, target tree)`` of each ``ivr`` node the
    call reaches from the root with no caller input."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(root, "root")]
    while stack:
        node, path = stack.pop()
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == "ivr" and isinstance(node.get("target"), str):
            found.append((f"{path}.target", node["target"]))
        for key in _NO_INPUT.get(kind if isinstance(kind, str) else "", ()):
            if key in node:
                stack.append((node[key], f"{path}.{key}"))
    return sorted(found)


def find_loop(name: str, trees: dict[str, Any]) -> TreeError | None:
    """A loop with no caller input reachable from tree ``name`` (the other
    trees of the domain in ``trees``, ``name``'s new root among them), as the
    TreeError to raise: its path is the jump in ``name`` that leads into it."""
    jumps = {tree: unattended_ivr_jumps(root) for tree, root in trees.items()}
    done: set[str] = set()  # trees whose every unattended path ends

    def cycle_from(tree: str, chain: list[str]) -> list[str] | None:
        if tree in chain:
            return [*chain, tree]
        if tree in done:
            return None
        for _, target in jumps.get(tree, []):
            found = cycle_from(target, [*chain, tree])
            if found:
                return found
        done.add(tree)
        return None

    for path, first in jumps.get(name, []):
        loop = cycle_from(first, [name])
        if loop:
            return TreeError(path, "the call would loop with no key pressed: " + " -> ".join(loop))
    return None
