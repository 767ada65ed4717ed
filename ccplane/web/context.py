"""Who is calling: the authenticated principal and the authorisation rules."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import Forbidden

# Roles that administer a domain (team, extensions, configuration).
ADMIN_ROLES = frozenset({"root", "superuser", "admin"})
# Roles that may read a domain's configuration.
READ_ROLES = ADMIN_ROLES | {"supervisor"}


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: str
    domain_ids: frozenset[int]

    @property
    def is_root(self) -> bool:
        return self.role == "root"

    def in_domain(self, domain_id: int) -> bool:
        return self.is_root or domain_id in self.domain_ids

    def require(self, roles: frozenset[str] | set[str], action: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"role {self.role} may not {action}")
