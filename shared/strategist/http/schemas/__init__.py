"""Pydantic models of the public API: they validate requests and generate /openapi.json."""
