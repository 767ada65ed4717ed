from __future__ import annotations

from ...web.routing import Api, Req, path_id
from ..common import Page
from .schemas import CallbackCreate, CallbackOut, CallbackQuery, CallbackReschedule

api = Api()
BASE = "/domains/{domain}/callbacks"


@api.route("GET", BASE, query=CallbackQuery, response=Page[CallbackOut], tag="callbacks")
async def list_callbacks(req: Req) -> Page[CallbackOut]:
    """Callbacks by time (an agent sees those it owes or scheduled); filters: status, kind, queue,
    agent, from/to on the callback's time."""
    q = req.query
    rows, total = await req.services.callbacks.list(req.me, req.params["domain"], q.limit, q.offset, q.status,
                                                    kind=q.kind, queue=q.queue, agent=q.agent, start=q.from_,
                                                    end=q.to)
    return Page[CallbackOut](items=rows, total=total)


@api.route("POST", BASE, body=CallbackCreate, response=CallbackOut, status=201, tag="callbacks")
async def create_callback(req: Req) -> CallbackOut:
    """Schedule a return call: at ``at`` the agent (or a free agent of the queue) is rung, then the number."""
    return await req.services.callbacks.create(req.me, req.params["domain"], req.body)


@api.route("GET", BASE + "/{id}", response=CallbackOut, tag="callbacks")
async def get_callback(req: Req) -> CallbackOut:
    """One callback, with its outcome, delay and call (the journey)."""
    return await req.services.callbacks.get(req.me, req.params["domain"], path_id(req, "id", "callback"))


@api.route("POST", BASE + "/{id}/cancel", response=CallbackOut, tag="callbacks")
async def cancel_callback(req: Req) -> CallbackOut:
    """Cancel a scheduled callback (409 once it has started)."""
    return await req.services.callbacks.cancel(req.me, req.params["domain"], path_id(req, "id", "callback"))


@api.route("POST", BASE + "/{id}/reschedule", body=CallbackReschedule, response=CallbackOut, tag="callbacks")
async def reschedule_callback(req: Req) -> CallbackOut:
    """Move a scheduled callback to another time (optionally another number or note)."""
    return await req.services.callbacks.reschedule(req.me, req.params["domain"], path_id(req, "id", "callback"),
                                                   req.body)
