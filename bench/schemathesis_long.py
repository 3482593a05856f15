"""The long schemathesis run (issue 9, bad-input slice): every operation of /openapi.json, every phase (explicit
examples, coverage, fuzzing, stateful), as an owner, an analyst and a client viewer of three separate tenants,
with many more examples per operation than the bounded run in `make test` (tests/security/test_schemathesis.py).

Same checks as the suite: not_a_server_error, status_code/content_type/response_schema/response_headers
conformance and no_write_on_failure (a refused request left the tenant's audit_log and outbox row counts as they
were; tests/security/schemathesis_hooks.py).

Starts its own local stack (embedded Postgres + moto + the simulator) in a throwaway directory and serves the
gateway over HTTP on a free port. Run by hand:

    .venv/bin/python bench/schemathesis_long.py --max-examples 50 --seed 20261126

Reports (ndjson + JUnit per role) land in --report-dir (default: a temporary directory, printed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--roles", default="owner,analyst,client_viewer")
    parser.add_argument("--report-dir", type=Path, default=None)
    args = parser.parse_args()

    import httpx
    import uvicorn

    from infra.local.gateway import create_app
    from infra.local.stack import LocalStack
    from tests.conftest import tenant_factory
    from tests.security import fuzz
    from tests.security.conftest import _free_port

    report_dir = args.report_dir or Path(tempfile.mkdtemp(prefix="schemathesis-long-"))
    with tempfile.TemporaryDirectory(prefix="schemathesis-stack-") as tmp:
        stack = LocalStack(local_dir=Path(tmp))
        stack.start(background=False)
        try:
            gw = stack.gateway()
            gw.bucket.rate = gw.bucket.burst = gw.login_bucket.rate = gw.login_bucket.burst = 100_000
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            server = uvicorn.Server(
                uvicorn.Config(
                    create_app(gw, server_url=url),
                    host="127.0.0.1",
                    port=port,
                    log_level="warning",
                    access_log=False,
                    lifespan="off",
                )
            )
            threading.Thread(target=server.run, daemon=True).start()
            while not server.started:
                time.sleep(0.05)
            with httpx.Client(base_url=url, timeout=30) as client:
                factory, close = tenant_factory(stack, client)
                results = []
                for role in args.roles.split(","):
                    world = factory(f"fuzz {role}")
                    actor = {"owner": world.owner, "analyst": world.analyst, "client_viewer": world.viewer}[
                        role
                    ]
                    print(f"-- {role}: running ({args.phases}, max-examples {args.max_examples})", flush=True)
                    result = fuzz.run(
                        url=url,
                        token=actor.token,
                        tenant_id=str(world.tenant_id),
                        db_url=stack.owner_url(),
                        role=role,
                        report_dir=report_dir,
                        max_examples=args.max_examples,
                        phases=args.phases,
                        seed=args.seed,
                    )
                    results.append(result)
                    print(
                        f"   {result.operations} operations, {result.cases} cases, {len(result.failures)} failures, "
                        f"{result.seconds:.0f} s, exit {result.returncode}",
                        flush=True,
                    )
                    for line in result.failures[:30]:
                        print("   FAIL", line)
                close()
            server.should_exit = True
        finally:
            stack.stop()
    total_cases = sum(r.cases for r in results)
    total_failures = sum(len(r.failures) for r in results)
    print(f"total: {total_cases} cases, {total_failures} failures; reports in {report_dir}")
    return 0 if total_failures == 0 and all(r.returncode == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
