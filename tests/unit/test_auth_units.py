"""Auth primitives without I/O: password hashing, API key format, JWT verification rules, the principal that
crosses the authorizer boundary as flat strings."""

from __future__ import annotations

import uuid

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategist.adapters import crypto
from strategist.domain.auth import Principal, Role, Scope
from strategist.domain.errors import Forbidden, NotFound

RING = crypto.KeyRing([crypto.SigningKey("k2", "new-secret" * 4), crypto.SigningKey("k1", "old-secret" * 4)])
ISS, AUD = "marketing-strategist", "marketing-strategist-api"
CLAIMS = {"sub": str(uuid.uuid4()), "tid": str(uuid.uuid4()), "role": "owner", "cids": "*"}


def test_password_hash_roundtrip_and_mismatch():
    h = crypto.hash_password("correct horse battery staple")
    assert h.startswith("$argon2id$")
    assert crypto.verify_password(h, "correct horse battery staple")
    assert not crypto.verify_password(h, "wrong")
    assert not crypto.verify_password(None, "anything")  # unknown user costs the same and fails
    assert not crypto.verify_password("not-a-hash", "x")


def test_api_key_format():
    k = crypto.new_api_key()
    assert k.plaintext.startswith("msk_") and crypto.parse_api_key(k.plaintext) == k.prefix
    assert k.key_hash == crypto.sha256_hex(k.plaintext) and k.plaintext not in k.key_hash
    for bad in ("msk_", "msk_abc_def", "sk_123456789012_x", "msk_123456789012_", ""):
        assert crypto.parse_api_key(bad) is None


def test_jwt_roundtrip_and_rotation():
    token, _ = crypto.encode_access_token(RING, CLAIMS, ttl_s=60, issuer=ISS, audience=AUD)
    assert jwt.get_unverified_header(token)["kid"] == "k2"
    assert crypto.decode_access_token(RING, token, issuer=ISS, audience=AUD)["tid"] == CLAIMS["tid"]
    old = crypto.KeyRing([RING.keys[1]])
    legacy, _ = crypto.encode_access_token(old, CLAIMS, ttl_s=60, issuer=ISS, audience=AUD)
    assert crypto.decode_access_token(RING, legacy, issuer=ISS, audience=AUD)["sub"] == CLAIMS["sub"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: jwt.encode({**c}, "x" * 40, algorithm="HS256", headers={"kid": "k2"}),  # wrong key
        lambda c: jwt.encode(
            {**c, "aud": "other"}, "new-secret" * 4, algorithm="HS256", headers={"kid": "k2"}
        ),
        lambda c: jwt.encode(
            {**c, "iss": "other"}, "new-secret" * 4, algorithm="HS256", headers={"kid": "k2"}
        ),
        lambda c: jwt.encode({**c, "exp": 1}, "new-secret" * 4, algorithm="HS256", headers={"kid": "k2"}),
        lambda c: jwt.encode({**c}, "new-secret" * 4, algorithm="HS256", headers={"kid": "k9"}),
        lambda c: jwt.encode({**c}, "new-secret" * 4, algorithm="HS512", headers={"kid": "k2"}),
        lambda c: jwt.encode(
            {**c, "typ": "refresh"}, "new-secret" * 4, algorithm="HS256", headers={"kid": "k2"}
        ),
        lambda c: jwt.encode(
            {k: v for k, v in c.items() if k != "tid"},
            "new-secret" * 4,
            algorithm="HS256",
            headers={"kid": "k2"},
        ),
        lambda c: jwt.encode({**c}, None, algorithm="none", headers={"kid": "k2"}),
    ],
)
def test_jwt_rejections(mutate):
    import time

    now = int(time.time())
    claims = {**CLAIMS, "iss": ISS, "aud": AUD, "iat": now, "exp": now + 60, "typ": "access"}
    with pytest.raises(crypto.InvalidToken):
        crypto.decode_access_token(RING, mutate(claims), issuer=ISS, audience=AUD)


uuids = st.uuids()


@given(
    tenant=uuids,
    user=st.one_of(st.none(), uuids),
    role=st.sampled_from(list(Role)),
    clients=st.one_of(st.none(), st.frozensets(uuids, max_size=5)),
    scopes=st.frozensets(st.sampled_from(list(Scope))),
    key=st.one_of(st.none(), uuids),
)
def test_principal_survives_the_authorizer_context(tenant, user, role, clients, scopes, key):
    p = Principal(tenant, user, role, clients, scopes, "api_key" if key else "jwt", key)
    ctx = p.to_context()
    assert all(isinstance(v, str) for v in ctx.values())  # API Gateway context values are flat
    assert Principal.from_context(ctx) == p


def test_principal_rules():
    cid, other = uuid.uuid4(), uuid.uuid4()
    viewer = Principal(
        uuid.uuid4(), uuid.uuid4(), Role.CLIENT_VIEWER, frozenset({cid}), frozenset({Scope.READ})
    )
    viewer.require_client(cid)
    with pytest.raises(NotFound):
        viewer.require_client(other)
    with pytest.raises(Forbidden):
        viewer.require_role(Role.ANALYST)
    with pytest.raises(Forbidden):
        viewer.require_scope(Scope.WRITE)
    with pytest.raises(Forbidden):
        viewer.require_tenant(str(uuid.uuid4()))
    viewer.require_tenant(None)
    viewer.require_tenant(str(viewer.tenant_id))
