"""Our own thin ARI client: REST calls plus the ``/ari/events`` websocket.

One :class:`AriClient` owns one connection to Asterisk. A supervisor task keeps
the events websocket open, reconnecting with exponential backoff until
:meth:`AriClient.stop`; after every connect it refreshes ``asterisk_version``
and runs the ``on_connect`` hooks, which must resynchronise state because
events are lost while disconnected. Each event handler runs in its own task,
so a slow handler never holds up the reader (nor the websocket heartbeat).

Event decoding (:func:`decode_event`) is pure and never touches a socket.

Example::

    ari = AriClient("http://127.0.0.1:8088", "ccplane", "secret")
    ari.on_event("StasisStart", handle_stasis_start)
    ari.on_connect(resync_channels)
    await ari.start()
    await ari.wait_connected(10)
    channels = await ari.get("/channels")
    await ari.stop()
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ccplane.aio import cancel_and_wait
from ccplane.errors import AriError

log = logging.getLogger("ccplane.ari")

EventHandler = Callable[["AriEvent"], Awaitable[None]]
Hook = Callable[[], Awaitable[None]]

_FIRST_RETRY_DELAY = 0.2
_MAX_ERROR_TEXT = 200


@dataclass(frozen=True)
class AriEvent:
    """One event from the ARI websocket, e.g. ``StasisStart``."""

    type: str
    application: str | None
    timestamp: str | None
    channel_id: str | None
    data: dict[str, Any] = field(hash=False, repr=False)


def decode_event(raw: str | bytes | dict[str, Any]) -> AriEvent:
    """Decode one websocket message (JSON text, bytes or an already parsed dict).

    Raises ValueError when it is not a JSON object with a non-empty string ``type``.

    >>> decode_event('{"type": "StasisStart", "channel": {"id": "1.2"}}').channel_id
    '1.2'
    """
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"ARI event is not UTF-8: {exc}") from exc
    if isinstance(raw, str):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"ARI event is not JSON: {exc}") from exc
    else:
        data = raw
    if not isinstance(data, dict):
        raise ValueError(f"ARI event is not a JSON object: {type(data).__name__}")
    event_type = data.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise ValueError("ARI event has no 'type'")
    channel = data.get("channel")
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    return AriEvent(
        type=event_type,
        application=_str_or_none(data.get("application")),
        timestamp=_str_or_none(data.get("timestamp")),
        channel_id=_str_or_none(channel_id),
        data=data,
    )


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as ARI expects them.

    Booleans become "true"/"false" (Python's "True" is rejected by ARI), lists
    become comma-separated (ARI's multi-value form), None values are dropped.
    """
    encoded: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            encoded[key] = ",".join(str(item) for item in value)
        else:
            encoded[key] = str(value)
    return encoded


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _error_message(body: bytes, reason: str | None) -> str:
    """The human part of an ARI error reply: ``{"message": ...}`` or the raw text."""
    text = body.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        for key in ("message", "error"):
            if isinstance(parsed.get(key), str):
                return str(parsed[key])
    return text[:_MAX_ERROR_TEXT] or (reason or "")


class AriClient:
    """The one owner of an ARI connection (REST session and events websocket)."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        app: str = "ccplane",
        *,
        timeout: float = 5.0,
        reconnect_max_delay: float = 3.0,
        heartbeat: float = 5.0,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._auth_header = aiohttp.encode_basic_auth(username, password)
        self._app = app
        self._timeout = timeout
        self._reconnect_max_delay = reconnect_max_delay
        self._heartbeat = heartbeat
        self.connected = False
        self.asterisk_version: str | None = None
        self._handlers: dict[str, list[EventHandler]] = {}
        self._connect_hooks: list[Hook] = []
        self._disconnect_hooks: list[Hook] = []
        self._session: aiohttp.ClientSession | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._ready = asyncio.Event()
        self._stopped = False

    @property
    def app(self) -> str:
        """The Stasis application name this client registers."""
        return self._app

    # -- registration -------------------------------------------------------

    def on_event(self, event_type: str, handler: EventHandler) -> None:
        """Run ``handler(event)`` in its own task for each event of this type ("*" = all)."""
        self._handlers.setdefault(event_type, []).append(handler)

    def on_connect(self, hook: Hook) -> None:
        """Run ``hook()`` after every (re)connect: resynchronise channels and bridges here."""
        self._connect_hooks.append(hook)

    def on_disconnect(self, hook: Hook) -> None:
        """Run ``hook()`` each time an open websocket is lost (not on stop())."""
        self._disconnect_hooks.append(hook)

    # -- lifetime -----------------------------------------------------------

    async def start(self) -> None:
        """Start the supervisor task; returns at once, without waiting for Asterisk."""
        if self._supervisor is not None:
            raise RuntimeError("AriClient already started")
        self._stopped = False
        self._supervisor = asyncio.create_task(self._supervise(), name="ari-supervisor")

    async def stop(self) -> None:
        """Cancel the supervisor and every handler task, then close the session."""
        self._stopped = True
        supervisor, self._supervisor = self._supervisor, None
        await cancel_and_wait([supervisor], "ari supervisor")
        await cancel_and_wait(list(self._tasks), "ari handlers")
        self._tasks.clear()
        self.connected = False
        self._ready.clear()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def wait_connected(self, timeout: float) -> None:
        """Wait until the websocket is open and asterisk_version is refreshed.

        Raises asyncio.TimeoutError. The on_connect hooks may still be running.
        """
        async with asyncio.timeout(timeout):
            await self._ready.wait()

    # -- REST ---------------------------------------------------------------

    async def get(self, path: str, **params: Any) -> Any:
        """``GET /ari{path}``, e.g. ``await ari.get("/channels")``."""
        return await self._request("GET", path, None, params)

    async def post(self, path: str, json: Any = None, **params: Any) -> Any:
        return await self._request("POST", path, json, params)

    async def put(self, path: str, json: Any = None, **params: Any) -> Any:
        return await self._request("PUT", path, json, params)

    async def delete(self, path: str, **params: Any) -> Any:
        return await self._request("DELETE", path, None, params)

    async def _request(self, method: str, path: str, body: Any, params: Mapping[str, Any]) -> Any:
        """One REST call; None for an empty reply, parsed JSON, or bytes for other media."""
        session = self._get_session()
        url = f"{self._base_url}/ari{path}"
        try:
            async with session.request(
                method,
                url,
                params=encode_params(params),
                json=body,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as resp:
                payload = await resp.read()
                if not 200 <= resp.status < 300:
                    message = _error_message(payload, resp.reason)
                    raise AriError(f"{method} {path}: {resp.status} {message}", status=resp.status)
                if resp.status == 204 or not payload:
                    return None
                if resp.content_type != "application/json":
                    return payload  # e.g. GET /recordings/stored/{name}/file
                try:
                    return json.loads(payload)
                except ValueError as exc:
                    raise AriError(
                        f"{method} {path}: {resp.status} invalid JSON: {exc}", status=resp.status
                    ) from exc
        except asyncio.TimeoutError as exc:
            raise AriError(f"{method} {path}: timed out after {self._timeout} s") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise AriError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc

    def _get_session(self) -> aiohttp.ClientSession:
        if self._stopped:
            raise AriError("ARI client is stopped")
        if self._session is None or self._session.closed:
            # No keep-alive (force_close): a pooled connection can die half-open
            # with the websocket, or be closed by Asterisk's 15 s idle timer just
            # as it is reused, failing a non-idempotent POST. A connection per
            # request costs little at ARI's request rates.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True),
                # The Authorization header, not BasicAuth/auth=, which aiohttp deprecates.
                headers={"Authorization": self._auth_header},
            )
        return self._session

    # -- the events websocket -----------------------------------------------

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        delay = _FIRST_RETRY_DELAY
        failures = 0
        while not self._stopped:
            ws = await self._try_connect(failures)
            if ws is None:
                failures += 1
            else:
                failures = 0
                up_since = loop.time()
                try:
                    await self._serve(ws)
                except Exception:  # noqa: BLE001 - only stop() ends the loop
                    log.exception("ARI websocket reader failed")
                await self._run_hooks(self._disconnect_hooks, "on_disconnect")
                # Only a link that stayed up a while resets the backoff, so a
                # server that accepts and drops at once is not hammered.
                if loop.time() - up_since >= self._reconnect_max_delay:
                    delay = _FIRST_RETRY_DELAY
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._reconnect_max_delay)

    async def _try_connect(self, failures: int) -> aiohttp.ClientWebSocketResponse | None:
        url = f"{self._base_url}/ari/events"
        try:
            # The session timeout (300 s) is far too long for a handshake to a hung server.
            async with asyncio.timeout(self._timeout):
                return await self._get_session().ws_connect(
                    url,
                    params={"app": self._app, "subscribeAll": "false"},
                    heartbeat=self._heartbeat,
                    timeout=aiohttp.ClientWSTimeout(ws_close=self._timeout),
                )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the loop must survive anything
            # Warn once per outage, then keep quiet until it changes.
            level = logging.WARNING if failures == 0 else logging.DEBUG
            log.log(
                level, "ARI websocket %s: connect failed (attempt %s): %s: %s",
                url, failures + 1, type(exc).__name__, exc,
            )
            return None

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Read events until the websocket is lost, with the connect setup alongside."""
        self.connected = True
        log.info("ARI websocket connected: %s app=%s", self._base_url, self._app)
        setup = asyncio.create_task(self._after_connect(), name="ari-after-connect")
        try:
            await self._read(ws)
        finally:
            self.connected = False
            setup.cancel()
            await asyncio.gather(setup, return_exceptions=True)
            self._ready.clear()
            await ws.close()
        log.warning("ARI websocket lost: %s (close code %s)", self._base_url, ws.close_code)

    async def _after_connect(self) -> None:
        try:
            info = await self.get("/asterisk/info", only="system")
            self.asterisk_version = str(info["system"]["version"])
        except (AriError, KeyError, TypeError) as exc:
            log.warning("ARI asterisk/info failed after connect: %s", exc)
            self.asterisk_version = None
        self._ready.set()
        await self._run_hooks(self._connect_hooks, "on_connect")

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            msg = await ws.receive()
            if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                try:
                    event = decode_event(msg.data)
                except ValueError as exc:
                    log.warning("ARI: undecodable event dropped: %s", exc)
                    continue
                self._dispatch(event)
            elif msg.type is aiohttp.WSMsgType.ERROR:
                # A heartbeat timeout (half-open link) arrives here as ServerTimeoutError.
                log.warning("ARI websocket error: %r", msg.data)
                return
            else:  # CLOSE, CLOSING, CLOSED
                return

    def _dispatch(self, event: AriEvent) -> None:
        if self._stopped:
            return
        handlers = self._handlers.get(event.type, []) + self._handlers.get("*", [])
        for handler in handlers:
            task = asyncio.create_task(self._run_handler(handler, event), name=f"ari-{event.type}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_handler(self, handler: EventHandler, event: AriEvent) -> None:
        try:
            await handler(event)
        except Exception:
            log.exception(
                "ARI handler %s failed on %s (channel %s)",
                getattr(handler, "__qualname__", handler), event.type, event.channel_id,
            )

    async def _run_hooks(self, hooks: list[Hook], kind: str) -> None:
        for hook in list(hooks):
            try:
                await hook()
            except Exception:
                log.exception("ARI %s hook %s failed", kind, getattr(hook, "__qualname__", hook))
