"""Tests of infra.package: template layer resolution, size accounting, the 250 MB guard, and (slow) a real build.

The fast tests use fake trees, so they say nothing about pip or the wheels; the slow test builds both layers for
Lambda's platform and runs the smoke checks under Python 3.12, which is the only proof that the trimming is safe.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from infra import package as pkg

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Runtime: python3.12
    Layers:
      - !Ref CoreLayer
    Environment:
      Variables:
        BUS: !Sub "${AWS::StackName}-bus"
        HOST: !GetAtt DbProxy.Endpoint
Resources:
  CoreLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      LayerName: !Sub "${AWS::StackName}-core"
      ContentUri: build/layers/core
  MlLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: build/layers/ml
  ApiClients:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/api_clients/
      Handler: app.app
  ApiInsights:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/api_insights/
      Handler: app.app
      Layers: [!Ref CoreLayer, !Ref MlLayer, "arn:aws:lambda:us-east-1:123456789012:layer:ext:1"]
  Imaged:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: repo/image:latest
  Queue:
    Type: AWS::SQS::Queue
"""


def write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    for name in ("api_clients", "api_insights"):
        (tmp_path / "functions" / name).mkdir(parents=True)
        (tmp_path / "functions" / name / "app.py").write_text("app = None\n")
    return tmp_path


def test_template_short_tags_become_long_form(project: Path) -> None:
    template = pkg.load_template(project / "template.yaml")
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["BUS"] == {"Fn::Sub": "${AWS::StackName}-bus"}
    assert env["HOST"] == {"Fn::GetAtt": ["DbProxy", "Endpoint"]}
    assert template["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


def test_layers_resolve_from_globals_and_function(project: Path) -> None:
    functions = {
        f.name: f for f in pkg.resolve_functions(pkg.load_template(project / "template.yaml"), project)
    }
    assert set(functions) == {"api_clients", "api_insights"}  # the Image function is not zip-limited
    clients, insights = functions["api_clients"], functions["api_insights"]
    assert [r.label for r in clients.layers] == ["CoreLayer"]
    assert clients.layers[0].content_dir == project / "build/layers/core"
    # Globals' CoreLayer and the function's own CoreLayer are one layer, not two.
    assert [r.label for r in insights.layers][:2] == ["CoreLayer", "MlLayer"]
    assert len(insights.layers) == 3
    assert insights.layers[2].content_dir is None  # an external ARN cannot be sized
    assert insights.code_dir == (project / "functions/api_insights").resolve()


def test_code_uri_must_be_local(tmp_path: Path) -> None:
    template = {
        "Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": {"Bucket": "b"}}}}
    }
    with pytest.raises(pkg.PackagingError):
        pkg.resolve_functions(template, tmp_path)


def test_function_zip_is_deterministic_and_skips_caches(tmp_path: Path) -> None:
    code = tmp_path / "functions" / "api_x"
    write(code / "app.py", 100)
    write(code / "chalicelib" / "util.py", 50)
    write(code / "__pycache__" / "app.cpython-312.pyc", 1000)
    write(code / ".chalice" / "config.json", 1000)
    write(code / "tests" / "test_app.py", 1000)
    first = pkg.build_function_zip(code, tmp_path / "out" / "a.zip")
    os.utime(code / "app.py", (1, 1))
    second = pkg.build_function_zip(code, tmp_path / "out" / "b.zip")
    assert first == second == 150
    assert (tmp_path / "out" / "a.zip").read_bytes() == (tmp_path / "out" / "b.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "out" / "a.zip") as zf:
        assert sorted(zf.namelist()) == ["app.py", "chalicelib/util.py"]


def test_size_rows_add_each_declared_layer_once(project: Path) -> None:
    write(project / "build/layers/core/python/a.so", 3 * pkg.MIB)
    write(project / "build/layers/ml/python/b.so", 5 * pkg.MIB)
    functions = pkg.resolve_functions(pkg.load_template(project / "template.yaml"), project)
    sizes = pkg.build_functions(project / "functions", project / "build/functions")
    assert sizes == {"api_clients": 11, "api_insights": 11}
    rows = {r.function: r for r in pkg.size_rows(functions, sizes)}
    assert rows["api_clients"].total == 3 * pkg.MIB + 11
    assert rows["api_insights"].total == 8 * pkg.MIB + 11
    assert rows["api_insights"].unknown_layers == ["arn:aws:lambda:us-east-1:123456789012:layer:ext:1"]
    assert pkg.check_rows(list(rows.values())) == []
    report = pkg.format_report(list(rows.values()))
    assert report.splitlines()[2].startswith("api_insights")  # biggest first
    assert "not counted" in report


def test_over_limit_fails_with_nonzero_exit(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Sparse files: the size guard reads st_size, which is what Lambda would unpack.
    big = project / "build/layers/ml/python/huge.so"
    big.parent.mkdir(parents=True)
    with big.open("wb") as fh:
        fh.truncate(240 * pkg.MIB)
    write(project / "build/layers/core/python/core.so", 11 * pkg.MIB)
    functions = pkg.resolve_functions(pkg.load_template(project / "template.yaml"), project)
    sizes = pkg.build_functions(project / "functions", project / "build/functions")
    rows = pkg.size_rows(functions, sizes)
    problems = pkg.check_rows(rows)
    assert len(problems) == 1 and problems[0].startswith("api_insights")
    assert "OVER LIMIT" in pkg.format_report(rows)

    exit_code = pkg.main(
        [
            "--template",
            str(project / "template.yaml"),
            "--functions-dir",
            str(project / "functions"),
            "--build-dir",
            str(project / "build"),
            "--report-only",
        ]
    )
    assert exit_code == 1
    assert "exceeds Lambda's 250 MB" in capsys.readouterr().err


def test_limit_is_mebibytes_of_unzipped_bytes() -> None:
    row = pkg.SizeRow("f", ["CoreLayer"], function_bytes=1, layer_bytes=pkg.LAMBDA_UNZIPPED_LIMIT - 1)
    assert pkg.check_rows([row]) == []
    row.function_bytes = 2
    assert pkg.check_rows([row])
    assert pkg.LAMBDA_UNZIPPED_LIMIT == 262_144_000


def test_too_many_layers_is_refused() -> None:
    row = pkg.SizeRow("f", [f"L{i}" for i in range(6)], function_bytes=1, layer_bytes=1)
    assert any("6 layers" in p for p in pkg.check_rows([row]))


def _fake_dist(target: Path, name: str, requires: list[str], files: dict[str, int]) -> None:
    info = target / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    lines = [f"Name: {name}", "Version: 1.0", *(f"Requires-Dist: {r}" for r in requires)]
    (info / "METADATA").write_text("\n".join(lines) + "\n\nlong description\n")
    for rel, size in files.items():
        write(target / rel, size)
    record = [f"{rel},," for rel in files] + [
        f"{info.name}/METADATA,,",
        f"{info.name}/RECORD,,",
        "../../bin/x,,",
    ]
    (info / "RECORD").write_text("\n".join(record) + "\n")


def test_tooling_is_pruned_only_when_nothing_kept_needs_it(tmp_path: Path) -> None:
    _fake_dist(tmp_path, "chalice", ["click>=7", "pip", "botocore"], {"chalice/app.py": 10})
    _fake_dist(tmp_path, "click", [], {"click/__init__.py": 10})
    _fake_dist(tmp_path, "pip", [], {"pip/__init__.py": 10})
    _fake_dist(tmp_path, "httpx", ['rich ; extra == "cli"'], {"httpx/__init__.py": 10})
    _fake_dist(tmp_path, "typer-app", ["click"], {"typer_app/__init__.py": 10})
    dists = pkg.installed_dists(tmp_path)
    assert dists["chalice"].requires == ["click", "pip", "botocore"]
    assert dists["httpx"].requires == []  # an extra we did not ask for
    assert pkg.prunable(dists, {"click", "pip", "rich"}) == {"pip"}  # typer-app still needs click

    pkg.remove_dist(tmp_path, dists["pip"])
    assert not (tmp_path / "pip").exists()
    assert not list(tmp_path.glob("pip-*.dist-info"))
    assert (tmp_path / "click" / "__init__.py").exists()


def test_trim_removes_tests_sources_and_stubs_only(tmp_path: Path) -> None:
    write(tmp_path / "bin" / "chalice", 10)
    write(tmp_path / "numpy" / "tests" / "test_a.py", 100)
    write(tmp_path / "numpy" / "__pycache__" / "x.cpython-311.pyc", 100)
    write(tmp_path / "numpy" / "core.pyx", 100)
    write(tmp_path / "numpy" / "core.pyi", 100)
    write(tmp_path / "numpy" / "include" / "a.h", 100)
    write(tmp_path / "numpy" / "testing" / "__init__.py", 7)  # a real runtime module (pandas imports it)
    write(tmp_path / "numpy" / "__init__.py", 5)
    saved = pkg.trim_tree(tmp_path)
    assert saved == 510
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "numpy/__init__.py",
        "numpy/testing/__init__.py",
    ]


def test_requirements_come_from_pyproject() -> None:
    reqs = pkg.read_requirements(pkg.REPO / "pyproject.toml")
    names = {pkg.requirement_name(r) for r in reqs["core"]}
    assert {"pydantic", "sqlalchemy", "boto3"} <= names
    assert {pkg.requirement_name(r) for r in reqs["ml"]} >= {"numpy", "scipy", "scikit-learn", "pandas"}


def test_stamp_changes_with_requirements_only() -> None:
    a = pkg.stamp_for(["numpy>=2", "scipy"], [], {})
    assert a == pkg.stamp_for(["scipy", "numpy>=2"], [], {})
    assert a != pkg.stamp_for(["numpy>=2.1", "scipy"], [], {})
    assert a != pkg.stamp_for(["numpy>=2", "scipy"], ["six==1.17.0"], {})


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("MS_SKIP_PACKAGE_BUILD") == "1", reason="MS_SKIP_PACKAGE_BUILD=1")
def test_real_layers_build_trim_and_pass_the_smoke_check(tmp_path: Path) -> None:
    """Downloads the wheels for Lambda's platform, trims them, and imports/fits under Python 3.12."""
    python312 = pkg.find_lambda_python()
    if python312 is None:
        pytest.skip("no Python 3.12 interpreter (set MS_LAMBDA_PYTHON)")
    builds = {b.name: b for b in pkg.build_layers(tmp_path, python312=python312)}
    core, ml = builds["core"].python_dir, builds["ml"].python_dir
    assert not (core / "boto3").exists() and not (core / "botocore").exists()
    assert not list(ml.rglob("tests")) and not list(ml.rglob("*.pyx"))
    assert not list(ml.glob("python_dateutil-*.dist-info"))  # shipped once, by core
    total = pkg.tree_size(core.parent) + pkg.tree_size(ml.parent)
    assert total < pkg.LAMBDA_UNZIPPED_LIMIT, f"core+ml = {total / pkg.MIB:.1f} MB"

    # Cached: an unchanged requirement list does not reinstall.
    again = {b.name: b for b in pkg.build_layers(tmp_path, python312=python312)}
    assert again["core"].cached and again["ml"].cached

    runtime = pkg.runtime_dir(
        tmp_path, pkg.read_requirements(pkg.REPO / "pyproject.toml")["core"], force=False
    )
    failures = pkg.verify(python312, tmp_path, core, ml, runtime)
    assert failures == [], "\n".join(failures)
