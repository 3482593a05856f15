"""schemathesis against /openapi.json of the real local stack, as the owner, an analyst and a client viewer of
three separate tenants. Every operation, every phase (explicit examples, coverage of the schema's boundaries,
random fuzzing, stateful sequences following the response links), a fixed seed. The run fails on any 5xx, any
response that breaks its own schema or declared status codes/content type, and any refused request that wrote an
audit or outbox row (tests/security/schemathesis_hooks.py). Reports land in the test's tmp dir.

Bounded for `make test` (about 90 s on 2 cores; bench/schemathesis_long.py is the long run): the owner, who can
reach every operation, gets every phase including the coverage phase (~7,000 boundary and negative cases over the
104 operations); the analyst and the client viewer get the explicit examples, random fuzzing and the stateful
phase, where their role decides the answers (403s, viewer-narrowed lists)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.security import fuzz

pytestmark = [pytest.mark.stack, pytest.mark.slow]

MAX_EXAMPLES = int(os.environ.get("ST_FUZZ_EXAMPLES", "3"))
PHASES = {
    "owner": "examples,coverage,fuzzing,stateful",
    "analyst": "examples,fuzzing,stateful",
    "client_viewer": "examples,fuzzing,stateful",
}


@pytest.mark.parametrize("role", list(PHASES))
def test_schemathesis_role(role: str, http_url: str, make_tenant: Any, stack: Any, tmp_path: Path) -> None:
    world = make_tenant(f"fuzz {role}")
    actor = {"owner": world.owner, "analyst": world.analyst, "client_viewer": world.viewer}[role]
    result = fuzz.run(
        url=http_url,
        token=actor.token,
        tenant_id=str(world.tenant_id),
        db_url=stack.owner_url(),
        role=role,
        report_dir=tmp_path,
        max_examples=MAX_EXAMPLES,
        phases=PHASES[role],
    )
    print(f"{role}: {result.operations} operations, {result.cases} cases in {result.seconds:.1f}s")
    (tmp_path / "stdout.txt").write_text(result.stdout)
    assert result.operations >= 100, result.stdout[-4000:]
    assert not result.failures, "\n".join(result.failures[:40]) + "\n" + result.stdout[-3000:]
    assert result.returncode == 0, result.stdout[-4000:]
