"""One table of endpoints feeds both the aiohttp router and the OpenAPI document.

A view is declared with the pydantic models that validate its body and query
and shape its response; the same models produce ``/api/v1/openapi.json``::

    api = Api()

    @api.route("POST", "/domains", body=DomainCreate, response=DomainOut, status=201)
    async def create_domain(req: Req) -> DomainOut: ...
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from ..errors import BadRequest, ValidationFailed
from .context import Principal

MAX_BODY = 1024 * 1024


@dataclass
class Req:
    request: web.Request
    principal: Principal | None
    params: dict[str, str]
    body: Any = None
    query: Any = None

    @property
    def services(self) -> Any:
        from .keys import SERVICES
        return self.request.app[SERVICES]

    @property
    def me(self) -> Principal:
        assert self.principal is not None
        return self.principal


Handler = Callable[[Req], Awaitable[Any]]


@dataclass
class Endpoint:
    method: str
    path: str
    handler: Handler
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    auth: bool
    summary: str
    tag: str


def validation_error(exc: ValidationError, prefix: str = "") -> ValidationFailed:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    name = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or None)
    if err["type"] == "extra_forbidden":
        msg = f"unknown field {name}"
    elif err["type"] == "missing":
        msg = f"{name} is required"
    else:
        msg = f"{name}: {err['msg']}" if name else err["msg"]
    return ValidationFailed(msg, field=name)


async def _read_json(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise BadRequest(f"body larger than {MAX_BODY} bytes")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise BadRequest(f"body larger than {MAX_BODY} bytes")
    if not raw.strip():
        raise BadRequest("a JSON body is required")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body is not valid JSON") from None


def _dump(value: Any, response: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if response is not None:
        return TypeAdapter(response).dump_python(value, mode="json")
    return value


@dataclass
class Api:
    prefix: str = "/api/v1"
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(self, method: str, path: str, *, body: type[BaseModel] | None = None,
              query: type[BaseModel] | None = None, response: Any = None, status: int = 200,
              auth: bool = True, summary: str = "", tag: str = "") -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.endpoints.append(Endpoint(method, path, fn, body, query, response, status, auth,
                                           summary or (fn.__doc__ or "").strip().split("\n")[0], tag))
            return fn
        return deco

    def include(self, other: "Api") -> None:
        self.endpoints.extend(other.endpoints)

    def register(self, app: web.Application) -> None:
        for ep in self.endpoints:
            app.router.add_route(ep.method, self.prefix + ep.path, self._wrap(ep))

    def _wrap(self, ep: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def view(request: web.Request) -> web.StreamResponse:
            from .auth import authenticate
            principal = await authenticate(request) if ep.auth else None
            req = Req(request, principal, dict(request.match_info))
            if ep.query is not None:
                try:
                    req.query = ep.query.model_validate(dict(request.query))
                except ValidationError as exc:
                    raise validation_error(exc) from None
            if ep.body is not None:
                data = await _read_json(request)
                try:
                    req.body = ep.body.model_validate(data)
                except ValidationError as exc:
                    raise validation_error(exc) from None
            result = await ep.handler(req)
            if isinstance(result, web.StreamResponse):
                return result
            if ep.status == 204 or result is None:
                return web.Response(status=204)
            return web.json_response(_dump(result, ep.response), status=ep.status)
        view.__name__ = ep.handler.__name__
        return view

    def openapi(self, title: str, version: str) -> dict[str, Any]:
        from .openapi import build_openapi
        return build_openapi(self, title, version)


_PARAM = re.compile(r"{(\w+)}")


def path_params(path: str) -> list[str]:
    return _PARAM.findall(path)
