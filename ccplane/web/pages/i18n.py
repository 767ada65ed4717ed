"""Messages: pt-BR is the source language of the pages; English from a catalogue.

A plain dict for this first slice (Babel/gettext catalogues are the next step,
see the report): the keys are the pt-BR texts, as gettext msgids would be.
"""
from __future__ import annotations

from typing import Callable

from .i18n_agent_admin import EN_AGENT_ADMIN
from .i18n_custom import EN_CUSTOM
from .i18n_phone import EN_PHONE
from .roles import EN_ROLES

EN: dict[str, str] = {
    "Entrar": "Sign in",
    "Usuário": "Username",
    "Senha": "Password",
    "Usuário ou senha inválidos.": "Invalid username or password.",
    "Muitas tentativas; aguarde e tente novamente.": "Too many attempts; wait and try again.",
    "Esta conta está inativa.": "This account is inactive.",
    "Sair": "Sign out",
    "Início": "Home",
    "Trocar senha": "Change password",
    "Senha atual": "Current password",
    "Nova senha": "New password",
    "Repita a nova senha": "Repeat the new password",
    "Salvar": "Save",
    "Senha alterada.": "Password changed.",
    "A senha atual está errada.": "The current password is wrong.",
    "A nova senha precisa de ao menos 8 caracteres.": "The new password needs at least 8 characters.",
    "As senhas não conferem.": "The passwords do not match.",
    "Domínio": "Domain",
    "Trocar": "Switch",
    "Acesso negado.": "Access denied.",
    "Supervisão": "Supervision",
    "Tela do agente": "Agent screen",
    "Filas": "Queues",
    "Alertas": "Alerts",
    "Bem-vindo": "Welcome",
    "Central de atendimento": "Contact center",
    "Nenhum domínio": "No domain",
    "Abrir": "Open",
    "Agentes": "Agents", "Agente": "Agent", "Estado": "State", "Desde": "Since", "Fila": "Queue",
    "Aguardando": "Waiting", "Maior espera": "Longest wait", "Chamadas ativas": "Active calls", "Chamador": "Caller",
    "Disponível": "Available", "Tocando": "Ringing", "Em chamada": "In call", "Pós-atendimento": "Wrap-up",
    "Em pausa": "Paused", "Inativo": "Inactive", "Desconectado": "Offline", "Pausar": "Pause", "Retomar": "Unpause",
    "Desligar": "Hang up", "Motivo da pausa": "Pause reason", "Nenhum agente conectado": "No agent logged in",
}


EN.update(EN_AGENT_ADMIN)
EN.update(EN_PHONE)
EN.update(EN_ROLES)
EN.update(EN_CUSTOM)


def translator(lang: str) -> Callable[[str], str]:
    if lang == "en":
        return lambda text: EN.get(text, text)
    return lambda text: text


from .i18n_alerts import EN_ALERTS  # noqa: E402 - the alert and report pages' catalogue
EN.update({k: v for k, v in EN_ALERTS.items() if k not in EN})

from .i18n_supervisor import EN_SUPERVISOR  # noqa: E402 - the supervisor panel's catalogue
EN.update({k: v for k, v in EN_SUPERVISOR.items() if k not in EN})
from .i18n_admin_ops import EN_ADMIN_OPS  # noqa: E402 - groups, campaigns, callbacks, recordings pages
EN.update({k: v for k, v in EN_ADMIN_OPS.items() if k not in EN})
from .i18n_errors import EN_ERRORS  # noqa: E402 - the API's refusals as the pages show them
EN.update({k: v for k, v in EN_ERRORS.items() if k not in EN})
from .i18n_home import EN_HOME  # noqa: E402 - the administrators' home
EN.update({k: v for k, v in EN_HOME.items() if k not in EN})
