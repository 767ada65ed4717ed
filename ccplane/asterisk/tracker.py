"""Live state derived from Asterisk events (never polled).

``ContactTracker`` knows which PJSIP endpoints have a registered contact. It is
fed ContactStatus events and rebuilt from ``PJSIPShowContacts`` after every
(re)connect, so a restart of ccplane or Asterisk never leaves it stale.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Iterable, Mapping

from .events import AmiEvent

log = logging.getLogger("ccplane.tracker")

# Contact states in which the phone is not considered registered.
_GONE = {"removed", "unreachable"}


def _field(fields: Mapping[str, Any], *names: str) -> str:
    lower = {k.lower(): v for k, v in fields.items()}
    for name in names:
        value = lower.get(name.lower())
        if value:
            return str(value)
    return ""


class ContactTracker:
    def __init__(self) -> None:
        # endpoint -> {contact uri: status}
        self._contacts: dict[str, dict[str, str]] = {}
        self._listeners: list[Callable[[str, bool], None]] = []

    def on_change(self, listener: Callable[[str, bool], None]) -> None:
        """``listener(endpoint, registered)`` on every change of registration."""
        self._listeners.append(listener)

    def contacts(self, endpoint: str) -> list[str]:
        return sorted(uri for uri, status in self._contacts.get(endpoint, {}).items()
                      if status.lower() not in _GONE)

    def reachability(self, endpoint: str) -> str:
        """"reachable" when any contact answers qualify, "unreachable" when all are
        known dead, "unknown" before the first qualify (or with none)."""
        statuses = {status.lower() for status in self._contacts.get(endpoint, {}).values()}
        if "reachable" in statuses:
            return "reachable"
        if statuses and statuses <= _GONE:
            return "unreachable"
        return "unknown"

    def registered(self, endpoint: str) -> bool:
        return bool(self.contacts(endpoint))

    def handle(self, event: AmiEvent) -> None:
        if event.name != "ContactStatus":
            return
        endpoint = _field(event.fields, "EndpointName")
        uri = _field(event.fields, "URI")
        status = _field(event.fields, "ContactStatus")
        if not endpoint or not uri:
            return
        before = self.registered(endpoint)
        if status.lower() == "removed":
            self._contacts.get(endpoint, {}).pop(uri, None)
        else:
            self._contacts.setdefault(endpoint, {})[uri] = status
        self._notify(endpoint, before)

    def reset(self, contact_list: Iterable[Mapping[str, Any]]) -> None:
        """Rebuild from the ContactList items of ``PJSIPShowContacts``."""
        before = {ep for ep in self._contacts if self.registered(ep)}
        self._contacts = {}
        for item in contact_list:
            endpoint = _field(item, "Endpoint", "EndpointName")
            uri = _field(item, "Uri", "URI")
            if endpoint and uri:
                self._contacts.setdefault(endpoint, {})[uri] = _field(item, "Status") or "Unknown"
        after = {ep for ep in self._contacts if self.registered(ep)}
        for endpoint in before ^ after:
            for listener in self._listeners:
                listener(endpoint, endpoint in after)

    def merge(self, endpoint: str, items: Iterable[Mapping[str, Any]]) -> bool:
        """Take what Asterisk says right now of one endpoint's contacts (the
        ``ContactStatusDetail`` items of ``PJSIPShowEndpoint``): a phone whose REGISTER
        was just answered may not have reached us as a ContactStatus event yet."""
        before = self.registered(endpoint)
        for item in items:
            if _field(item, "Event") != "ContactStatusDetail":
                continue
            uri = _field(item, "URI", "Uri")
            if uri and _field(item, "EndpointName", "Endpoint") in ("", endpoint):
                self._contacts.setdefault(endpoint, {})[uri] = _field(item, "Status") or "Unknown"
        self._notify(endpoint, before)
        return self.registered(endpoint)

    def _notify(self, endpoint: str, before: bool) -> None:
        after = self.registered(endpoint)
        if after != before:
            log.info("contact.%s endpoint=%s", "registered" if after else "unregistered", endpoint,
                     extra={"endpoint": endpoint})
            for listener in self._listeners:
                listener(endpoint, after)


async def confirm_registration(action: Callable[[dict[str, str]], Awaitable[Any]],
                               contacts: ContactTracker, endpoint: str) -> bool:
    """Whether ``endpoint`` is registered, asking Asterisk when the events say it is
    not (one ``PJSIPShowEndpoint``); what Asterisk answers is merged into ``contacts``."""
    if contacts.registered(endpoint):
        return True
    try:
        items = await action({"Action": "PJSIPShowEndpoint", "Endpoint": endpoint})
    except Exception as exc:  # noqa: BLE001 - an unknown endpoint, or the link is down: not registered
        log.debug("contact.confirm_failed endpoint=%s: %s", endpoint, exc)
        return False
    return contacts.merge(endpoint, items if isinstance(items, list) else [items])
