"""Naming rules for what extensions become in Asterisk."""
from __future__ import annotations


def endpoint_name(domain_slug: str, number: str) -> str:
    """PJSIP endpoint/AOR/auth name, which is also the SIP username a phone uses.

    Numbers are digits only, so ``<slug>-<number>`` cannot collide across domains:

        >>> endpoint_name("acme", "1001")
        'acme-1001'
    """
    return f"{domain_slug}-{number}"


def domain_context(domain_slug: str) -> str:
    """Dialplan context where a domain's extensions place their calls."""
    return f"ccplane-d-{domain_slug}"
