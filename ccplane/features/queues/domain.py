"""Naming rules for what queues become in Asterisk."""
from __future__ import annotations

QUEUE_CONTEXT = "ccplane-queues"


def asterisk_queue_name(domain_slug: str, name: str) -> str:
    """Asterisk's name for a queue. Slugs and queue names never contain ``_``,
    so this cannot collide across domains:

        >>> asterisk_queue_name("acme", "sales")
        'acme_sales'
    """
    return f"{domain_slug}_{name}"


def split_queue_name(asterisk_name: str) -> tuple[str, str] | None:
    slug, sep, name = asterisk_name.partition("_")
    return (slug, name) if sep else None
