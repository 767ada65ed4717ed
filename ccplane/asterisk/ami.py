"""The one object that owns the AMI connection (panoramisk 1.4 underneath).

It logs in, reconnects with back-off when Asterisk goes away, detects a
half-open link with its own Ping watchdog, runs every action under a timeout,
fails every pending action with :class:`AmiDisconnected` when the link drops,
decodes events into typed events and runs the resync hooks after every
(re)connect.

panoramisk quirks handled here (see shared/notes/dependencies.md):
- its own reconnect replays queued actions after FullyBooted (a stale
  Originate could fire late): we build a fresh Manager per connection and never
  let it reconnect by itself;
- QueueAdd and "successfully queued" replies hang or break the connection
  unless sent with ``as_list=False``: single-reply actions always are;
- its pinger never checks replies: our watchdog aborts the transport when a
  Ping is not answered in time;
- a sync handler that raises kills the connection: our one dispatcher is async
  and guards every subscriber.

Example::

    ami = AmiClient("127.0.0.1", 5038, "ccplane", "secret")
    ami.on_event(lambda ev: print(ev.name))
    await ami.start()
    reply = await ami.action({"Action": "CoreSettings"})
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any, Awaitable, Callable, Iterable

from panoramisk import Manager
from panoramisk.message import Message

from ..aio import cancel_and_wait
from ..errors import AmiActionFailed, AmiDisconnected, AmiNotConnected, AmiTimeout, AsteriskError
from .events import AmiEvent, Fields, decode_event
from .framing import FrameReader, message_fields

log = logging.getLogger("ccplane.ami")

# Actions whose reply is a list of events closed by a *Complete event.
LIST_ACTIONS = frozenset({
    "queuestatus", "queuesummary", "coreshowchannels", "status", "pjsipshowcontacts",
    "pjsipshowendpoints", "pjsipshowendpoint", "pjsipshowregistrationsoutbound", "pjsipshowaors",
    "devicestatelist", "extensionstatelist", "bridgelist", "bridgeinfo", "getconfigjson", "dbgettree",
})

BOOT_TIMEOUT = 90.0  # seconds a freshly started Asterisk may take to load its modules

LAG_BASE_MS = 0.01    # lower edge of the first lag bucket
LAG_STEPS_PER_OCTAVE = 4  # buckets are 2**(1/4) ~ 19 % wide
LAG_BUCKETS = 96      # 0.01 ms .. 0.01 * 2**24 ms (~2.8 min); longer lags land in the last


def lag_bucket(lag_ms: float) -> int:
    """Index of the histogram bucket holding ``lag_ms`` (see :class:`LagHistogram`)."""
    if lag_ms <= LAG_BASE_MS:
        return 0
    return min(LAG_BUCKETS - 1, int(LAG_STEPS_PER_OCTAVE * math.log2(lag_ms / LAG_BASE_MS)))


def lag_bucket_upper_ms(index: int) -> float:
    return LAG_BASE_MS * 2 ** ((index + 1) / LAG_STEPS_PER_OCTAVE)


class LagHistogram:
    """Event lag since start: fixed log-scale buckets, O(1) per event, no memory growth.

    Percentiles are a bucket's upper edge (within 19 %); the counts are exposed
    too so that a reader can take the difference of two snapshots (one window)."""

    def __init__(self) -> None:
        self.counts = [0] * LAG_BUCKETS
        self.n = 0
        self.max_ms = 0.0

    def add(self, lag_ms: float) -> None:
        self.counts[lag_bucket(lag_ms)] += 1
        self.n += 1
        if lag_ms > self.max_ms:
            self.max_ms = lag_ms

    @staticmethod
    def percentile(counts: list[int], p: float) -> float:
        total = sum(counts)
        if not total:
            return 0.0
        rank, seen = p * total, 0
        for i, c in enumerate(counts):
            seen += c
            if seen >= rank:
                return round(lag_bucket_upper_ms(i), 3)
        return round(lag_bucket_upper_ms(len(counts) - 1), 3)

    def snapshot(self) -> dict[str, Any]:
        return {"p50": self.percentile(self.counts, 0.50), "p99": self.percentile(self.counts, 0.99),
                "max": round(self.max_ms, 3), "n": self.n, "counts": list(self.counts)}


EventHandler = Callable[[AmiEvent], Awaitable[None] | None]
Hook = Callable[[], Awaitable[None]]


class _Manager(Manager):  # type: ignore[misc]
    """A panoramisk Manager that reports loss instead of reconnecting itself."""

    def __init__(self, on_lost: Callable[[Exception | None], None], **config: Any) -> None:
        super().__init__(**config)
        self._on_lost = on_lost

    def connection_made(self, f: "asyncio.Future[Any]") -> None:
        if f.cancelled() or f.exception() is not None:
            return  # the adapter awaits the same task and handles the error
        super().connection_made(f)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connected = False
        self._on_lost(exc)


class AmiClient:
    def __init__(self, host: str, port: int, username: str, secret: str, *,
                 action_timeout: float = 5.0, ping_interval: float = 2.0,
                 reconnect_max_delay: float = 3.0) -> None:
        self.host, self.port = host, port
        self.username, self.secret = username, secret
        self.action_timeout = action_timeout
        self.ping_interval = ping_interval
        self.reconnect_max_delay = reconnect_max_delay
        self.connected = False
        self.asterisk_version: str | None = None
        self._handlers: list[tuple[str, EventHandler]] = []
        # event names someone subscribed to ("*" = all): lower-case -> as subscribed
        # (the AMI filters match the exact name)
        self._wanted: dict[str, str] = {}
        self.frames_received = 0  # event frames read (what the AMI filters save shows here)
        # Event lag: from the socket read that completed an event's frame to the end of
        # its dispatch (decode + every synchronous handler; async handlers are spawned).
        self.lag = LagHistogram()
        self._read_ns = 0  # perf_counter_ns of the socket read being parsed, 0 outside one
        self._filtering = False  # this session has include filters (else it gets every event)
        self._filtered: set[str] = set()
        self._last_rx = 0.0
        self._booted = asyncio.Event()
        self._connect_hooks: list[Hook] = []
        self._disconnect_hooks: list[Hook] = []
        self._manager: _Manager | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        self._lost: asyncio.Event = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._up = asyncio.Event()
        self._stopping = False

    # -- subscriptions -------------------------------------------------------
    def on_event(self, handler: EventHandler, names: Iterable[str] = ("*",)) -> None:
        new = []
        for name in names:
            self._handlers.append((name.lower(), handler))
            if name.lower() not in self._wanted:
                self._wanted[name.lower()] = name
                new.append(name)
        if new and self.connected and self._filtering:
            self._spawn(self._add_filters(new))

    def _add_filters(self, names: Iterable[str]) -> Awaitable[None]:
        """Ask Asterisk to send this session only the events someone listens to
        (AMI Filter, per session): the rest is never sent, read or parsed.
        A "*" listener gets a catch-all filter, i.e. everything again.

        The Filter actions are written to the link now, synchronously, so any
        action sent after a subscription reaches Asterisk after its filter and
        its events are not lost; the replies are checked by the returned
        awaitable."""
        sent: list[tuple[dict[str, Any], asyncio.Future[Any]]] = []
        for name in names:
            self._filtered.add(name.lower())
            action = ({"Action": "Filter", "Operation": "Add", "Filter": "."} if name == "*" else
                      {"Action": "Filter", "Operation": "Add", "MatchCriteria": f"name({name})"})
            try:
                sent.append((action, self._write(action, as_list=False)))
            except AmiNotConnected:
                break
        return self._check_filters(sent)

    async def _check_filters(self, sent: list[tuple[dict[str, Any], "asyncio.Future[Any]"]]) -> None:
        failed = False
        for action, future in sent:
            try:
                reply = await self._reply(action, future, self.action_timeout)
            except AsteriskError as exc:
                log.warning("ami.filter_failed %s: %s", action, exc)
                failed = True
                continue
            if reply.get("Response") != "Success":
                log.warning("ami.filter_refused %s: %s", action, reply.get("Message"))
                failed = True
        if failed and "*" not in self._filtered and self._manager is not None:
            # never lose events to a half-applied filter: take everything instead
            log.warning("ami.filter_fallback: receiving every event on this session")
            await self._add_filters(["*"])

    def on_connect(self, hook: Hook) -> None:
        self._connect_hooks.append(hook)

    def on_disconnect(self, hook: Hook) -> None:
        self._disconnect_hooks.append(hook)

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        self._stopping = False
        self._supervisor = asyncio.create_task(self._supervise(), name="ami-supervisor")

    async def stop(self, grace: float = 5.0) -> None:
        """Close the link, then cancel the supervisor and every handler task.

        Loops also check ``_stopping``: on Python 3.11 a cancel that meets a
        result arriving in the same loop iteration can be lost, so cancelling
        alone is not a guarantee; nothing here waits longer than ``grace``."""
        self._stopping = True
        self._close_manager()
        self._fail_pending(AmiDisconnected("AMI client stopped"))
        self._lost.set()
        await cancel_and_wait([self._supervisor, *self._tasks], "ami", grace)
        self._supervisor = None
        self.connected = False

    async def wait_connected(self, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            await self._up.wait()

    async def _supervise(self) -> None:
        delay = 0.2
        while not self._stopping:
            try:
                await self._connect_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure means "retry later"
                log.warning("ami.connect_failed %s:%s: %s", self.host, self.port, exc)
                self._close_manager()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.reconnect_max_delay)
                continue
            delay = 0.2
            if self._stopping:
                self._close_manager()
                return
            await self._run_connected()

    async def _connect_once(self) -> None:
        self._lost = asyncio.Event()
        lost = self._lost
        manager = _Manager(on_lost=lambda exc: lost.set(), host=self.host, port=self.port,
                           events="on", ping_delay=10**9, ping_interval=10**9,
                           loop=asyncio.get_running_loop())
        self._manager = manager
        booted = asyncio.Event()
        self._booted = booted
        manager.register_event("*", self._dispatch)
        async with asyncio.timeout(self.action_timeout):
            await manager.connect()
        await asyncio.sleep(0)  # let panoramisk's connection_made wire the protocol
        self._stamp_reads(manager)
        reply = await self._send({"Action": "Login", "Username": self.username, "Secret": self.secret},
                                 as_list=False, timeout=self.action_timeout, check=False)
        if reply.get("Response") != "Success":
            raise AmiActionFailed("Login", str(reply.get("Message")))
        self._filtered = set()
        self._filtering = "*" not in self._wanted
        if self._filtering:
            await self._add_filters(["FullyBooted", *self._wanted.values()])
        # Asterisk accepts logins before its modules are loaded (PJSIP* actions are
        # then "unknown"); it sends FullyBooted at once, or when booting ends.
        async with asyncio.timeout(BOOT_TIMEOUT):
            await booted.wait()
        settings = await self._send({"Action": "CoreSettings"}, as_list=False,
                                    timeout=self.action_timeout, check=True)
        self.asterisk_version = settings.get("AsteriskVersion")

    async def _run_connected(self) -> None:
        self.connected = True
        missed = [name for key, name in self._wanted.items() if key not in self._filtered]
        if self._filtering and missed:  # subscribed while we were logging in
            self._spawn(self._add_filters(missed))
        self._up.set()
        log.info("ami.connected %s:%s version=%s", self.host, self.port, self.asterisk_version)
        for hook in self._connect_hooks:
            self._spawn(self._guard(hook(), "connect hook"))
        watchdog = asyncio.create_task(self._watchdog(), name="ami-watchdog")
        try:
            await self._lost.wait()
        finally:
            watchdog.cancel()
            await asyncio.wait([watchdog], timeout=self.action_timeout)
            self.connected = False
            self._up.clear()
            self._close_manager()
            self._fail_pending(AmiDisconnected("AMI connection lost while the action was pending"))
            log.warning("ami.disconnected %s:%s", self.host, self.port)
            for hook in self._disconnect_hooks if not self._stopping else []:
                self._spawn(self._guard(hook(), "disconnect hook"))

    async def _watchdog(self) -> None:
        while not self._stopping and not self._lost.is_set():
            await asyncio.sleep(self.ping_interval)
            try:
                await self._send({"Action": "Ping"}, as_list=False,
                                 timeout=max(1.0, min(self.ping_interval, 3.0)), check=False)
            except AmiTimeout:
                # A link that keeps delivering events is busy, not half-open: the
                # Pong is just queued behind them.
                if time.monotonic() - self._last_rx < max(1.0, self.ping_interval):
                    continue
                log.warning("ami.ping_timeout: half-open link, aborting the transport")
                self._lost.set()
                return
            except AmiDisconnected:
                return

    def _stamp_reads(self, manager: _Manager) -> None:
        """Read the link through :class:`FrameReader` (plain events reach
        :meth:`_on_frame` as dicts, the rest goes through panoramisk) and note
        when each chunk of bytes arrived: every complete event is dispatched
        synchronously inside ``data_received``, so an event's arrival is the
        read that completed it."""
        protocol = getattr(manager, "protocol", None)
        if protocol is None:
            return
        reader = FrameReader(protocol, self._on_frame)

        def data_received(data: bytes) -> None:
            self._read_ns = time.perf_counter_ns()
            try:
                reader.data_received(data)
            finally:
                self._read_ns = 0
        protocol.data_received = data_received

    def _close_manager(self) -> None:
        manager, self._manager = self._manager, None
        if manager is None:
            return
        protocol = getattr(manager, "protocol", None)
        transport = getattr(protocol, "transport", None)
        if transport is not None:
            transport.abort()
        manager.close()

    # -- actions -------------------------------------------------------------
    async def action(self, action: dict[str, Any], *, timeout: float | None = None) -> Any:
        """Send one action; list actions return ``list[dict]`` (the items, without
        the trailing *Complete event), the others the reply dict.

        Raises AmiNotConnected, AmiTimeout, AmiDisconnected or AmiActionFailed.
        """
        if not self.connected:
            raise AmiNotConnected(f"AMI is not connected ({self.host}:{self.port})")
        name = str(action.get("Action", "")).lower()
        is_list = name in LIST_ACTIONS
        # as_list=None lets panoramisk follow "EventList: start"; forcing True never
        # resolves when Asterisk answers a list action with a lone Error (e.g.
        # PJSIPShowContacts with no contacts), forcing False truncates the list.
        reply = await self._send(action, as_list=None if is_list else False,
                                 timeout=timeout or self.action_timeout, check=True)
        if is_list:
            return [dict(m) for m in reply if not str(m.get("Event", "")).endswith("Complete")
                    and "Response" not in m]
        return reply

    async def command(self, command: str, *, timeout: float | None = None) -> str:
        """Run a CLI command; returns its output text."""
        reply = await self.action({"Action": "Command", "Command": command}, timeout=timeout)
        output = reply.get("Output", "")
        return "\n".join(output) if isinstance(output, list) else str(output)

    def _write(self, action: dict[str, Any], *, as_list: bool | None) -> "asyncio.Future[Any]":
        """Put the action on the link now; its reply is the returned future."""
        manager = self._manager
        if manager is None or getattr(manager, "protocol", None) is None:
            raise AmiNotConnected("AMI is not connected")
        future: "asyncio.Future[Any]" = manager.send_action(dict(action), as_list=as_list)
        self._pending.add(future)
        return future

    async def _reply(self, action: dict[str, Any], future: "asyncio.Future[Any]", timeout: float) -> Any:
        try:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel
            async with asyncio.timeout(timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            future.cancel()
            raise AmiTimeout(f"AMI {action.get('Action')} got no reply within {timeout}s") from None
        finally:
            self._pending.discard(future)

    async def _send(self, action: dict[str, Any], *, as_list: bool | None, timeout: float,
                    check: bool) -> Any:
        reply = await self._reply(action, self._write(action, as_list=as_list), timeout)
        if as_list is None:
            items = reply if isinstance(reply, list) else [reply]
            first = items[0] if items else {}
            if first.get("Response") == "Error":
                message = str(first.get("Message", "")).lower()
                if message.startswith("no ") and message.endswith("found"):
                    return []  # e.g. "No Contacts found": an empty list, not a failure
                if check:
                    raise AmiActionFailed(str(action.get("Action")), str(first.get("Message")))
            return items
        if isinstance(reply, list):
            reply = reply[-1]
        result = dict(reply) if isinstance(reply, Message) else reply
        if check and result.get("Response") in ("Error", "Failure", "Fail"):
            raise AmiActionFailed(str(action.get("Action")), str(result.get("Message")))
        return result

    def _fail_pending(self, exc: Exception) -> None:
        for future in list(self._pending):
            if not future.done():
                future.set_exception(exc)
        self._pending.clear()

    # -- events --------------------------------------------------------------
    def _dispatch(self, _manager: Any, message: Message) -> None:
        """Events that come through panoramisk (those the reader does not take)."""
        self._on_frame(message_fields(message))

    def _on_frame(self, fields: Fields) -> None:
        self._last_rx = time.monotonic()
        self.frames_received += 1
        raw = fields.get("Event")
        name = (raw if isinstance(raw, str) else "").lower()
        if name == "fullybooted":
            self._booted.set()
        if "*" not in self._wanted and name not in self._wanted:
            return  # nobody listens: skip decoding (most of Asterisk's events)
        try:
            event = decode_event(fields)
        except Exception:  # noqa: BLE001 - a bad frame must not kill the link
            log.exception("ami.decode_failed %r", fields)
            return
        name = event.name.lower()
        for pattern, handler in self._handlers:
            if pattern == "*" or pattern == name:
                try:
                    result = handler(event)
                except Exception:  # noqa: BLE001
                    log.exception("ami.handler_failed event=%s", event.name)
                    continue
                if asyncio.iscoroutine(result):
                    self._spawn(self._guard(result, f"handler for {event.name}"))
        if self._read_ns:
            self.lag.add((time.perf_counter_ns() - self._read_ns) / 1e6)

    async def _guard(self, coro: Awaitable[None], what: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            log.exception("ami.%s failed", what.replace(" ", "_"))

    def _spawn(self, coro: Awaitable[None]) -> None:
        if self._stopping:
            close = getattr(coro, "close", None)
            if close is not None:
                close()  # never awaited: the client is stopping
            return
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
