"""/app/{domain}: the alert app as an installable web app (PWA).

The page holds no staff session: the monitored person logs in with CPF and
password through the app API (``/api/v1/app/{domain}/login``) and the page
keeps the app token in the browser's storage, as the native app does. Before
login the page shows only the organisation's look (name, colours, logo switch).
"""
from __future__ import annotations

import json
import re

from aiohttp import web

from ...errors import ApiError
from ..keys import SERVICES
from . import HERE, LANG, _lang, render
from .i18n import translator

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_COLORS = {"primary": "#1f3a68", "background": "#f4f6fa", "green": "#1e7d43", "yellow": "#f2b705",
                  "red": "#c62828"}
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


async def _look(request: web.Request) -> tuple[str, dict[str, object]]:
    slug = request.match_info["domain"]
    if not SLUG.match(slug):
        raise web.HTTPNotFound()
    try:
        look = await request.app[SERVICES].alerts.look(slug)
    except ApiError:
        raise web.HTTPNotFound() from None
    colors = DEFAULT_COLORS | {k: v for k, v in look.colors.items() if k in DEFAULT_COLORS and COLOR.match(v)}
    return slug, {"app_name": look.app_name, "colors": colors, "show_logo": look.show_logo}


async def app_page(request: web.Request) -> web.StreamResponse:
    request[LANG] = _lang(request)
    slug, look = await _look(request)
    _ = translator(request[LANG])
    labels = {k: _(v) for k, v in {
        "cpf_digits": "O CPF deve ser informado sem nenhum caractere, como ponto ou hífen. Utilize apenas números.",
        "cpf_len": "O CPF tem 11 números.", "login_failed": "CPF ou senha inválidos.",
        "offline": "Sem conexão com a internet. Tente de novo ou ligue para a equipe.",
        "sending": "Enviando alerta…", "locating": "Obtendo sua localização…", "no_location": "Sem localização",
        "with_location": "Localização enviada", "logged_out": "Sua sessão terminou. Entre novamente.",
        "call_now": "Ligar agora", "throttled": "Muitas tentativas; aguarde e tente novamente."}.items()}
    resp = render(request, "alertapp.html", slug=slug, look=look, labels=labels)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


async def manifest(request: web.Request) -> web.StreamResponse:
    slug, look = await _look(request)
    colors = look["colors"]
    assert isinstance(colors, dict)
    body = {"name": look["app_name"], "short_name": str(look["app_name"])[:12], "lang": "pt-BR",
            "start_url": f"/app/{slug}", "scope": f"/app/{slug}", "display": "standalone",
            "orientation": "portrait", "background_color": colors["background"], "theme_color": colors["primary"],
            "icons": [{"src": "/static/app/icon-192.png", "sizes": "192x192", "type": "image/png"},
                      {"src": "/static/app/icon-512.png", "sizes": "512x512", "type": "image/png"},
                      {"src": "/static/app/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"}]}
    return web.Response(text=json.dumps(body, ensure_ascii=False), content_type="application/manifest+json",
                        charset="utf-8")


async def service_worker(request: web.Request) -> web.StreamResponse:
    slug, _look_ = await _look(request)
    code = (HERE / "static" / "app" / "sw.js").read_text(encoding="utf-8").replace("__SCOPE__", f"/app/{slug}")
    return web.Response(text=code, content_type="text/javascript", charset="utf-8",
                        headers={"Service-Worker-Allowed": f"/app/{slug}", "Cache-Control": "no-cache"})


def register(app: web.Application) -> None:
    r = app.router
    r.add_get("/app/{domain}", app_page)
    r.add_get("/app/{domain}/manifest.webmanifest", manifest)
    r.add_get("/app/{domain}/sw.js", service_worker)
