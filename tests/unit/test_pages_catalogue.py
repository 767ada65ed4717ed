"""The agent screen's and administration pages' texts: pt-BR source, each with an
English entry (no string of these pages is left untranslated)."""
from __future__ import annotations

import re
from pathlib import Path

from ccplane.web.pages.admin import QUEUE_FIELDS, STRATEGIES
from ccplane.web.pages.admin_routes import DESTINATIONS
from ccplane.web.pages.agent import PAUSE_REASONS, _labels
from ccplane.web.pages.i18n import EN, translator

TEMPLATES = Path(__file__).resolve().parents[2] / "ccplane" / "web" / "pages" / "templates"
OURS = ("agent.html", "admin_queues.html", "admin_queue_form.html", "admin_users.html", "admin_extensions.html",
        "admin_ivrs.html", "admin_ivr_edit.html", "_admin.html", "supervisor.html", "admin_routes.html",
        "admin_trunks.html", "admin_error.html", "supervisor_kiosk.html")


def test_every_text_of_the_new_pages_has_english() -> None:
    texts = {m for name in OURS for m in re.findall(r"_\('([^']+)'\)", (TEMPLATES / name).read_text())}
    texts |= {x for f in QUEUE_FIELDS for x in (f.label, f.help)} | {label for _, label in STRATEGIES}
    texts |= set(PAUSE_REASONS) | {label for _, label in DESTINATIONS}
    assert len(texts) > 100
    assert sorted(t for t in texts if t not in EN) == []


def test_translator_and_labels() -> None:
    assert translator("en")("Tempo de pós-atendimento (s)") == "Wrap-up time (s)"
    assert translator("pt_BR")("Tempo de pós-atendimento (s)") == "Tempo de pós-atendimento (s)"
    assert _labels("en")["wrapup_left"] == "Wrap-up: {s} s left"
    assert _labels("pt_BR")["in_call"] == "Em chamada"
