from __future__ import annotations

from ...web.routing import Api, Req
from .schemas import SpyIn, SpyOut, ThresholdList, ThresholdsIn

api = Api()


@api.route("POST", "/domains/{domain}/calls/{call}/spy", body=SpyIn, response=SpyOut, status=202, tag="calls")
async def spy_call(req: Req) -> SpyOut:
    """Listen to (``listen``), whisper to the agent (``whisper``) or talk to both parties of
    (``barge``) an agent's call: ccplane rings ``extension`` and, when it answers, runs
    ChanSpy on the agent's channel. Supervisors only for the queues of their monitoring
    groups; administrators for every call of the domain."""
    return await req.services.spy.spy(req.me, req.params["domain"], req.params["call"], req.body)


@api.route("GET", "/domains/{domain}/panel-thresholds", response=ThresholdList, tag="supervision")
async def list_panel_thresholds(req: Req) -> ThresholdList:
    """The supervisor panel's colour thresholds (``queue`` empty: the domain's default)."""
    items = await req.services.thresholds.list(req.me, req.params["domain"])
    return ThresholdList(items=items, total=len(items))


@api.route("PUT", "/domains/{domain}/panel-thresholds", body=ThresholdsIn, response=ThresholdList,
           tag="supervision")
async def replace_panel_thresholds(req: Req) -> ThresholdList:
    """Replace the panel's thresholds: per figure (``longest_wait`` and ``waiting``: yellow/red
    at or above; ``service_level`` in %: yellow/red below), for every queue or one queue."""
    body: ThresholdsIn = req.body
    items = await req.services.thresholds.replace(req.me, req.params["domain"], body.items)
    return ThresholdList(items=items, total=len(items))
