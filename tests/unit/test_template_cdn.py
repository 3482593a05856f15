"""The deployed dashboard's CloudFront distribution (issue 8): `/api/*` reaches the REST API on the site's own
origin, uncached and with every method; everything else comes from the bucket, and client-side routes get
index.html from a viewer-request function (a distribution-wide 403->200 mapping would also rewrite the API's
own 403s into index.html)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from samtranslator.yaml_helper import yaml_parse

from infra.template import ROOT, load_template

DOC = yaml_parse((ROOT / "template.yaml").read_text())
RESOURCES = DOC["Resources"]
CONFIG = RESOURCES["DashboardDistribution"]["Properties"]["DistributionConfig"]
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _origin(origin_id: str) -> dict:
    return next(o for o in CONFIG["Origins"] if o["Id"] == origin_id)


def test_api_paths_route_to_the_rest_api_stage():
    behaviours = {b["PathPattern"]: b for b in CONFIG.get("CacheBehaviors", [])}
    assert "/api/*" in behaviours
    api = behaviours["/api/*"]
    origin = _origin(api["TargetOriginId"])
    # The REST API resource of this template, at its stage: /api/v1/x -> .../<Stage>/api/v1/x.
    assert origin["DomainName"] == {"Fn::Sub": "${Api}.execute-api.${AWS::Region}.amazonaws.com"}
    assert RESOURCES["Api"]["Type"] == "AWS::Serverless::Api"
    assert origin["OriginPath"] == {"Fn::Sub": "/${Stage}"}
    assert RESOURCES["Api"]["Properties"]["StageName"] == {"Ref": "Stage"}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert "S3OriginConfig" not in origin

    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST  # Authorization and query strings pass
    assert set(api["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert api["ViewerProtocolPolicy"] in ("https-only", "redirect-to-https")
    assert not api.get("FunctionAssociations")  # API paths are never rewritten to index.html


def test_every_api_route_is_under_the_routed_prefix():
    """Whatever the template serves besides /health must be reachable through the distribution."""
    outside = {r.path for r in load_template().routes if not r.path.startswith("/api/")}
    assert outside <= {"/health"}


def test_the_site_stays_on_the_bucket_with_no_error_rewrites():
    default = CONFIG["DefaultCacheBehavior"]
    assert "S3OriginConfig" in _origin(default["TargetOriginId"])
    assert not CONFIG.get("CustomErrorResponses"), "error mappings apply to the API origin too"
    (assoc,) = default["FunctionAssociations"]
    assert assoc["EventType"] == "viewer-request"
    assert assoc["FunctionARN"] == {"Fn::GetAtt": ["DashboardSpaRouting", "FunctionARN"]}
    assert RESOURCES["DashboardSpaRouting"]["Type"] == "AWS::CloudFront::Function"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_spa_routing_function_rewrites_only_page_routes():
    code = RESOURCES["DashboardSpaRouting"]["Properties"]["FunctionCode"]
    uris = [
        "/",
        "/signin",
        "/clients/3f2a",
        "/clients/3f2a/",
        "/assets/index-abc.js",
        "/sw.js",
        "/manifest.webmanifest",
        "/favicon.svg",
    ]
    script = code + (
        "\nconst uris = " + json.dumps(uris) + ";\n"
        "console.log(JSON.stringify(uris.map((u) => handler({ request: { uri: u } }).uri)));\n"
    )
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True, timeout=30)
    assert json.loads(out.stdout) == [
        "/index.html",
        "/index.html",
        "/index.html",
        "/index.html",
        "/assets/index-abc.js",
        "/sw.js",
        "/manifest.webmanifest",
        "/favicon.svg",
    ]
