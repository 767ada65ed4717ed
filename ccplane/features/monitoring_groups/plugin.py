from __future__ import annotations

from ...plugin import Feature, Wiring
from ...web.context import Principal
from .domain import SupervisorScope
from .http import api
from .services import Memberships, MonitoringGroupService, covered_queues


def setup(w: Wiring) -> None:
    core = w.core
    w.provide("monitoring_groups", MonitoringGroupService(core.sessions))
    core.users.groups = Memberships()  # users' monitoring_groups
    board = core.agent_runtime.board

    def agent_queues(username: str) -> set[str]:
        return {q for a in board.agents.values() if a.username == username for q in a.queues}

    async def scope_of(me: Principal, domain_id: int, slug: str) -> SupervisorScope | None:
        """Supervisors see the live feed of their groups' queues (computed at connect)."""
        if me.role != "supervisor":
            return None
        async with core.sessions() as s:
            queues = await covered_queues(s, domain_id, me.user_id)
        return SupervisorScope(slug, frozenset(queues), agent_queues)
    core.live.scope_of = scope_of


FEATURE = Feature("monitoring_groups", setup, api=api)
