"""IVR trees: validated on save, rendered into dialplan, paths recorded."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...errors import Conflict, NotFound, ValidationFailed
from ...web.context import ADMIN_ROLES, READ_ROLES, Principal
from ..callgroups.models import CallGroup
from ..domains.models import Domain
from ..domains.services import resolve_domain
from ..extensions.models import Extension
from ..queues.models import Queue
from ..routes.models import InboundRoute
from .domain import Catalog, TreeError, find_loop, validate_tree
from .models import IvrStep, IvrTree, Prompt
from .render import ivr_entry_context
from .schemas import IvrCreate, IvrOut, IvrStepOut, IvrUpdate

Changed = Callable[[], Awaitable[None]]
WRITERS = ADMIN_ROLES | {"supervisor"}


def ivr_view(domain: Domain, tree: IvrTree) -> IvrOut:
    return IvrOut(name=tree.name, root=tree.root, entry_context=ivr_entry_context(domain.slug, tree.name))


class IvrService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], changed: Changed,
                 builtin_sound: Callable[[str], bool]) -> None:
        self.sessions = sessions
        self.changed = changed
        self.builtin_sound = builtin_sound

    async def _catalog(self, s: AsyncSession, domain: Domain, extra_ivr: str | None = None) -> Catalog:
        prompts = set(await s.scalars(select(Prompt.name).where(Prompt.domain_id == domain.id)))
        ivrs = set(await s.scalars(select(IvrTree.name).where(IvrTree.domain_id == domain.id)))
        return Catalog(
            queues=set(await s.scalars(select(Queue.name).where(Queue.domain_id == domain.id))),
            extensions=set(await s.scalars(select(Extension.number).where(Extension.domain_id == domain.id))),
            ivrs=ivrs | ({extra_ivr} if extra_ivr else set()),
            callgroups=set(await s.scalars(select(CallGroup.name).where(CallGroup.domain_id == domain.id))),
            prompt_exists=lambda name: name in prompts or self.builtin_sound(name),
        )

    async def _validate(self, s: AsyncSession, domain: Domain, name: str, root: dict[str, Any]) -> None:
        try:
            validate_tree(root, await self._catalog(s, domain, name), self_name=name)
            trees = {t.name: t.root for t in await s.scalars(select(IvrTree).where(IvrTree.domain_id == domain.id))}
            loop = find_loop(name, {**trees, name: root})
            if loop is not None:
                raise loop
        except TreeError as exc:
            raise ValidationFailed(f"{exc.path}: {exc.message}", field=exc.path) from None

    async def list(self, me: Principal, slug: str) -> list[IvrOut]:
        me.require(READ_ROLES, "list IVR trees")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            rows = await s.scalars(select(IvrTree).where(IvrTree.domain_id == domain.id).order_by(IvrTree.name))
            return [ivr_view(domain, t) for t in rows]

    async def get(self, me: Principal, slug: str, name: str) -> IvrOut:
        me.require(READ_ROLES, "read IVR trees")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            return ivr_view(domain, await self._find(s, domain, name))

    async def create(self, me: Principal, slug: str, body: IvrCreate) -> IvrOut:
        me.require(WRITERS, "create IVR trees")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            if await s.scalar(select(IvrTree.id).where(IvrTree.domain_id == domain.id, IvrTree.name == body.name)):
                raise Conflict(f"IVR {body.name} already exists", field="name")
            await self._validate(s, domain, body.name, body.root)
            tree = IvrTree(domain_id=domain.id, name=body.name, root=body.root)
            s.add(tree)
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict(f"IVR {body.name} already exists", field="name") from None
        await self.changed()
        return ivr_view(domain, tree)

    async def update(self, me: Principal, slug: str, name: str, body: IvrUpdate) -> IvrOut:
        me.require(WRITERS, "change IVR trees")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            tree = await self._find(s, domain, name)
            await self._validate(s, domain, name, body.root)
            tree.root = body.root
            await s.commit()
        await self.changed()
        return ivr_view(domain, tree)

    async def delete(self, me: Principal, slug: str, name: str) -> None:
        me.require(WRITERS, "delete IVR trees")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            tree = await self._find(s, domain, name)
            if await s.scalar(select(InboundRoute.did).where(InboundRoute.domain_id == domain.id,
                                                             InboundRoute.destination_type == "ivr",
                                                             InboundRoute.destination_target == name)):
                raise Conflict(f"an inbound route sends calls to IVR {name}", field="name")
            for other in await s.scalars(select(IvrTree).where(IvrTree.domain_id == domain.id,
                                                               IvrTree.id != tree.id)):
                if _targets_ivr(other.root, name):
                    raise Conflict(f"IVR {other.name} leads to IVR {name}", field="name")
            await s.delete(tree)
            await s.commit()
        await self.changed()

    async def path(self, me: Principal, slug: str, call: str, *,
                   handled_by: str | None = None) -> list[IvrStepOut]:
        """The steps of one call through the IVR. Supervisors read any call of the
        domain; an agent only the call it is handling (``handled_by``, from the
        call tracker: the agent screen's call card)."""
        if not (me.role == "agent" and handled_by == me.username):
            me.require(READ_ROLES, "read IVR paths")
        async with self.sessions() as s:
            domain = await resolve_domain(s, me, slug)
            rows = await s.scalars(select(IvrStep).where(IvrStep.domain_id == domain.id, IvrStep.call == call)
                                   .order_by(IvrStep.id))
            return [IvrStepOut(tree=r.tree, node=r.node, step=r.step, digits=r.digits, at=r.at.isoformat())
                    for r in rows]

    async def record_step(self, slug: str, call: str, tree: str, node: str, step: str, digits: str | None,
                          *, ref: str | None = None, at: datetime | None = None) -> None:
        """Idempotent by ``ref`` (the dialplan's outbox key): a replayed step is stored once."""
        async with self.sessions() as s:
            domain_id = await s.scalar(select(Domain.id).where(Domain.slug == slug))
            if domain_id is None:
                return
            s.add(IvrStep(domain_id=domain_id, call=call[:64], tree=tree[:24], node=node[:200], step=step[:16],
                          digits=digits[:40] if digits else None, ref=ref[:80] if ref else None,
                          **({"at": at} if at else {})))
            try:
                await s.commit()
            except IntegrityError:
                pass  # already stored (live event and outbox replay met)

    @staticmethod
    async def _find(s: AsyncSession, domain: Domain, name: str) -> IvrTree:
        tree = await s.scalar(select(IvrTree).where(IvrTree.domain_id == domain.id, IvrTree.name == name))
        if tree is None:
            raise NotFound(f"IVR {name} not found", field="name")
        return tree


def _targets_ivr(node: Any, name: str) -> bool:
    if isinstance(node, dict):
        if node.get("type") == "ivr" and node.get("target") == name:
            return True
        return any(_targets_ivr(v, name) for v in node.values())
    return False
