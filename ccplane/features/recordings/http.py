from __future__ import annotations


from aiohttp import web

from ...web.ranges import send_range
from ...web.routing import Api, Req, path_id
from .schemas import RecordingOut, RecordingPage, RecordingPolicyIn, RecordingPolicyOut, RecordingQuery

api = Api()
BASE = "/domains/{domain}/recordings"


@api.route("GET", BASE, query=RecordingQuery, response=RecordingPage, tag="recordings")
async def list_recordings(req: Req) -> RecordingPage:
    """Recordings (filters: call, protocol, agent, queue, from/to on the start); a supervisor
    sees those of the queues their monitoring groups cover, an agent none."""
    items, total = await req.services.recordings.list(req.me, req.params["domain"], req.query)
    return RecordingPage(items=items, total=total)


@api.route("GET", BASE + "/{id}", response=RecordingOut, tag="recordings")
async def get_recording(req: Req) -> RecordingOut:
    """One recording (404 for a user who may not hear it)."""
    return await req.services.recordings.get(req.me, req.params["domain"], path_id(req, "id", "recording"))


@api.route("GET", BASE + "/{id}/audio", tag="recordings", produces=("audio/wav",), also=("206", "416"),
           headers=("Range",))
async def recording_audio(req: Req) -> web.StreamResponse:
    """The WAV, streamed; one HTTP byte range (206) so a player can seek; 416 for a range
    it cannot serve; 404 while still recording or when its file is missing."""
    path = await req.services.recordings.audio(req.me, req.params["domain"], path_id(req, "id", "recording"))
    return await send_range(req.request, path, "audio/wav")


@api.route("GET", "/domains/{domain}/recording-policy", response=RecordingPolicyOut, tag="recordings")
async def get_recording_policy(req: Req) -> RecordingPolicyOut:
    """The domain's retention: days a recording is kept (null: for good)."""
    return RecordingPolicyOut(retention_days=await req.services.recordings.policy(req.me, req.params["domain"]))


@api.route("PUT", "/domains/{domain}/recording-policy", body=RecordingPolicyIn, response=RecordingPolicyOut,
           tag="recordings")
async def put_recording_policy(req: Req) -> RecordingPolicyOut:
    """Set the retention; a scheduler job purges files and rows past it."""
    days = await req.services.recordings.set_policy(req.me, req.params["domain"], req.body.retention_days)
    return RecordingPolicyOut(retention_days=days)
