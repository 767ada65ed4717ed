from __future__ import annotations

import pytest

from ccplane.features.auth.domain import InvalidToken, TokenSigner, hash_password, verify_password


def test_password_hash_roundtrip() -> None:
    h = hash_password("correct horse")
    assert h.startswith("$argon2") and "correct" not in h
    assert verify_password(h, "correct horse")
    assert not verify_password(h, "wrong horse")
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")


def test_token_roundtrip_and_failures() -> None:
    signer = TokenSigner(b"k" * 32)
    tok = signer.issue(3, "access", 5, ttl=60, now=1000)
    payload = signer.verify(tok, "access", now=1059)
    assert payload["sub"] == 3 and payload["ver"] == 5
    with pytest.raises(InvalidToken, match="expired"):
        signer.verify(tok, "access", now=1061)
    with pytest.raises(InvalidToken, match="type"):
        signer.verify(tok, "refresh", now=1000)
    with pytest.raises(InvalidToken, match="signature"):
        TokenSigner(b"x" * 32).verify(tok, "access", now=1000)
    body, mac = tok.split(".")
    with pytest.raises(InvalidToken):
        signer.verify(body[:-2] + "AA." + mac, "access", now=1000)
    with pytest.raises(InvalidToken):
        signer.verify("garbage", "access", now=1000)
