from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ...plugin import Feature, Wiring
from .http import api
from .models import IvrTree, Prompt
from .prompts import PromptService
from .render import tree_model
from .services import IvrService
from .stasis import CollectHandler
from .system_prompts import ensure_system_prompts


def setup(w: Wiring) -> None:
    core = w.core
    prompts = w.provide("prompts", PromptService(core.sessions, w.sounds_dir))
    w.provide("ivrs", IvrService(core.sessions, w.changed, prompts.builtin_sound))
    collect = w.provide("collect", CollectHandler(core.ari, {"cpf_registered": core.persons.cpf_registered}))

    async def start() -> None:
        collect.register()

    async def prompts_ready() -> None:
        await ensure_system_prompts(prompts.sounds_dir)
    w.on_start(start)
    w.after_start(prompts_ready)


async def contribute(s: AsyncSession, model: dict[str, Any]) -> None:
    slugs = model["slugs"]
    trees = (await s.scalars(select(IvrTree))).all()
    uploaded: dict[int, set[str]] = {}
    for domain_id, prompt in (await s.execute(select(Prompt.domain_id, Prompt.name))).all():
        uploaded.setdefault(domain_id, set()).add(prompt)
    model["ivrs"] = sorted((tree_model(slugs[t.domain_id], t.name, t.root, uploaded.get(t.domain_id, set()))
                            for t in trees if t.domain_id in slugs), key=lambda m: str(m["entry"]))


FEATURE = Feature("ivr", setup, api=api, render=contribute)
