"""Fixtures of the lifecycle tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lifecycle.helpers import window_open

EXAMPLES = Path(__file__).resolve().parents[2]  # envs/, calendars/, pipelines/ of the example config repo


@pytest.fixture(autouse=True)
def _staging_window_open() -> Iterator[None]:
    """Every lifecycle test runs while staging's windows are open (the example config's refresh target): a
    test that means a freeze travels into one itself (test_window_attacks.py)."""
    with window_open(EXAMPLES, "staging"):
        yield
