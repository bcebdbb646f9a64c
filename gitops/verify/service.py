"""`verify`: the one typed function behind `odoo-gitops verify ENV --revision SHA`."""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gitops.audit.log import audit_path
from gitops.config.loader import EnvBundle, load_config
from gitops.config.models import TENANT_PLACEHOLDER, EnvConfig
from gitops.config.source import checkout_config_repo, is_remote
from gitops.config.types import SHA1_RE
from gitops.errors import EXIT_OK, EXIT_VERIFY, ExternalError, GitopsError, UsageError
from gitops.promote.repo import ConfigCheckout
from gitops.verify import backup_contract, database_proof, readiness
from gitops.verify.ancestry import GitAncestry
from gitops.verify.backup_contract import BackupEvidence
from gitops.verify.engine import Outcome, TargetResult, Verification
from gitops.verify.kube import APPLICATIONS, JOBS, KubeApi
from gitops.verify.probes import Probes
from gitops.verify.record import append_audit, update_release_file, verified_targets
from gitops.verify.revision import RevisionFilter, only
from gitops.verify.targets import plan_targets
from gitops.verify.verdict import State

Connect = Callable[..., KubeApi]


@dataclass(frozen=True)
class VerifyOptions:
    env: str
    revision: str
    timeout: float = 600.0
    kubeconfig: Path | None = None
    context: str | None = None
    config_repo: str = "."
    record: bool = True
    push: bool = False
    branch: str = "main"
    actor: str | None = None


@dataclass
class VerifyReport:
    env: str
    revision: str
    outcome: Outcome
    readiness: readiness.Readiness | None
    elapsed: float
    recorded: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        results = self.outcome.results
        ok = sum(r.verdict.state is State.OK for r in results)
        if results and ok == len(results):
            return "verified"
        if any(r.verdict.state is State.FAILED for r in results):
            return "partial" if ok else "failed"
        if ok:
            return "partial"
        return "timed-out" if self.outcome.timed_out else "failed"

    @property
    def summary(self) -> str:
        results = self.outcome.results
        ok = sum(r.verdict.state is State.OK for r in results)
        failed = sum(r.verdict.state is State.FAILED for r in results)
        pending = len(results) - ok - failed
        return f"{self.state}: {ok}/{len(results)} targets ok, {failed} failed, {pending} pending"

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.state == "verified" else EXIT_VERIFY

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "revision": self.revision,
            "state": self.state,
            "verified": self.state == "verified",
            "timed_out": self.outcome.timed_out,
            "elapsed_seconds": round(self.elapsed, 3),
            "targets": [r.to_dict() for r in self.outcome.results],
            "summary": self.summary,
            "rollback_ready": self.readiness.ready if self.readiness else False,
            "rollback_readiness": self.readiness.to_dict() if self.readiness else None,
            "recorded": self.recorded,
            "warnings": self.warnings,
        }


def _actor(explicit: str | None) -> str:
    if explicit:
        return explicit
    try:
        return os.environ.get("GITHUB_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "odoo-gitops"


def _open_checkout(root: Path, branch: str) -> tuple[ConfigCheckout | None, str]:
    """The config repo as a git checkout and the ref naming its branch (origin/<b> when there is a remote)."""
    try:
        checkout = ConfigCheckout.open(root, branch=branch)
    except ExternalError:
        return None, branch
    has_origin = any(r.name == "origin" for r in checkout.repo.remotes)
    return checkout, f"origin/{branch}" if has_origin else branch


def _revision_filter(root: Path, sha: str, branch: str, warnings: list[str]) -> RevisionFilter:
    checkout, ref = _open_checkout(root, branch)
    if checkout is None:
        warnings.append("the config repo is not a git checkout: only the exact revision is accepted")
        return only(sha)
    ancestry = GitAncestry(checkout, sha, branch_ref=ref)
    ancestry.check_known()
    return ancestry


def _tenants_in_own_namespaces(env: EnvConfig) -> bool:
    """Per-tenant targets whose workload names do not carry the tenant live in one namespace each."""
    return env.reconcile.per_tenant and not any(TENANT_PLACEHOLDER in w for w in env.workloads)


def _connect(env: EnvConfig, options: VerifyOptions, connect: Connect) -> KubeApi:
    return connect(
        kubeconfig=options.kubeconfig,
        context=options.context or env.cluster.context,
        expected_server=env.cluster.server,
    )


def _reconciler_check(
    result: TargetResult, obj: dict[str, Any] | None, previous: str | None
) -> readiness.Check:
    if obj is None:
        return readiness.Check("reconciler", False, f"{result.target.subject} not found")
    if result.target.resource is APPLICATIONS:
        return readiness.argocd_can_go_back(obj, previous)
    return readiness.flux_can_go_back(obj, result.target.resource.kind)


def _backup_jobs(api: KubeApi, outcome: Outcome, bundle: EnvBundle) -> list[dict[str, Any]]:
    """The backup Jobs of the workload namespaces: one LIST each, or one for all when there are many."""
    selector = backup_contract.BACKUP_LABEL_SELECTOR
    namespaces = sorted({r.workload_namespace or bundle.config.namespace for r in outcome.results})
    if len(namespaces) > 1 and _tenants_in_own_namespaces(bundle.config):
        wanted = set(namespaces)
        jobs = api.list(JOBS, None, label_selector=selector, retry=True).items
        return [j for j in jobs if (j.get("metadata") or {}).get("namespace") in wanted]
    return [job for ns in namespaces for job in api.list(JOBS, ns, label_selector=selector, retry=True).items]


def _assess_readiness(
    bundle: EnvBundle, repo_root: Path, outcome: Outcome, api: KubeApi, probes: Probes
) -> readiness.Readiness:
    release = bundle.release
    previous = release.previous if release else None
    image_exists: tuple[bool | None, str] = (None, "no previous image to look up")
    if previous is not None:
        try:
            image_exists = (probes.image_exists(previous.image), "")
        except GitopsError as exc:  # readiness is reported; an unreachable registry does not end verify
            image_exists = (None, f"registry lookup of {previous.image} failed: {exc.message}")
    signing = bundle.config.signing
    if previous is None:
        signature: tuple[bool | None, str] = (None, "no previous release")
    elif signing is None:
        signature = (None, "env.yaml has no signing.public_key to verify the previous image with")
    else:
        signature = probes.signature(previous.image, repo_root / signing.public_key)
    prev_rev = previous.verification.revision if previous and previous.verification else None
    checks = [
        _reconciler_check(r, outcome.reconciler_objects.get(r.target), prev_rev) for r in outcome.results
    ]
    reconciler = readiness.combine_checks("reconciler", checks, [r.target.label for r in outcome.results])
    backups: dict[str | None, list[BackupEvidence]] = {}
    if release is not None and readiness.schema_changed(release):
        backups = readiness.backup_evidence(_backup_jobs(api, outcome, bundle), release.version)
    return readiness.rollback_readiness(
        release,
        image_exists=image_exists,
        signature=signature,
        reconciler=reconciler,
        backups=backups,
        tenants=[r.target.tenant for r in outcome.results] or [None],
    )


def _record(
    bundle: EnvBundle, root: Path, report: VerifyReport, options: VerifyOptions
) -> dict[str, Any] | None:
    """Write the verification. A config repo given as a URL (our own clone) is committed and pushed;
    a local checkout is only written (the caller commits it, as the reusable workflow does), unless
    `push` asks to commit and push it too (this resets its branch to the remote's first)."""
    verified = verified_targets(report.outcome.results)
    if not verified:
        return None
    env_rel = bundle.release_path.relative_to(root)
    actor = _actor(options.actor)
    ready = report.readiness.to_dict() if report.readiness else None
    at = datetime.now(UTC)
    all_ok = report.state == "verified"
    seqs: list[int] = []
    changed: list[bool] = []

    def edit(base: Path) -> None:
        log = audit_path(base, options.env)
        before = log.read_bytes() if log.exists() else b""
        release_changed = update_release_file(
            base / env_rel, revision=options.revision, at=at, verified=verified, all_verified=all_ok
        )
        seqs[:] = append_audit(
            base, options.env, revision=options.revision, actor=actor, verified=verified, readiness=ready
        )
        changed[:] = [release_changed or log.read_bytes() != before]

    files = [str(env_rel), str(audit_path(Path(), options.env))]
    if not (is_remote(options.config_repo) or options.push):
        edit(root)
        return {"commit": None, "pushed": False, "changed": changed[0], "files": files, "audit_seqs": seqs}
    checkout, ref = _open_checkout(root, options.branch)
    if checkout is None or not ref.startswith("origin/"):
        raise UsageError("--push needs a config repo that is a git checkout with an 'origin' remote")
    message = f"verify({options.env}): {options.revision[:12]} reconciled and running"
    trailers = {"Odoo-Gitops-Verified": options.revision, "Odoo-Gitops-Env": options.env}
    sha = checkout.update_branch(edit, message, trailers=trailers)
    return {
        "commit": sha,
        "pushed": sha is not None,
        "changed": sha is not None,
        "files": files,
        "audit_seqs": seqs,
    }


def verify(
    options: VerifyOptions, *, connect: Connect = KubeApi.connect, probes: Probes | None = None
) -> VerifyReport:
    """Prove that `options.revision` was reconciled and runs in `options.env`; record it when it does."""
    if not SHA1_RE.match(options.revision):
        raise UsageError(f"--revision must be a full 40-hex commit SHA, got {options.revision!r}")
    if options.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    root = checkout_config_repo(options.config_repo)
    bundle = load_config(root).env(options.env)
    if bundle.release is None:
        raise UsageError(f"envs/{options.env}/release.yaml does not exist: nothing was promoted there yet")
    warnings: list[str] = []
    accepts = _revision_filter(root, options.revision, options.branch, warnings)
    started = time.monotonic()
    api = _connect(bundle.config, options, connect)
    try:
        verification = Verification(
            api,
            plan_targets(bundle.config, bundle.release),
            accepts=accepts,
            cluster_scoped_workloads=_tenants_in_own_namespaces(bundle.config),
        )
        outcome = verification.run(options.timeout)
        database_proof.check(api, bundle, outcome)  # the database runs the release too (issue 19)
        assessed = _assess_readiness(bundle, root, outcome, api, probes or Probes())
    finally:
        api.close()
    report = VerifyReport(
        options.env, options.revision, outcome, assessed, time.monotonic() - started, warnings=warnings
    )
    if options.record:
        report.recorded = _record(bundle, root, report, options)
    return report


__all__ = ["VerifyOptions", "VerifyReport", "verify"]
