"""How a role is named on the pages: the API's role codes (``agent``,
``supervisor``...) are never shown raw; the templates show ``_(ROLES[role])``."""
from __future__ import annotations

ROLES: dict[str, str] = {
    "agent": "Atendente",
    "supervisor": "Supervisor(a)",
    "admin": "Administrador(a)",
    "superuser": "Superusuário(a)",
    "root": "Administrador(a) geral",
}

EN_ROLES: dict[str, str] = {
    "Supervisor(a)": "Supervisor",
    "Administrador(a)": "Administrator",
    "Superusuário(a)": "Superuser",
    "Administrador(a) geral": "Root administrator",
}


def role_label(role: str) -> str:
    """The pt-BR label (the catalogue's key) of a role; an unknown code as it is."""
    return ROLES.get(role, role)
