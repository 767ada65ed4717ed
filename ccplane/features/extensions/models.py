from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, Timestamped


class Extension(Timestamped, Base):
    __tablename__ = "extensions"
    __table_args__ = (
        UniqueConstraint("domain_id", "number", name="uq_extensions_domain_number"),
        CheckConstraint("kind IN ('sip','webrtc')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="RESTRICT"), index=True)
    number: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(8), default="sip")
    # Asterisk's digest auth needs the secret itself; it is rendered into pjsip
    # config (mode 0640) and never returned by the API.
    secret: Mapped[str] = mapped_column(String(64))
    # Record the internal and outbound calls this extension places or receives (features/recordings).
    record: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
