"""Extensions become real PJSIP endpoints in the sandbox's Asterisk."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ccplane.asterisk.sandbox import SandboxState
from tests.support.api import ApiCaller
from tests.support.baresip import Phone
from tests.support.waiting import eventually


async def endpoint_listed(services: Any, name: str) -> bool:
    out = await services.ami.command(f"pjsip show endpoint {name}")
    return "Unable to find object" not in out and name in out


async def test_extension_create_delete_reaches_asterisk(root: ApiCaller, services: Any, domain: str) -> None:
    name = f"{domain}-1001"
    started = time.monotonic()
    created = await root.ok("POST", f"/domains/{domain}/extensions",
                            {"number": "1001", "name": "Maria", "secret": "secret-1001"}, 201)
    assert created["sip_username"] == name and "secret" not in created
    await eventually(lambda: endpoint_listed(services, name), timeout=2, what=f"endpoint {name}")
    assert time.monotonic() - started < 2
    assert "secret" not in await root.ok("GET", f"/domains/{domain}/extensions/1001")
    await root.ok("DELETE", f"/domains/{domain}/extensions/1001", status=204)
    await eventually(lambda: _absent(services, name), timeout=2, what=f"endpoint {name} gone")


async def _absent(services: Any, name: str) -> bool:
    return not await endpoint_listed(services, name)


async def test_same_number_in_two_domains_does_not_collide(root: ApiCaller, services: Any, domain: str,
                                                           other_domain: str) -> None:
    for slug in (domain, other_domain):
        await root.ok("POST", f"/domains/{slug}/extensions",
                      {"number": "1001", "name": slug, "secret": "secret-1001"}, 201)
    for slug in (domain, other_domain):
        out = await services.ami.command(f"pjsip show endpoint {slug}-1001")
        assert f"ccplane-d-{slug}" in out  # each lands in its own domain's context


async def test_unchanged_database_writes_nothing_and_reloads_nothing(root: ApiCaller, services: Any,
                                                                     domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/extensions",
                  {"number": "1002", "name": "Joao", "secret": "secret-1002"}, 201)
    out_dir: Path = services.renderer.out_dir
    first = await services.renderer.apply()
    mtimes = {p.name: p.stat().st_mtime_ns for p in out_dir.glob("*.conf")}
    contents = {p.name: p.read_bytes() for p in out_dir.glob("*.conf")}
    reloads: list[dict[str, str]] = []
    real_reloader = services.renderer.reloader

    async def counting(action: dict[str, str]) -> Any:
        reloads.append(action)
        return await real_reloader(action)

    services.renderer.reloader = counting
    try:
        for _ in range(2):
            result = await services.renderer.apply()
            assert result.changed == [] and result.reloaded == []
    finally:
        services.renderer.reloader = real_reloader
    assert first.changed == []  # the API call already rendered it
    assert reloads == []
    assert {p.name: p.stat().st_mtime_ns for p in out_dir.glob("*.conf")} == mtimes
    assert {p.name: p.read_bytes() for p in out_dir.glob("*.conf")} == contents
    assert await services.renderer.check() == []


async def test_only_the_changed_module_is_reloaded(root: ApiCaller, services: Any, domain: str) -> None:
    await root.ok("POST", f"/domains/{domain}/extensions",
                  {"number": "1003", "name": "Ana", "secret": "secret-1003"}, 201)
    reloads: list[dict[str, str]] = []
    real_reloader = services.renderer.reloader

    async def counting(action: dict[str, str]) -> Any:
        reloads.append(action)
        return await real_reloader(action)

    services.renderer.reloader = counting
    try:
        # a new secret changes pjsip.conf only: the dialplan is untouched
        await root.ok("PATCH", f"/domains/{domain}/extensions/1003", {"secret": "another-secret"})
    finally:
        services.renderer.reloader = real_reloader
    assert reloads == [{"Action": "Reload", "Module": "res_pjsip.so"}]


async def test_real_phone_registration_is_seen(root: ApiCaller, services: Any, domain: str,
                                               sandbox: SandboxState) -> None:
    await root.ok("POST", f"/domains/{domain}/extensions",
                  {"number": "1001", "name": "Phone", "secret": "secret-1001"}, 201)
    await eventually(lambda: endpoint_listed(services, f"{domain}-1001"), timeout=5, what="endpoint loaded")
    phone = Phone(f"{domain}-1001", "secret-1001", sandbox.sip_port).start()
    path = f"/domains/{domain}/extensions/1001"
    try:
        async def registered() -> bool:
            return bool((await root.ok("GET", path))["registered"])
        await eventually(registered, timeout=20, what="registered: true",
                         details=lambda: phone.output()[-1500:])
        ext = await root.ok("GET", path)
        assert ext["contacts"] and f"{phone.sip_port}" in ext["contacts"][0]
        await phone.stop_async(timeout=15)  # SIGTERM: baresip unregisters before it exits

        async def unregistered() -> bool:
            return not (await root.ok("GET", path))["registered"]
        await eventually(unregistered, timeout=20, what="registered: false",
                         details=lambda: phone.output()[-1500:])
    finally:
        phone.close()


async def test_wrong_secret_does_not_register(root: ApiCaller, services: Any, domain: str,
                                              sandbox: SandboxState) -> None:
    await root.ok("POST", f"/domains/{domain}/extensions",
                  {"number": "1004", "name": "Bad", "secret": "secret-1004"}, 201)
    await eventually(lambda: endpoint_listed(services, f"{domain}-1004"), timeout=5, what="endpoint loaded")
    phone = Phone(f"{domain}-1004", "wrong-secret", sandbox.sip_port).start()
    try:
        async def saw_failure() -> bool:
            return "401" in phone.output() or "403" in phone.output() or "failed" in phone.output()
        await eventually(saw_failure, timeout=10, what="baresip reporting a failed registration")
        assert (await root.ok("GET", f"/domains/{domain}/extensions/1004"))["registered"] is False
    finally:
        phone.close()
