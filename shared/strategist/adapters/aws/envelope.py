"""KMS envelope encryption of platform credentials.

KMS generates a fresh AES-256 data key per write; the key encrypts the credentials locally (AES-GCM) and only
its KMS-encrypted form is stored beside the ciphertext. The encryption context binds a blob to its tenant and
connection: a ciphertext copied onto another tenant's row does not decrypt. Plaintext never leaves this module
except to the connector that needs it."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from strategist.adapters.aws.clients import aws_client

VERSION = 1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def encrypt_json(value: dict[str, Any], *, key_id: str, context: dict[str, str]) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    data_key = aws_client("kms").generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=context)
    nonce = os.urandom(12)
    aad = json.dumps(context, sort_keys=True).encode()
    ciphertext = AESGCM(data_key["Plaintext"]).encrypt(nonce, json.dumps(value).encode(), aad)
    return {
        "v": VERSION,
        "kms_key_id": data_key["KeyId"],
        "encrypted_key": _b64(data_key["CiphertextBlob"]),
        "nonce": _b64(nonce),
        "ciphertext": _b64(ciphertext),
    }


def decrypt_json(blob: dict[str, Any], *, context: dict[str, str]) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if blob.get("v") != VERSION:
        raise ValueError("unknown credentials envelope version")
    plain_key = aws_client("kms").decrypt(
        CiphertextBlob=base64.b64decode(blob["encrypted_key"]), EncryptionContext=context
    )["Plaintext"]
    aad = json.dumps(context, sort_keys=True).encode()
    plaintext = AESGCM(plain_key).decrypt(
        base64.b64decode(blob["nonce"]), base64.b64decode(blob["ciphertext"]), aad
    )
    return json.loads(plaintext)


class KmsCipher:
    """The CredentialCipher port over KMS."""

    def __init__(self, key_id: str) -> None:
        if not key_id:
            raise RuntimeError("KMS_KEY_ID is not set: platform credentials are only stored encrypted")
        self.key_id = key_id

    def encrypt(self, value: dict[str, Any], *, context: dict[str, str]) -> dict[str, Any]:
        return encrypt_json(value, key_id=self.key_id, context=context)

    def decrypt(self, blob: dict[str, Any], *, context: dict[str, str]) -> dict[str, Any]:
        return decrypt_json(blob, context=context)
