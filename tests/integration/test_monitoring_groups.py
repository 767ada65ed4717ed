"""Monitoring groups over the API: the queues they cover agree with each
queue's monitoring_group, users belong through their monitoring_groups, and
bad input is refused naming the field with nothing written."""
from __future__ import annotations

from tests.support.api import ApiCaller, assert_error


async def test_groups_queues_and_users_agree(root: ApiCaller, domain: str, other_domain: str) -> None:
    d = f"/domains/{domain}"
    for name in ("q1", "q2", "q3"):
        await root.ok("POST", f"{d}/queues", {"name": name}, 201)
    # a queue that already named a group before the group existed is covered once it does
    await root.ok("PATCH", f"{d}/queues/q3", {"monitoring_group": "Noite"})
    group = await root.ok("POST", f"{d}/monitoring-groups", {"name": "Dia", "queues": ["q1", "q2"]}, 201)
    assert (group["name"], group["queues"], group["members"]) == ("Dia", ["q1", "q2"], [])
    assert (await root.ok("GET", f"{d}/queues/q1"))["monitoring_group"] == "Dia"
    night = await root.ok("POST", f"{d}/monitoring-groups", {"name": "Noite"}, 201)
    assert night["queues"] == ["q3"]

    # refusals name the field and change nothing
    status, body = await root.call("POST", f"{d}/monitoring-groups", {"name": "Dia"})
    assert_error(status, body, 409, "name")
    status, body = await root.call("POST", f"{d}/monitoring-groups", {"name": "X", "queues": ["nope"]})
    assert_error(status, body, 422, "queues")
    status, body = await root.call("PATCH", f"{d}/monitoring-groups/Noite", {"queues": ["q3", "q1"]})
    assert_error(status, body, 409, "queues")  # q1 is Dia's: moving it is Dia's change
    assert (await root.ok("GET", f"{d}/monitoring-groups/Noite"))["queues"] == ["q3"]
    status, body = await root.call("POST", f"{d}/monitoring-groups", {"name": "X", "queues": "q1"})
    assert_error(status, body, 422, "queues")
    assert (await root.ok("GET", f"{d}/monitoring-groups"))["total"] == 2

    # users belong through their monitoring_groups
    user = await root.ok("POST", f"{d}/users", {"username": "sup-mg", "name": "Sup", "role": "supervisor",
                                                "password": "s3cret-pass", "monitoring_groups": ["Dia"]}, 201)
    assert user["monitoring_groups"] == ["Dia"]
    status, body = await root.call("POST", f"{d}/users", {"username": "sup-mg2", "name": "Sup", "role": "supervisor",
                                                         "password": "s3cret-pass", "monitoring_groups": ["Nope"]})
    assert_error(status, body, 422, "monitoring_groups")
    status, _ = await root.call("GET", f"{d}/users/sup-mg2")
    assert status == 404  # nothing half-written
    user = await root.ok("PATCH", f"{d}/users/sup-mg", {"monitoring_groups": ["Noite", "Dia"]})
    assert user["monitoring_groups"] == ["Dia", "Noite"]
    status, body = await root.call("PATCH", f"{d}/users/sup-mg", {"monitoring_groups": ["Dia", "Nope"]})
    assert_error(status, body, 422, "monitoring_groups")
    assert (await root.ok("GET", f"{d}/users/sup-mg"))["monitoring_groups"] == ["Dia", "Noite"]
    assert (await root.ok("GET", f"{d}/monitoring-groups/Dia"))["members"] == ["sup-mg"]

    # a rename carries the queues; replacing the queues frees the others; a delete frees its queues
    renamed = await root.ok("PATCH", f"{d}/monitoring-groups/Dia", {"name": "Manha", "queues": ["q2"]})
    assert (renamed["name"], renamed["queues"], renamed["members"]) == ("Manha", ["q2"], ["sup-mg"])
    assert (await root.ok("GET", f"{d}/queues/q1"))["monitoring_group"] is None
    assert (await root.ok("GET", f"{d}/queues/q2"))["monitoring_group"] == "Manha"
    assert (await root.ok("GET", f"{d}/users/sup-mg"))["monitoring_groups"] == ["Manha", "Noite"]
    await root.ok("DELETE", f"{d}/monitoring-groups/Manha", status=204)
    assert (await root.ok("GET", f"{d}/queues/q2"))["monitoring_group"] is None
    assert (await root.ok("GET", f"{d}/users/sup-mg"))["monitoring_groups"] == ["Noite"]

    # roles and domains: a supervisor reads, only admins write; another domain's group is a 404
    sup = await root.login("sup-mg", "s3cret-pass")
    assert (await sup.ok("GET", f"{d}/monitoring-groups"))["total"] == 1
    status, body = await sup.call("POST", f"{d}/monitoring-groups", {"name": "Y"})
    assert_error(status, body, 403)
    agent = await root.new_user(domain, "agent")
    status, body = await agent.call("GET", f"{d}/monitoring-groups")
    assert_error(status, body, 403)
    status, body = await root.call("GET", f"/domains/{other_domain}/monitoring-groups/Noite")
    assert_error(status, body, 404, "name")
    status, body = await sup.call("GET", f"/domains/{other_domain}/monitoring-groups")
    assert_error(status, body, 404, "domain")
