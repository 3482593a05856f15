"""The demo seed: two agencies (tenants), each with a user of every role and a few clients, all labelled demo.

Idempotent: tenants have fixed ids; credentials are generated once and kept in .local/demo.json (the shape
outside checks and the README read) and .local/demo-users.json (every user, for people trying the roles).
If the credentials file is lost, passwords are reset and API keys re-issued so the files are always true."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from strategist.adapters import crypto
from strategist.adapters.db.models import ApiKey, Client, Tenant, User

NAMESPACE = uuid.UUID("6f1c1e0a-5b7e-4a55-9f4e-4d2a3c6b9e10")


@dataclass(frozen=True)
class DemoClient:
    name: str
    industry: str
    currency: str
    timezone: str
    kpis: tuple[str, ...]
    goals: dict[str, float]
    monthly_budget: int


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    clients: tuple[DemoClient, ...]


DEMO_TENANTS = (
    DemoTenant(
        "north",
        "Northwind Media (demo agency)",
        (
            DemoClient(
                "Alpine Outfitters (demo)",
                "ecommerce",
                "USD",
                "America/Denver",
                ("spend", "conversions", "revenue", "roas", "cpa"),
                {"roas": 4.0, "cpa": 35},
                60000,
            ),
            DemoClient(
                "Brightline Software (demo)",
                "b2b_saas",
                "USD",
                "America/New_York",
                ("spend", "leads", "cpl", "conversions"),
                {"cpl": 120, "leads": 400},
                45000,
            ),
            DemoClient(
                "Harbor Dental Group (demo)",
                "healthcare",
                "USD",
                "America/Los_Angeles",
                ("spend", "conversions", "cpa"),
                {"cpa": 60},
                15000,
            ),
        ),
    ),
    DemoTenant(
        "south",
        "Southbank Digital (demo agency)",
        (
            DemoClient(
                "Costa Coffee Roasters (demo)",
                "food_beverage",
                "EUR",
                "Europe/Madrid",
                ("spend", "conversions", "revenue", "roas"),
                {"roas": 3.5},
                25000,
            ),
            DemoClient(
                "Mercado Moda (demo)",
                "retail",
                "GBP",
                "Europe/London",
                ("spend", "revenue", "roas", "cpa"),
                {"roas": 5.0, "cpa": 28},
                80000,
            ),
            DemoClient(
                "Tokyo Lens Studio (demo)",
                "ecommerce",
                "JPY",
                "Asia/Tokyo",
                ("spend", "conversions", "revenue", "roas"),
                {"roas": 3.0},
                4_000_000,
            ),
        ),
    ),
)

ROLES = ("owner", "admin", "analyst", "client_viewer")


def tenant_id(slug: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"tenant:{slug}")


def client_id(slug: str, name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"client:{slug}:{name}")


def user_email(slug: str, role: str) -> str:
    return f"{role.replace('_', '-')}@{slug}-demo.example"


def _new_password() -> str:
    return "demo-" + secrets.token_urlsafe(12)


def _seed_fx(s: Session) -> None:
    """ECB reference rates from the copy shipped in a PyPI package, once; job_fx_rates refreshes them daily."""
    from strategist.services.fx import load_packaged_rates

    if s.scalar(text("SELECT 1 FROM fx_rates LIMIT 1")) is None:
        load_packaged_rates(s)


def seed(owner_url: str, local_dir: Path) -> dict[str, Any]:
    """Runs as the schema owner (as a deploy-time fixture would), then writes the credential files."""
    demo_file, users_file = local_dir / "demo.json", local_dir / "demo-users.json"
    known: dict[str, Any] = (
        json.loads(users_file.read_text()) if users_file.exists() and demo_file.exists() else {}
    )
    engine = create_engine(owner_url)
    demo: dict[str, Any] = {"tenants": []}
    users_out: dict[str, Any] = {}
    with Session(engine) as s, s.begin():
        for t in DEMO_TENANTS:
            tid = tenant_id(t.slug)
            s.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tid)})
            if s.get(Tenant, tid) is None:
                s.add(Tenant(id=tid, name=t.name, is_demo=True, settings={"approval_threshold": 1000}))
                s.flush()
            cids = []
            for c in t.clients:
                cid = client_id(t.slug, c.name)
                cids.append(cid)
                if s.get(Client, cid) is None:
                    s.add(
                        Client(
                            id=cid,
                            tenant_id=tid,
                            name=c.name,
                            industry=c.industry,
                            currency=c.currency,
                            reporting_timezone=c.timezone,
                            kpis=list(c.kpis),
                            goals=c.goals,
                            monthly_budget=c.monthly_budget,
                            is_demo=True,
                            branding={"primary_color": "#1f6feb", "sender_name": t.name},
                        )
                    )
            s.flush()
            tenant_users = {}
            for role in ROLES:
                email = user_email(t.slug, role)
                saved = known.get(t.slug, {}).get(role)
                user = s.scalar(select(User).where(User.email == email))
                password = saved["password"] if saved and user is not None else _new_password()
                if user is None:
                    user = User(
                        tenant_id=tid,
                        email=email,
                        name=f"Demo {role.replace('_', ' ')}",
                        password_hash=crypto.hash_password(password),
                        role=role,
                        client_ids=[cids[0]] if role == "client_viewer" else [],
                    )
                    s.add(user)
                elif not saved:
                    user.password_hash = crypto.hash_password(password)
                user.is_active = True
                tenant_users[role] = {"email": email, "password": password}
            s.flush()
            keys = known.get(t.slug, {}).get("_keys", {})
            api_keys = {}
            for name, role, scopes, clients in (
                ("demo owner key", "owner", ["admin", "read", "write"], None),
                ("demo client viewer key", "client_viewer", ["read"], [cids[0]]),
            ):
                saved_key = keys.get(name)
                row = s.scalar(
                    select(ApiKey).where(
                        ApiKey.tenant_id == tid, ApiKey.name == name, ApiKey.revoked_at.is_(None)
                    )
                )
                if saved_key and row is not None and row.key_hash == crypto.sha256_hex(saved_key):
                    api_keys[name] = saved_key
                    continue
                if row is not None:
                    s.delete(row)
                    s.flush()
                generated = crypto.new_api_key()
                s.add(
                    ApiKey(
                        tenant_id=tid,
                        name=name,
                        prefix=generated.prefix,
                        key_hash=generated.key_hash,
                        role=role,
                        scopes=scopes,
                        client_ids=clients,
                    )
                )
                api_keys[name] = generated.plaintext
            users_out[t.slug] = {**tenant_users, "_keys": api_keys}
            demo["tenants"].append(
                {
                    "tenant_id": str(tid),
                    "name": t.name,
                    "owner": {
                        "email": tenant_users["owner"]["email"],
                        "password": tenant_users["owner"]["password"],
                        "api_key": api_keys["demo owner key"],
                    },
                    "client_ids": [str(c) for c in cids],
                    "viewer": {"client_id": str(cids[0]), "api_key": api_keys["demo client viewer key"]},
                }
            )
        _seed_fx(s)
    engine.dispose()
    local_dir.mkdir(parents=True, exist_ok=True)
    for path, payload in ((demo_file, demo), (users_file, users_out)):
        path.write_text(json.dumps(payload, indent=2) + "\n")
        path.chmod(0o600)
    return demo
