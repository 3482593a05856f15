"""Shared fixtures. The local stack (embedded Postgres + moto + the functions' environment) is started once per
test process, on a temporary directory and free ports, exactly as `make run` builds it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
_runtime = f"/tmp/ms-runtime-{os.getuid()}"
os.makedirs(_runtime, mode=0o700, exist_ok=True)
os.environ.setdefault("XDG_RUNTIME_DIR", _runtime)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from infra.local.stack import LocalStack

    s = LocalStack(local_dir=tmp_path_factory.mktemp("stack"))
    s.start(background=False)
    yield s
    s.stop()


@pytest.fixture(scope="session")
def gateway(stack: Any) -> Any:
    gw = stack.gateway()
    # Functional tests hammer one key far past the usage plan; the throttle has its own test.
    gw.bucket.rate = gw.bucket.burst = gw.login_bucket.rate = gw.login_bucket.burst = 100_000
    return gw


@pytest.fixture(scope="session")
def api(gateway: Any) -> Iterator[Any]:
    from starlette.testclient import TestClient

    from infra.local.gateway import create_app

    with TestClient(create_app(gateway), raise_server_exceptions=True) as client:
        yield client


@dataclass
class Actor:
    """Someone who can call the API: a role in a tenant, with a bearer credential."""

    tenant_id: uuid.UUID
    role: str
    token: str
    user_id: uuid.UUID | None = None
    email: str | None = None
    password: str | None = None
    client_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class TenantWorld:
    tenant_id: uuid.UUID
    clients: list[uuid.UUID]
    owner: Actor
    admin: Actor
    analyst: Actor
    viewer: Actor  # a client_viewer user of clients[0]
    owner_key: Actor  # an owner API key
    viewer_key: Actor  # a client_viewer API key of clients[0]


def _login(api: Any, email: str, password: str) -> dict[str, Any]:
    r = api.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def tenant_factory(stack: Any, api: Any):
    """A fresh tenant with a user of every role, two clients and two API keys, made through the owner role."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from strategist.adapters import crypto
    from strategist.adapters.db.models import ApiKey, Client, Tenant, User

    engine = create_engine(stack.owner_url(), pool_pre_ping=True)  # fault tests restart Postgres mid-session

    def factory(name: str = "Test agency") -> TenantWorld:
        tid = uuid.uuid4()
        suffix = tid.hex[:8]
        password = "correct horse battery " + suffix
        cids = [uuid.uuid4(), uuid.uuid4()]
        users: dict[str, tuple[uuid.UUID, str]] = {}
        keys: dict[str, str] = {}
        with Session(engine) as s, s.begin():
            s.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tid)})
            s.add(Tenant(id=tid, name=f"{name} {suffix}", settings={"approval_threshold": 500}))
            s.flush()
            for i, cid in enumerate(cids):
                s.add(
                    Client(
                        id=cid,
                        tenant_id=tid,
                        name=f"Client {i} {suffix}",
                        industry="retail",
                        currency="USD",
                        reporting_timezone="UTC",
                        kpis=["roas"],
                        goals={"roas": 3},
                    )
                )
            s.flush()
            pw_hash = crypto.hash_password(password)
            for role in ("owner", "admin", "analyst", "client_viewer"):
                uid = uuid.uuid4()
                email = f"{role}-{suffix}@tests.example"
                s.add(
                    User(
                        id=uid,
                        tenant_id=tid,
                        email=email,
                        name=role,
                        password_hash=pw_hash,
                        role=role,
                        client_ids=[cids[0]] if role == "client_viewer" else [],
                    )
                )
                users[role] = (uid, email)
            for label, role, scopes, clients in (
                ("owner", "owner", ["admin", "read", "write"], None),
                ("viewer", "client_viewer", ["read"], [cids[0]]),
            ):
                gen = crypto.new_api_key()
                s.add(
                    ApiKey(
                        tenant_id=tid,
                        name=f"{label} key",
                        prefix=gen.prefix,
                        key_hash=gen.key_hash,
                        role=role,
                        scopes=scopes,
                        client_ids=clients,
                    )
                )
                keys[label] = gen.plaintext

        def actor(role: str) -> Actor:
            uid, email = users[role]
            data = _login(api, email, password)
            return Actor(
                tid,
                role,
                data["access_token"],
                uid,
                email,
                password,
                [cids[0]] if role == "client_viewer" else cids,
            )

        return TenantWorld(
            tenant_id=tid,
            clients=cids,
            owner=actor("owner"),
            admin=actor("admin"),
            analyst=actor("analyst"),
            viewer=actor("client_viewer"),
            owner_key=Actor(tid, "owner", keys["owner"], client_ids=cids),
            viewer_key=Actor(tid, "client_viewer", keys["viewer"], client_ids=[cids[0]]),
        )

    return factory, engine.dispose


@pytest.fixture
def make_tenant(stack: Any, api: Any):
    factory, close = tenant_factory(stack, api)
    yield factory
    close()


@pytest.fixture(scope="module")
def make_tenant_module(stack: Any, api: Any):
    factory, close = tenant_factory(stack, api)
    yield factory
    close()
