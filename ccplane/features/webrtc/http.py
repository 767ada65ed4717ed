from __future__ import annotations

from ...web.routing import Api, Req
from .schemas import QualityList, QualityOut, QualityReport

api = Api()


@api.route("POST", "/domains/{domain}/agents/{username}/call-quality", body=QualityReport,
           response=QualityOut, tag="webrtc")
async def report_quality(req: Req) -> QualityOut:
    """The agent screen's phone reports what it measured on the agent's call in progress
    (or ``call``): packets sent/received/lost, jitter, round-trip; ccplane adds the loss
    percentage and a MOS estimate. Only the agent themself reports (403 otherwise);
    409 when the agent has no call in progress and names none."""
    return await req.services.webrtc.report(req.me, req.params["domain"], req.params["username"], req.body)


@api.route("GET", "/domains/{domain}/calls/{call}/quality", response=QualityList, tag="webrtc")
async def call_quality(req: Req) -> QualityList:
    """Call quality of each WebRTC agent leg of a call (supervisors, administrators)."""
    items = await req.services.webrtc.for_call(req.me, req.params["domain"], req.params["call"])
    return QualityList(items=items, total=len(items))
