"""Drive the schemathesis CLI against a gateway served over HTTP, as one role of one tenant, and read its JSON
report. Used by tests/security/test_schemathesis.py (bounded, in `make test`) and bench/schemathesis_long.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "no_write_on_failure",
)


@dataclass
class FuzzRun:
    role: str
    returncode: int
    seconds: float
    report: dict[str, Any]
    stdout: str
    failures: list[str] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return _total_cases(self.report)

    @property
    def operations(self) -> int:
        return _operations(self.report)


def _total_cases(report: dict[str, Any]) -> int:
    return int(report.get("_cases", 0))


def _operations(report: dict[str, Any]) -> int:
    return int(report.get("_operations", 0))


def run(
    *,
    url: str,
    token: str,
    tenant_id: str,
    db_url: str,
    role: str,
    report_dir: Path,
    max_examples: int,
    phases: str = "examples,coverage,fuzzing,stateful",
    seed: int = 20261126,
    max_time: float | None = None,
    extra: tuple[str, ...] = (),
) -> FuzzRun:
    report_dir.mkdir(parents=True, exist_ok=True)
    ndjson = report_dir / f"{role}.ndjson"
    junit = report_dir / f"{role}.xml"
    cmd = [
        str(SCHEMATHESIS),
        "run",
        f"{url}/openapi.json",
        "--url",
        url,
        "-H",
        f"Authorization: Bearer {token}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        phases,
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--no-shrink",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--report",
        "ndjson,junit",
        "--report-ndjson-path",
        str(ndjson),
        "--report-junit-path",
        str(junit),
        "--output-truncate",
        "true",
        *extra,
    ]
    if max_time is not None:
        cmd += ["--max-time", str(int(max_time))]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "shared"), os.environ.get("PYTHONPATH", "")]),
        "SCHEMATHESIS_HOOKS": "tests.security.schemathesis_hooks",
        "ST_HOOK_DB_URL": db_url,
        "ST_HOOK_TENANT_ID": tenant_id,
        "NO_COLOR": "1",
    }
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.monotonic() - t0
    report = summarise(ndjson)
    return FuzzRun(role, proc.returncode, seconds, report, proc.stdout + proc.stderr, report["_failures"])


def summarise(ndjson: Path) -> dict[str, Any]:
    """Case and operation counts and one line per failure, from the run's ndjson event stream."""
    cases = 0
    operations: set[str] = set()
    failures: list[str] = []
    if ndjson.exists():
        for line in ndjson.read_text().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            for kind, body in event.items():
                if kind == "ScenarioFinished":
                    recorder = body.get("recorder") or {}
                    label = recorder.get("label") or ""
                    if label:
                        operations.add(label)
                    cases += len(recorder.get("cases") or {})
                    for cid, checks in (recorder.get("checks") or {}).items():
                        for chk in checks:
                            if str(chk.get("status", "")).lower() == "failure":
                                failure = chk.get("failure_info") or {}
                                f = failure.get("failure") or {}
                                failures.append(
                                    f"{label}: {chk.get('name')}: {f.get('title', '')} {f.get('message', '')}".strip()
                                    + f" [{cid}]"
                                )
    return {"_cases": cases, "_operations": len(operations), "_failures": failures}
