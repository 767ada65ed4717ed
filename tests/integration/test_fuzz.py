"""The fuzz tier (issue 9): Schemathesis over the running app's openapi.json.

The app is the real one (``create_app`` with the sandbox, as every
integration test): ``app_client`` serves it on a local port, and ``st run``
runs in a subprocess so this test's event loop keeps serving it. Every
operation is exercised with the root's bearer token and a monitored person's
app token, on a seeded domain (its slug is the ``domain`` of every path),
seeded and bounded in time. It fails on any 5xx, any response outside the
document (status, content type, body schema, headers), any request the
document calls invalid that the server accepts, and any operation that answers
without its token. A failure prints Schemathesis' report, with the seed and a
curl line to reproduce it.

    CCPLANE_FUZZ_SECONDS=300 CCPLANE_FUZZ_SEED=7 pytest tests/integration/test_fuzz.py
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from tests.support.api import ApiCaller

SEED = int(os.environ.get("CCPLANE_FUZZ_SEED", "9"))
SECONDS = int(os.environ.get("CCPLANE_FUZZ_SECONDS", "60"))
CHECKS = ",".join([
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
    "missing_required_header", "unsupported_method", "ignored_auth",
])
CPF = "52998224725"


async def _seed(root: ApiCaller, domain: str) -> str:
    """A domain with one of each thing the paths name; returns an app token."""
    await root.ok("POST", f"/domains/{domain}/extensions",
                  {"number": "2001", "name": "Desk", "kind": "sip", "secret": "secret-2001"}, 201)
    await root.ok("POST", f"/domains/{domain}/queues", {"name": "sales", "extensions": ["2001"]}, 201)
    await root.ok("POST", f"/domains/{domain}/ivrs", {"name": "main", "root": {"type": "hangup"}}, 201)
    await root.ok("POST", f"/domains/{domain}/routes",
                  {"did": "551140040001", "destination": {"type": "queue", "target": "sales"}}, 201)
    await root.new_user(domain, "agent")
    await root.ok("POST", f"/domains/{domain}/monitored-persons",
                  {"name": "Joana", "cpf": CPF, "phone": "11987654321", "password": "app-password"}, 201)
    token = await root.ok("POST", f"/app/{domain}/login", {"cpf": CPF, "password": "app-password"})
    return str(token["access_token"])


async def _clear_telephony(services: Any, domain: str) -> None:
    """What the fuzzer configured in its domain is rendered into the shared sandbox:
    trunks with random host names make every later pjsip reload resolve them (slow,
    failing lookups that delay the next tests' configuration). Remove it all."""
    from sqlalchemy import delete, select

    from ccplane.features.domains.models import Domain
    from ccplane.features.callbacks.models import Callback
    from ccplane.features.dialer.models import Campaign, DoNotCallEntry
    from ccplane.features.extensions.models import Extension
    from ccplane.features.ivr.models import IvrTree
    from ccplane.features.queues.models import Queue
    from ccplane.features.routes.models import BlacklistEntry, InboundRoute
    from ccplane.features.trunks.models import OutboundRoute, Trunk
    async with services.sessions() as s:
        domain_id = await s.scalar(select(Domain.id).where(Domain.slug == domain))
        # campaigns the fuzzer started would go on dialling, its callbacks ringing, in later tests
        for model in (Campaign, DoNotCallEntry, Callback, OutboundRoute, Trunk, InboundRoute, BlacklistEntry,
                      IvrTree, Queue, Extension):
            await s.execute(delete(model).where(model.domain_id == domain_id))
        await s.commit()
    await services.renderer.apply()


async def test_schemathesis_finds_nothing(root: ApiCaller, domain: str, tmp_path: Path, services: Any) -> None:
    try:
        await _fuzz(root, domain, tmp_path)
    finally:
        await _clear_telephony(services, domain)


async def _fuzz(root: ApiCaller, domain: str, tmp_path: Path) -> None:
    app_token = await _seed(root, domain)
    base = str(root.client.make_url("")).rstrip("/")
    config = tmp_path / "schemathesis.toml"
    # TOML strings written as JSON strings: the same escaping for these values.
    config.write_text("\n".join([
        f"parameters = {{ domain = {json.dumps(domain)} }}",
        "[auth.openapi.bearer]", f"bearer = {json.dumps(root.token)}",
        "[auth.openapi.app]", f"bearer = {json.dumps(app_token)}",
    ]) + "\n")
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    proc = await asyncio.create_subprocess_exec(
        st, "--config-file", str(config), "run", f"{base}/api/v1/openapi.json", "--url", base,
        "--seed", str(SEED), "--max-time", str(SECONDS), "--workers", "1", "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", "25",
        "--generation-database", "none", "--request-timeout", "20", "--no-color",
        "--suppress-health-check", "all", "--warnings", "off",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path)
    out, _ = await proc.communicate()
    report = out.decode(errors="replace")
    print(report[-20000:])
    assert proc.returncode == 0, f"Schemathesis (seed {SEED}) found problems:\n{report[-12000:]}"
