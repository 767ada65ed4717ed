"""The demo contact center, created (or brought back to shape) through the API:
idempotent, so a second run reuses the domain and everything in it."""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .client import Api

DOMAIN = "demo"
DID_IVR = "1140040001"      # the IVR with the CPF step
DID_SUPPORT = "1140040002"  # straight to the support queue
MONITORING_NUMBER = "1140040009"
SALES, SUPPORT, MONITORING = "vendas", "suporte", "monitoramento"
CALLBACK_KEY = "9"          # the support queue's in-queue callback key
PERSONS = [("Joana da Silva", "11987650001"), ("Carlos Pereira", "11987650002"),
           ("Maria Oliveira", "11987650003")]


def cpf_from(base9: str) -> str:
    """A CPF with valid check digits from nine digits."""
    digits = [int(c) for c in base9]
    for weight in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(weight, 1, -1)))
        rest = total * 10 % 11
        digits.append(0 if rest == 10 else rest)
    return "".join(map(str, digits))


PERSON_CPFS = [cpf_from(f"52998{i:04d}") for i in range(1, len(PERSONS) + 1)]
UNKNOWN_CPF = cpf_from("111444777")


@dataclass
class Credentials:
    """Passwords of the demo's accounts, generated once and kept in a file (0600)
    next to the database, so a second run prints and uses the same ones."""
    path: Path
    passwords: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "Credentials":
        try:
            return cls(path, dict(json.loads(path.read_text())))
        except (OSError, ValueError):
            return cls(path)

    def of(self, username: str) -> str:
        if username not in self.passwords:
            self.passwords[username] = secrets.token_urlsafe(9)
            tmp = self.path.with_suffix(".tmp")
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                json.dump(self.passwords, f, indent=1)
            os.replace(tmp, self.path)
        return self.passwords[username]


@dataclass
class Layout:
    """Who is who in the demo domain."""
    agents: list[tuple[str, str]]        # (username, extension) of the queue agents
    monitors: list[tuple[str, str]]      # (username, extension) of the monitoring attendants
    admin: str = "demo-admin"
    supervisor: str = "demo-supervisor"

    @classmethod
    def of(cls, n_agents: int) -> "Layout":
        return cls(agents=[(f"agente{i:02d}", str(2000 + i)) for i in range(1, n_agents + 1)],
                   monitors=[(f"monitor{i:02d}", str(2900 + i)) for i in (1, 2)])


def ivr_tree() -> dict[str, Any]:
    sales, support = {"type": "queue", "target": SALES}, {"type": "queue", "target": SUPPORT}
    return {"type": "menu", "prompt": "beep", "input_timeout": 5, "max_retries": 1,
            "options": {"1": sales, "2": support,
                        "3": {"type": "collect", "prompt": "beep", "digits": 11, "check": "cpf_registered",
                              "input_timeout": 6, "next": support, "failed": sales}},
            "invalid": sales, "timeout": sales}


async def provision(root: Api, creds: Credentials, layout: Layout, carrier_sip_port: int) -> None:
    d = f"/domains/{DOMAIN}"
    await root.ensure("/domains", "slug", {"slug": DOMAIN, "name": "Central de Demonstração"})
    for username, name, role in ((layout.admin, "Administradora Demo", "admin"),
                                 (layout.supervisor, "Supervisora Demo", "supervisor")):
        await root.ensure(f"{d}/users", "username", {"username": username, "name": name, "role": role,
                                                     "password": creds.of(username)})
    for username, ext in layout.agents + layout.monitors:
        await root.ensure(f"{d}/users", "username", {"username": username, "name": username.title(),
                                                     "role": "agent", "password": creds.of(username)})
        await root.ensure(f"{d}/extensions", "number", {"number": ext, "name": f"Ramal {ext}",
                                                        "secret": creds.of(f"ramal-{ext}")})
    agent_exts = [ext for _, ext in layout.agents]
    await root.ensure(f"{d}/queues", "name", {
        "name": SALES, "strategy": "rrmemory", "ring_timeout": 8, "retry": 1, "wrapup_time": 3,
        "max_no_answer": 2, "extensions": agent_exts})
    await root.ensure(f"{d}/queues", "name", {
        "name": SUPPORT, "strategy": "leastrecent", "ring_timeout": 10, "retry": 1, "wrapup_time": 5,
        "max_no_answer": 3, "extensions": agent_exts,
        "callback_key": CALLBACK_KEY, "callback_retries": 0})
    await root.ensure(f"{d}/queues", "name", {
        "name": MONITORING, "strategy": "ringall", "ring_timeout": 15, "retry": 1, "wrapup_time": 2,
        "extensions": [ext for _, ext in layout.monitors]})
    # the supervisor's panel shows the queues of their monitoring groups: the demo's covers them all
    await root.ensure(f"{d}/monitoring-groups", "name", {"name": "central", "queues": [SALES, SUPPORT, MONITORING]})
    await root.ok("PATCH", f"{d}/users/{layout.supervisor}", {"monitoring_groups": ["central"]})
    for (name, phone), cpf in zip(PERSONS, PERSON_CPFS):
        existing = await root.ok("GET", f"{d}/monitored-persons?limit=100")
        found = [p for p in existing["items"] if p["cpf"] == cpf]
        body = {"name": name, "cpf": cpf, "phone": phone, "password": creds.of(f"app-{cpf}")}
        if found:  # back to the demo's password (the file may be new), active
            await root.ok("PATCH", f"{d}/monitored-persons/{found[0]['id']}",
                          {"active": True, "password": body["password"]})
        else:
            await root.ok("POST", f"{d}/monitored-persons", body)
    await root.ensure(f"{d}/ivrs", "name", {"name": "principal", "root": ivr_tree()}, method="PUT")
    await root.ensure(f"{d}/routes", "did", {"did": DID_IVR, "destination": {"type": "ivr", "target": "principal"}})
    await root.ensure(f"{d}/routes", "did", {"did": DID_SUPPORT,
                                             "destination": {"type": "queue", "target": SUPPORT}})
    await root.ensure(f"{d}/routes", "did", {"did": MONITORING_NUMBER,
                                             "destination": {"type": "queue", "target": MONITORING}})
    await _carrier_trunk(root, d, carrier_sip_port)
    await root.ok("PUT", f"{d}/alert-app", {"app_name": "Canal de Alertas Demo", "monitoring_queue": MONITORING,
                                            "call_number": MONITORING_NUMBER,
                                            "ack_deadlines": {"yellow": 3600, "red": 3600}})


async def _carrier_trunk(root: Api, d: str, carrier_sip_port: int) -> None:
    """The trunk to the carrier sandbox and the outbound route through it. Trunks have
    no update: one pointing elsewhere (the carrier moved) is replaced, route first."""
    trunk = {"name": "operadora", "host": "127.0.0.1", "port": carrier_sip_port, "caller_id": "1140040000"}
    route = {"name": "brasil", "patterns": ["_0XXXXXXXXXX", "_XXXXXXXXXX", "_XXXXXXXXXXX"],
             "trunks": ["operadora"], "strip": 0, "prefix": ""}
    found = [t for t in (await root.ok("GET", f"{d}/trunks"))["items"] if t["name"] == trunk["name"]]
    if found and (found[0]["host"], found[0]["port"]) != (trunk["host"], trunk["port"]):
        await root.ok("DELETE", f"{d}/outbound-routes/{route['name']}", expect=(204, 404))
        await root.ok("DELETE", f"{d}/trunks/{trunk['name']}")
        found = []
    if not found:
        await root.ok("POST", f"{d}/trunks", trunk)
    await root.ok("POST", f"{d}/outbound-routes", route, expect=(201, 409))
