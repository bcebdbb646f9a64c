"""The well-known Odoo Community addons per supported series, shipped as package data.

The lists are not exhaustive: they name the common community modules a custom addon may depend on without
the addons tree containing them. Anything else can be declared as an extra known module.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from gitops.errors import UsageError

SUPPORTED_SERIES: tuple[str, ...] = ("16.0", "17.0", "18.0", "19.0")


@cache
def core_addons(series: str) -> frozenset[str]:
    """Names of the well-known community addons of `series` (e.g. '17.0')."""
    if series not in SUPPORTED_SERIES:
        raise UsageError(
            f"unsupported Odoo series {series!r}", hint=f"use one of {', '.join(SUPPORTED_SERIES)}"
        )
    text = resources.files("gitops.addons").joinpath(f"core-{series}.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
