"""Typed keys for the long-lived resources stored on the aiohttp application."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from ..app import Services
    from ..settings import Settings

SETTINGS: web.AppKey["Settings"] = web.AppKey("settings")
SERVICES: web.AppKey["Services"] = web.AppKey("services")
