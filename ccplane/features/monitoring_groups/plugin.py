from __future__ import annotations

from ...plugin import Feature, Wiring
from .http import api
from .services import Memberships, MonitoringGroupService


def setup(w: Wiring) -> None:
    w.provide("monitoring_groups", MonitoringGroupService(w.core.sessions))
    w.core.users.groups = Memberships()  # users' monitoring_groups


FEATURE = Feature("monitoring_groups", setup, api=api)
