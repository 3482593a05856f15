"""The whole local topology as one object: embedded Postgres (migrated), moto provisioned from the template,
the functions' environment, the demo seed, the gateway, the scheduler and the SQS poller. `make run` serves it;
the functional tests build the same thing in process."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import db
from infra.local import lambda_runtime
from infra.local.aws import ACCOUNT_ID, REGION, LocalResources, function_environment, provision
from infra.local.postgres import APP_ROLE, DB_NAME, OWNER_ROLE, EmbeddedPostgres, PgCredentials, free_port
from infra.template import ROOT, Template, load_template

log = logging.getLogger("stack")


@dataclass
class LocalStack:
    local_dir: Path = ROOT / ".local"
    template: Template = field(default_factory=load_template)
    pg_port: int | None = None
    moto_port: int | None = None
    database: str = DB_NAME
    speedup: float = 1.0
    public_url: str = "http://127.0.0.1:8029"
    demo_platforms: bool = False  # connect the demo clients to the simulator and backfill (make run does)
    sim_url: str | None = None
    sim_server: Any = None
    pg: EmbeddedPostgres | None = None
    creds: PgCredentials | None = None
    moto: Any = None
    resources: LocalResources | None = None
    scheduler: Any = None
    poller: Any = None
    event_delivery: Any = None  # issue 6, alerts slice: infra.local.eventbridge
    _threads: list[threading.Thread] = field(default_factory=list)
    extra_health: dict[str, Any] = field(default_factory=dict)

    # -- pieces ----------------------------------------------------------------------------------------------
    def start_database(self) -> PgCredentials:
        self.pg = EmbeddedPostgres(self.local_dir / "pg", port=self.pg_port)
        creds = self.pg.start()
        db.ensure_database(
            creds.super_url, database=self.database, owner=OWNER_ROLE, owner_password=creds.owner_password
        )
        db.migrate(self.owner_url(creds))
        db.ensure_app_login(self.owner_url(creds), login=APP_ROLE, password=creds.app_password)
        self.creds = creds
        return creds

    def owner_url(self, creds: PgCredentials | None = None) -> str:
        creds = creds or self.creds
        assert creds
        return creds.url(OWNER_ROLE, creds.owner_password, self.database)

    def app_url(self) -> str:
        assert self.creds
        return self.creds.url(APP_ROLE, self.creds.app_password, self.database)

    def start_aws(self) -> LocalResources:
        from moto.server import ThreadedMotoServer

        port = self.moto_port or free_port()
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.moto.start()
        endpoint = f"http://127.0.0.1:{port}"
        self.resources = provision(self.template, endpoint, jwt_secret=self._jwt_secret())
        return self.resources

    def _jwt_secret(self) -> str:
        """Kept under .local so tokens survive a restart of the stack, as they survive a deploy on AWS."""
        path = self.local_dir / "jwt-secret"
        self.local_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def start_simulator(self) -> str:
        """The simulated ad-platform server, on its own loopback port, as a platform host would be."""
        import time

        import uvicorn

        from infra.platform_sim.app import create_app as simulator_app

        spec = None
        if self.demo_platforms:
            from infra.local.demo_platforms import simulator_spec

            spec = simulator_spec()
        port = free_port()
        config = uvicorn.Config(
            simulator_app(seed=7, spec=spec), host="127.0.0.1", port=port, log_level="warning"
        )
        self.sim_server = uvicorn.Server(config)
        thread = threading.Thread(target=self.sim_server.run, name="platform-sim", daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not self.sim_server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        self.sim_url = f"http://127.0.0.1:{port}"
        self._threads.append(thread)
        return self.sim_url

    def configure_environment(self) -> dict[str, str]:
        """The functions read the same variables as on Lambda; the database URL replaces the proxy + secret."""
        assert self.resources is not None
        env: dict[str, str] = {}
        for logical_id in self.template.functions:
            env.update(function_environment(self.template, self.resources, logical_id))
        env.update(
            {
                "AWS_ENDPOINT_URL": self.resources.endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "DATABASE_URL": self.app_url(),
                "DB_SSL": "false",
                "DB_POOL_SIZE": "10",
                "DB_MAX_OVERFLOW": "40",
                "PUBLIC_BASE_URL": self.public_url,
                "PLATFORM_API_BASE_URL": self.sim_url or "",
            }
        )
        env.pop("DB_SECRET_ARN", None)
        os.environ.update(env)
        os.environ.pop("DB_SECRET_ARN", None)
        self._reset_process_caches()
        return env

    @staticmethod
    def _reset_process_caches() -> None:
        from strategist.adapters import crypto
        from strategist.adapters.aws.clients import reset_clients
        from strategist.adapters.db.engine import reset_engine
        from strategist.config import reset_settings

        reset_settings()
        reset_clients()
        reset_engine()
        crypto.reset_key_ring()

    def seed(self) -> dict[str, Any]:
        from infra.local.seed import seed

        return seed(self.owner_url(), self.local_dir)

    def gateway(self) -> Any:
        from infra.local.gateway import Gateway

        return Gateway(self.template, local_health=self.local_health)

    def start_background(self, *, scheduler: bool = True, poller: bool = True) -> None:
        from infra.local.poller import Poller, QueueBinding
        from infra.local.scheduler import Scheduler

        functions = self.template.functions
        assert self.resources is not None
        if scheduler:

            def fire(schedule: Any) -> Any:
                spec = functions[schedule.function]
                return lambda_runtime.invoke(
                    spec, lambda_runtime.scheduled_event(f"{schedule.function}-{schedule.name}")
                )

            self.scheduler = Scheduler(self.template.schedules, fire, speedup=self.speedup)
            thread = threading.Thread(target=self.scheduler.run, name="scheduler", daemon=True)
            thread.start()
            self._threads.append(thread)
        if poller:
            import boto3

            sqs = boto3.client("sqs", endpoint_url=self.resources.endpoint, region_name=REGION)
            bindings = []
            for trigger in self.template.sqs_triggers:
                spec = functions[trigger.function]
                bindings.append(
                    QueueBinding(
                        trigger=trigger,
                        queue_url=self.resources.queue_urls[trigger.queue],
                        queue_arn=self.resources.attributes[(trigger.queue, "Arn")],
                        handler=lambda event, spec=spec: lambda_runtime.invoke(spec, event),
                    )
                )
            self.poller = Poller(sqs, bindings, concurrency=int(os.environ.get("POLLER_CONCURRENCY", "4")))
            self.poller.start()
            # issue 6, alerts slice: the template's EventBridgeRule events delivered to their functions
            from infra.local.eventbridge import start_delivery

            self.event_delivery = start_delivery(
                self.template,
                self.resources,
                lambda function, event: lambda_runtime.invoke(functions[function], event),
            )

    def local_health(self) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        if self.resources is not None:
            checks["aws_emulator"] = self._moto_health()
        if self.sim_url is not None:
            checks["platform_simulator"] = self._sim_health()
        if self.scheduler is not None:
            checks["scheduler"] = self.scheduler.status()
        if self.poller is not None:
            checks["sqs_poller"] = self.poller.status()
        if self.event_delivery is not None:
            checks["eventbridge_rules"] = self.event_delivery.status()
        checks.update({name: fn() for name, fn in self.extra_health.items()})
        return checks

    def _moto_health(self) -> dict[str, Any]:
        from strategist.services.health import _timed

        def run() -> dict[str, Any]:
            from strategist.adapters.aws.clients import aws_client

            aws_client("sts").get_caller_identity()
            return {"endpoint": self.resources.endpoint if self.resources else None, "account": ACCOUNT_ID}

        return _timed(run)

    def _sim_health(self) -> dict[str, Any]:
        from strategist.services.health import _timed

        def run() -> dict[str, Any]:
            import httpx

            accounts = httpx.get(f"{self.sim_url}/_sim/accounts", timeout=3).json()
            return {"url": self.sim_url, "accounts": len(accounts.get("accounts", accounts))}

        return _timed(run)

    def seed_platforms(self) -> dict[str, int]:
        from infra.local.seed_platforms import seed_connections

        return seed_connections(self.owner_url())

    def install_demo_alert_rules(self, demo: dict[str, Any]) -> int:
        """The seed writes clients directly, so no `client.created` event installs their default alert rules the
        way it does for a client made through the API; this does the same, once (it skips kinds already there)."""
        from strategist import bootstrap
        from strategist.services.alerts.evaluate import install_defaults_for

        def factory() -> Any:
            return bootstrap.system_unit_of_work("seed")

        return sum(
            install_defaults_for(factory, uuid.UUID(t["tenant_id"]), uuid.UUID(c))
            for t in demo["tenants"]
            for c in t["client_ids"]
        )

    def kick_sync(self) -> None:
        """Resume backfills and restatements at once on start, instead of waiting for the hourly schedule."""
        spec = self.template.functions["JobSyncFunction"]
        lambda_runtime.invoke(spec, lambda_runtime.scheduled_event("JobSyncFunction-startup"))

    # -- whole -----------------------------------------------------------------------------------------------
    def start(self, *, background: bool = True) -> LocalStack:
        self.start_database()
        self.start_aws()
        self.start_simulator()
        self.configure_environment()
        demo = self.seed()
        if self.demo_platforms:
            self.seed_platforms()
            self.install_demo_alert_rules(demo)
        if background:
            self.start_background()
            if self.demo_platforms:
                self.kick_sync()
        return self

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.poller is not None:
            self.poller.stop()
        if self.event_delivery is not None:
            self.event_delivery.stop()
        if self.sim_server is not None:
            self.sim_server.should_exit = True
        with contextlib.suppress(Exception):
            from strategist.adapters.db.engine import reset_engine

            reset_engine()
        if self.moto is not None:
            with contextlib.suppress(Exception):
                self.moto.stop()
        if self.pg is not None:
            self.pg.stop()

    def describe(self) -> dict[str, Any]:
        return {
            "api": self.public_url,
            "docs": f"{self.public_url}/docs",
            "openapi": f"{self.public_url}/openapi.json",
            "health": f"{self.public_url}/health",
            "dashboard": f"{self.public_url}/",
            "demo_credentials": str(self.local_dir / "demo.json"),
            "postgres": f"127.0.0.1:{self.creds.port if self.creds else '?'}",
            "aws_endpoint": self.resources.endpoint if self.resources else None,
        }


def dump(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)
