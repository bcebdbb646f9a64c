"""Adapter: the calendars of an environment, from the config repository (via the config loader).

`--config-repo` may be a directory or a git URL (`gitops.config.source`); the whole repository is
validated by `load_config`, which parses every `calendars/<name>.yaml` with `parse_calendar`.
"""

from __future__ import annotations

from pathlib import Path

from gitops.config.calendars.calendar import Calendar
from gitops.config.loader import load_config
from gitops.config.source import checkout_config_repo


def load_env_calendars(config_repo: str | Path, env: str) -> list[Calendar]:
    """The parsed calendars of `env`, in the order env.yaml lists them."""
    repo = load_config(checkout_config_repo(str(config_repo)))
    bundle = repo.env(env)
    return [repo.calendars[name] for name in bundle.config.calendars]
