from __future__ import annotations

from ...web.routing import Api, Req
from .schemas import AttendanceOut, AttendancePage, AttendanceQuery, Qualification

api = Api()
ATTENDANCES = "/domains/{domain}/attendances"


@api.route("GET", ATTENDANCES, query=AttendanceQuery, response=AttendancePage, tag="attendances")
async def list_attendances(req: Req) -> AttendancePage:
    """Attendances by protocol, newest first (filters: period of the answer, agent, queue,
    protocol, call). An agent sees the attendances they handled."""
    q: AttendanceQuery = req.query
    items, total = await req.services.attendances.list(
        req.me, req.params["domain"], start=q.from_, end=q.to, agent=q.agent, queue=q.queue,
        protocol=q.protocol, call=q.call, limit=q.limit, offset=q.offset)
    return AttendancePage(items=[AttendanceOut(**i) for i in items], total=total)


@api.route("PUT", ATTENDANCES + "/{protocol}/qualification", body=Qualification, response=AttendanceOut,
           tag="attendances")
async def qualify_attendance(req: Req) -> AttendanceOut:
    """Qualify an attendance: a ``disposition`` from its queue's ``dispositions`` and a free
    ``description``. Only the agent who handled it, or a supervisor/admin of the domain."""
    body: Qualification = req.body
    return AttendanceOut(**await req.services.attendances.qualify(
        req.me, req.params["domain"], req.params["protocol"], body.disposition, body.description))
