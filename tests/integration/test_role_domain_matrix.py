"""Issue 9: every domain-scoped operation of openapi.json × every role × the
user's own domain and another one. Generated from the document, so an
endpoint is covered the day it is added: in another domain the answer is
403 or 404, never 2xx (a leak) nor 5xx; in its own domain never 5xx."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.api import ApiCaller

ROLES = ["superuser", "admin", "supervisor", "agent"]
PREFIX = "/api/v1"


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    ops = []
    for path, methods in sorted(spec["paths"].items()):
        if path.startswith(PREFIX + "/domains/{domain}"):
            for method, op in sorted(methods.items()):
                ops.append((method.upper(), path[len(PREFIX):], op))
    return ops


def _fill(path: str, domain: str) -> str:
    # Other path parameters: a plausible value that names nothing.
    return re.sub(r"{(\w+)}", lambda m: domain if m.group(1) == "domain" else "1", path)


@pytest.mark.parametrize("role", ROLES)
async def test_role_by_domain_matrix(root: ApiCaller, domain: str, other_domain: str, role: str) -> None:
    spec = await root.ok("GET", "/openapi.json")
    ops = _operations(spec)
    assert len(ops) > 40, "the document lost its domain-scoped operations"
    user = await root.new_user(domain, role)
    await root.new_user(other_domain, "admin")  # the other domain is not empty
    problems = []
    for method, path, op in ops:
        body = {} if "requestBody" in op else None
        for which, slug in (("own", domain), ("other", other_domain)):
            status, answer = await user.call(method, _fill(path, slug), body)
            if which == "other" and status not in (403, 404):
                problems.append(f"{role} {method} {path} in another domain -> {status} {answer!r:.120}")
            elif status >= 500:
                problems.append(f"{role} {method} {path} in its own domain -> {status} {answer!r:.120}")
    assert not problems, "\n".join(problems)
