"""The in-repo fixtures are verbatim copies of the shared reference samples."""

from __future__ import annotations

import pytest
from platform_testkit import FIXTURES, REFERENCE_SAMPLES


@pytest.mark.skipif(not REFERENCE_SAMPLES.is_dir(), reason="shared reference folder not present")
@pytest.mark.parametrize("path", sorted(FIXTURES.iterdir()), ids=lambda p: p.name)
def test_fixture_matches_reference(path) -> None:
    assert path.read_bytes() == (REFERENCE_SAMPLES / path.name).read_bytes()
