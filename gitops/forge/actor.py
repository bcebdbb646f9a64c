"""Who runs this command: the one answer every verb records as the actor (audit entries, PR authors on the
local forge, verification records, broken glass)."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping

FALLBACK = "odoo-gitops"


def resolve_actor(explicit: str | None = None, *, env: Mapping[str, str] | None = None) -> str:
    """`--actor`, else $GITHUB_ACTOR (set in GitHub Actions), else the login name, else `odoo-gitops` (a
    container user with no passwd entry)."""
    if explicit:
        return explicit
    from_env = (os.environ if env is None else env).get("GITHUB_ACTOR")
    if from_env:
        return from_env
    try:
        return getpass.getuser() or FALLBACK
    except (KeyError, OSError):
        return FALLBACK
