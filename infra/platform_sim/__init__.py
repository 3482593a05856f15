"""Simulated Google Ads / Meta / LinkedIn / TikTok reporting and budget APIs, for tests, demos and benchmarks."""

from infra.platform_sim.app import create_app
from infra.platform_sim.spec import AccountSpec, CampaignSpec, CurveSpec, SimSpec, demo_spec

__all__ = ["AccountSpec", "CampaignSpec", "CurveSpec", "SimSpec", "create_app", "demo_spec"]
