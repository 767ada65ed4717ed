from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, UtcDateTime, utcnow


class RefreshFamily(Base):
    """One login's chain of refresh tokens. Each refresh moves ``generation``
    on by one and only a token of the current generation is accepted; a token
    of an earlier one is a reuse (stolen, or replayed), which revokes the
    family: the thief and the victim both log in again. Access tokens carry
    their family and generation too, so one refresh ends the previous access
    token (the check rides on the user lookup every request already makes)."""
    __tablename__ = "refresh_families"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
