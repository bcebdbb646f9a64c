"""Adapter: the calendars of an environment, from the config repository (via the config loader).

`--config-repo` may be a directory or a git URL (`gitops.config.source`); the whole repository is
validated by `load_config`, which parses every `calendars/<name>.yaml` with `parse_calendar`. With
`cached`, a directory whose files, code and date match an earlier successful load is served from the
compiled-calendar cache (`calendar_cache`: same verdicts, no pydantic/PyYAML/`holidays` imports).
"""

from __future__ import annotations

from pathlib import Path

from gitops.config.calendars.compiled import Calendar
from gitops.config.files import DirectoryFiles
from gitops.config.source import checkout_config_repo, is_remote
from gitops.windows import calendar_cache


def load_env_calendars(config_repo: str | Path, env: str, *, cached: bool = False) -> list[Calendar]:
    """The parsed calendars of `env`, in the order env.yaml lists them."""
    root = checkout_config_repo(str(config_repo))
    if cached and not is_remote(str(config_repo)):
        hit = calendar_cache.cached_env_calendars(root, env)
        if hit is not None:
            return hit
    from gitops.config.loader import load_config  # pydantic: only when the cache cannot answer

    if not cached or is_remote(str(config_repo)):
        repo = load_config(root)
        bundle = repo.env(env)
        return [repo.calendars[name] for name in bundle.config.calendars]
    files = calendar_cache.RecordingFiles(DirectoryFiles(root))
    repo = load_config(root, files)
    bundle = repo.env(env)
    envs = {name: list(b.config.calendars) for name, b in repo.envs.items()}
    calendar_cache.record(root, files, envs, repo.calendars)
    return [repo.calendars[name] for name in bundle.config.calendars]
