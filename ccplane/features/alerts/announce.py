"""The spoken alert the attendant hears on answering, rendered ahead of time.

An alert call plays two files in sequence (Queue()'s announce takes a list):
its level ("Alerta vermelho"), rendered once per process start when missing,
and the person's name, rendered when the person is saved or renamed. So no
espeak-ng or sox process runs while an alert is handled, and the cache is
bounded: two level files plus one file per person, removed with the person.
Files are written under a temporary name and renamed, so a call never plays
half a file while a name is re-rendered.
"""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from ...aio import cancel_and_wait
from ..ivr.render import PROMPT_DIR
from . import domain as rules
from .calls import speak

log = logging.getLogger("ccplane.alerts")
ALERT_DIR = f"{PROMPT_DIR}/alerts"


class Announcer:
    def __init__(self, sounds_dir: Path | None) -> None:
        self.root = sounds_dir / ALERT_DIR if sounds_dir is not None else None
        self._ready: set[str] = set()            # sound names (relative to the sounds dir) that exist
        self._names: dict[int, str] = {}         # person id -> name still to render (latest wins)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def available(self) -> bool:
        return self.root is not None and bool(shutil.which("espeak-ng")) and bool(shutil.which("sox"))

    @staticmethod
    def level_sound(level: str) -> str:
        return f"{ALERT_DIR}/level-{level}"

    @staticmethod
    def person_sound(person_id: int) -> str:
        return f"{ALERT_DIR}/persons/{person_id}"

    def sounds_for(self, level: str, person_id: int | None) -> str:
        """Queue()'s announce argument: the ready parts, '&'-separated ('' if none)."""
        parts = [self.level_sound(level)]
        if person_id is not None:
            parts.append(self.person_sound(person_id))
        return "&".join(p for p in parts if p in self._ready)

    def _path(self, sound: str) -> Path:
        assert self.root is not None
        return self.root.parent.parent / f"{sound}.wav"

    async def start(self, persons: Iterable[tuple[int, str]]) -> None:
        """Learn what is rendered, drop what no longer belongs (files of persons
        gone, per-alert files of older versions), queue what is missing."""
        if self.root is None:
            return
        known = dict(persons)
        if self.root.is_dir():
            for path in self.root.glob("*.wav"):
                if path.stem.startswith("level-"):
                    self._ready.add(f"{ALERT_DIR}/{path.stem}")
                else:
                    path.unlink(missing_ok=True)  # an older version's file per alert
            for path in (self.root / "persons").glob("*.wav"):
                if path.stem.isdigit() and int(path.stem) in known:
                    self._ready.add(self.person_sound(int(path.stem)))
                else:
                    path.unlink(missing_ok=True)
        for person_id, name in known.items():
            if self.person_sound(person_id) not in self._ready:
                self._names[person_id] = name
        self._task = asyncio.create_task(self._run(), name="alert-announcer")
        self._wake.set()

    async def stop(self) -> None:
        await cancel_and_wait([self._task], "announcer")
        self._task = None

    def person_saved(self, person_id: int, name: str) -> None:
        """A person was created or renamed: render the name in the background."""
        if self.root is None:
            return
        self._names[person_id] = name
        self._wake.set()

    def person_removed(self, person_id: int) -> None:
        self._names.pop(person_id, None)
        sound = self.person_sound(person_id)
        self._ready.discard(sound)
        if self.root is not None:
            self._path(sound).unlink(missing_ok=True)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self.available:
                log.warning("alert.tts_unavailable: install espeak-ng and sox for spoken alerts")
                continue
            for level, spoken in rules.SPOKEN_LEVEL.items():
                sound = self.level_sound(level)
                if sound not in self._ready and await self._render(sound, f"{spoken}."):
                    self._ready.add(sound)
            while self._names:
                person_id, name = next(iter(self._names.items()))
                sound = self.person_sound(person_id)
                rendered = await self._render(sound, f"{name}.")
                if person_id not in self._names:  # removed while rendering: leave no file behind
                    self._path(sound).unlink(missing_ok=True)
                elif self._names[person_id] == name:
                    del self._names[person_id]
                    if rendered:
                        self._ready.add(sound)
                # else renamed while rendering: the next turn renders the new name

    async def _render(self, sound: str, text: str) -> bool:
        target = self._path(sound)
        partial = target.with_name(f".{target.name}.part.wav")
        try:
            if await speak(text, partial):
                os.replace(partial, target)
                return True
        except OSError as exc:  # e.g. the directory cleaned meanwhile: this file is not ready, the task goes on
            log.warning("alert.announcement_failed %s: %s", sound, exc)
        partial.unlink(missing_ok=True)
        return False

    async def idle(self) -> None:
        """Wait until every queued rendering is done (tests)."""
        while self._names or self._wake.is_set():
            await asyncio.sleep(0.05)
