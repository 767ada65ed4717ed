"""IVR trees: validation (with the exact node path of every error), flattening,
and what the flattened tree becomes in extensions.conf."""
from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError

from ccplane.asterisk.render import conf_value, render_files
from ccplane.features.ivr import domain as ivr_domain
from ccplane.features.ivr.domain import MAX_DEPTH, MAX_NODES, Catalog, TreeError, validate_tree
from ccplane.features.ivr.render import ivr_entry_context, node_context, tree_model
from ccplane.features.ivr.schemas import IvrCreate

SOUNDS = {"welcome", "menu-sub", "enter-cpf", "goodbye", "invalid", "please-try-again", "digits/1"}


def catalog(**over: Any) -> Catalog:
    fields: dict[str, Any] = dict(queues={"sales", "support"}, extensions={"1001", "1002"},
                                  ivrs={"main", "other"}, prompt_exists=lambda name: name in SOUNDS)
    fields.update(over)
    return Catalog(**fields)


def hangup() -> dict[str, Any]:
    return {"type": "hangup"}


def queue(target: str = "sales") -> dict[str, Any]:
    return {"type": "queue", "target": target}


def menu(options: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "menu", "prompt": "welcome", "options": options, **extra}


def error_of(root: Any, cat: Catalog | None = None, **kw: Any) -> TreeError:
    with pytest.raises(TreeError) as info:
        validate_tree(root, cat if cat is not None else catalog(), **kw)
    return info.value


# --- defaults and flattening ---------------------------------------------------------------

def test_menu_defaults_are_filled_and_invalid_timeout_become_hangups() -> None:
    nodes = validate_tree(menu({"1": queue()}), catalog())
    assert [(n.index, n.path, n.type) for n in nodes] == [
        (0, "root", "menu"), (1, "root.options.1", "queue"),
        (2, "root.invalid", "hangup"), (3, "root.timeout", "hangup")]
    assert nodes[0].spec == {"prompt": "welcome", "input_timeout": 5, "max_retries": 2,
                             "invalid_prompt": "ccplane/system/opcao-invalida",
                             "timeout_prompt": "ccplane/system/tempo-esgotado"}
    assert nodes[0].children == {"options.1": 1, "invalid": 2, "timeout": 3}
    assert nodes[1].spec == {"target": "sales"} and nodes[1].children == {}
    assert nodes[2].spec == {} and nodes[3].spec == {}


def test_explicit_menu_values_override_defaults() -> None:
    root = menu({"1": queue()}, input_timeout=9, max_retries=0, invalid_prompt="goodbye",
                timeout_prompt="digits/1", invalid=queue("support"), timeout={"type": "extension", "target": "1001"})
    nodes = validate_tree(root, catalog())
    assert nodes[0].spec == {"prompt": "welcome", "input_timeout": 9, "max_retries": 0,
                             "invalid_prompt": "goodbye", "timeout_prompt": "digits/1"}
    assert (nodes[2].type, nodes[2].spec) == ("queue", {"target": "support"})
    assert (nodes[3].type, nodes[3].spec) == ("extension", {"target": "1001"})


def test_collect_defaults_and_missing_failed_becomes_hangup() -> None:
    nodes = validate_tree({"type": "collect", "prompt": "enter-cpf", "digits": 11, "next": queue()}, catalog())
    assert nodes[0].spec == {"prompt": "enter-cpf", "digits": 11, "check": None, "input_timeout": 5}
    assert nodes[0].children == {"next": 1, "failed": 2}
    assert [(n.path, n.type) for n in nodes] == [("root", "collect"), ("root.next", "queue"),
                                                  ("root.failed", "hangup")]


def test_play_without_next_ends_in_hangup() -> None:
    nodes = validate_tree({"type": "play", "prompt": "goodbye"}, catalog())
    assert [(n.path, n.type) for n in nodes] == [("root", "play"), ("root.next", "hangup")]
    assert nodes[0].children == {"next": 1}


def two_level_tree() -> dict[str, Any]:
    return menu({
        "4": {"type": "collect", "prompt": "enter-cpf", "digits": 4, "next": hangup()},
        "1": queue(),
        "3": {"type": "collect", "prompt": "enter-cpf", "digits": 11, "check": "cpf_registered",
              "next": queue("support"), "failed": {"type": "play", "prompt": "goodbye"}},
        "2": {"type": "menu", "prompt": "menu-sub", "max_retries": 4, "input_timeout": 7,
              "options": {"1": {"type": "extension", "target": "1001"}, "#": {"type": "ivr", "target": "main"}}},
    })


# Depth-first, options in key order ("#" < "*" < digits), then invalid, timeout.
EXPECTED_ORDER = [
    ("root", "menu"),                                   # n0
    ("root.options.1", "queue"),                        # n1
    ("root.options.2", "menu"),                         # n2
    ("root.options.2.options.#", "ivr"),                # n3
    ("root.options.2.options.1", "extension"),          # n4
    ("root.options.2.invalid", "hangup"),               # n5
    ("root.options.2.timeout", "hangup"),               # n6
    ("root.options.3", "collect"),                      # n7
    ("root.options.3.next", "queue"),                   # n8
    ("root.options.3.failed", "play"),                  # n9
    ("root.options.3.failed.next", "hangup"),           # n10
    ("root.options.4", "collect"),                      # n11
    ("root.options.4.next", "hangup"),                  # n12
    ("root.options.4.failed", "hangup"),                # n13
    ("root.invalid", "hangup"),                         # n14
    ("root.timeout", "hangup"),                         # n15
]


def test_flattening_is_depth_first_with_children_indexes() -> None:
    nodes = validate_tree(two_level_tree(), catalog(), self_name="main")
    assert [(n.path, n.type) for n in nodes] == EXPECTED_ORDER
    assert [n.index for n in nodes] == list(range(len(EXPECTED_ORDER)))
    assert nodes[0].children == {"options.1": 1, "options.2": 2, "options.3": 7, "options.4": 11,
                                 "invalid": 14, "timeout": 15}
    assert nodes[2].children == {"options.#": 3, "options.1": 4, "invalid": 5, "timeout": 6}
    assert nodes[7].children == {"next": 8, "failed": 9}
    assert nodes[9].children == {"next": 10}
    assert nodes[11].children == {"next": 12, "failed": 13}
    for node in nodes:  # every child index points at the node whose path extends this one
        for key, idx in node.children.items():
            assert nodes[idx].path == f"{node.path}.{key}"


def test_all_twelve_keys_are_accepted_in_key_order() -> None:
    keys = list("0123456789*#")
    nodes = validate_tree(menu({k: hangup() for k in keys}), catalog())
    assert [n.path for n in nodes[1:13]] == [f"root.options.{k}" for k in sorted(keys)]
    assert len(nodes) == 15


def test_validation_does_not_modify_the_stored_json() -> None:
    root = two_level_tree()
    before = copy.deepcopy(root)
    validate_tree(root, catalog())
    assert root == before


def test_tree_error_is_a_value_error_naming_the_path() -> None:
    err = error_of(menu({"1": queue("nope")}))
    assert isinstance(err, ValueError)
    assert err.path == "root.options.1.target"
    assert err.message == "no such queue: nope"
    assert str(err) == "root.options.1.target: no such queue: nope"


# --- node types and fields --------------------------------------------------------------

@pytest.mark.parametrize("node, path", [
    ({"type": "menus", "prompt": "welcome"}, "root.type"),
    ({"prompt": "welcome"}, "root.type"),
    ({"type": ["menu"]}, "root.type"),
    ({"type": None}, "root.type"),
    (menu({"2": {"type": "play", "prompt": "goodbye", "next": {"type": "transfer"}}}), "root.options.2.next.type"),
    (menu({"1": queue()}, invalid={"type": "Queue", "target": "sales"}), "root.invalid.type"),
])
def test_unknown_type_names_the_type_field(node: Any, path: str) -> None:
    err = error_of(node)
    assert err.path == path
    assert "unknown node type" in err.message


@pytest.mark.parametrize("node, path", [
    ([], "root"),
    ("queue", "root"),
    (menu({"1": "queue"}), "root.options.1"),
    (menu({"1": queue()}, timeout=None), "root.timeout"),
])
def test_a_node_must_be_an_object(node: Any, path: str) -> None:
    err = error_of(node)
    assert (err.path, err.message) == (path, "a node must be an object with a type")


@pytest.mark.parametrize("node, path", [
    ({"type": "menu", "options": {"1": queue()}}, "root.prompt"),
    ({"type": "menu", "prompt": "welcome"}, "root.options"),
    ({"type": "collect", "prompt": "enter-cpf", "next": hangup()}, "root.digits"),
    ({"type": "collect", "prompt": "enter-cpf", "digits": 4}, "root.next"),
    ({"type": "collect", "digits": 4, "next": hangup()}, "root.prompt"),
    ({"type": "play"}, "root.prompt"),
    ({"type": "queue"}, "root.target"),
    ({"type": "extension"}, "root.target"),
    ({"type": "ivr"}, "root.target"),
    (menu({"3": {"type": "collect", "prompt": "enter-cpf", "next": hangup()}}), "root.options.3.digits"),
    (menu({"1": queue()}, timeout={"type": "play", "next": hangup()}), "root.timeout.prompt"),
])
def test_missing_required_field(node: Any, path: str) -> None:
    err = error_of(node)
    assert (err.path, err.message) == (path, "is required")


def test_missing_required_field_report_is_the_same_on_every_run() -> None:
    code = ("from ccplane.features.ivr.domain import Catalog, TreeError, validate_tree\n"
            "try:\n    validate_tree({'type': 'menu'}, Catalog())\n"
            "except TreeError as e:\n    print(e.path)\n")
    paths = set()
    for seed in ("0", "1", "2", "3"):
        out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                             capture_output=True, text=True, check=True)
        paths.add(out.stdout.strip())
    assert len(paths) == 1, paths


@pytest.mark.parametrize("node, path, kind", [
    ({"type": "queue", "target": "sales", "prompt": "welcome"}, "root.prompt", "queue"),
    ({"type": "hangup", "target": "sales"}, "root.target", "hangup"),
    ({"type": "play", "prompt": "goodbye", "options": {}}, "root.options", "play"),
    ({"type": "collect", "prompt": "enter-cpf", "digits": 4, "next": hangup(), "max_retries": 1},
     "root.max_retries", "collect"),
    (menu({"1": queue()}, next=hangup()), "root.next", "menu"),
    (menu({"2": menu({"1": queue()}, Prompt="welcome")}), "root.options.2.Prompt", "menu"),
])
def test_unknown_field(node: Any, path: str, kind: str) -> None:
    err = error_of(node)
    assert (err.path, err.message) == (path, f"unknown field for a {kind} node")


def test_unknown_field_is_reported_before_missing_required() -> None:
    assert error_of({"type": "queue", "queue": "sales"}).path == "root.queue"


# --- options -------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["12", "a", "", " 1", "1 ", "i", "t", "s", "+", "**", "1;x", "1]\n[evil"])
def test_option_keys_are_single_dtmf_keys(key: str) -> None:
    err = error_of(menu({"1": queue(), key: queue()}))
    assert (err.path, err.message) == (f"root.options.{key}", "options are single keys 0-9, * or #")


def test_bad_option_key_path_in_a_nested_menu() -> None:
    err = error_of(menu({"2": menu({"12": queue()})}))
    assert err.path == "root.options.2.options.12"


@pytest.mark.parametrize("options", [{}, [], None, "1", [queue()]])
def test_a_menu_needs_at_least_one_option(options: Any) -> None:
    err = error_of({"type": "menu", "prompt": "welcome", "options": options})
    assert (err.path, err.message) == ("root.options", "needs at least one option")


# --- integers ------------------------------------------------------------------------------

def collect(**extra: Any) -> dict[str, Any]:
    return {"type": "collect", "prompt": "enter-cpf", "digits": 4, "next": hangup(), **extra}


INT_FIELDS = [  # (builder, field, lo, hi)
    (lambda **kw: menu({"1": queue()}, **kw), "input_timeout", 1, 60),
    (lambda **kw: menu({"1": queue()}, **kw), "max_retries", 0, 10),
    (collect, "digits", 1, 32),
    (collect, "input_timeout", 1, 60),
]


@pytest.mark.parametrize("build, name, lo, hi", INT_FIELDS)
def test_int_ranges_accept_their_bounds(build: Any, name: str, lo: int, hi: int) -> None:
    for value in (lo, hi):
        assert validate_tree(build(**{name: value}), catalog())[0].spec[name] == value


@pytest.mark.parametrize("build, name, lo, hi", INT_FIELDS)
@pytest.mark.parametrize("bad", ["below", "above", True, False, "5", 5.0, None, [5]])
def test_int_ranges_refuse_out_of_range_bools_and_non_ints(build: Any, name: str, lo: int, hi: int,
                                                             bad: Any) -> None:
    value = lo - 1 if bad == "below" else hi + 1 if bad == "above" else bad
    err = error_of(build(**{name: value}))
    assert (err.path, err.message) == (f"root.{name}", f"must be an integer from {lo} to {hi}")


def test_bool_is_refused_even_when_it_equals_an_allowed_int() -> None:
    # True == 1 and False == 0 are in range for digits/max_retries: only the bool check refuses them.
    assert error_of(collect(digits=True)).path == "root.digits"
    assert error_of(menu({"1": queue()}, max_retries=False)).path == "root.max_retries"


def test_int_error_path_in_a_nested_node() -> None:
    err = error_of(menu({"1": queue(), "2": menu({"1": queue()}, timeout=collect(digits=33))}))
    assert err.path == "root.options.2.timeout.digits"


# --- prompts -------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["Welcome", "", "-welcome", "_x", "/etc/passwd", "../secret", "a b", "a.wav",
                                 "x" * 81, "a;b", "x]\n[evil", "ação", 5, None, ["welcome"]])
def test_prompt_name_format(bad: Any) -> None:
    err = error_of({"type": "play", "prompt": bad}, catalog(prompt_exists=lambda _n: True))
    assert err.path == "root.prompt"
    assert err.message == "a prompt is a sound name (lower case, digits, _ - /)"


@pytest.mark.parametrize("good", ["welcome", "digits/1", "a", "9", "x" * 80, "ccplane_x-y/z"])
def test_prompt_names_accepted(good: str) -> None:
    nodes = validate_tree({"type": "play", "prompt": good}, catalog(prompt_exists=lambda _n: True))
    assert nodes[0].spec["prompt"] == good


@pytest.mark.parametrize("field", ["prompt", "invalid_prompt", "timeout_prompt"])
def test_every_menu_prompt_field_is_checked(field: str) -> None:
    root = menu({"1": queue()}, **{field: "nope"})
    err = error_of(root)
    assert (err.path, err.message) == (f"root.{field}", "no such prompt or sound: nope")
    assert error_of(menu({"1": queue()}, **{field: "No"})).path == f"root.{field}"


def test_missing_prompt_is_reported_at_its_path() -> None:
    root = menu({"1": queue(), "2": menu({"1": queue()}, timeout={"type": "play", "prompt": "nope"})})
    err = error_of(root)
    assert (err.path, err.message) == ("root.options.2.timeout.prompt", "no such prompt or sound: nope")


def test_prompt_exists_is_asked_about_each_prompt_but_not_defaults() -> None:
    asked: list[str] = []

    def exists(name: str) -> bool:
        asked.append(name)
        return True

    validate_tree(menu({"1": {"type": "play", "prompt": "goodbye"}}), catalog(prompt_exists=exists))
    assert asked == ["welcome", "goodbye"]


# --- checks --------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["cpf", "", "CPF_REGISTERED", 1, True])
def test_unknown_check(bad: Any) -> None:
    err = error_of(menu({"1": queue(), "5": collect(check=bad)}))
    assert err.path == "root.options.5.check"
    assert err.message.startswith("unknown check") and "cpf_registered" in err.message


@pytest.mark.parametrize("value", [None, "cpf_registered"])
def test_known_check_or_none(value: Any) -> None:
    assert validate_tree(collect(check=value), catalog())[0].spec["check"] == value


# --- targets -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, target", [("queue", "nope"), ("extension", "1003"), ("ivr", "nope"),
                                          ("queue", "1001"), ("extension", "sales"), ("ivr", "sales")])
def test_target_must_exist_in_the_catalog(kind: str, target: str) -> None:
    err = error_of(menu({"1": queue(), "7": {"type": kind, "target": target}}))
    assert (err.path, err.message) == ("root.options.7.target", f"no such {kind}: {target}")


@pytest.mark.parametrize("kind, target", [("queue", "support"), ("extension", "1002"), ("ivr", "other")])
def test_known_targets_are_accepted(kind: str, target: str) -> None:
    nodes = validate_tree({"type": kind, "target": target}, catalog())
    assert (nodes[0].type, nodes[0].spec) == (kind, {"target": target})


@pytest.mark.parametrize("bad", ["Sales", "a_b", "", "-x", "x" * 33, 1001, None, "a;b", "x]\n[evil"])
def test_target_format(bad: Any) -> None:
    err = error_of({"type": "queue", "target": bad}, catalog(strict=False))
    assert (err.path, err.message) == ("root.target", "must name a target (lower case, digits, -)")


def test_ivr_may_return_to_itself() -> None:
    root = menu({"9": {"type": "ivr", "target": "new-tree"}})
    nodes = validate_tree(root, catalog(), self_name="new-tree")
    assert nodes[1].spec == {"target": "new-tree"}
    assert error_of(root).path == "root.options.9.target"                        # no self_name
    assert error_of(root, self_name="other-tree").message == "no such ivr: new-tree"


def test_self_name_only_excuses_ivr_targets() -> None:
    err = error_of(menu({"1": queue("new-tree")}), self_name="new-tree")
    assert (err.path, err.message) == ("root.options.1.target", "no such queue: new-tree")


def test_callback_node_names_the_queue_whose_line_it_joins() -> None:
    err = error_of({"type": "callback"})  # no target and no queue in the tree to take it from
    assert (err.path, err.message) == (
        "root.target", "is required: a callback without a target joins the tree's queue, and this tree has none")
    err = error_of(menu({"1": queue(), "2": {"type": "callback", "target": "ghost"}}))
    assert (err.path, err.message) == ("root.options.2.target", "no such queue: ghost")
    nodes = validate_tree(menu({"1": queue(), "2": {"type": "callback", "target": "sales"}}), catalog())
    assert [(n.type, n.spec.get("target")) for n in nodes] == [("menu", None), ("queue", "sales"),
                                                              ("callback", "sales"), ("hangup", None),
                                                              ("hangup", None)]
    model = tree_model("acme", "main", {"type": "callback", "target": "sales"}, set())
    assert model["nodes"][0]["goto"] == "Gosub(ccplane-callback-request,s,1(acme,sales,acme_sales))"


def test_callback_node_without_a_target_joins_the_trees_queue() -> None:
    """API.md's ``{"type": "callback"}``: the line it joins is the tree's (first) queue."""
    tree = menu({"1": queue(), "9": {"type": "callback"}})
    nodes = validate_tree(tree, catalog())
    assert [(n.type, n.spec.get("target")) for n in nodes if n.type == "callback"] == [("callback", "sales")]
    model = tree_model("acme", "main", tree, set())
    assert "Gosub(ccplane-callback-request,s,1(acme,sales,acme_sales))" in [n.get("goto") for n in model["nodes"]]


def test_call_group_is_the_contracts_spelling_of_callgroup() -> None:
    for spelling in ("call_group", "callgroup"):
        [node] = validate_tree({"type": spelling, "target": "reception"}, catalog(callgroups={"reception"}))
        assert (node.type, node.spec["target"]) == ("callgroup", "reception")
        err = error_of({"type": spelling, "target": "ghost"}, catalog(callgroups={"reception"}))
        assert (err.path, err.message) == ("root.target", "no such callgroup: ghost")
    model = tree_model("acme", "main", {"type": "call_group", "target": "reception"}, set())
    assert model["nodes"][0]["goto"] == "Goto(ccplane-callgroups,acme_reception,1)"


# --- size limits ---------------------------------------------------------------------------

def sized(n: int) -> dict[str, Any]:
    """A tree of exactly n flattened nodes (depth about log2 n)."""
    if n == 1:
        return hangup()
    if n == 2:
        return {"type": "play", "prompt": "goodbye", "next": hangup()}
    left = (n - 1) // 2
    return collect(next=sized(left), failed=sized(n - 1 - left))


def chain(depth: int) -> dict[str, Any]:
    """Plays nested ``depth`` levels deep, ending in a hangup at that depth."""
    node = hangup()
    for _ in range(depth):
        node = {"type": "play", "prompt": "goodbye", "next": node}
    return node


def test_max_nodes_is_allowed_one_more_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MAX_NODES == 200
    assert len(validate_tree(sized(MAX_NODES), catalog())) == MAX_NODES
    err = error_of(sized(MAX_NODES + 1))
    assert err.message == f"tree larger than {MAX_NODES} nodes"
    monkeypatch.setattr(ivr_domain, "MAX_NODES", 10_000)
    nodes = validate_tree(sized(MAX_NODES + 1), catalog())
    assert len(nodes) == MAX_NODES + 1
    assert err.path == nodes[MAX_NODES].path  # the first node over the limit is named


def test_node_limit_counts_default_children(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ivr_domain, "MAX_NODES", 3)
    err = error_of(menu({"1": queue()}))  # root, options.1, invalid, timeout
    assert (err.path, err.message) == ("root.timeout", "tree larger than 3 nodes")


def test_max_depth_is_allowed_one_more_is_refused() -> None:
    assert MAX_DEPTH == 12
    nodes = validate_tree(chain(MAX_DEPTH), catalog())
    assert nodes[-1].path == "root" + ".next" * MAX_DEPTH
    err = error_of(chain(MAX_DEPTH + 1))
    assert (err.path, err.message) == ("root" + ".next" * (MAX_DEPTH + 1), f"tree deeper than {MAX_DEPTH} levels")
    assert error_of(chain(MAX_DEPTH + 1), catalog(strict=False)).path == err.path


# --- non-strict catalog (rendering) -------------------------------------------------------

def test_non_strict_accepts_unknown_targets_and_prompts() -> None:
    def never(_name: str) -> bool:
        raise AssertionError("prompt_exists must not be asked when not strict")

    root = menu({"1": queue("gone"), "2": {"type": "extension", "target": "9999"},
                 "3": {"type": "ivr", "target": "deleted"}, "4": {"type": "play", "prompt": "deleted-sound"}},
                invalid_prompt="gone-too")
    nodes = validate_tree(root, Catalog(strict=False, prompt_exists=never))
    assert [n.spec for n in nodes[1:5]] == [{"target": "gone"}, {"target": "9999"}, {"target": "deleted"},
                                            {"prompt": "deleted-sound"}]
    assert nodes[0].spec["invalid_prompt"] == "gone-too"


@pytest.mark.parametrize("root, path", [
    (menu({"1": {"type": "nope"}}), "root.options.1.type"),
    (menu({"12": queue()}), "root.options.12"),
    (menu({"1": queue()}, max_retries=11), "root.max_retries"),
    (menu({"1": queue()}, max_retries=True), "root.max_retries"),
    ({"type": "play", "prompt": "Bad Name"}, "root.prompt"),
    ({"type": "queue", "target": "Bad"}, "root.target"),
    ({"type": "queue", "target": "sales", "extra": 1}, "root.extra"),
    ({"type": "collect", "prompt": "enter-cpf", "next": hangup()}, "root.digits"),
    (collect(check="cpf"), "root.check"),
    (menu({}), "root.options"),
])
def test_non_strict_still_rejects_structural_errors(root: Any, path: str) -> None:
    assert error_of(root, Catalog(strict=False)).path == path


# --- rendering -----------------------------------------------------------------------------

def base_model(**over: Any) -> dict[str, Any]:
    model: dict[str, Any] = {"qualify_frequency": 10, "ring_timeout": 30, "ari_app": "ccplane",
                             "unknown_did_delay": 2, "routes": [], "blacklists": [], "ivrs": [], "queues": [], "trunks": [],
                             "domains": []}
    model.update(over)
    return model


def contexts(text: str) -> dict[str, list[str]]:
    """Lines of each [context] of a rendered file (comments and blank lines dropped)."""
    out: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        header = re.fullmatch(r"\[([^\]]+)\]", line)
        if header:
            assert header.group(1) not in out, f"context {header.group(1)} rendered twice"
            current = out[header.group(1)] = []
        elif line.strip() and not line.lstrip().startswith(";"):
            current.append(line)
    return out


def exten(lines: list[str], ext: str) -> list[str]:
    """The priorities of one extension: its ``exten => <ext>,1`` line and the ``same`` lines after it."""
    start = next(i for i, line in enumerate(lines) if line.startswith(f"exten => {ext},1,"))
    block = [lines[start]]
    for line in lines[start + 1:]:
        if line.startswith("exten =>"):
            break
        block.append(line)
    return block


def after(block: list[str], marker: str) -> str:
    """The line following the one that contains ``marker``."""
    i = next(i for i, line in enumerate(block) if marker in line)
    return block[i + 1]


def ctx(i: int) -> str:
    return node_context("acme", "main", i)


@pytest.fixture()
def rendered() -> dict[str, list[str]]:
    model = base_model(ari_app="ccapp",
                       ivrs=[tree_model("acme", "main", two_level_tree(), {"welcome", "enter-cpf"})])
    return contexts(render_files(model)["extensions.conf"])


def test_one_context_per_node_and_an_entry(rendered: dict[str, list[str]]) -> None:
    ivr_contexts = {name for name in rendered if name.startswith("ccplane-ivr-acme_")}
    assert ivr_contexts == {ivr_entry_context("acme", "main")} | {ctx(i) for i in range(len(EXPECTED_ORDER))}
    entry = rendered["ccplane-ivr-acme_main"]
    assert entry[0] == "exten => s,1,NoOp(ccplane: IVR main)"
    assert " same => n,Answer()" in entry
    assert entry[-1] == f" same => n,Goto({ctx(0)},s,1)"


@pytest.mark.parametrize("index, retries, timeout, invalid_ctx, timeout_ctx", [(0, 2, 5, 14, 15), (2, 4, 7, 5, 6)])
def test_menu_retries_and_fallbacks(rendered: dict[str, list[str]], index: int, retries: int, timeout: int,
                                    invalid_ctx: int, timeout_ctx: int) -> None:
    lines = rendered[ctx(index)]
    s = exten(lines, "s")
    assert f" same => n,WaitExten({timeout})" in s
    inv, tmo = exten(lines, "i"), exten(lines, "t")
    var = f"n{index}"
    assert inv[0] == f"exten => i,1,Set(CCPLANE_INV_{var}=$[${{CCPLANE_INV_{var}}} + 1])"
    assert f" same => n,GotoIf($[${{CCPLANE_INV_{var}}} > {retries}]?final)" in inv
    assert inv[-1] == f" same => n(final),Goto({ctx(invalid_ctx)},s,1)"
    assert tmo[0] == f"exten => t,1,Set(CCPLANE_TMO_{var}=$[${{CCPLANE_TMO_{var}}} + 1])"
    assert f" same => n,GotoIf($[${{CCPLANE_TMO_{var}}} > {retries}]?final)" in tmo
    assert tmo[-1] == f" same => n(final),Goto({ctx(timeout_ctx)},s,1)"
    assert s[0] == f"exten => s,1,Set(CCPLANE_INV_{var}=0)" and f" same => n,Set(CCPLANE_TMO_{var}=0)" in s


@pytest.mark.parametrize("index, digit, child", [(0, "1", 1), (0, "2", 2), (0, "3", 7), (0, "4", 11),
                                                  (2, "#", 3), (2, "1", 4)])
def test_option_digits_go_to_the_child_context(rendered: dict[str, list[str]], index: int, digit: str,
                                               child: int) -> None:
    block = exten(rendered[ctx(index)], digit)
    assert block[-1] == f" same => n,Goto({ctx(child)},s,1)"
    path = EXPECTED_ORDER[index][0]
    assert f"Gosub(ccplane-ivr-step,s,1(acme,main,{path},option,{digit}))" in block[0]


def test_menu_has_only_its_own_option_extensions(rendered: dict[str, list[str]]) -> None:
    def extens(i: int) -> list[str]:
        return [line.split(",", 1)[0].removeprefix("exten => ") for line in rendered[ctx(i)]
                if line.startswith("exten =>")]
    assert extens(0) == ["s", "1", "2", "3", "4", "i", "t"]
    assert extens(2) == ["s", "#", "1", "i", "t"]


def test_collect_with_check_asks_ccplane(rendered: dict[str, list[str]]) -> None:
    s = exten(rendered[ctx(7)], "s")
    assert " same => n,Read(CCPLANE_DIGITS,ccplane/acme/enter-cpf,11,,1,5)" in s
    assert " same => n,Stasis(ccapp,collect,acme,cpf_registered,${CCPLANE_DIGITS})" in s
    assert after(s, "Stasis(") == ' same => n,Goto(failed)'  # ccplane down: Stasis() returns at once
    assert not any("LEN(${CCPLANE_DIGITS})} =" in line for line in s)
    assert after(s, "n(failed),") == f" same => n,Goto({ctx(9)},s,1)"
    assert after(s, "n(ok),") == f" same => n,Goto({ctx(8)},s,1)"


def test_collect_without_check_compares_the_digit_count(rendered: dict[str, list[str]]) -> None:
    s = exten(rendered[ctx(11)], "s")
    assert " same => n,GotoIf($[${LEN(${CCPLANE_DIGITS})} = 4]?ok:failed)" in s
    assert not any("Stasis(" in line for line in s)
    assert after(s, "n(failed),") == f" same => n,Goto({ctx(13)},s,1)"
    assert after(s, "n(ok),") == f" same => n,Goto({ctx(12)},s,1)"


def test_uploaded_prompts_are_namespaced_builtins_stay_bare(rendered: dict[str, list[str]]) -> None:
    assert " same => n(prompt),Background(ccplane/acme/welcome)" in rendered[ctx(0)]
    assert " same => n(prompt),Background(menu-sub)" in rendered[ctx(2)]
    assert " same => n,Playback(goodbye)" in rendered[ctx(9)]
    root = rendered[ctx(0)]
    assert " same => n,Playback(ccplane/system/opcao-invalida)" in exten(root, "i")  # pt-BR default
    assert " same => n,Playback(ccplane/system/tempo-esgotado)" in exten(root, "t")


@pytest.mark.parametrize("index, app", [
    (1, "Goto(ccplane-queues,acme_sales,1)"), (3, "Goto(ccplane-ivr-acme_main,s,1)"),
    (4, "Goto(ccplane-d-acme,1001,1)"), (8, "Goto(ccplane-queues,acme_support,1)"), (10, "Hangup()"),
    (14, "Hangup()"), (15, "Hangup()")])
def test_terminals_go_to_their_destination(rendered: dict[str, list[str]], index: int, app: str) -> None:
    path, kind = EXPECTED_ORDER[index]
    assert rendered[ctx(index)] == [
        f"exten => s,1,Gosub(ccplane-ivr-step,s,1(acme,main,{path},{kind},))", f" same => n,{app}"]


def test_play_then_next(rendered: dict[str, list[str]]) -> None:
    assert rendered[ctx(9)] == [
        "exten => s,1,Gosub(ccplane-ivr-step,s,1(acme,main,root.options.3.failed,play,))",
        " same => n,Playback(goodbye)", f" same => n,Goto({ctx(10)},s,1)"]


def test_rendering_is_deterministic() -> None:
    def files(root: dict[str, Any]) -> dict[str, str]:
        return render_files(base_model(ivrs=[tree_model("acme", "main", root, {"welcome"})]))

    first = files(two_level_tree())
    assert files(two_level_tree()) == first
    reordered = two_level_tree()
    reordered["options"] = dict(reversed(list(reordered["options"].items())))
    reordered = dict(reversed(list(reordered.items())))
    assert files(reordered) == first
    assert files(copy.deepcopy(reordered)) == first


def test_tree_model_keeps_trees_whose_targets_were_deleted() -> None:
    model = tree_model("acme", "main", menu({"1": queue("deleted")}), set())
    assert model["nodes"][1]["goto"] == "Goto(ccplane-queues,acme_deleted,1)"
    assert model["entry"] == "ccplane-ivr-acme_main" and model["first"] == "ccplane-ivr-acme_main_n0"


@pytest.mark.parametrize("trees", [
    [("acme", "x-main"), ("acme-x", "main")],
    [("acme", "main"), ("acme", "main-n1")],
])
def test_ivr_contexts_never_collide(trees: list[tuple[str, str]]) -> None:
    model = base_model(ivrs=[tree_model(slug, name, menu({"1": queue()}), set()) for slug, name in trees])
    text = render_files(model)["extensions.conf"]
    headers = re.findall(r"^\[([^\]]+)\]$", text, flags=re.M)
    assert len(headers) == len(set(headers))


# --- config injection never reaches the output ------------------------------------------

INJECTIONS = ["x]\n[evil", "a;b", "main\rx", "[x"]


@pytest.mark.parametrize("bad", INJECTIONS)
def test_injected_ivr_name_is_refused_by_the_schema(bad: str) -> None:
    with pytest.raises(ValidationError):
        IvrCreate(name=bad, root=menu({"1": queue()}))
    with pytest.raises(ValueError):
        conf_value(bad)


@pytest.mark.parametrize("bad", INJECTIONS)
@pytest.mark.parametrize("place", ["target", "prompt", "option"])
def test_injected_tree_values_never_render(bad: str, place: str) -> None:
    root = {"target": menu({"1": queue(bad)}), "prompt": {"type": "play", "prompt": bad},
            "option": menu({"1": queue(), bad: queue()})}[place]
    with pytest.raises(TreeError):
        tree_model("acme", "main", root, set())  # what the renderer calls: not strict, still refused


def test_ivr_name_schema_accepts_what_the_contexts_use() -> None:
    assert IvrCreate(name="main-2", root={}).name == "main-2"


@pytest.mark.parametrize("root", [
    {"type": "play", "prompt": "welcome\n"},
    menu({"1": queue()}, invalid_prompt="invalid\n"),
    {"type": "queue", "target": "sales\n"},
    {"type": "ivr", "target": "main\n"},
])
def test_trailing_newline_never_renders(root: dict[str, Any]) -> None:
    # Not strict, as when rendering; strict validation asks prompt_exists, which says True for any
    # name when the sounds directory cannot be read.
    with pytest.raises(TreeError):
        tree_model("acme", "main", root, set())


# -- issue 9 item 7: loops with no caller input ------------------------------------------
from ccplane.features.ivr.domain import find_loop  # noqa: E402


def _ivr(target: str) -> dict[str, Any]:
    return {"type": "ivr", "target": target}


def test_a_tree_jumping_to_itself_with_no_input_is_a_loop() -> None:
    err = find_loop("a", {"a": _ivr("a")})
    assert err is not None and err.path == "root.target" and "a -> a" in err.message


def test_a_loop_across_trees_names_the_jump_and_the_chain() -> None:
    trees = {"a": {"type": "play", "prompt": "x", "next": _ivr("b")}, "b": _ivr("c"), "c": _ivr("a")}
    err = find_loop("a", trees)
    assert err is not None and err.path == "root.next.target" and err.message.endswith("a -> b -> c -> a")
    # a loop reachable from the tree, not through it, is refused too
    assert find_loop("z", {**trees, "z": _ivr("b")}) is not None


def test_a_menu_timeout_back_to_the_start_is_a_loop_an_option_is_not() -> None:
    looping = menu({"1": queue()}) | {"timeout": _ivr("a")}
    assert find_loop("a", {"a": looping}).path == "root.timeout.target"  # type: ignore[union-attr]
    assert find_loop("a", {"a": menu({"9": _ivr("a")})}) is None  # a key was pressed
    assert find_loop("a", {"a": menu({"1": queue()}) | {"invalid": _ivr("a")}}) is None
    collect = {"type": "collect", "prompt": "x", "digits": 11, "next": _ivr("a"), "failed": _ivr("a")}
    assert find_loop("a", {"a": collect}).path == "root.failed.target"  # type: ignore[union-attr]


def test_diamonds_are_not_loops() -> None:
    trees = {"a": {"type": "play", "prompt": "x", "next": _ivr("b")}, "b": _ivr("d"),
             "c": _ivr("d"), "d": {"type": "hangup"}}
    assert find_loop("a", trees) is None
    assert find_loop("c", trees) is None
