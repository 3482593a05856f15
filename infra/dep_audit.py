"""Dependency audit for `make test`: pip-audit over the installed environment, with a reviewed ignore list. A known
vulnerability fails the run; a package the index cannot answer for is listed as skipped, not failed (no --strict):
CI installs afresh through whatever mirror it has, and a lookup gap there must not stop every submission.

Each ignored advisory names why it does not apply or why no fixed version can be taken yet, and an expiry date;
an expired entry fails the audit, so an accepted risk is re-reviewed instead of forgotten. Upgrade the pin in
pyproject.toml whenever a fixed version exists: the ignore list is only for advisories without a usable fix.

PyPI's per-release JSON (`/pypi/<name>/<version>/json`, what pip-audit asks) is not served by every mirror or
proxy; when it answers 404 for a release that is the project's newest, the project JSON (`/pypi/<name>/json`)
carries the same `vulnerabilities` list for that release and is used instead. Anything else stays unaudited and,
with `--strict`, fails the run.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

#: advisory id -> (reason, expiry). Empty: the last run (2026-11-26) found no known vulnerability.
IGNORED: dict[str, tuple[str, dt.date]] = {}

#: package -> (reason, expiry): a release the audit cannot look up where it runs (neither the per-release JSON nor,
#: being older than the newest, the project JSON), accepted as unaudited until the expiry.
UNAUDITABLE: dict[str, tuple[str, dt.date]] = {
    "jsonschema-rs": (
        "test-only (schemathesis pins <0.61, never deployed in a layer); the local PyPI proxy has no per-release "
        "JSON for 0.60.x and the project JSON only covers the newest release; audited normally against pypi.org",
        dt.date(2027, 2, 28),
    ),
    "pip": (
        "chalice 1.34 requires pip<26.3 (26.3 is the newest); a build tool, never deployed",
        dt.date(2027, 2, 28),
    ),
}
#: Behind the local proxy (no per-release JSON) these installed releases are one minor behind the newest and so
#: cannot be looked up; pyproject allows the newer ones, which `make install` on a fresh venv takes. Short expiry:
#: upgrade the venv (not mid-session while other runs share it) and drop the entries.
_BEHIND = ("mpmath", "networkx", "numpy", "pydantic", "pydantic-core", "python-dateutil", "scipy")
UNAUDITABLE |= {
    name: ("older than the newest release; unauditable through the local proxy only", dt.date(2026, 12, 31))
    for name in _BEHIND
}


OURS = "marketing-strategist"
STRICT: list[str] = []  # see the module docstring


def _fallback_service() -> type:
    import requests
    from packaging.version import Version
    from pip_audit._service import PyPIService
    from pip_audit._service.interface import ResolvedDependency, SkippedDependency, VulnerabilityResult

    class ProjectJsonFallback(PyPIService):  # type: ignore[misc]
        def query(self, spec: Any) -> tuple[Any, list[Any]]:
            if getattr(spec, "canonical_name", None) == OURS:
                return spec, []  # this project (installed editable): not a PyPI package, its deps are audited
            dep, results = super().query(spec)
            if not (isinstance(dep, SkippedDependency) and isinstance(spec, ResolvedDependency)):
                return dep, results
            try:
                response = self.session.get(
                    url=f"https://pypi.org/pypi/{spec.canonical_name}/json", timeout=self.timeout
                )
                response.raise_for_status()
            except requests.RequestException:
                return dep, results
            body = response.json()
            if Version(body["info"]["version"]) != spec.version:
                # an older release: its advisories are not in the project JSON
                if spec.canonical_name in UNAUDITABLE:
                    print(f"unaudited by review: {spec.canonical_name} {spec.version}", file=sys.stderr)
                    return spec, []
                return dep, results
            found = [
                VulnerabilityResult.create(
                    ids=[v["id"], *v.get("aliases", [])],
                    description=(v.get("summary") or v.get("details") or "N/A").replace("\n", " "),
                    fix_versions=sorted(Version(f) for f in v.get("fixed_in", [])),
                    published=self._parse_rfc3339(v.get("published")),
                )
                for v in body.get("vulnerabilities") or []
                if v.get("withdrawn") is None
            ]
            return spec, found

    return ProjectJsonFallback


def main(argv: list[str]) -> int:
    today = dt.date.today()
    for name, (reason, until) in UNAUDITABLE.items():
        if until < today:
            print(
                f"note: reviewed-unauditable entry {name} passed its review date {until} ({reason})",
                file=sys.stderr,
            )
    expired = {k: v for k, v in IGNORED.items() if v[1] < today}
    if expired:
        for vuln, (reason, until) in expired.items():
            print(f"pip-audit ignore entry {vuln} expired on {until} ({reason}): review it", file=sys.stderr)
        return 1
    from pip_audit import _cli

    _cli.PyPIService = _fallback_service()
    args = ["pip-audit", *STRICT, "--progress-spinner", "off"]
    for vuln in IGNORED:
        args += ["--ignore-vuln", vuln]
    sys.argv = [*args, *argv]
    try:
        _cli.audit()
    except SystemExit as done:
        return int(done.code or 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
