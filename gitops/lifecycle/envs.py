"""`env create`, `env extend` and `env expire`: the changes they propose, decided from the config on main.

Every proposal is checked by loading the whole config repository as it would be after the merge: a change
that would leave it invalid is refused (exit 2) before anything is pushed."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from gitops.config.files import Files, TreeFiles
from gitops.config.loader import ConfigRepo, load_config
from gitops.config.models import Purpose
from gitops.config.types import check_name
from gitops.errors import PolicyError, UsageError
from gitops.lifecycle import yamltext
from gitops.lifecycle.branch import Changes
from gitops.lifecycle.requests import ChangeRequest


@dataclass(frozen=True, kw_only=True)
class NewEnv:
    name: str
    template: str
    owner: str
    expires: date
    purpose: Purpose = "project"


def _text(repo: ConfigRepo, rel: str) -> str:
    return repo.files.read(rel).decode("utf-8")


def _files_under(files: Files, folder: str) -> list[str]:
    found = []
    for name in files.names(folder):
        rel = f"{folder}/{name}" if folder else name
        found += _files_under(files, rel) if files.kind(rel) == "dir" else [rel]
    return found


def _pipeline_path(repo: ConfigRepo, env: str) -> str:
    name = repo.pipeline_for(env).name
    for file in repo.files.names("pipelines"):
        data = yamltext.parse(_text(repo, f"pipelines/{file}")) if file.endswith(".yaml") else None
        if isinstance(data, dict) and data.get("name") == name:
            return f"pipelines/{file}"
    raise UsageError(f"no pipelines/*.yaml file defines pipeline {name!r}")


def _edit(what: str, edit: Callable[[], str]) -> bytes:
    try:
        return edit().encode()
    except ValueError as exc:
        raise UsageError(f"cannot edit {what}: {exc}", hint=f"make the change to {what} by hand") from None


def check_result(repo: ConfigRepo, changes: Changes) -> None:
    """Load the config as it would be after the change (ConfigError, exit 2, when it would be invalid)."""
    base = dict.fromkeys(_files_under(repo.files, ""), b"")
    objects = {p: v for p, v in base.items() if changes.get(p, b"") is not None}
    objects.update({p: b"" for p, data in changes.items() if data is not None})
    contents = {p: data for p, data in changes.items() if data is not None}
    load_config(repo.root, TreeFiles(objects, contents, repo.files.read))


def _new_env_yaml(text: str, new: NewEnv, template: str) -> str:
    data = yamltext.parse(text)
    reconcile = dict(data.get("reconcile") or {})
    reconcile["name"] = yamltext.rename_tokens(str(reconcile.get("name", "")), template, new.name)
    if reconcile["name"] == data.get("reconcile", {}).get("name"):
        reconcile["name"] = f"odoo-{new.name}"
    updates: dict[str, Any] = {
        "name": new.name,
        "namespace": yamltext.rename_tokens(str(data.get("namespace", "")), template, new.name),
        "reconcile": reconcile,
        "owner": new.owner,
        "purpose": new.purpose,
        "expires": new.expires,
    }
    if data.get("data_policy") == "production":
        updates["data_policy"] = "masked"  # production data belongs in production only
    text = yamltext.remove_key(text, "refresh")  # the template's refresh request is not the new env's
    for key, value in updates.items():
        text = yamltext.set_key(text, key, value)
    return text


def create_request(repo: ConfigRepo, new: NewEnv, *, today: date) -> ChangeRequest:
    _valid_name(new.name)
    if new.name in repo.envs or repo.files.kind(f"envs/{new.name}") is not None:
        raise UsageError(f"environment {new.name!r} already exists", hint="choose another name")
    template = repo.env(new.template)
    if new.purpose == "production":
        raise PolicyError(
            "env create makes non-production environments; production is not created from a template"
        )
    if new.expires <= today:
        raise UsageError(f"--expires {new.expires} is not in the future")
    changes: dict[str, bytes | None] = {}
    base = f"envs/{new.template}"
    for rel in _files_under(repo.files, base):
        if rel == f"{base}/release.yaml":
            continue  # the new environment has no release of its own yet
        target = f"envs/{new.name}/{posixpath.relpath(rel, base)}"
        text = _text(repo, rel)
        if rel == f"{base}/env.yaml":
            changes[target] = _edit(rel, lambda t=text: _new_env_yaml(t, new, new.template))  # type: ignore[misc]
        else:
            changes[target] = yamltext.rename_tokens(text, new.template, new.name).encode()
    stage = repo.pipeline_for(new.template).stage(new.template)
    assert stage is not None
    entry: dict[str, Any] = {"env": new.name, "gates": list(stage.gates)}
    pipeline = _pipeline_path(repo, new.template)
    changes[pipeline] = _edit(pipeline, lambda: yamltext.add_stage(_text(repo, pipeline), entry))
    check_result(repo, changes)
    body = (
        f"Adds the {new.purpose} environment `{new.name}` from the template `{new.template}` (values, "
        f"calendars, reconcile target, pipeline stage). Owner: {new.owner}; expires {new.expires}; after "
        "that date `odoo-gitops env expire` proposes to retire it.\n\nThe values were copied from "
        f"`{new.template}` with its name replaced by `{new.name}`: check hostnames, databases and secrets."
    )
    audit = {
        "template": new.template,
        "owner": new.owner,
        "purpose": new.purpose,
        "expires": str(new.expires),
    }
    return ChangeRequest(
        kind="create",
        env=new.name,
        title=f"env: create {new.name} from {new.template} (owner {new.owner}, until {new.expires})",
        body=body,
        changes=changes,
        policy=template.config.gate_policy,
        mention=new.owner,
        audit=audit,
    )


def _valid_name(name: str) -> bool:
    try:
        check_name(name)
    except ValueError as exc:
        raise UsageError(f"environment name: {exc}") from None
    return True


def extend_request(repo: ConfigRepo, env: str, until: date, *, today: date) -> ChangeRequest:
    bundle = repo.env(env)
    config = bundle.config
    if config.purpose == "production":
        raise PolicyError(f"{env} is a production environment: it does not expire, so it cannot be extended")
    if until <= today:
        raise UsageError(f"--until {until} is not in the future")
    if config.expires is not None and until <= config.expires:
        raise UsageError(f"--until {until} does not extend {env}: it already expires {config.expires}")
    rel = f"envs/{env}/env.yaml"
    changes = {rel: _edit(rel, lambda: yamltext.set_key(_text(repo, rel), "expires", until))}
    check_result(repo, changes)
    was = config.expires.isoformat() if config.expires else "never"
    return ChangeRequest(
        kind="extend",
        env=env,
        title=f"env: extend {env} until {until}",
        body=f"Moves the expiry of `{env}` from {was} to {until.isoformat()}.",
        changes=changes,
        policy=config.gate_policy,
        mention=config.owner,
        audit={"from": was, "until": until.isoformat(), "owner": config.owner},
    )


def expired(repo: ConfigRepo, today: date) -> list[str]:
    """Environments whose expiry date has passed (production never expires)."""
    return sorted(
        name
        for name, bundle in repo.envs.items()
        if bundle.config.expires is not None
        and bundle.config.expires < today
        and bundle.config.purpose != "production"
    )


def expire_request(repo: ConfigRepo, env: str) -> ChangeRequest:
    config = repo.env(env).config
    changes: dict[str, bytes | None] = dict.fromkeys(_files_under(repo.files, f"envs/{env}"))
    pipeline = _pipeline_path(repo, env)
    changes[pipeline] = _edit(pipeline, lambda: yamltext.remove_stage(_text(repo, pipeline), env))
    check_result(repo, changes)
    owner = config.owner
    body = (
        f"`{env}` expired on {config.expires}: this retires it (removes `envs/{env}/` and its pipeline stage;"
        f" the reconciler prunes what it deployed). Its audit log stays.\n\nTo keep it, close this PR and run"
        f" `odoo-gitops env extend {env} --until DATE`."
    )
    return ChangeRequest(
        kind="expire",
        env=env,
        title=f"env: retire {env} (expired {config.expires})",
        body=body,
        changes=changes,
        policy=config.gate_policy,
        rule="destructive",  # it deletes the environment (its owner counts as an approver too)
        mention=owner,
        audit={"expired": str(config.expires), "owner": owner, "removed": sorted(changes)},
    )
