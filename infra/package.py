"""Build the Lambda layers and function zips into ``build/``, and refuse what Lambda would refuse.

Run as ``python -m infra.package [--force] [--verify]``.

Why this exists instead of ``sam build`` doing the pip work: the ``ml`` layer (numpy, scipy, scikit-learn,
pandas) installs to ~250-360 MB for Lambda's platform, and Lambda refuses a function whose code plus layers
exceeds 250 MB *unzipped*. ``sam build`` would install it untrimmed and only fail at deploy time, on AWS. Here the
layers are installed for the real target (CPython 3.12 on Amazon Linux 2023, x86_64), trimmed, measured per
function from ``template.yaml``, and smoke-tested under a 3.12 interpreter, all on a developer machine.

Layout produced (``template.yaml`` points ``ContentUri``/``CodeUri`` at these):
- ``build/layers/core/python/...``: ``[project].dependencies`` minus what the Lambda runtime ships (boto3,
  botocore, s3transfer) and minus CLI-only tooling, plus the ``strategist`` package.
- ``build/layers/ml/python/...``: ``[project.optional-dependencies].ml``, resolved against the core layer's exact
  versions so that no distribution is shipped twice and both layers agree.
- ``build/functions/<name>.zip``: each ``functions/<name>/`` directory, nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import tomllib
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]

# Lambda's quota is "250 MB unzipped, including layers", which AWS counts as 250 MiB = 262,144,000 bytes.
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
LAMBDA_MAX_LAYERS = 5
MIB = 1024 * 1024

# python3.12 on Lambda runs on Amazon Linux 2023 (glibc 2.34). Offering every manylinux tag up to 2_34 lets pip take
# the current wheels (numpy >= 2.3 ships manylinux_2_28 only); "manylinux2014" alone would silently pin us to
# older releases than the ones we develop and test with.
LAMBDA_PYTHON_VERSION = "3.12"
LAMBDA_GLIBC_MINOR = 34
PLATFORM_TAGS: tuple[str, ...] = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(LAMBDA_GLIBC_MINOR, 16, -1)),
    "manylinux2014_x86_64",
)

# The python3.12 runtime puts these on sys.path (/var/runtime) itself. Shipping them would add ~35 MB to every
# function. Our floor (boto3>=1.35) is older than what the runtime ships, so nothing we use needs a newer SDK; if
# that ever changes, pass --bundle-boto3 (layers come before /var/runtime on sys.path, so a shipped copy wins).
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})
# Installers, and the dependencies of Chalice's *command line* (deploy tooling). At run time a Chalice app only
# imports chalice.app, which is standard library only. Each is removed only if no kept distribution other than a
# CLI host still requires it, so a real runtime user of, say, click keeps it.
PRUNABLE_TOOLING = frozenset(
    {
        "pip",
        "setuptools",
        "wheel",
        "click",
        "inquirer",
        "blessed",
        "editor",
        "readchar",
        "runs",
        "xmod",
        "jinxed",
        "wcwidth",
    }
)
CLI_HOSTS = frozenset({"chalice"})

# Trimming: files that only matter to compilers, type checkers or test runners.
TRIM_DIR_NAMES = frozenset({"tests", "__pycache__"})
TRIM_SUFFIXES = (".pyx", ".pxd", ".pxi", ".c", ".cpp", ".h", ".hpp", ".pyi")
TRIM_FILE_SUFFIXES_BINARY = (".a",)  # static libraries, for compiling against numpy; never loaded
# Paths (relative to the layer's python/) that are not needed at run time: console scripts of a --target install,
# and scikit-learn's bundled toy data sets (load_iris & co., which our code does not use: it fits client data).
TRIM_PATHS = (
    "bin",
    "sklearn/datasets/data",
    "sklearn/datasets/images",
    "sklearn/datasets/descr",
)

# Bump when the trimming recipe changes, so cached layers are rebuilt.
RECIPE_VERSION = "5"

# Pre-compiled to .pyc (with everything they import, and every strategist module and handler): the import set of
# a cold start. Other modules still work; they are compiled in memory when first imported.
WARM_IMPORTS: dict[str, tuple[str, ...]] = {
    "core": (
        "chalice",
        "aws_lambda_powertools",
        "aws_lambda_powertools.logging",
        "aws_lambda_powertools.metrics",
        "aws_lambda_powertools.utilities.batch",
        "aws_lambda_powertools.utilities.typing",
        "sqlalchemy",
        "sqlalchemy.orm",
        "sqlalchemy.dialects.postgresql.pg8000",
        "pg8000.dbapi",
        "pg8000.native",
        "pydantic",
        "httpx",
        "jwt",
        "argon2",
        "tenacity",
        "yaml",
    ),
    "crypto": ("cryptography.hazmat.primitives.ciphers.aead",),
    "ml": (
        "numpy",
        "scipy.linalg",
        "scipy.optimize",
        "scipy.special",
        "scipy.stats",
        "scipy.sparse",
        "sklearn.base",
        "sklearn.linear_model",
        "sklearn.model_selection",
        "sklearn.preprocessing",
        "sklearn.metrics",
        "pandas",
    ),
}


class PackagingError(RuntimeError):
    """A problem the developer must fix (bad template, missing function directory, failed smoke check)."""


# --------------------------------------------------------------------------------------------------------------
# template.yaml


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation short tags (!Ref, !Sub, !GetAtt, ...).

    Each tag becomes its long form ({"Ref": x}, {"Fn::Sub": x}, ...), which is what the rest of the code matches on.
    """


def _construct_cfn_tag(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_cfn_tag)


def load_template(path: Path) -> dict[str, Any]:
    """Parse a SAM/CloudFormation template, short tags included."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=CfnLoader)  # CfnLoader is a SafeLoader
    if not isinstance(data, dict):
        raise PackagingError(f"{path}: not a template (top level is {type(data).__name__})")
    return data


@dataclass(frozen=True)
class LayerRef:
    """One entry of a function's Layers list: a layer of this template (with its content dir) or an external one."""

    label: str
    content_dir: Path | None  # None: external ARN or an expression we cannot size


@dataclass(frozen=True)
class FunctionSpec:
    """What the size guard needs to know about one AWS::Serverless::Function."""

    logical_id: str
    name: str  # the functions/<name>/ directory name
    code_dir: Path
    layers: tuple[LayerRef, ...]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def resolve_functions(template: dict[str, Any], root: Path) -> list[FunctionSpec]:
    """Map each zip-packaged function of the template to its code directory and its layers.

    SAM merges ``Globals.Function`` into each function; for lists such as ``Layers`` the global entries are added
    to the function's own, so both are collected (de-duplicated, order kept). Image-packaged functions are skipped:
    the 250 MB zip limit does not apply to them.
    """
    resources: dict[str, Any] = template.get("Resources") or {}
    layer_dirs: dict[str, Path | None] = {}
    for logical_id, res in resources.items():
        if not isinstance(res, dict):
            continue
        if res.get("Type") in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            uri = (res.get("Properties") or {}).get("ContentUri")
            layer_dirs[logical_id] = root / uri if isinstance(uri, str) else None

    globals_fn: dict[str, Any] = (template.get("Globals") or {}).get("Function") or {}
    functions: list[FunctionSpec] = []
    for logical_id, res in resources.items():
        if not isinstance(res, dict) or res.get("Type") != "AWS::Serverless::Function":
            continue
        props: dict[str, Any] = res.get("Properties") or {}
        if props.get("PackageType", globals_fn.get("PackageType")) == "Image":
            continue
        code_uri = props.get("CodeUri", globals_fn.get("CodeUri"))
        if not isinstance(code_uri, str):
            raise PackagingError(f"{logical_id}: CodeUri must be a local path, got {code_uri!r}")
        code_dir = (root / code_uri).resolve()
        refs: list[LayerRef] = []
        seen: set[str] = set()
        for entry in _as_list(globals_fn.get("Layers")) + _as_list(props.get("Layers")):
            ref = _layer_ref(entry, layer_dirs)
            if ref.label not in seen:
                seen.add(ref.label)
                refs.append(ref)
        functions.append(FunctionSpec(logical_id, code_dir.name, code_dir, tuple(refs)))
    return sorted(functions, key=lambda f: f.name)


def _layer_ref(entry: Any, layer_dirs: dict[str, Path | None]) -> LayerRef:
    if isinstance(entry, dict) and set(entry) == {"Ref"} and entry["Ref"] in layer_dirs:
        return LayerRef(entry["Ref"], layer_dirs[entry["Ref"]])
    if isinstance(entry, str):
        return LayerRef(entry, None)
    return LayerRef(json.dumps(entry, sort_keys=True), None)


# --------------------------------------------------------------------------------------------------------------
# size accounting


def tree_size(path: Path) -> int:
    """Bytes Lambda would unpack for this directory: regular files, symlinks not followed."""
    total = 0
    for dirpath, _dirnames, filenames in os.walk(path):
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            total += st.st_size
    return total


def zip_unzipped_size(path: Path) -> int:
    """Uncompressed size of a zip: what counts against Lambda's limit, not the zip's own size."""
    with zipfile.ZipFile(path) as zf:
        return sum(info.file_size for info in zf.infolist())


@dataclass
class SizeRow:
    """One line of the size report."""

    function: str
    layers: list[str]
    function_bytes: int
    layer_bytes: int
    unknown_layers: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.function_bytes + self.layer_bytes


def size_rows(
    functions: Sequence[FunctionSpec],
    function_sizes: dict[str, int],
    layer_size_cache: dict[Path, int] | None = None,
) -> list[SizeRow]:
    """Function bytes plus the bytes of each layer it declares. External layers cannot be measured: listed apart."""
    cache = layer_size_cache if layer_size_cache is not None else {}
    rows: list[SizeRow] = []
    for fn in functions:
        layer_bytes = 0
        unknown: list[str] = []
        for ref in fn.layers:
            if ref.content_dir is None or not ref.content_dir.is_dir():
                unknown.append(ref.label)
                continue
            if ref.content_dir not in cache:
                cache[ref.content_dir] = tree_size(ref.content_dir)
            layer_bytes += cache[ref.content_dir]
        rows.append(
            SizeRow(fn.name, [r.label for r in fn.layers], function_sizes[fn.name], layer_bytes, unknown)
        )
    return rows


def check_rows(rows: Sequence[SizeRow], limit: int = LAMBDA_UNZIPPED_LIMIT) -> list[str]:
    """Every reason the deploy would be refused (over the unzipped limit, too many layers)."""
    problems = []
    for row in rows:
        if row.total > limit:
            problems.append(
                f"{row.function}: {row.total / MIB:.1f} MB unzipped with layers {', '.join(row.layers)} "
                f"exceeds Lambda's {limit / MIB:.0f} MB"
            )
        if len(row.layers) > LAMBDA_MAX_LAYERS:
            problems.append(f"{row.function}: {len(row.layers)} layers, Lambda allows {LAMBDA_MAX_LAYERS}")
    return problems


def format_report(rows: Sequence[SizeRow], limit: int = LAMBDA_UNZIPPED_LIMIT) -> str:
    """Plain-text table, biggest first, so the function closest to the limit is on top."""
    header = ("function", "layers", "code MB", "layers MB", "total MB", "headroom MB", "")
    lines = [header]
    for row in sorted(rows, key=lambda r: (-r.total, r.function)):
        flag = "OVER LIMIT" if row.total > limit else ""
        if row.unknown_layers:
            flag = (flag + " " if flag else "") + f"(not counted: {', '.join(row.unknown_layers)})"
        lines.append(
            (
                row.function,
                "+".join(row.layers) or "-",
                f"{row.function_bytes / MIB:.3f}",
                f"{row.layer_bytes / MIB:.1f}",
                f"{row.total / MIB:.1f}",
                f"{(limit - row.total) / MIB:.1f}",
                flag,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for i, line in enumerate(lines):
        out.append("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(line)).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths).rstrip())
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------------------
# function zips


def _function_files(code_dir: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(code_dir):
        # .chalice/ is deploy-time CLI config; caches and tests never run in Lambda.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in TRIM_DIR_NAMES)
        for name in sorted(filenames):
            if not name.endswith((".pyc", ".pyo")):
                yield Path(dirpath) / name


def build_function_zip(code_dir: Path, out: Path) -> int:
    """Zip one function directory deterministically (sorted, fixed timestamps) and return its unzipped size.

    Deterministic bytes mean an unchanged function produces an identical artifact, so a deploy does not touch it.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in _function_files(code_dir):
            info = zipfile.ZipInfo(path.relative_to(code_dir).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    tmp.replace(out)
    return zip_unzipped_size(out)


# --------------------------------------------------------------------------------------------------------------
# layers: requirements, install, prune, trim


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(req: str) -> str:
    match = _REQ_NAME.match(req)
    if not match:
        raise PackagingError(f"cannot read a distribution name from requirement {req!r}")
    return canonical(match.group(1))


def read_requirements(pyproject: Path) -> dict[str, list[str]]:
    """Layer name -> requirement strings: ``core`` from [project].dependencies, ``ml`` from the ``ml`` extra."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = data["project"]
    extras = project["optional-dependencies"]
    return {
        "core": list(project["dependencies"]),
        "ml": list(extras["ml"]),
        "crypto": list(extras.get("crypto", [])),
    }


@dataclass
class Dist:
    """An installed distribution inside a --target tree, as read from its .dist-info."""

    name: str
    version: str
    dist_info: Path
    requires: list[str]  # canonical names, unconditional or marker-gated (extras excluded)
    files: list[Path]


def installed_dists(target: Path) -> dict[str, Dist]:
    """Read METADATA/RECORD of every distribution installed into ``target``."""
    dists: dict[str, Dist] = {}
    for info in sorted(target.glob("*.dist-info")):
        meta = (info / "METADATA").read_text(encoding="utf-8", errors="replace")
        headers = meta.split("\n\n", 1)[0]
        name = version = ""
        requires: list[str] = []
        for line in headers.splitlines():
            key, _, value = line.partition(":")
            value = value.strip()
            if key == "Name":
                name = value
            elif key == "Version":
                version = value
            elif key == "Requires-Dist" and "extra ==" not in value.replace('extra=="', 'extra == "'):
                # Requirements behind an extra are only installed if the extra was asked for; others (including
                # python_version markers) are kept: counting a dependency too many only prunes less.
                requires.append(requirement_name(value))
        files: list[Path] = []
        record = info / "RECORD"
        if record.exists():
            for row in record.read_text(encoding="utf-8").splitlines():
                rel = row.split(",", 1)[0]
                if rel:
                    files.append(target / rel)
        dists[canonical(name)] = Dist(canonical(name), version, info, requires, files)
    return dists


def remove_dist(target: Path, dist: Dist) -> None:
    """Delete a distribution's files (per RECORD) and its .dist-info, then the directories left empty."""
    root = target.resolve()
    parents: set[Path] = set()
    for path in dist.files:
        resolved = path.resolve() if path.exists() else path
        if root not in resolved.parents:
            continue  # RECORD may name ../../bin scripts outside the target
        if resolved.is_file() or resolved.is_symlink():
            resolved.unlink()
            parents.add(resolved.parent)
    shutil.rmtree(dist.dist_info, ignore_errors=True)
    for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            while parent != root and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent


def prunable(
    dists: dict[str, Dist], candidates: Iterable[str], cli_hosts: Iterable[str] = CLI_HOSTS
) -> set[str]:
    """The candidates that no kept distribution needs.

    A candidate stays if any installed distribution that is neither a candidate being pruned nor a CLI host
    requires it; the check repeats until stable because keeping one candidate can keep its own dependencies.
    """
    hosts = {canonical(h) for h in cli_hosts}
    prune = {canonical(c) for c in candidates} & set(dists)
    changed = True
    while changed:
        changed = False
        for name in sorted(prune):
            users = {d.name for d in dists.values() if name in d.requires}
            if users - prune - hosts:
                prune.discard(name)
                changed = True
    return prune


def trim_tree(target: Path) -> int:
    """Delete tests, caches, compiler sources, static libraries, type stubs and toy data; return bytes saved."""
    before = tree_size(target)
    for rel in TRIM_PATHS:
        shutil.rmtree(target / rel, ignore_errors=True)
    for dirpath, dirnames, filenames in os.walk(target, topdown=True):
        for d in list(dirnames):
            if d in TRIM_DIR_NAMES:
                shutil.rmtree(os.path.join(dirpath, d))
                dirnames.remove(d)
        for name in filenames:
            if name.endswith(TRIM_SUFFIXES + TRIM_FILE_SUFFIXES_BINARY):
                os.unlink(os.path.join(dirpath, name))
    return before - tree_size(target)


def strip_extensions(target: Path) -> int:
    """``strip --strip-unneeded`` the Python extension modules; return the bytes saved.

    The vendored libraries under ``<pkg>.libs/`` (OpenBLAS, libgfortran, ...) are left alone: auditwheel rewrote
    them with patchelf, and strip then produces "ELF load command address/offset not page-aligned" at import
    (seen with scipy's libscipy_openblas). numpy's and scipy's OpenBLAS are not duplicates either: numpy bundles
    the ILP64 build (64-bit integers, symbols suffixed ``64_``), scipy the LP64 one, so neither can replace the other.
    """
    strip = shutil.which("strip")
    if strip is None:
        print("warning: `strip` not found (binutils); extension modules left unstripped", file=sys.stderr)
        return 0
    before = tree_size(target)
    files = [
        str(p)
        for p in target.rglob("*.so*")
        if p.is_file() and not p.is_symlink() and not any(part.endswith(".libs") for part in p.parts)
    ]
    for i in range(0, len(files), 200):
        subprocess.run([strip, "--strip-unneeded", *files[i : i + 200]], check=True)
    return before - tree_size(target)


def pip_install(requirements: Sequence[str], target: Path, constraints: Sequence[str] = ()) -> None:
    """Install wheels for Lambda's platform (never the build machine's) into ``target``.

    ``--no-compile``: pip would write .pyc files for the interpreter running it (3.11 here), which 3.12 ignores;
    the right ones are compiled afterwards with a 3.12 interpreter.
    """
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--no-warn-conflicts"]
    for tag in PLATFORM_TAGS:
        cmd += ["--platform", tag]
    cmd += [
        "--implementation",
        "cp",
        "--python-version",
        LAMBDA_PYTHON_VERSION,
        "--only-binary=:all:",
        "--target",
        str(target),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        if constraints:
            cfile = Path(tmp) / "constraints.txt"
            cfile.write_text("\n".join(constraints) + "\n", encoding="utf-8")
            cmd += ["--constraint", str(cfile)]
        subprocess.run([*cmd, *requirements], check=True)


def stamp_for(requirements: Sequence[str], constraints: Sequence[str], extra: dict[str, Any]) -> str:
    """Hash of everything that decides a layer's third-party content; equal stamp means no re-download."""
    payload = {
        "requirements": sorted(requirements),
        "constraints": sorted(constraints),
        "platforms": PLATFORM_TAGS,
        "python": LAMBDA_PYTHON_VERSION,
        "recipe": RECIPE_VERSION,
        **extra,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=sorted).encode()).hexdigest()


@dataclass
class LayerBuild:
    """What happened while building one layer (for the report)."""

    name: str
    python_dir: Path
    cached: bool
    installed_bytes: int = 0
    trimmed_bytes: int = 0
    pruned: list[str] = field(default_factory=list)

    @property
    def layer_dir(self) -> Path:
        return self.python_dir.parent


def build_third_party(
    name: str,
    layer_dir: Path,
    requirements: Sequence[str],
    *,
    constraints: Sequence[str] = (),
    drop: Iterable[str] = (),
    force: bool = False,
    stamp_extra: dict[str, Any] | None = None,
) -> LayerBuild:
    """Install, prune and trim one layer's third-party packages into ``layer_dir/python`` unless cached.

    ``drop`` lists distributions always removed after resolution (runtime-provided ones, or those the core layer
    already ships); they are resolved first so the versions that remain were chosen to be compatible with them.
    """
    python_dir = layer_dir / "python"
    stamp_file = layer_dir / ".stamp"
    stamp = stamp_for(requirements, constraints, {"drop": sorted(drop), **(stamp_extra or {})})
    if not force and stamp_file.exists() and stamp_file.read_text().strip() == stamp and python_dir.is_dir():
        return LayerBuild(name, python_dir, cached=True)

    shutil.rmtree(layer_dir, ignore_errors=True)
    python_dir.mkdir(parents=True)
    print(f"[{name}] installing {len(requirements)} requirements for cp312 manylinux x86_64 ...", flush=True)
    pip_install(requirements, python_dir, constraints)
    result = LayerBuild(name, python_dir, cached=False, installed_bytes=tree_size(python_dir))

    dists = installed_dists(python_dir)
    to_drop = {canonical(d) for d in drop} & set(dists)
    to_drop |= prunable(dists, PRUNABLE_TOOLING)
    for dist_name in sorted(to_drop):
        remove_dist(python_dir, dists[dist_name])
    result.pruned = sorted(to_drop)
    trim_tree(python_dir)
    strip_extensions(python_dir)
    result.trimmed_bytes = result.installed_bytes - tree_size(python_dir)
    stamp_file.write_text(stamp + "\n")
    return result


def pins(python_dir: Path) -> list[str]:
    """``name==version`` for every distribution in a built layer, used to constrain the next layer."""
    return [f"{d.name}=={d.version}" for d in installed_dists(python_dir).values()]


def copy_strategist(source: Path, python_dir: Path) -> None:
    """Copy the domain package into the core layer fresh each run (cheap; it changes far more than the deps)."""
    dest = python_dir / "strategist"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(
        source,
        dest,
        ignore=shutil.ignore_patterns("tests", "__pycache__", "*.pyc", "*.pyo", ".*"),
    )


# --------------------------------------------------------------------------------------------------------------
# a Python 3.12 to compile .pyc files and run smoke checks with


def find_lambda_python() -> Path | None:
    """A CPython 3.12 interpreter: $MS_LAMBDA_PYTHON, python3.12 on PATH, or a pyenv install."""
    candidates: list[str] = []
    if env := os.environ.get("MS_LAMBDA_PYTHON"):
        candidates.append(env)
    if found := shutil.which(f"python{LAMBDA_PYTHON_VERSION}"):
        candidates.append(found)
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(
        glob.glob(f"{pyenv_root}/versions/{LAMBDA_PYTHON_VERSION}.*/bin/python"), reverse=True
    )
    for cand in candidates:
        try:
            out = subprocess.run(
                [cand, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            continue
        if out == LAMBDA_PYTHON_VERSION:
            return Path(cand)
    return None


_IMPORTED_FILES = textwrap.dedent(
    """
    import importlib, importlib.util, json, pkgutil, sys
    mods, roots, apps = sys.argv[1].split(","), sys.argv[2].split(","), sys.argv[3:]
    try:
        import strategist
        mods += [m.name for m in pkgutil.walk_packages(strategist.__path__, "strategist.")]
    except Exception as exc:
        print(f"warm import strategist: {exc!r}", file=sys.stderr)
    for m in mods:
        try:
            importlib.import_module(m)
        except Exception as exc:
            print(f"warm import {m}: {exc!r}", file=sys.stderr)
    for i, path in enumerate(apps):
        try:
            spec = importlib.util.spec_from_file_location(f"_warm_app_{i}", path)
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
        except Exception as exc:
            print(f"warm import {path}: {exc!r}", file=sys.stderr)
    files = sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())})
    print(json.dumps([f for f in files if f.endswith(".py") and any(f.startswith(r) for r in roots)]))
    """
)

_PY_COMPILE = (
    "import py_compile, sys\n"
    "for f in sys.argv[1:]:\n"
    "    py_compile.compile(f, doraise=False, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)\n"
)


def precompile(
    python312: Path, python_dirs: Sequence[Path], imports: Sequence[str], apps: Sequence[Path] = ()
) -> int:
    """Write 3.12 .pyc files for the modules a cold start imports; return how many modules.

    Why: Lambda's /opt and /var/task are read-only, so a module without a shipped .pyc is recompiled on every cold
    start (measured here: importing numpy+scipy+sklearn+pandas took 3.5 s from sources, 1.2 s with .pyc). Why
    not every module: .pyc files for the whole of both layers cost ~45 MB, which does not fit under the 250 MB
    limit next to the ml layer; the modules actually imported cost about half that. ``unchecked-hash`` because
    zip archives round file times to 2 s, which would make timestamp-checked .pyc files look stale on Lambda.
    """
    roots = [str(p.resolve()) + os.sep for p in python_dirs]
    out = subprocess.run(
        [str(python312), "-s", "-c", _IMPORTED_FILES, ",".join(imports), ",".join(roots), *map(str, apps)],
        capture_output=True,
        text=True,
        env=_smoke_env(python_dirs),
        check=True,
    )
    if out.stderr.strip():
        print(out.stderr.strip(), file=sys.stderr)
    files = json.loads(out.stdout.strip().splitlines()[-1])
    for i in range(0, len(files), 500):
        subprocess.run([str(python312), "-c", _PY_COMPILE, *files[i : i + 500]], check=True)
    return len(files)


# --------------------------------------------------------------------------------------------------------------
# smoke checks


def _smoke_env(path: Sequence[Path]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONPATH"] = os.pathsep.join(str(p.resolve()) for p in path)
    env["PYTHONNOUSERSITE"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # as on Lambda's read-only filesystem; never dirty the layer
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return env


ML_SMOKE = textwrap.dedent(
    """
    import sys
    roots = sys.argv[1:]
    import numpy as np, scipy, sklearn, pandas as pd
    from scipy.optimize import minimize
    from sklearn.linear_model import Ridge
    for mod in (np, scipy, sklearn, pd):
        assert any(mod.__file__.startswith(r) for r in roots), f"{mod.__name__} not from the layer: {mod.__file__}"
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + rng.normal(scale=0.05, size=300)
    coef = Ridge(alpha=1e-3).fit(X, y).coef_
    assert np.allclose(coef, [1.5, -2.0, 0.5], atol=0.05), coef
    res = minimize(lambda v: float(((v - np.array([1.0, -3.0])) ** 2).sum()), np.zeros(2), method="L-BFGS-B")
    assert res.success and np.allclose(res.x, [1.0, -3.0], atol=1e-4), res
    df = pd.DataFrame({"platform": ["meta", "google", "meta", "tiktok"], "spend": [10.0, 20.0, 5.0, 1.0]})
    totals = df.groupby("platform")["spend"].sum().to_dict()
    assert totals == {"google": 20.0, "meta": 15.0, "tiktok": 1.0}, totals
    u, s, vt = np.linalg.svd(X, full_matrices=False)  # exercises the bundled OpenBLAS
    assert np.allclose((u * s) @ vt, X)
    import importlib, pkgutil
    try:
        import strategist.ml as sml
    except ModuleNotFoundError:
        sml = None
    if sml is not None:
        for m in pkgutil.walk_packages(sml.__path__, "strategist.ml."):
            importlib.import_module(m.name)
    print("ml smoke ok:", "numpy", np.__version__, "scipy", scipy.__version__, "sklearn", sklearn.__version__,
          "pandas", pd.__version__)
    """
)

CORE_SMOKE = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    import argon2, chalice, httpx, jwt, pg8000, pydantic, sqlalchemy, tenacity, yaml
    from aws_lambda_powertools import Logger
    ph = argon2.PasswordHasher()
    assert ph.verify(ph.hash("s3cret"), "s3cret")
    token = jwt.encode({"sub": "u1"}, "k" * 32, algorithm="HS256")
    assert jwt.decode(token, "k" * 32, algorithms=["HS256"])["sub"] == "u1"
    class M(pydantic.BaseModel):
        n: int
    assert M.model_validate({"n": "3"}).n == 3
    engine = sqlalchemy.create_engine("postgresql+pg8000://u:p@127.0.0.1:1/db")  # no connection is made
    assert engine.dialect.driver == "pg8000"
    app = chalice.Chalice(app_name="smoke")
    Logger(service="smoke")
    import boto3  # from the emulated runtime dir, as on Lambda
    failures = []
    try:
        import strategist
    except ModuleNotFoundError:
        strategist = None
    if strategist is not None:
        for m in pkgutil.walk_packages(strategist.__path__, "strategist."):
            if m.name == "strategist.ml" or m.name.startswith("strategist.ml."):
                continue  # needs the ml layer; checked by the ml smoke
            try:
                importlib.import_module(m.name)
            except Exception as exc:
                failures.append(f"{m.name}: {exc!r}")
    if failures:
        sys.exit("core layer cannot import:\\n  " + "\\n  ".join(failures))
    print("core smoke ok:", "pydantic", pydantic.VERSION, "sqlalchemy", sqlalchemy.__version__, "boto3",
          boto3.__version__)
    """
)

FUNCTION_SMOKE = textwrap.dedent(
    """
    import importlib.util, sys
    code_dir = sys.argv[1]
    sys.path.insert(0, code_dir)  # /var/task comes first on Lambda
    spec = importlib.util.spec_from_file_location("app", code_dir + "/app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    assert hasattr(module, "app") or hasattr(module, "handler"), "app.py defines neither app nor handler"
    heavy = sorted(m for m in ("numpy", "scipy", "sklearn", "pandas") if m in sys.modules)
    print("imports at module load:", ", ".join(heavy) or "no ML libraries")
    """
)


def run_smoke(
    python312: Path, script: str, path: Sequence[Path], args: Sequence[str] = (), cwd: Path | None = None
):
    """Run a smoke script under 3.12 with exactly ``path`` importable (no site-packages of the build machine)."""
    return subprocess.run(
        [str(python312), "-s", "-c", script, *args],
        env=_smoke_env(path),
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def smoke_python(python312: Path, build_dir: Path) -> Path:
    """A bare 3.12 venv: isolates the smoke checks from whatever is installed into the pyenv interpreter."""
    venv = build_dir / "smoke" / "venv"
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([str(python312), "-m", "venv", "--without-pip", "--clear", str(venv)], check=True)
    return py


def runtime_dir(build_dir: Path, core_requirements: Sequence[str], force: bool) -> Path:
    """Stand-in for Lambda's /var/runtime: the runtime-provided SDK, on sys.path *after* the layers, as on Lambda."""
    reqs = [r for r in core_requirements if requirement_name(r) in RUNTIME_PROVIDED]
    build = build_third_party("runtime", build_dir / "smoke" / "runtime", reqs, force=force)
    return build.python_dir


def verify(
    python312: Path,
    build_dir: Path,
    core: Path,
    ml: Path | None,
    runtime: Path,
    functions: Sequence[FunctionSpec] = (),
) -> list[str]:
    """Run the core, ml and per-function smoke checks; return failures (empty means all passed)."""
    py = smoke_python(python312, build_dir)
    failures: list[str] = []
    checks: list[tuple[str, str, list[Path], list[str], Path | None]] = [
        ("core layer", CORE_SMOKE, [core, runtime], [], None)
    ]
    if ml is not None:
        roots = [str(ml.resolve())]
        checks.append(("ml layer", ML_SMOKE, [core, ml, runtime], roots, None))
    for fn in functions:
        layer_paths = [r.content_dir / "python" for r in fn.layers if r.content_dir is not None]
        checks.append(
            (f"function {fn.name}", FUNCTION_SMOKE, [*layer_paths, runtime], [str(fn.code_dir)], fn.code_dir)
        )
    for label, script, path, args, cwd in checks:
        proc = run_smoke(py, script, path, args, cwd)
        if proc.returncode == 0:
            print(f"  ok  {label}: {proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ''}")
        else:
            failures.append(f"{label}:\n{(proc.stderr or proc.stdout).strip()[-3000:]}")
            print(f"  FAIL {label}")
    return failures


# --------------------------------------------------------------------------------------------------------------
# orchestration


def build_layers(
    build_dir: Path,
    *,
    pyproject: Path = REPO / "pyproject.toml",
    strategist_src: Path | None = REPO / "shared" / "strategist",
    python312: Path | None,
    force: bool = False,
    bundle_boto3: bool = False,
    with_ml: bool = True,
    apps: Sequence[Path] = (),
) -> list[LayerBuild]:
    """Build core then ml (ml is resolved against core's pins), copy strategist, and pre-compile for 3.12."""
    reqs = read_requirements(pyproject)
    drop_runtime = set() if bundle_boto3 else set(RUNTIME_PROVIDED)
    core = build_third_party(
        "core", build_dir / "layers" / "core", reqs["core"], drop=drop_runtime, force=force
    )
    builds = [core]
    if strategist_src is not None:
        copy_strategist(strategist_src, core.python_dir)

    if with_ml:
        core_pins = pins(core.python_dir)
        ml = build_third_party(
            "ml",
            build_dir / "layers" / "ml",
            reqs["ml"],
            constraints=core_pins,
            # Whatever core already ships (python-dateutil, six, ...) is removed here: same version by the
            # constraint, and one copy on /opt/python is enough.
            drop={p.split("==")[0] for p in core_pins} | drop_runtime,
            force=force,
        )
        builds.append(ml)

    if reqs["crypto"]:
        core_pins = pins(core.python_dir)
        builds.append(
            build_third_party(
                "crypto",
                build_dir / "layers" / "crypto",
                reqs["crypto"],
                constraints=core_pins,
                drop={p.split("==")[0] for p in core_pins} | drop_runtime,
                force=force,
            )
        )

    if python312 is not None:
        imports = [m for b in builds for m in WARM_IMPORTS.get(b.name, ())]
        n = precompile(python312, [b.python_dir for b in builds], imports, apps)
        print(
            f"pre-compiled {n} modules for Python {LAMBDA_PYTHON_VERSION} (the cold-start import set)",
            flush=True,
        )
    return builds


def build_functions(functions_root: Path, out_dir: Path) -> dict[str, int]:
    """Zip every ``functions/<name>/`` that has an app.py; return unzipped bytes per name."""
    sizes: dict[str, int] = {}
    if not functions_root.is_dir():
        return sizes
    for code_dir in sorted(p for p in functions_root.iterdir() if p.is_dir() and (p / "app.py").exists()):
        sizes[code_dir.name] = build_function_zip(code_dir, out_dir / f"{code_dir.name}.zip")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--force", action="store_true", help="rebuild layers even if requirements are unchanged"
    )
    parser.add_argument(
        "--verify", action="store_true", help="smoke-test the layers and each handler under 3.12"
    )
    parser.add_argument("--template", type=Path, default=REPO / "template.yaml")
    parser.add_argument("--build-dir", type=Path, default=REPO / "build")
    parser.add_argument("--functions-dir", type=Path, default=REPO / "functions")
    parser.add_argument(
        "--bundle-boto3",
        action="store_true",
        help="ship boto3/botocore in the core layer (newer SDK than runtime)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="do not build layers: zip functions and size what build/ holds",
    )
    args = parser.parse_args(argv)

    if not args.template.exists():
        print(
            f"error: {args.template} not found (it declares which layers each function uses)", file=sys.stderr
        )
        return 2
    try:
        functions = resolve_functions(load_template(args.template), args.template.parent)
    except PackagingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    python312 = find_lambda_python()
    if python312 is None:
        print(
            "warning: no Python 3.12 found (set MS_LAMBDA_PYTHON); layers get no .pyc files (slower cold starts)",
            file=sys.stderr,
        )
    if not args.report_only:
        apps = sorted(args.functions_dir.glob("*/app.py"))
        builds = build_layers(
            args.build_dir, python312=python312, force=args.force, bundle_boto3=args.bundle_boto3, apps=apps
        )
        for b in builds:
            state = (
                "cached"
                if b.cached
                else f"installed {b.installed_bytes / MIB:.1f} MB, trimmed {b.trimmed_bytes / MIB:.1f} MB"
            )
            pruned = f"; pruned {', '.join(b.pruned)}" if b.pruned else ""
            print(f"layer {b.name}: {tree_size(b.layer_dir) / MIB:.1f} MB unzipped ({state}{pruned})")

    function_sizes = build_functions(args.functions_dir, args.build_dir / "functions")
    problems: list[str] = []
    for fn in functions:
        if fn.name not in function_sizes:
            problems.append(f"{fn.logical_id}: CodeUri {fn.code_dir} has no app.py")
            function_sizes[fn.name] = 0
    declared = {fn.name for fn in functions}
    for name in sorted(set(function_sizes) - declared):
        print(f"note: functions/{name} is not declared in {args.template.name}; zipped but not size-checked")

    rows = size_rows(functions, function_sizes)
    print()
    print(format_report(rows))
    problems += check_rows(rows)

    if args.verify:
        print("\nverify (Python 3.12, layers only, boto3 as the runtime provides it):")
        if python312 is None:
            problems.append("--verify needs a Python 3.12 interpreter (set MS_LAMBDA_PYTHON)")
        else:
            core_dir = args.build_dir / "layers" / "core" / "python"
            ml_dir = args.build_dir / "layers" / "ml" / "python"
            runtime = runtime_dir(
                args.build_dir, read_requirements(REPO / "pyproject.toml")["core"], args.force
            )
            problems += verify(python312, args.build_dir, core_dir, ml_dir, runtime, functions)

    if problems:
        print("\nFAILED:\n- " + "\n- ".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
