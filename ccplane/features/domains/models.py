from __future__ import annotations

from sqlalchemy import String, text
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, Timestamped


class Domain(Timestamped, Base):
    __tablename__ = "domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # the zone the domain lives in: reports' hours and days, protocol days, the pages' dates
    timezone: Mapped[str] = mapped_column(String(64), default="America/Sao_Paulo",
                                          server_default=text("'America/Sao_Paulo'"))
