"""One table of endpoints feeds both the aiohttp router and the OpenAPI document.

A view is declared with the pydantic models that validate its body and query
and shape its response; the same models produce ``/api/v1/openapi.json``::

    api = Api()

    @api.route("POST", "/domains", body=DomainCreate, response=DomainOut, status=201)
    async def create_domain(req: Req) -> DomainOut: ...
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from ..errors import NotFound, ValidationFailed
from ..features.common import CONF_UNSAFE, CONTROL_CHARS
from .body import read_json
from .context import Principal

# The largest id a path may name: a signed 64-bit integer (SQLite and
# PostgreSQL both overflow past it, which used to surface as a 500).
MAX_ID = 2**63 - 1


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


def path_id(req: Req, name: str, what: str) -> int:
    """A numeric id from the path; 404 for anything that cannot be a stored id."""
    raw = req.params[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or int(raw) > MAX_ID:
        raise NotFound(f"{what} {raw[:40]} not found", field=name)
    return int(raw)


def _refuse_nul(request: web.Request) -> None:
    """A NUL cannot name anything we store (PostgreSQL refuses it outright)."""
    for name, value in request.match_info.items():
        if "\x00" in value:
            raise NotFound(f"{name} not found", field=name)
    for name, value in request.query.items():
        if "\x00" in value or "\x00" in name:
            raise ValidationFailed(f"{name}: NUL characters are not allowed", field=name)


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
    security: str | None = None  # the OpenAPI security scheme: "bearer" (auth), "app" (the app's token)
    upload: tuple[str, ...] = ()  # a multipart body: its file field, then its text fields
    produces: tuple[str, ...] = ()  # other content types of the success response (?format=csv...)
    # other statuses this operation answers with: success ones ("206") carry the same
    # content as its success response, the others the error body ("416")
    also: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()  # request headers it reads (declared as optional header parameters)
    accepts: tuple[str, ...] = ()  # other content types of the body (e.g. text/csv): the view reads those itself


def validation_error(exc: ValidationError, prefix: str = "") -> ValidationFailed:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    name = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or None)
    if err["type"] == "extra_forbidden":
        msg = f"unknown field {name}"
    elif err["type"] == "missing":
        msg = f"{name} is required"
    elif err["type"] == "string_pattern_mismatch" and CONTROL_CHARS in str(err.get("ctx", {}).get("pattern", "")):
        msg = f"{name}: control or invisible format characters and line breaks are not allowed" + (
            "; nor ';', '[' and ']' (this text reaches Asterisk's configuration)"
            if CONF_UNSAFE in str(err["ctx"]["pattern"]) else "")
    else:
        text = err["msg"].removeprefix("Value error, ")
        msg = f"{name}: {text}" if name else text
    return ValidationFailed(msg, field=name)


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
              auth: bool = True, summary: str = "", tag: str = "", security: str | None = None,
              upload: tuple[str, ...] = (), produces: tuple[str, ...] = (), also: tuple[str, ...] = (),
              headers: tuple[str, ...] = (), accepts: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.endpoints.append(Endpoint(method, path, fn, body, query, response, status, auth,
                                           summary or (fn.__doc__ or "").strip().split("\n")[0], tag,
                                           security or ("bearer" if auth else None), upload, produces,
                                           also, headers, accepts))
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
            _refuse_nul(request)
            req = Req(request, principal, dict(request.match_info))
            if principal is not None and "domain" in req.params:
                # Before the query and body are looked at: a user of another
                # domain gets the same 404 whatever it sends (not a 422 that
                # tells it the operation exists and what it expects).
                await req.services.domains.get(principal, req.params["domain"])
            if ep.query is not None:
                try:
                    req.query = ep.query.model_validate(dict(request.query))
                except ValidationError as exc:
                    raise validation_error(exc) from None
            other = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
            if ep.body is not None and not (ep.accepts and other in ep.accepts):
                data = await read_json(request)
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
