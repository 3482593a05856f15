"""Cold import time of each Lambda handler module (``functions/*/app.py``), each in a fresh interpreter.

Why a fresh interpreter per sample: a Lambda cold start pays for every import the handler module triggers; in one
long-lived process everything after the first import is cached and the numbers would mean nothing. Why an anchor:
``python -c pass`` is timed in the same run so that figures from different machines (or a loaded machine) can be
compared as ratios, and so that interpreter start-up is not blamed on our imports.

Usage: ``.venv/bin/python bench/cold_import.py [--repeats 7] [--python PATH] [--budget-ms 300] [--json]``

The child measures ``time.perf_counter()`` around ``importlib`` loading of app.py only (interpreter start-up is
excluded), with ``PYTHONPATH=shared`` as the layers would provide ``strategist``. The reported "process" column is
the wall time of the whole child, for comparison with the anchor. Non-ML functions over the budget (the goal in
issue 2 is 300 ms) are flagged and make the exit status 1. A function counts as ML when the template gives it the
``MlLayer``; without a template, when its module loads numpy/scipy/sklearn/pandas.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ML_MODULES = ("numpy", "scipy", "sklearn", "pandas")

CHILD = """
import importlib.util, json, sys, time
path = sys.argv[1]
sys.path.insert(0, path.rsplit("/", 1)[0])  # the function's own directory, as /var/task on Lambda
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", path)
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
elapsed = time.perf_counter() - t0
ml = sorted(m for m in {ml_modules!r} if m in sys.modules)
print(json.dumps({{"import_s": elapsed, "ml": ml, "modules": len(sys.modules)}}))
"""


@dataclass
class Result:
    """Timings of one handler module (seconds)."""

    function: str
    ml: bool
    import_min: float
    import_median: float
    process_min: float
    modules: int
    error: str = ""


def child_env() -> dict[str, str]:
    """Environment for the child: strategist importable, nothing cached, settings a handler may read at import."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "shared")
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # like Lambda's read-only code: never leaves a cache behind
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env.setdefault("POWERTOOLS_SERVICE_NAME", "bench")
    return env


def time_process(
    cmd: list[str], env: dict[str, str], cwd: Path
) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - t0, proc


def ml_functions_from_template(template: Path) -> set[str] | None:
    """Names of functions (their functions/<name>/ dir) that the template gives the MlLayer; None if unknown."""
    if not template.exists():
        return None
    sys.path.insert(0, str(REPO))
    try:
        from infra.package import load_template, resolve_functions
    except ImportError:
        return None
    functions = resolve_functions(load_template(template), template.parent)
    return {f.name for f in functions if any(r.label == "MlLayer" for r in f.layers)}


def measure(python: str, app: Path, repeats: int, env: dict[str, str]) -> Result:
    imports: list[float] = []
    processes: list[float] = []
    info: dict[str, object] = {}
    for _ in range(repeats):
        wall, proc = time_process(
            [python, "-c", CHILD.format(ml_modules=ML_MODULES), str(app)], env, app.parent
        )
        if proc.returncode != 0:
            err = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
            return Result(app.parent.name, False, 0.0, 0.0, 0.0, 0, error=err)
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        imports.append(float(info["import_s"]))  # type: ignore[arg-type]
        processes.append(wall)
    return Result(
        function=app.parent.name,
        ml=bool(info["ml"]),
        import_min=min(imports),
        import_median=statistics.median(imports),
        process_min=min(processes),
        modules=int(info["modules"]),  # type: ignore[call-overload]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--python", default=sys.executable, help="interpreter to measure with")
    parser.add_argument("--budget-ms", type=float, default=300.0)
    parser.add_argument("--functions-dir", type=Path, default=REPO / "functions")
    parser.add_argument("--template", type=Path, default=REPO / "template.yaml")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args(argv)

    env = child_env()
    apps = sorted(args.functions_dir.glob("*/app.py"))
    if not apps:
        print(f"no handler modules under {args.functions_dir}", file=sys.stderr)
        return 2

    anchor = [time_process([args.python, "-c", "pass"], env, REPO)[0] for _ in range(args.repeats)]
    anchor_min, anchor_median = min(anchor), statistics.median(anchor)
    ml_declared = ml_functions_from_template(args.template)
    results = [measure(args.python, app, args.repeats, env) for app in apps]
    for r in results:
        if ml_declared is not None:
            r.ml = r.function in ml_declared

    version = subprocess.run(
        [args.python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(
        f"Python {version}, {args.repeats} fresh interpreters per module, PYTHONPATH=shared, "
        f"no bytecode cache written (children run with PYTHONDONTWRITEBYTECODE=1)"
    )
    print(f"anchor `python -c pass`: min {anchor_min * 1e3:.1f} ms, median {anchor_median * 1e3:.1f} ms\n")
    header = (
        "function",
        "kind",
        "import min ms",
        "import median ms",
        "process min ms",
        "x anchor",
        "modules",
        "",
    )
    rows = [header]
    over = []
    for r in sorted(results, key=lambda r: -r.import_median):
        if r.error:
            rows.append((r.function, "?", "-", "-", "-", "-", "-", f"ERROR {r.error}"))
            over.append(r.function)
            continue
        flag = ""
        if not r.ml and r.import_median * 1e3 > args.budget_ms:
            flag = f"OVER {args.budget_ms:.0f} ms"
            over.append(r.function)
        rows.append(
            (
                r.function,
                "ml" if r.ml else "core",
                f"{r.import_min * 1e3:.1f}",
                f"{r.import_median * 1e3:.1f}",
                f"{r.process_min * 1e3:.1f}",
                f"{r.process_min / anchor_min:.1f}",
                str(r.modules),
                flag,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    if args.json:
        print(json.dumps({"anchor_min_s": anchor_min, "results": [asdict(r) for r in results]}, indent=2))
    if over:
        print(f"\nover budget or failing: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
