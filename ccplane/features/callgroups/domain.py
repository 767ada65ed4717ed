"""Naming rules and dialplan decisions for call groups (pure)."""
from __future__ import annotations

CALLGROUP_CONTEXT = "ccplane-callgroups"


def callgroup_exten(domain_slug: str, name: str) -> str:
    """The extension of ``ccplane-callgroups`` that rings a group. Slugs and
    group names never contain ``_``, so this cannot collide across domains:

        >>> callgroup_exten("acme", "reception")
        'acme_reception'
    """
    return f"{domain_slug}_{name}"


def dial_steps(strategy: str, endpoints: list[str], ring_timeout: int) -> list[str]:
    """Dial() arguments in the order they run: one Dial of every endpoint at once
    (ringall), or one Dial per endpoint in order (sequential).

        >>> dial_steps("ringall", ["acme-1001", "acme-1002"], 20)
        ['PJSIP/acme-1001&PJSIP/acme-1002,20']
        >>> dial_steps("sequential", ["acme-1001", "acme-1002"], 15)
        ['PJSIP/acme-1001,15', 'PJSIP/acme-1002,15']
    """
    if not endpoints:
        return []
    if strategy == "sequential":
        return [f"PJSIP/{e},{ring_timeout}" for e in endpoints]
    return ["&".join(f"PJSIP/{e}" for e in endpoints) + f",{ring_timeout}"]
