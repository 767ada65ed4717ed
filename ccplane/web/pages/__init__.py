"""Server-rendered web pages (issue 13): the same services the API uses, a
cookie session instead of a bearer token, a CSRF token on every form.

The session cookie is a token of the auth signer (type ``web``) carrying the
user's token version (a password change or revocation ends it), the CSRF
token of the session and the domain chosen in the switcher. It is HttpOnly,
SameSite=Lax, and Secure when the request came over TLS.
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import quote

import jinja2
from aiohttp import BodyPartReader, MultipartReader, web

from ...errors import TooManyRequests
from ..keys import SERVICES
from .i18n import translator
from .roles import role_label

COOKIE = "ccplane_session"
SESSION_TTL = 8 * 3600
HERE = Path(__file__).parent
ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                         autoescape=jinja2.select_autoescape(["html"]), enable_async=False)
ENV.globals["role_label"] = role_label  # {{ _(role_label(session.role)) }}: never the raw role code


def path_segment(value: object) -> str:
    """A name as one URL path segment: every reserved character quoted, "/" too (Jinja's
    ``urlencode`` keeps "/", which split a monitoring group named "Norte/Sul" in two)."""
    return quote(str(value), safe="")


ENV.filters["pathq"] = path_segment  # href="/admin/queues/{{ q.name|pathq }}"
HOME_BY_ROLE = {"agent": "/agent", "supervisor": "/supervisor"}


@dataclass
class Session:
    user_id: int
    username: str
    name: str
    role: str
    csrf: str
    domain: str | None
    domains: list[tuple[str, str]]  # (slug, name) the user may switch to
    principal: Any = None  # the API's Principal, for calling the services


SESSION: web.RequestKey[Session] = web.RequestKey("page_session")
LANG: web.RequestKey[str] = web.RequestKey("page_lang")


def _is_tls(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"


def set_session(request: web.Request, response: web.StreamResponse, user: Any, domain: str | None,
                csrf: str | None = None) -> None:
    signer = request.app[SERVICES].auth.signer
    token = signer.issue(user.id, "web", user.token_version, ttl=SESSION_TTL,
                         claims={"csrf": csrf or secrets.token_urlsafe(24), "dom": domain})
    response.set_cookie(COOKIE, token, max_age=SESSION_TTL, httponly=True, samesite="Lax",
                        secure=_is_tls(request), path="/")


async def load_session(request: web.Request) -> Session | None:
    from ...features.auth.domain import InvalidToken
    from ...features.users.models import User
    services = request.app[SERVICES]
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        payload = services.auth.signer.verify(token, "web")
    except InvalidToken:
        return None
    async with services.sessions() as s:
        user = await s.get(User, payload["sub"])
        if user is None or not user.active or user.token_version != payload.get("ver"):
            return None
        if user.role == "root":
            from sqlalchemy import select

            from ...features.domains.models import Domain
            domains = [(d.slug, d.name) for d in (await s.scalars(select(Domain).order_by(Domain.slug))).all()]
        else:
            domains = [(d.slug, d.name) for d in user.domains]
        ids = frozenset(d.id for d in user.domains)
    domain = payload.get("dom")
    if domain not in {d for d, _ in domains}:
        domain = domains[0][0] if domains else None
    from ..context import Principal
    return Session(user.id, user.username, user.name, user.role, str(payload.get("csrf", "")), domain, domains,
                   Principal(user.id, user.username, user.role, ids))


def render(request: web.Request, template: str, status: int = 200, **ctx: Any) -> web.Response:
    lang = request.get(LANG) or "pt_BR"
    html = ENV.get_template(template).render(_=translator(lang), lang=lang, session=request.get(SESSION),
                                             path=request.path, **ctx)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def page(roles: frozenset[str] | None = None, *, multipart: bool = False) -> Callable[[Handler], Handler]:
    """A page that needs a session (and one of ``roles``); POSTs need the CSRF token.

    A form larger than the server's body limit is answered with the page's 413 naming the
    limit. ``multipart``: an upload form streamed by its handler (no body limit here); its
    first field is the CSRF token, and the handler reads the rest from ``request[MULTIPART]``."""
    def wrap(handler: Handler) -> Handler:
        async def inner(request: web.Request) -> web.StreamResponse:
            request[LANG] = _lang(request)
            session = await load_session(request)
            if session is None:
                raise web.HTTPFound("/login?next=" + quote(request.raw_path, safe=""))
            request[SESSION] = session
            if roles is not None and session.role not in roles:
                return render(request, "error.html", status=403, message="forbidden")
            if request.method == "POST" and multipart:
                await check_multipart_csrf(request, session.csrf)
            elif request.method == "POST":
                try:
                    await check_csrf(request, session.csrf)
                except web.HTTPRequestEntityTooLarge:
                    return await too_large(request, request.client_max_size)
            return await handler(request)
        return inner
    return wrap


MULTIPART: web.RequestKey[MultipartReader] = web.RequestKey("page_multipart")
TOO_LARGE = "O arquivo passa do limite de {limit}. Envie um arquivo menor."
DRAIN_LIMIT = 256 * 1024 * 1024  # what is read (and dropped) of a refused upload so the browser shows the answer


def size_label(limit: int) -> str:
    """4194304 → "4 MB" (the pages' unit for upload limits)."""
    if limit >= 1024 * 1024:
        return f"{limit / 1024 / 1024:g} MB"
    return f"{limit / 1024:g} KB"


def too_large_message(request: web.Request, limit: int) -> str:
    from .i18n import translator
    return translator(request.get(LANG) or "pt_BR")(TOO_LARGE).format(limit=size_label(limit))


async def drain(request: web.Request) -> None:
    """Read what is left of a refused body: a browser still sending it would not show the
    answer (the connection would be reset under it)."""
    seen = 0
    while seen < DRAIN_LIMIT:
        chunk = await request.content.readany()
        if not chunk:
            return
        seen += len(chunk)


async def too_large(request: web.Request, limit: int) -> web.Response:
    """The page's 413: the form's body passed the server's limit (nothing was read into a form)."""
    await drain(request)
    return render(request, "admin_error.html", status=413, status_code=413,
                  message=too_large_message(request, limit))


async def check_multipart_csrf(request: web.Request, expected: str) -> None:
    """The first part of an upload form is its CSRF token; the reader is kept for the handler."""
    from ...errors import ApiError
    from ..body import open_multipart
    sent = ""
    try:
        reader = await open_multipart(request, "the form's fields")
        part = await reader.next()
        if isinstance(part, BodyPartReader) and part.name == "csrf":
            sent = (await part.text()).strip()
        request[MULTIPART] = reader
    except ApiError:
        sent = ""
    if not expected or not hmac.compare_digest(sent, expected):
        raise web.HTTPForbidden(text="CSRF token missing or wrong")


async def check_csrf(request: web.Request, expected: str) -> None:
    form = await request.post()
    sent = str(form.get("csrf", "")) or request.headers.get("X-CSRF-Token", "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise web.HTTPForbidden(text="CSRF token missing or wrong")


def _lang(request: web.Request) -> str:
    lang = request.query.get("lang") or request.cookies.get("ccplane_lang") or "pt_BR"
    return lang if lang in ("pt_BR", "en") else "pt_BR"


# -- routes ------------------------------------------------------------------

async def login_form(request: web.Request) -> web.StreamResponse:
    request[LANG] = _lang(request)
    csrf = secrets.token_urlsafe(24)
    resp = render(request, "login.html", csrf=csrf, next=request.query.get("next", "/"), error=None)
    # Before login the CSRF token rides on its own cookie (double submit).
    resp.set_cookie("ccplane_login_csrf", csrf, httponly=True, samesite="Strict", secure=_is_tls(request))
    return resp


async def login_post(request: web.Request) -> web.StreamResponse:
    from sqlalchemy import select

    from ...features.auth.passwords import verify_password_async
    from ...features.users.models import User
    request[LANG] = _lang(request)
    await check_csrf(request, request.cookies.get("ccplane_login_csrf", ""))
    form = await request.post()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    nxt = str(form.get("next", "/"))
    nxt = nxt if nxt.startswith("/") and not nxt.startswith("//") else "/"
    services = request.app[SERVICES]
    throttle, account, client = services.auth.throttle, f"user:{username}", request.remote or ""
    csrf = request.cookies.get("ccplane_login_csrf", "")
    try:
        throttle.check(account, client)
    except TooManyRequests:
        return render(request, "login.html", status=429, csrf=csrf, next=nxt, error="throttled")
    async with services.sessions() as s:
        user = await s.scalar(select(User).where(User.username == username))
    if user is None or not await verify_password_async(user.password_hash, password):
        throttle.failed(account, client)
        return render(request, "login.html", status=401, csrf=csrf, next=nxt, error="invalid")
    throttle.succeeded(account, client)
    if not user.active:
        return render(request, "login.html", status=401, csrf=csrf, next=nxt, error="inactive")
    resp = web.HTTPFound(nxt)
    set_session(request, resp, user, None)
    resp.del_cookie("ccplane_login_csrf")
    raise resp


@page()
async def logout(request: web.Request) -> web.StreamResponse:
    resp = web.HTTPFound("/login")
    resp.del_cookie(COOKIE, path="/")
    raise resp


@page()
async def home(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    target = HOME_BY_ROLE.get(session.role)
    return render(request, "home.html", target=target)


@page()
async def password_form(request: web.Request) -> web.StreamResponse:
    return render(request, "password.html", error=None, done=False)


@page()
async def password_post(request: web.Request) -> web.StreamResponse:
    from ...errors import Unauthorized
    from ...features.users.models import User
    session: Session = request[SESSION]
    form = await request.post()
    current, new, again = (str(form.get(k, "")) for k in ("current", "new", "again"))
    if len(new) < 8:
        return render(request, "password.html", status=400, error="short", done=False)
    if new != again:
        return render(request, "password.html", status=400, error="mismatch", done=False)
    services = request.app[SERVICES]
    try:
        await services.auth.change_password(session.user_id, current, new)
    except Unauthorized:
        return render(request, "password.html", status=400, error="wrong", done=False)
    async with services.sessions() as s:
        user = await s.get(User, session.user_id)
    resp = render(request, "password.html", error=None, done=True)
    set_session(request, resp, user, session.domain, session.csrf)  # the change revoked the old cookie
    return resp


@page(frozenset({"root", "superuser"}))
async def switch_domain(request: web.Request) -> web.StreamResponse:
    from ...features.users.models import User
    session: Session = request[SESSION]
    form = await request.post()
    slug = str(form.get("domain", ""))
    if slug not in {d for d, _ in session.domains}:
        return render(request, "error.html", status=403, message="forbidden")
    async with request.app[SERVICES].sessions() as s:
        user = await s.get(User, session.user_id)
    resp = web.HTTPFound(str(form.get("next", "/")) if str(form.get("next", "/")).startswith("/") else "/")
    set_session(request, resp, user, slug, session.csrf)
    raise resp


async def set_lang(request: web.Request) -> web.StreamResponse:
    lang = request.match_info["lang"]
    resp = web.HTTPFound(request.headers.get("Referer", "/") if lang in ("pt_BR", "en") else "/")
    if lang in ("pt_BR", "en"):
        resp.set_cookie("ccplane_lang", lang, max_age=365 * 86400, samesite="Lax", secure=_is_tls(request))
    raise resp


def register_pages(app: web.Application) -> None:
    r = app.router
    r.add_get("/login", login_form)
    r.add_post("/login", login_post)
    r.add_post("/logout", logout)
    r.add_get("/", home)
    r.add_get("/password", password_form)
    r.add_post("/password", password_post)
    r.add_post("/domain", switch_domain)
    r.add_get("/lang/{lang}", set_lang)
    r.add_static("/static/", HERE / "static")
    from .supervisor import register as supervisor
    supervisor(app)
    from . import alertapp, alerts, reports
    for module in (alerts, alertapp, reports):
        module.register(app)
    from .agent import register as agent
    agent(app)
    from .admin import register as admin
    admin(app)
    from .admin_routes import register as admin_routes
    admin_routes(app)
    from . import alertapp_admin, prompts
    for module in (prompts, alertapp_admin):
        module.register(app)
