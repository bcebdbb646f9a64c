"""Adapter: the calendars of an environment, read from a config repository directory.

Reads `envs/<env>/env.yaml` (key `calendars`: a list of names) and `calendars/<name>.yaml`. Every
problem in every file is collected before raising.
"""

from __future__ import annotations

import re
from pathlib import Path

from gitops.config.yamlsafe import load_yaml
from gitops.errors import ConfigError, Problem, UsageError
from gitops.windows.calendar import Calendar, load_calendar

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _repo_dir(config_repo: str | Path) -> Path:
    text = str(config_repo)
    if "://" in text or text.startswith("git@"):
        raise UsageError(
            f"config repository {text!r}: only a local directory is supported by `window` for now",
            hint="clone it and pass the directory with --config-repo",
        )
    path = Path(text)
    if not path.is_dir():
        raise UsageError(f"config repository {text!r} is not a directory")
    return path


def known_envs(root: Path) -> list[str]:
    return sorted(p.parent.name for p in (root / "envs").glob("*/env.yaml"))


def _calendar_names(root: Path, env: str) -> list[str]:
    if not _NAME.match(env) or not (root / "envs" / env / "env.yaml").is_file():
        known = ", ".join(known_envs(root)) or "none"
        raise UsageError(f"unknown environment {env!r} (known: {known})")
    display = f"envs/{env}/env.yaml"
    doc = load_yaml(root / display, display=display)
    names = doc.data.get("calendars", []) if isinstance(doc.data, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) and _NAME.match(n) for n in names):
        raise ConfigError([doc.problem(("calendars",), "calendars: expected a list of calendar names")])
    problems = [
        doc.problem(("calendars", i), f"calendars[{i}]: no calendars/{name}.yaml")
        for i, name in enumerate(names)
        if not (root / "calendars" / f"{name}.yaml").is_file()
    ]
    if problems:
        raise ConfigError(problems)
    return names


def load_env_calendars(config_repo: str | Path, env: str) -> list[Calendar]:
    """The parsed calendars of `env`, in the order env.yaml lists them."""
    root = _repo_dir(config_repo)
    calendars: list[Calendar] = []
    problems: list[Problem] = []
    for name in _calendar_names(root, env):
        try:
            calendars.append(
                load_calendar(
                    root / "calendars" / f"{name}.yaml", name=name, display=f"calendars/{name}.yaml"
                )
            )
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return calendars
