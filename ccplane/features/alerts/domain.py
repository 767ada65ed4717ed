"""Alert rules with no I/O: texts, maps links, the audit hash chain, SLA figures."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

LEVELS = ("green", "yellow", "red")
NO_LOCATION = "Sem localização"
GENESIS = "0" * 64
DEFAULT_TEXTS = {
    "green": {"message": "Alerta recebido. Aguarde o contato da equipe.", "button": "Verde"},
    "yellow": {"message": "A organização foi notificada com sua identificação, nível de alerta e localização.",
               "button": "Amarelo"},
    "red": {"message": "A organização foi notificada com sua identificação, nível de alerta e localização.",
            "button": "Vermelho"},
    "call_now": {"button": "Ligar agora"},
    "unavailable": {"message": "Não foi possível registrar o alerta. Ligue agora para a equipe de monitoramento."},
}
DEFAULT_DEADLINES = {"red": 15, "yellow": 60}
# Asterisk QUEUE_PRIO: higher is served first; ordinary calls have 0. Each level
# owns a band of priorities (a red's lowest is above a yellow's highest).
QUEUE_PRIORITY = {"red": 20, "yellow": 10}
PRIORITY_BAND = 10_000_000
GREEN_PERSON_PRIORITY = 5  # a person with an open green alert calling in: ahead of ordinary calls only


def queue_priority(level: str, seq: int) -> int:
    """The QUEUE_PRIO of an alert call: its level's band, and within it arrival
    order (``seq``, the alert id, rising with arrival): an earlier alert has the
    higher priority, so Asterisk queues alerts of one level in arrival order
    however their Originates race. Values stay below 2**31 (an int in app_queue).

    >>> queue_priority("red", 7) > queue_priority("red", 8) > queue_priority("yellow", 1) > 5
    True
    """
    if level not in QUEUE_PRIORITY:
        return GREEN_PERSON_PRIORITY
    return QUEUE_PRIORITY[level] * PRIORITY_BAND + (PRIORITY_BAND - 1 - seq % PRIORITY_BAND)


def level_of_priority(priority: int) -> int:
    """The rank of a QUEUE_PRIO: 20 red, 10 yellow, 0 below (ordinary, green person calls)."""
    return priority // PRIORITY_BAND if priority >= PRIORITY_BAND else 0
SPOKEN_LEVEL = {"red": "Alerta vermelho", "yellow": "Alerta amarelo", "green": "Alerta verde"}


def maps_url(lat: float, lon: float) -> str:
    return f"https://maps.google.com/?q={lat:.6f},{lon:.6f}"


def location_view(lat: float | None, lon: float | None, accuracy: float | None) -> dict[str, Any] | None:
    if lat is None or lon is None:
        return None
    return {"lat": lat, "lon": lon, "accuracy": accuracy, "maps_url": maps_url(lat, lon)}


def location_text(lat: float | None, lon: float | None) -> str:
    return maps_url(lat, lon) if lat is not None and lon is not None else NO_LOCATION


def merged_texts(custom: dict[str, Any] | None) -> dict[str, Any]:
    out = {k: dict(v) for k, v in DEFAULT_TEXTS.items()}
    for key, value in (custom or {}).items():
        if isinstance(value, dict):
            out.setdefault(key, {}).update(value)
    return out


def canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, seq: int, alert_id: int | None, actor: str, action: str, data: str, at: str) -> str:
    """sha256 over the previous hash and every field of the row, in a fixed layout."""
    payload = "\x1f".join([prev_hash, str(seq), str(alert_id or ""), actor, action, data, at])
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class AuditRow:
    id: int
    seq: int
    alert_id: int | None
    actor: str
    action: str
    data: str
    at: str
    prev_hash: str
    hash: str


def verify_chain(rows: Iterable[AuditRow]) -> tuple[bool, str]:
    """Walk a domain's rows in seq order; the first row that does not fit is named."""
    prev, expected_seq, count = GENESIS, 1, 0
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            return False, f"row id {row.id}: sequence {row.seq}, expected {expected_seq} (a row is missing)"
        if row.prev_hash != prev:
            return False, f"row id {row.id} (seq {row.seq}): does not link to the previous row"
        if chain_hash(row.prev_hash, row.seq, row.alert_id, row.actor, row.action, row.data, row.at) != row.hash:
            return False, f"row id {row.id} (seq {row.seq}): contents changed after it was written"
        prev, expected_seq = row.hash, expected_seq + 1
    return True, f"{count} row(s) verified"


def announcement(level: str, name: str) -> str:
    return f"{SPOKEN_LEVEL.get(level, 'Alerta')}. {name}."


def stats(alerts: list[dict[str, Any]], grid: float = 0.01) -> dict[str, Any]:
    """Dashboard figures over alert views (see AlertOut): counts, who alerts most,
    areas of risk (rounded coordinates), share acknowledged within 15/30/60 s."""
    by_level: dict[str, int] = {}
    by_day: dict[str, int] = {}
    by_hour: dict[str, int] = {}
    by_person: dict[str, dict[str, Any]] = {}
    areas: dict[tuple[float, float], dict[str, Any]] = {}
    acked = {15: 0, 30: 0, 60: 0}
    for a in alerts:
        by_level[a["level"]] = by_level.get(a["level"], 0) + 1
        day, hour = a["created_at"][:10], a["created_at"][11:13]
        by_day[day] = by_day.get(day, 0) + 1
        by_hour[hour] = by_hour.get(hour, 0) + 1
        who = by_person.setdefault(a["person"]["cpf"], {"name": a["person"]["name"], "cpf": a["person"]["cpf"],
                                                         "alerts": 0, "red": 0})
        who["alerts"] += 1
        who["red"] += a["level"] == "red"
        if a["location"]:
            cell = (round(round(a["location"]["lat"] / grid) * grid, 6),
                    round(round(a["location"]["lon"] / grid) * grid, 6))
            area = areas.setdefault(cell, {"lat": cell[0], "lon": cell[1], "alerts": 0, "red": 0})
            area["alerts"] += 1
            area["red"] += a["level"] == "red"
        for limit in acked:
            if a["seconds_to_ack"] is not None and a["seconds_to_ack"] <= limit:
                acked[limit] += 1
    total = len(alerts)
    return {
        "total": total, "by_level": by_level, "by_day": dict(sorted(by_day.items())),
        "by_hour": dict(sorted(by_hour.items())),
        "top_persons": sorted(by_person.values(), key=lambda p: (-p["alerts"], p["name"]))[:10],
        "areas": sorted(areas.values(), key=lambda x: (-x["red"], -x["alerts"]))[:50],
        "acknowledged_within": {f"{k}s": round(100 * v / total, 1) if total else None for k, v in acked.items()},
    }
