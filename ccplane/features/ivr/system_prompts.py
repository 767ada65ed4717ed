"""ccplane's own pt-BR prompts (Debian ships no pt-BR Asterisk sounds): spoken
once with espeak-ng into <sounds>/ccplane/system/, used as the IVR defaults."""
from __future__ import annotations

import logging
from pathlib import Path

from ..alerts.calls import speak
from .render import PROMPT_DIR

log = logging.getLogger("ccplane.ivr")

SYSTEM_PROMPTS = {
    "opcao-invalida": "Opção inválida.",
    "tempo-esgotado": "Não recebemos nenhuma opção.",
    "tente-novamente": "Por favor, tente novamente.",
    "ate-logo": "Obrigado pela ligação. Até logo.",
}


def system_prompt(name: str) -> str:
    return f"{PROMPT_DIR}/system/{name}"


async def ensure_system_prompts(sounds_dir: Path | None) -> list[str]:
    """Generate the missing ones; returns the names now available."""
    if sounds_dir is None:
        return []
    ready = []
    for name, text in SYSTEM_PROMPTS.items():
        target = sounds_dir / PROMPT_DIR / "system" / f"{name}.wav"
        if target.exists() or await speak(text, target):
            ready.append(name)
        else:
            log.warning("ivr.system_prompt_missing %s (install espeak-ng and sox)", name)
    return ready
