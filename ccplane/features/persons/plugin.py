from __future__ import annotations

from pathlib import Path

from ...plugin import Feature, Wiring
from .attachments import AttachmentService
from .http import api
from .services import PersonService


def setup(w: Wiring) -> None:
    w.provide("persons", PersonService(w.core.sessions))
    w.provide("attachments", AttachmentService(w.core.sessions, Path(w.settings.storage.dir).expanduser()))


FEATURE = Feature("persons", setup, api=api)
