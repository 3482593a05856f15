"""Upload the built dashboard to the stack's DashboardBucket and invalidate what must not be served stale.

    .venv/bin/python dashboard/deploy.py --stack marketing-strategist-dev [--region eu-west-1] [--no-build]

Builds for same-origin API calls (the distribution in template.yaml routes /api/* to the REST API; pass
--api-base URL to call the API on its own domain instead, e.g. the stack's ApiUrl), uploads dist/ with content types and cache headers
(hashed assets immutable for a year; index.html, sw.js and the manifest revalidated on every load), removes
objects a previous build left behind, then invalidates the unhashed paths in CloudFront. Needs AWS credentials
with s3:PutObject/DeleteObject/ListBucket on the bucket and cloudfront:CreateInvalidation."""

from __future__ import annotations

import argparse
import mimetypes
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIST = HERE / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache, must-revalidate"
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")


def stack_outputs(cfn, stack: str) -> dict[str, str]:
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def build(api_base: str) -> None:
    env = {**os.environ, "VITE_API_BASE": api_base}
    if not (HERE / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, env=env)
    subprocess.run(["npm", "run", "build"], cwd=HERE, check=True, env=env)


def upload(s3, bucket: str) -> list[str]:
    keys: list[str] = []
    # Assets first, index.html last: a browser never gets an index naming assets that are not there yet.
    files = sorted((p for p in DIST.rglob("*") if p.is_file()), key=lambda p: p.name == "index.html")
    for path in files:
        key = path.relative_to(DIST).as_posix()
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        cache = IMMUTABLE if key.startswith("assets/") else REVALIDATE
        s3.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": content_type, "CacheControl": cache})
        keys.append(key)
    return keys


def prune(s3, bucket: str, keep: set[str]) -> int:
    stale: list[dict[str, str]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        stale += [{"Key": o["Key"]} for o in page.get("Contents", []) if o["Key"] not in keep]
    for i in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": stale[i : i + 1000]})
    return len(stale)


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", required=True)
    parser.add_argument("--region", default=os.environ.get("AWS_REGION"))
    parser.add_argument("--no-build", action="store_true", help="upload dist/ as it is")
    parser.add_argument(
        "--api-base",
        default="",
        help="VITE_API_BASE for the build; empty (default) = same origin through CloudFront's /api/* behaviour",
    )
    args = parser.parse_args(argv)
    session = boto3.Session(region_name=args.region)
    cfn = session.client("cloudformation")
    outputs = stack_outputs(cfn, args.stack)
    if not args.no_build:
        build(args.api_base)
    if not (DIST / "index.html").is_file():
        print("dashboard/dist/index.html is missing: build first", file=sys.stderr)
        return 1
    bucket = outputs["DashboardBucketName"]
    s3 = session.client("s3")
    keys = upload(s3, bucket)
    removed = prune(s3, bucket, set(keys))
    distribution = cfn.describe_stack_resource(
        StackName=args.stack, LogicalResourceId="DashboardDistribution"
    )
    dist_id = distribution["StackResourceDetail"]["PhysicalResourceId"]
    paths = ["/index.html", "/", "/sw.js", "/manifest.webmanifest"]
    session.client("cloudfront").create_invalidation(
        DistributionId=dist_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": str(time.time()),
        },
    )
    print(
        f"uploaded {len(keys)} files to s3://{bucket}, removed {removed}; {outputs.get('DashboardUrl', '')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
