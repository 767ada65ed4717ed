from __future__ import annotations

from ...web.routing import Api, Req
from .schemas import CallDetail, CallOut, CallPage, CallQuery

api = Api()
CALLS = "/domains/{domain}/calls"


@api.route("GET", CALLS, query=CallQuery, response=CallPage, tag="calls")
async def list_calls(req: Req) -> CallPage:
    """Active calls (default), or finished ones (journeys) with ``status=ended``, newest first."""
    q: CallQuery = req.query
    items, total = await req.services.calls.list(req.me, req.params["domain"], q.status, start=q.from_, end=q.to,
                                                 queue=q.queue, agent=q.agent, limit=q.limit, offset=q.offset)
    return CallPage(items=[CallOut(**i) for i in items], total=total)


@api.route("GET", CALLS + "/{call}", response=CallDetail, tag="calls")
async def get_call(req: Req) -> CallDetail:
    """One call with its legs (IVR, queue wait, each offer, agent and transfer legs)."""
    view = await req.services.calls.get(req.me, req.params["domain"], req.params["call"])
    recordings = getattr(req.services, "recordings", None)  # features/recordings: the ones this user may hear
    if recordings is not None:
        view["recordings"] = [str(r.id) for r in await recordings.for_call(req.me, req.params["domain"],
                                                                             req.params["call"])]
    return CallDetail(**view)


@api.route("POST", CALLS + "/{call}/hangup", status=204, tag="calls")
async def hangup_call(req: Req) -> None:
    """End an active call (every channel of it)."""
    await req.services.calls.hangup(req.me, req.params["domain"], req.params["call"])
