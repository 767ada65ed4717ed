"""Brazilian caller numbers: one canonical form, and every form it arrives in.

Carriers deliver the same caller as ``11987654321``, ``5511987654321``,
``+5511987654321``, ``011987654321`` or ``01511987654321`` (0 + carrier code +
DDD + number). The blacklist stores the canonical national form (DDD +
number: 10 digits for landlines, 11 for mobiles) and the dialplan matches all
the others.

    >>> normalize_number("+55 (11) 98765-4321")
    '11987654321'
    >>> normalize_number("0 21 11 98765-4321")
    '11987654321'
    >>> caller_patterns("1133334444")
    ['1133334444', '01133334444', '551133334444', '+551133334444', '_0ZX1133334444']
"""
from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s().-]")


def is_brazilian_national(digits: str) -> bool:
    return len(digits) in (10, 11) and digits[0] != "0" and digits[2] != "0"


def normalize_number(raw: str) -> str:
    """Canonical form of a caller number; raises ValueError when it is not a number."""
    text = _SEPARATORS.sub("", raw.strip())
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not re.fullmatch(r"[0-9]{3,16}", digits):
        raise ValueError("a phone number has 3 to 16 digits, optionally after +")
    if digits.startswith("55") and is_brazilian_national(digits[2:]):
        return digits[2:]
    if not plus and digits.startswith("0"):
        if digits[1] != "0" and is_brazilian_national(digits[3:]) and len(digits) in (13, 14):
            return digits[3:]          # 0 + carrier code + DDD + number ("00" is the international prefix)
        if is_brazilian_national(digits[1:]):
            return digits[1:]          # 0 + DDD + number
    return ("+" + digits) if plus else digits


def caller_patterns(canonical: str) -> list[str]:
    """Dialplan extensions that match every form of a canonical number."""
    if not is_brazilian_national(canonical):
        return [canonical]
    return [canonical, f"0{canonical}", f"55{canonical}", f"+55{canonical}", f"_0ZX{canonical}"]  # carrier codes never start with 0
