"""`odoo-gitops refresh SOURCE TARGET`: the PR that asks the chart's refresh Job to copy SOURCE's database
into TARGET, neutralised and masked.

Refused by policy (exit 3): a production target; a synthetic target (it holds generated data only); a
target that is (or may be) given real data without masking rules that cover every sensitive column of the
modules it runs (the built-in catalogue of gitops.database.catalogue, as extended by the rules). The core
modules of the catalogue count as installed (fail closed): the Job checks again against the database."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gitops.config.loader import ConfigRepo, EnvBundle
from gitops.config.types import parse_timestamp
from gitops.config.yamlsafe import read_yaml
from gitops.database.catalogue import BUILTIN, Uncovered, coverage
from gitops.database.masking_rules import MaskingRules, parse_rules
from gitops.errors import PolicyError, UsageError
from gitops.lifecycle import yamltext
from gitops.lifecycle.envs import check_result
from gitops.lifecycle.requests import ChangeRequest

LATEST = "latest-verified"


@dataclass(frozen=True, kw_only=True)
class RefreshAsk:
    source: str
    target: str
    masking: str | None
    backup: str
    requested_by: str
    at: datetime
    tenant: str | None = None  # the source tenant, when the source runs one database per tenant


def modules_run(source: EnvBundle, target: EnvBundle) -> set[str]:
    """The modules whose data the refreshed database holds: the catalogue's core modules and every module
    either release installs."""
    found = set(BUILTIN)
    for bundle in (source, target):
        if bundle.release is not None:
            found.update(bundle.release.modules)
    return found


def load_masking(repo: ConfigRepo, name: str) -> tuple[str, MaskingRules, Any]:
    rel = f"masking/{name}.yaml"
    if repo.files.kind(rel) != "file":
        known = ", ".join(n.removesuffix(".yaml") for n in repo.files.names("masking") if n.endswith(".yaml"))
        raise UsageError(f"--masking {name}: {rel} not found (known: {known or 'none'})")
    doc = read_yaml(lambda: repo.files.read(rel), rel)
    return rel, parse_rules([doc]), doc.data


def _refuse_uncovered(target: str, rel: str | None, uncovered: list[Uncovered]) -> None:
    shown = ", ".join(u.render() for u in uncovered[:20]) + (" …" if len(uncovered) > 20 else "")
    where = f"the masking rules in {rel}" if rel else "no masking rules (--masking NAME)"
    raise PolicyError(
        f"refusing to refresh {target}: {where} leave {len(uncovered)} sensitive column(s) unmasked: {shown}",
        hint="add rules for them to masking/<name>.yaml (or declare them under `sensitive:` elsewhere)",
    )


def decide(repo: ConfigRepo, ask: RefreshAsk) -> tuple[str | None, Any]:
    """Policy: may TARGET be refreshed from SOURCE with these rules? Returns (rules path, rules data)."""
    source, target = repo.env(ask.source), repo.env(ask.target)
    config = target.config
    if ask.source == ask.target:
        raise UsageError("SOURCE and TARGET are the same environment")
    if config.purpose == "production" or config.data_policy == "production":
        raise PolicyError(f"refusing to refresh {ask.target}: production is never overwritten by a refresh")
    if config.data_policy == "synthetic":
        raise PolicyError(
            f"refusing to refresh {ask.target}: its data_policy is synthetic (generated data only); "
            "a refresh would copy real data into it"
        )
    rel, rules, data = (None, MaskingRules((), {}), None)
    if ask.masking is not None:
        rel, rules, data = load_masking(repo, ask.masking)
    uncovered = coverage(rules, modules_run(source, target))
    if uncovered:  # masked, or no policy stated (fail closed: treated as masked)
        _refuse_uncovered(ask.target, rel, uncovered)
    return rel, data


def source_database(source: EnvBundle, tenant: str | None) -> dict[str, Any]:
    """The source's database values: the environment's, overlaid by the tenant's in multi-tenant ones."""
    database = dict(source.values.data.get("database") or {})
    if not source.config.multi_tenant:
        if tenant is not None:
            raise UsageError(f"--tenant {tenant}: {source.name} has no tenants")
        return database
    if tenant is None or tenant not in source.tenant_values:
        known = ", ".join(sorted(source.tenant_values))
        raise UsageError(f"{source.name} runs one database per tenant: name one with --tenant ({known})")
    return {**database, **(source.tenant_values[tenant].data.get("database") or {})}


def _refresh_id(ask: RefreshAsk, rules: Any) -> str:
    text = json.dumps([ask.source, ask.backup, rules, ask.at.isoformat()], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _user_keys(target: EnvBundle) -> dict[str, Any]:
    """What the user keeps in the values' `refresh:` block (the salt Secret, the command): never replaced."""
    block = target.values.data.get("refresh")
    return dict(block) if isinstance(block, dict) else {}


def _backup_key(repo: ConfigRepo, source: str) -> str:
    """The PEM key the source's backup manifests are signed with: the refresh Job restores nothing else."""
    signing = repo.env(source).config.signing
    if signing is None:
        raise UsageError(
            f"envs/{source}/env.yaml sets no signing.public_key: a refresh restores only signed backups"
        )
    return repo.files.read(signing.public_key).decode()


def _chart_block(repo: ConfigRepo, ask: RefreshAsk, rel: str | None, rules: Any) -> dict[str, Any]:
    """What the chart's refresh Job needs (values.yaml `refresh:`): no secret, only references."""
    database = source_database(repo.env(ask.source), ask.tenant)
    return {
        "enabled": True,
        "id": _refresh_id(ask, rules),
        "source": {
            "env": ask.source,
            **({"tenant": ask.tenant} if ask.tenant else {}),
            "host": database.get("host"),
            "name": database.get("name"),
            "existingSecret": database.get("existingSecret"),
            "publicKey": _backup_key(repo, ask.source),
        },
        "target": ask.target,
        "backup": ask.backup,
        "masking": {"file": rel, "rules": rules},
    }


def _same_ask(earlier: Mapping[str, Any] | None, ask: RefreshAsk, rel: str | None) -> bool:
    if earlier is None:
        return False
    wanted = {
        "source": ask.source,
        "tenant": ask.tenant,
        "backup": ask.backup,
        "masking": rel,
        "requested_by": ask.requested_by,
    }
    return all(earlier.get(key) == value for key, value in wanted.items())


def refresh_request(
    repo: ConfigRepo, ask: RefreshAsk, *, earlier: Mapping[str, Any] | None = None
) -> ChangeRequest:
    """The PR of a refresh. `earlier`: the block an open PR already proposes; the same ask keeps its time,
    so a re-run changes nothing."""
    rel, rules = decide(repo, ask)
    source_database(repo.env(ask.source), ask.tenant)
    if earlier is not None and _same_ask(earlier, ask, rel):
        with suppress(ValueError):
            ask = replace(ask, at=parse_timestamp(earlier.get("requested_at")))
    target = repo.env(ask.target)
    env_rel, values_rel = f"envs/{ask.target}/env.yaml", f"envs/{ask.target}/values.yaml"
    block = {
        "source": ask.source,
        **({"tenant": ask.tenant} if ask.tenant else {}),
        "backup": ask.backup,
        **({"masking": rel} if rel else {}),
        "requested_by": ask.requested_by,
        "requested_at": ask.at.isoformat().replace("+00:00", "Z"),
    }
    try:
        env_text = yamltext.set_key(repo.files.read(env_rel).decode(), "refresh", block)
        values_text = yamltext.set_key(
            repo.files.read(values_rel).decode(),
            "refresh",
            {**_user_keys(target), **_chart_block(repo, ask, rel, rules)},
        )
    except ValueError as exc:
        raise UsageError(f"cannot edit envs/{ask.target}: {exc}") from None
    changes = {env_rel: env_text.encode(), values_rel: values_text.encode()}
    check_result(repo, changes)
    masked = f"masked by {rel}" if rel else "no masking rules needed (no sensitive column in its modules)"
    body = (
        f"Refreshes the database of `{ask.target}` from `{ask.source}` (backup: {ask.backup}), neutralised "
        f"and {masked}. On merge the chart's refresh Job restores the backup into `{ask.target}`'s database, "
        "neutralises it (mail servers, scheduled actions, payment and delivery providers, IAP, bank sync; a "
        "banner), masks it inside PostgreSQL and proves the masking; a failed proof drops the database.\n\n"
        f"Requested by {ask.requested_by}."
    )
    policy = target.config.gate_policy
    return ChangeRequest(
        kind="refresh",
        env=ask.target,
        title=f"refresh: {ask.target} from {ask.source} ({ask.backup})",
        body=body,
        changes=changes,
        policy=policy,
        rule="destructive",  # it overwrites the target's database
        mention=target.config.owner,
        audit={"source": ask.source, "backup": ask.backup, "masking": rel, "requested_by": ask.requested_by},
    )
