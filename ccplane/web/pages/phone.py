"""The agent screen's phone (issue 15): what agent.html's phone include needs.

Only the signed-in user's own WebRTC extension is ever given to the page (its
SIP password included: the page registers with it), and such a page is never
cached."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ..keys import SERVICES
from . import Session
from .i18n import translator

LABEL_TEXTS = {
    "registered": "Registrado", "connecting": "Conectando…", "unregistered": "Desconectado",
    "failed": "Falha no registro", "ringing": "Tocando", "in_call": "Em chamada",
    "idle": "Nenhuma chamada no telefone.", "ended": "Chamada encerrada.",
    "incoming_from": "Chamada recebida de {from}",
    "lost": "Conexão com o servidor de telefonia perdida. Reconectando…",
    "answer_failed": "Não foi possível atender: {cause}", "transfer_sent": "Transferência enviada.",
    "transfer_failed": "Transferência recusada: {cause}",
    "quality": "Qualidade: MOS {mos} · perda {loss}% · jitter {jitter} ms · RTT {rtt} ms",
    "mute": "Mudo", "unmute": "Com som", "hold": "Em espera", "unhold": "Retirar da espera",
    # the attended transfer through the transfer API: consult, then complete or cancel
    "consulting": "Consultando {to}: o chamador aguarda em espera. Converse com o destino e conclua ou cancele.",
    "completing": "Concluindo a transferência…", "completed": "Transferência concluída.",
    "cancelled": "Transferência cancelada: você voltou a falar com o chamador.",
    "no_call": "Nenhuma chamada sua para transferir.", "need_target": "Informe o ramal ou número de destino.",
}


def phone_labels(lang: str) -> dict[str, str]:
    _ = translator(lang)
    return {key: _(text) for key, text in LABEL_TEXTS.items()}


async def phone_context(request: web.Request, session: Session, lang: str) -> dict[str, Any]:
    """Template variables of the phone include: ``phone`` (None: no WebRTC extension)."""
    if session.domain is None:
        return {"phone": None}
    config = await request.app[SERVICES].webrtc.phone_for(session.user_id, session.domain)
    if config is None:
        return {"phone": None}
    phone = config.as_dict()
    phone.update(domain=session.domain, username=session.username, csrf=session.csrf)
    return {"phone": phone, "phone_labels": phone_labels(lang)}


def no_store(response: web.Response, ctx: dict[str, Any]) -> web.Response:
    if ctx.get("phone"):
        response.headers["Cache-Control"] = "no-store"
    return response
