from __future__ import annotations

from ...web.routing import Api, Req
from ..common import ListQuery, Page
from .schemas import AgentOut, AvailableExtensions, LoginRequest, PauseRequest, QueueCallOut, QueuesQuery

api = Api()
BASE = "/domains/{domain}/agents"
ONE = BASE + "/{username}"


@api.route("GET", BASE, query=ListQuery, response=Page[AgentOut], tag="agents")
async def list_agents(req: Req) -> Page[AgentOut]:
    """The domain's agents with their live state, by username (``limit``/``offset``)."""
    rows, total = await req.services.agents.list(req.me, req.params["domain"], req.query.limit, req.query.offset)
    return Page[AgentOut](items=rows, total=total)


@api.route("GET", ONE, response=AgentOut, tag="agents")
async def get_agent(req: Req) -> AgentOut:
    """One agent's live state."""
    return await req.services.agents.get(req.me, req.params["domain"], req.params["username"])


@api.route("GET", ONE + "/available-extensions", query=QueuesQuery, response=AvailableExtensions, tag="agents")
async def available_extensions(req: Req) -> AvailableExtensions:
    """Extensions the agent may log in on for these queues (linked, registered, free)."""
    names = [n for n in req.query.queues.split(",") if n]
    items = await req.services.agents.available_extensions(req.me, req.params["domain"],
                                                           req.params["username"], names)
    return AvailableExtensions(items=items)


@api.route("POST", ONE + "/session", body=LoginRequest, response=AgentOut, status=201, tag="agents")
async def login(req: Req) -> AgentOut:
    """Log the agent into queues on an extension (409 with the reason when it is not offered)."""
    return await req.services.agents.login(req.me, req.params["domain"], req.params["username"], req.body)


@api.route("DELETE", ONE + "/session", status=204, tag="agents")
async def logout(req: Req) -> None:
    """Log out (409 while a call is in progress)."""
    await req.services.agents.logout(req.me, req.params["domain"], req.params["username"])


@api.route("POST", ONE + "/pause", body=PauseRequest, response=AgentOut, tag="agents")
async def pause(req: Req) -> AgentOut:
    """Pause in all the agent's queues, with a reason."""
    return await req.services.agents.pause(req.me, req.params["domain"], req.params["username"], req.body.reason)


@api.route("POST", ONE + "/unpause", response=AgentOut, tag="agents")
async def unpause(req: Req) -> AgentOut:
    """Unpause (also clears a max-no-answer pause and its counter)."""
    return await req.services.agents.unpause(req.me, req.params["domain"], req.params["username"])


@api.route("GET", "/domains/{domain}/queue-calls", query=ListQuery, response=Page[QueueCallOut], tag="agents")
async def queue_calls(req: Req) -> Page[QueueCallOut]:
    """Answered queue calls, newest first, with why each ended."""
    rows, total = await req.services.agents.queue_calls(req.me, req.params["domain"], req.query.limit,
                                                        req.query.offset)
    return Page[QueueCallOut](items=rows, total=total)
