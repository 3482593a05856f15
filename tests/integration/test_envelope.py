"""Credentials at rest: KMS envelope encryption binds a blob to its tenant and connection."""

from __future__ import annotations

import pytest

from strategist import bootstrap


def test_round_trip_and_binding(stack):
    cipher = bootstrap.credential_cipher()
    ctx = {"tenant_id": "t1", "connection_id": "c1"}
    secret = {"access_token": "EAA-very-secret", "refresh_token": "1//also-secret"}
    blob = cipher.encrypt(secret, context=ctx)
    assert "very-secret" not in str(blob) and set(blob) >= {"encrypted_key", "nonce", "ciphertext", "v"}
    assert cipher.decrypt(blob, context=ctx) == secret
    assert cipher.encrypt(secret, context=ctx)["ciphertext"] != blob["ciphertext"]  # fresh data key and nonce
    with pytest.raises(Exception):  # noqa: B017 - KMS or AES-GCM refuses; either way it must not decrypt
        cipher.decrypt(blob, context={"tenant_id": "t2", "connection_id": "c1"})
    tampered = {
        **blob,
        "ciphertext": blob["ciphertext"][:-4] + ("AAAA" if blob["ciphertext"][-4:] != "AAAA" else "BBBB"),
    }
    with pytest.raises(Exception):  # noqa: B017
        cipher.decrypt(tampered, context=ctx)
