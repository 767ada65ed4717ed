"""Pure logic of the prompts page, the alert-app customisation page, the phone card's
attended-transfer labels and the role labels: formats told by content, the IVR
nodes that play a prompt, the form <-> API body mapping, every text in English."""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from pydantic import ValidationError

from ccplane.features.alerts.schemas import AlertAppUpdate
from ccplane.features.ivr.prompts import prompt_users, sniff_format
from ccplane.web.pages.alertapp_admin import body_of, field_errors, form_values
from ccplane.web.pages.i18n import EN, translator
from ccplane.web.pages.phone import phone_labels
from ccplane.web.pages.prompts import IN_USE
from ccplane.web.pages.roles import ROLES, role_label

TEMPLATES = Path(__file__).resolve().parents[2] / "ccplane" / "web" / "pages" / "templates"
OURS = ("admin_prompts.html", "admin_alert_app.html", "alertapp_preview.html", "_alertapp_look.html",
        "_phone.html", "base.html")


def test_formats_are_told_by_their_first_bytes() -> None:
    assert sniff_format(b"RIFF\x24\x08\x00\x00WAVEfmt ") == "wav"
    assert sniff_format(b"ID3\x04\x00\x00\x00\x00\x00\x00") == "mp3"
    assert sniff_format(b"\xff\xfb\x90\x64\x00\x00") == "mp3"  # an MPEG frame with no tag
    assert sniff_format(b"OggS\x00\x02") is None
    assert sniff_format(b"RIFF\x24\x08\x00\x00AVI LIST") is None
    assert sniff_format(b"") is None


def test_the_ivr_nodes_that_play_a_prompt_are_named_by_path() -> None:
    main = {"type": "menu", "prompt": "boas-vindas", "options": {
        "1": {"type": "play", "prompt": "ccplane/acme/boas-vindas", "next": {"type": "queue", "target": "x"}},
        "2": {"type": "collect", "prompt": "cpf", "digits": 11, "next": {"type": "hangup"},
              "failed": {"type": "play", "prompt": "boas-vindas"}}},
        "invalid_prompt": "boas-vindas"}
    other = {"type": "play", "prompt": "musica"}
    assert prompt_users("acme", "boas-vindas", [("main", main), ("other", other)]) == [
        "main:root.invalid_prompt", "main:root.options.1.prompt", "main:root.options.2.failed.prompt",
        "main:root.prompt"]
    assert prompt_users("acme", "musica", [("main", main), ("other", other)]) == ["other:root.prompt"]
    assert prompt_users("other-domain", "boas-vindas", [("t", {"type": "play", "prompt": "ccplane/acme/boas-vindas"})]) == []
    assert prompt_users("acme", "nada", [("main", main)]) == []


def test_the_alert_app_form_maps_to_the_api_body_and_back() -> None:
    form = {"app_name": " Rede Acolher ", "show_logo": "on", "colors.primary": "#243b6b", "colors.background": "#ffffff",
            "colors.red": "#b00020", "colors.yellow": "#f2b705", "colors.green": "#1e7d43",
            "texts.red.button": "Socorro", "texts.red.message": "", "texts.green.message": "Recebido",
            "texts.call_now.button": "Ligar", "call_number": "", "ack_deadlines.red": "20", "ack_deadlines.green": ""}
    body, errors = body_of(form)
    assert errors == {}
    assert body["app_name"] == "Rede Acolher" and body["show_logo"] is True and body["call_number"] is None
    assert body["texts"] == {"red": {"button": "Socorro"}, "green": {"message": "Recebido"},
                             "call_now": {"button": "Ligar"}}
    assert body["ack_deadlines"] == {"red": 20}
    AlertAppUpdate.model_validate(body)  # what the page sends is what the API takes
    _, errors = body_of({**form, "ack_deadlines.yellow": "um minuto"})
    assert list(errors) == ["ack_deadlines.yellow"]
    bad, _ = body_of({**form, "colors.yellow": "amarelo", "ack_deadlines.red": "2"})
    try:
        AlertAppUpdate.model_validate(bad)
        raise AssertionError("accepted")
    except ValidationError as exc:
        assert sorted(field_errors(exc)) == ["ack_deadlines.red", "colors.yellow"]
        assert field_errors(exc)["colors.yellow"] == "Use uma cor no formato #RRGGBB (ex.: #1f3a68)."  # pt-BR from the catalogue
        assert field_errors(exc, "en")["colors.yellow"] == "Use a colour as #RRGGBB (e.g. #1f3a68)."
    stored = SimpleNamespace(app_name="Rede", call_number=None, show_logo=False, colors={"red": "#b00020"},
                             texts={"red": {"button": "Socorro", "message": "Ok"}, "call_now": {"button": "Ligar"}},
                             ack_deadlines={"red": 15, "yellow": 60})
    values = form_values(stored)
    assert values["show_logo"] == "" and values["call_number"] == ""
    assert values["colors.red"] == "#b00020" and values["colors.primary"] == "#1f3a68"  # the app's default
    assert values["texts.red.button"] == "Socorro" and values["ack_deadlines.green"] == ""


def test_roles_are_named_in_both_languages() -> None:
    assert role_label("supervisor") == "Supervisor(a)" and role_label("agent") == "Atendente"
    assert role_label("admin") == "Administrador(a)" and role_label("unknown") == "unknown"
    en = translator("en")
    assert [en(role_label(r)) for r in ("agent", "supervisor", "admin", "superuser", "root")] == [
        "Attendant", "Supervisor", "Administrator", "Superuser", "Root administrator"]
    assert all(label in EN for label in ROLES.values())


def test_every_text_of_these_pages_has_english() -> None:
    texts = {m for name in OURS for m in re.findall(r"_\('([^']+)'\)", (TEMPLATES / name).read_text())}
    assert len(texts) > 40
    assert sorted(t for t in texts if t not in EN) == []
    assert IN_USE in EN
    en = phone_labels("en")
    assert en["consulting"].startswith("Consulting {to}") and en["completed"] == "Transfer completed."
    assert all(en[k] != v for k, v in phone_labels("pt_BR").items() if k not in ("quality",)), en
