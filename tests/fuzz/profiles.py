"""Budgets for the fuzz targets: a small fixed one in CI, a long one at release time.

`HYPOTHESIS_PROFILE=release` (see docs/security.md) runs every target with thousands of examples and fresh
randomness; the default `ci` profile is derandomized (same examples every run) and bounded, so the suite
stays fast and a failure reproduces. Each target also carries its seed corpus as `@example`s: the known-bad
inputs from issue 14, which run under every profile.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    "database": None,
}
settings.register_profile("fuzz-ci", max_examples=100, derandomize=True, **_COMMON)
settings.register_profile("fuzz-release", max_examples=2_000, derandomize=False, **_COMMON)

PROFILE = "fuzz-release" if os.environ.get("HYPOTHESIS_PROFILE") == "release" else "fuzz-ci"
FUZZ = settings(settings.get_profile(PROFILE))
"""Decorator for function-level targets (milliseconds per example)."""
FUZZ_CLI = settings(FUZZ, max_examples=max(FUZZ.max_examples // 4, 8))
"""Decorator for targets that drive the CLI in-process (the config loader runs per example)."""


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every path under `root` with its bytes (or link target): equal snapshots = nothing was written."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[rel] = path.read_bytes()
        else:
            found[rel] = "dir"
    return found
