"""A/B experiments (issue 6): design with sample size and duration, tracking with a sequentially valid test and a
stop/ship recommendation, and the recorded decision. The work is in strategist.services.experiments."""

from __future__ import annotations

import uuid

from chalice import Chalice

from strategist.domain.auth import Role
from strategist.http.api import Api, RequestCtx, Result
from strategist.http.schemas.common import Page
from strategist.http.schemas.experiments import (
    ExperimentCreate,
    ExperimentListQuery,
    ExperimentOut,
    ExperimentStop,
)
from strategist.services import experiments as svc

app = Chalice(app_name="api_experiments")
api = Api(app)
ID = {"experiment_id": uuid.UUID}
TAGS = ("experiments",)


def _visible(ctx: RequestCtx) -> None:
    svc.get_experiment(ctx.uow, ctx.me, ctx.path["experiment_id"])


@api.route(
    "/api/v1/experiments",
    "POST",
    summary="Design an A/B test: variants, metric and minimum detectable effect → sample size and duration",
    body=ExperimentCreate,
    response=ExperimentOut,
    status=201,
    min_role=Role.ANALYST,
    envelope_key="experiment",
    tags=TAGS,
)
def create_experiment(ctx: RequestCtx) -> Result:
    """The first variant is the control. The baseline comes from the variants' (else the client's) metrics in
    the baseline_days before the start; the design lists the method and every assumption."""
    created = svc.create_experiment(ctx.uow, ctx.me, ctx.body)
    return Result(created, status=201, message="Experiment created")


@api.route(
    "/api/v1/experiments",
    "GET",
    summary="Experiments you can see, newest first, paginated (without tracking results)",
    query=ExperimentListQuery,
    response=Page,
    envelope_key="experiments",
    tags=TAGS,
)
def list_experiments(ctx: RequestCtx) -> Page:
    items, next_cursor = svc.list_experiments(ctx.uow, ctx.me, ctx.query)
    return Page(items=items, next_cursor=next_cursor)


@api.route(
    "/api/v1/experiments/{experiment_id}",
    "GET",
    summary="One experiment tracked from synced metrics: effects, always-valid p-values, stop/ship advice",
    response=ExperimentOut,
    path_params=ID,
    envelope_key="experiment",
    tags=TAGS,
    guard=_visible,
)
def get_experiment(ctx: RequestCtx) -> ExperimentOut:
    return svc.get_with_results(ctx.uow, ctx.me, ctx.path["experiment_id"])


@api.route(
    "/api/v1/experiments/{experiment_id}/stop",
    "POST",
    summary="Stop an experiment, shipping a variant or not; the decision is recorded with the advice at that time",
    body=ExperimentStop,
    response=ExperimentOut,
    path_params=ID,
    min_role=Role.ANALYST,
    envelope_key="experiment",
    tags=TAGS,
    guard=_visible,
)
def stop_experiment(ctx: RequestCtx) -> Result:
    stopped = svc.stop_experiment(ctx.uow, ctx.me, ctx.path["experiment_id"], ctx.body)
    return Result(stopped, message=f"Experiment {stopped.status}")
