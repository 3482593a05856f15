"""Password hashing, token hashing and JWT signing: the only module that touches argon2 and PyJWT."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jwt

if TYPE_CHECKING:
    from argon2 import PasswordHasher

API_KEY_PREFIX = "msk_"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    """Built on first use: only sign-in and invitations hash passwords, not every function's cold start.
    Parameters sized for a 128-512 MB Lambda: ~20-40 ms a hash (RFC 9106's second option, scaled down)."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("not-a-real-password-but-costs-the-same")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Always spends one verification, found user or not, so timing does not reveal which e-mails exist."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class NewApiKey:
    prefix: str
    plaintext: str
    key_hash: str


def new_api_key() -> NewApiKey:
    """`msk_<prefix>_<secret>`: the prefix finds the row, the SHA-256 of the whole key proves it. A key has 256
    bits of entropy, so a fast hash is right here (argon2 would cost every request tens of milliseconds)."""
    prefix = secrets.token_hex(6)
    plaintext = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return NewApiKey(prefix=prefix, plaintext=plaintext, key_hash=sha256_hex(plaintext))


def parse_api_key(value: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    if not value.startswith(API_KEY_PREFIX):
        return None
    rest = value[len(API_KEY_PREFIX) :]
    prefix, sep, secret = rest.partition("_")
    if not sep or len(prefix) != 12 or not secret:
        return None
    return prefix


# -- JWT -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SigningKey:
    kid: str
    secret: str


class KeyRing:
    """Signing keys from Secrets Manager: the first signs, all verify, so a rotation does not log anyone out."""

    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self.keys = keys

    @property
    def current(self) -> SigningKey:
        return self.keys[0]

    def find(self, kid: str | None) -> SigningKey | None:
        return next((k for k in self.keys if k.kid == kid), None)

    @classmethod
    def from_secret_string(cls, secret_string: str) -> KeyRing:
        data = json.loads(secret_string)
        raw = data["keys"] if isinstance(data, dict) and "keys" in data else [data]
        return cls([SigningKey(kid=str(k["kid"]), secret=str(k["secret"])) for k in raw])


_ring_lock = threading.Lock()
_ring: KeyRing | None = None


def load_key_ring(secret_arn: str) -> KeyRing:
    global _ring
    if _ring is None:
        with _ring_lock:
            if _ring is None:
                from strategist.adapters.aws.clients import aws_client

                value = aws_client("secretsmanager").get_secret_value(SecretId=secret_arn)
                _ring = KeyRing.from_secret_string(value["SecretString"])
    return _ring


def reset_key_ring() -> None:
    global _ring
    _ring = None


class InvalidToken(Exception):
    pass


def encode_access_token(
    ring: KeyRing, claims: dict[str, Any], *, ttl_s: int, issuer: str, audience: str
) -> tuple[str, dt.datetime]:
    now = dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(seconds=ttl_s)
    payload = {
        **claims,
        "iss": issuer,
        "aud": audience,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": str(uuid.uuid4()),
        "typ": "access",
    }
    key = ring.current
    token = jwt.encode(payload, key.secret, algorithm="HS256", headers={"kid": key.kid})
    return token, expires


def decode_access_token(ring: KeyRing, token: str, *, issuer: str, audience: str) -> dict[str, Any]:
    """HS256 only: `alg=none` and RS/HS key confusion are refused because the algorithm list is fixed."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken("malformed token") from exc
    if header.get("alg") != "HS256":
        raise InvalidToken("unsupported token algorithm")
    key = ring.find(header.get("kid"))
    if key is None:
        raise InvalidToken("unknown signing key")
    try:
        claims = jwt.decode(
            token,
            key.secret,
            algorithms=["HS256"],
            issuer=issuer,
            audience=audience,
            options={"require": ["exp", "iat", "sub", "tid", "role", "iss", "aud"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("invalid token") from exc
    if claims.get("typ") != "access":
        raise InvalidToken("not an access token")
    return claims
