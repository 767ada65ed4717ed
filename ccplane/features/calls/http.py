from __future__ import annotations

from ...web.routing import Api, Req
from .schemas import CallDetail, CallOut, CallPage, CallQuery, TransferIn, TransferOut

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



@api.route("POST", CALLS + "/{call}/transfer", body=TransferIn, response=TransferOut, status=202, tag="calls")
async def transfer_call(req: Req) -> TransferOut:
    """Transfer the call from its agent: ``blind`` (the target rings, the agent is free at
    once) or ``attended`` (the agent consults the target, the caller on hold; then
    ``transfer/complete`` or ``transfer/cancel``). ``to`` is an extension, a queue or a
    number of an outbound route. The outcome comes as ``call.transferred`` on the live feed."""
    body: TransferIn = req.body
    return TransferOut(**await req.services.transfers.transfer(req.me, req.params["domain"], req.params["call"],
                                                               body.mode, body.to))


@api.route("POST", CALLS + "/{call}/transfer/complete", response=TransferOut, status=202, tag="calls")
async def complete_transfer(req: Req) -> TransferOut:
    """Complete the attended transfer under way: the target keeps the caller, the agent leaves."""
    return TransferOut(**await req.services.transfers.complete(req.me, req.params["domain"], req.params["call"]))


@api.route("POST", CALLS + "/{call}/transfer/cancel", response=TransferOut, status=202, tag="calls")
async def cancel_transfer(req: Req) -> TransferOut:
    """Cancel the attended transfer under way: the target is hung up, the agent gets the caller back."""
    return TransferOut(**await req.services.transfers.cancel(req.me, req.params["domain"], req.params["call"]))
