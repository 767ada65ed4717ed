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
from urllib.parse import quote, urlsplit

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
# Where each role starts: agents and supervisors on their screens; administrators on the
# home page itself, the domain's dashboard (counts and links), root and superusers with the
# domain switcher on it too.
HOME_BY_ROLE = {"agent": "/agent", "supervisor": "/supervisor", "admin": "/", "superuser": "/", "root": "/"}
DASHBOARD_ROLES = frozenset({"admin", "superuser", "root"})


def home_of(role: str) -> str:
    return HOME_BY_ROLE.get(role, "/")


def safe_next(value: str | None) -> str | None:
    """``value`` when it is a path of this site, else None: never another host (``//host``,
    ``/\\host`` — browsers read a backslash as a slash —, ``https:``, ``javascript:``), and no
    control characters or spaces (browsers drop a tab or newline, turning ``/\t/host`` into
    ``//host``)."""
    if not value or not value.startswith("/") or len(value) > 2048:
        return None
    if "\\" in value or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in value):
        return None
    if value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


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
    """Over TLS: to us, or to a trusted proxy (``server.trusted_proxies``) that says so in
    ``X-Forwarded-Proto``. Anyone else's header is not believed."""
    if request.secure:
        return True
    if request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower() != "https":
        return False
    from ..keys import SETTINGS
    settings = request.app.get(SETTINGS)
    trusted = settings.server.trusted_proxies if settings is not None else "127.0.0.1,::1"
    return (request.remote or "") in {p.strip() for p in trusted.split(",") if p.strip()}


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
    resp = render(request, "login.html", csrf=csrf, next=safe_next(request.query.get("next")) or "", error=None)
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
    asked = safe_next(str(form.get("next", "")))  # none, or not a path of this site: the role's home
    nxt = asked or ""
    services = request.app[SERVICES]
    throttle, account, client = services.auth.throttle, f"user:{username}", request.remote or ""
    csrf = request.cookies.get("ccplane_login_csrf", "")
    try:
        throttle.check(account, client)
    except TooManyRequests:
        return render(request, "login.html", status=429, csrf=csrf, next=nxt, error="throttled")
    async with services.sessions() as s:
        user = await s.scalar(select(User).where(User.username == username))
    # An unknown username costs what a wrong password costs (a dummy hash is verified),
    # so the time of the answer does not tell which usernames exist.
    if not await verify_password_async(user.password_hash if user is not None else None, password) or user is None:
        throttle.failed(account, client)
        return render(request, "login.html", status=401, csrf=csrf, next=nxt, error="invalid")
    throttle.succeeded(account, client)
    if not user.active:
        return render(request, "login.html", status=401, csrf=csrf, next=nxt, error="inactive")
    resp = web.HTTPFound(asked or home_of(user.role))
    set_session(request, resp, user, None)
    resp.del_cookie("ccplane_login_csrf")
    raise resp


@page()
async def logout(request: web.Request) -> web.StreamResponse:
    resp = web.HTTPFound("/login")
    resp.del_cookie(COOKIE, path="/")
    raise resp


@dataclass(frozen=True)
class Tile:
    label: str  # a catalogue key
    value: int
    href: str
    detail: str = ""  # a catalogue key with {n}, or ""
    detail_n: int = 0


async def dashboard(session: Session, services: Any) -> list[Tile]:
    """The domain's figures for an administrator's home, each linking to its page."""
    me, slug = session.principal, session.domain or ""
    async def every(listing: Any) -> tuple[list[Any], int]:  # page through a list (500 a page)
        items, total = await listing(me, slug, 500, 0)
        while len(items) < total:
            more, total = await listing(me, slug, 500, len(items))
            if not more:
                break
            items += more
        return items, total
    _q, nq = await services.queues.list(me, slug, 1, 0)
    users, nu = await every(services.users.list)
    exts, ne = await every(services.extensions.list)
    ivrs = await services.ivrs.list(me, slug)
    routes = await services.routes.list(me, slug)
    trunks = await services.trunks.list(me, slug)
    _c, ncamp = await services.campaigns.list(me, slug, 1, 0)
    agents = sum(1 for u in users if u.role == "agent" and u.active)
    registered = sum(1 for e in exts if e.registered)
    trunks_up = sum(1 for t in trunks if str(t.status).lower().startswith("reachable"))
    return [Tile("Filas", nq, "/admin/queues"),
            Tile("Equipe", nu, "/admin/users", "{n} atendentes ativos", agents),
            Tile("Ramais", ne, "/admin/extensions", "{n} registrados agora", registered),
            Tile("URAs", len(ivrs), "/admin/ivrs"),
            Tile("Rotas de entrada", len(routes), "/admin/routes"),
            Tile("Troncos", len(trunks), "/admin/trunks", "{n} disponíveis", trunks_up),
            Tile("Campanhas", ncamp, "/admin/campaigns")]


@page()
async def home(request: web.Request) -> web.StreamResponse:
    """Agents and supervisors: a door to their screen. Administrators (and root, superusers,
    with the switcher): the chosen domain's dashboard."""
    from ...errors import ApiError
    session: Session = request[SESSION]
    tiles: list[Tile] = []
    if session.role in DASHBOARD_ROLES and session.domain:
        try:
            tiles = await dashboard(session, request.app[SERVICES])
        except ApiError:
            tiles = []
    target = home_of(session.role) if session.role not in DASHBOARD_ROLES else None
    return render(request, "home.html", target=target, tiles=tiles,
                  dashboard=session.role in DASHBOARD_ROLES)


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
    resp = web.HTTPFound(safe_next(str(form.get("next", "/"))) or home_of(session.role))
    set_session(request, resp, user, slug, session.csrf)
    raise resp


async def set_lang(request: web.Request) -> web.StreamResponse:
    lang = request.match_info["lang"]
    back = "/"
    referer = urlsplit(request.headers.get("Referer", ""))
    if lang in ("pt_BR", "en") and referer.netloc == request.host:  # back to the page, never to another site
        back = safe_next(referer.path + ("?" + referer.query if referer.query else "")) or "/"
    resp = web.HTTPFound(back)
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
