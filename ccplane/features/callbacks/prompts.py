"""The in-queue callback's pt-BR prompts, spoken once with espeak-ng (as the
IVR's system prompts) into <sounds>/ccplane/system/."""
from __future__ import annotations

import logging
from pathlib import Path

from ..alerts.calls import speak
from ..ivr.render import PROMPT_DIR
from ..ivr.system_prompts import system_prompt

log = logging.getLogger("ccplane.callbacks")
KEY_NAMES = {"*": "asterisco", "#": "sustenido"}


def offer_name(key: str) -> str:
    return f"retorno-oferta-{KEY_NAMES.get(key, key)}"


PROMPTS = {
    "retorno-confirmar": "Vamos ligar de volta para o número de onde você está ligando. Tecle 1 para confirmar, "
                         "ou digite outro número com DDD, seguido de sustenido.",
    "retorno-invalido": "Número inválido. Digite o DDD e o número, seguido de sustenido.",
    "retorno-agendado": "Pronto. Você não perde sua vez na fila: ligaremos de volta assim que um atendente "
                        "estiver livre. Até logo.",
    **{offer_name(k): f"Para não esperar na linha, tecle {KEY_NAMES.get(k, k)} e ligaremos de volta, "
                      "sem perder sua vez." for k in "0123456789*#"},
}

MODEL = {"confirm": system_prompt("retorno-confirmar"), "invalid": system_prompt("retorno-invalido"),
         "done": system_prompt("retorno-agendado")}


async def ensure_prompts(sounds_dir: Path | None) -> int:
    """Speak the missing ones; how many are there now."""
    if sounds_dir is None:
        return 0
    ready = 0
    for name, text in PROMPTS.items():
        target = sounds_dir / PROMPT_DIR / "system" / f"{name}.wav"
        if target.exists() or await speak(text, target):
            ready += 1
    if ready < len(PROMPTS):
        log.warning("callback.prompts_missing %d (install espeak-ng and sox)", len(PROMPTS) - ready)
    return ready
