"""The agent screen's phone: pure rules, no I/O.

- what the page needs to register (its SIP URI, WSS URL, ICE servers, with
  coturn's time-limited TURN credentials), and
- the call-quality figures the page reports (packets, jitter, round-trip) turned
  into a loss percentage and a MOS estimate (a simplified ITU-T G.107 E-model,
  the one VoIP monitors use: latency, jitter and loss, no codec impairment).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class IceServer:
    urls: str
    username: str | None = None
    credential: str | None = None

    def as_dict(self) -> dict[str, str]:
        out = {"urls": self.urls}
        if self.username is not None and self.credential is not None:
            out.update(username=self.username, credential=self.credential)
        return out


def sip_domain_of(wss_url: str, configured: str = "") -> str:
    """The host part of the phones' SIP URI: the configured one, else the WSS URL's host.

    >>> sip_domain_of("wss://127.0.0.1:8089/ws")
    '127.0.0.1'
    >>> sip_domain_of("wss://pbx.example.com:8089/ws", "example.com")
    'example.com'
    """
    return configured or (urlsplit(wss_url).hostname or "")


def turn_credentials(secret: str, user: str, now: float, ttl: int) -> tuple[str, str]:
    """coturn's REST-API credentials (``use-auth-secret`` / ``static-auth-secret``):
    the username is ``<expiry>:<user>``, the password base64(HMAC-SHA1(secret, username)).

    >>> turn_credentials("s3cret", "acme-1001", 1000.0, 60)
    ('1060:acme-1001', 'LT1ds+W6t4+KN9ifg/cchhTsu7Q=')
    """
    username = f"{int(now) + ttl}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(urls: str, secret: str, user: str, now: float, ttl: int) -> list[IceServer]:
    """The browser's ICE servers from the comma-separated setting; TURN URLs get
    credentials when a secret is set (STUN needs none).

    >>> [s.as_dict() for s in ice_servers("stun:stun.example.com:3478", "", "u", 0, 1)]
    [{'urls': 'stun:stun.example.com:3478'}]
    """
    out: list[IceServer] = []
    for url in (u.strip() for u in urls.split(",")):
        if not url:
            continue
        if url.startswith(("turn:", "turns:")) and secret:
            name, password = turn_credentials(secret, user, now, ttl)
            out.append(IceServer(url, name, password))
        else:
            out.append(IceServer(url))
    return out


def loss_percent(lost: int, received: int) -> float:
    """Packets lost as a percentage of those expected (lost + received).

    >>> loss_percent(5, 95)
    5.0
    >>> loss_percent(0, 0)
    0.0
    """
    expected = max(0, lost) + max(0, received)
    return round(100.0 * max(0, lost) / expected, 2) if expected else 0.0


def mos_estimate(rtt_ms: float | None, jitter_ms: float, loss_pct: float) -> float:
    """Mean opinion score (1.0 – 4.5) from round-trip time, jitter and loss.

    Effective latency = one-way delay + twice the jitter + 10 ms of codec delay;
    R = 93.2 − latency impairment − 2.5 × loss %; MOS from R by G.107's mapping.
    Without a round-trip figure (no RTCP yet) the delay counts as zero.

    >>> mos_estimate(20, 2, 0)
    4.4
    >>> mos_estimate(400, 30, 5) < 3.6
    True
    >>> mos_estimate(2000, 500, 60)
    1.0
    """
    latency = max(0.0, (rtt_ms or 0.0) / 2) + 2 * max(0.0, jitter_ms) + 10
    r = 93.2 - (latency / 40 if latency < 160 else (latency - 120) / 10) - 2.5 * max(0.0, loss_pct)
    if r <= 0:
        return 1.0
    mos = 1 + 0.035 * r + 0.000007 * r * (r - 60) * (100 - r)
    return round(min(4.5, max(1.0, mos)), 2)
