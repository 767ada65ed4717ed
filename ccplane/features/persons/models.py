from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ...db.base import Base, Timestamped


class MonitoredPerson(Timestamped, Base):
    """A person the domain monitors (alert channel) or serves (IVR CPF checks)."""
    __tablename__ = "monitored_persons"
    __table_args__ = (UniqueConstraint("domain_id", "cpf", name="uq_monitored_persons_domain_cpf"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    cpf: Mapped[str] = mapped_column(String(11))
    phone: Mapped[str] = mapped_column(String(13))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    notes: Mapped[str] = mapped_column(Text, default="")
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class PersonAttachment(Base):
    __tablename__ = "person_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("monitored_persons.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_as: Mapped[str] = mapped_column(String(100))  # file name under the storage dir
