"""Rules between an environment's lifecycle fields (purpose, expiry, data policy, refresh), each located at
the key it is about so the loader can name file and line."""

from __future__ import annotations

from gitops.config.models import EnvConfig

Located = tuple[tuple[str | int, ...], str]


def lifecycle_problems(env: EnvConfig) -> list[Located]:
    """(key path, message) for every rule `env` breaks."""
    problems: list[Located] = []
    if env.purpose == "production" and env.expires is not None:
        problems.append((("expires",), "a production environment does not expire; remove the date"))
    if env.data_policy == "production" and env.purpose not in (None, "production"):
        message = (
            f"production data belongs in production only (purpose is {env.purpose!r}); "
            "use masked or synthetic"
        )
        problems.append((("data_policy",), message))
    if env.refresh is not None:
        problems.extend(_refresh_problems(env))
    return problems


def _refresh_problems(env: EnvConfig) -> list[Located]:
    assert env.refresh is not None
    problems: list[Located] = []
    if env.refresh.source == env.name:
        problems.append((("refresh", "source"), "an environment cannot be refreshed from itself"))
    if env.data_policy == "production" or env.purpose == "production":
        problems.append((("refresh",), "a production environment is never refreshed from another one"))
    if env.data_policy == "masked" and env.refresh.masking is None:
        message = "a masked environment needs masking rules (masking/<name>.yaml)"
        problems.append((("refresh", "masking"), message))
    return problems
