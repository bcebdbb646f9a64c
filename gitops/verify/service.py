"""`verify`: the one typed function behind `odoo-gitops verify ENV --revision SHA`."""

from __future__ import annotations

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
from gitops.errors import ConfigError, ExternalError, GitopsError, Report, UsageError, VerificationError
from gitops.forge.actor import resolve_actor
from gitops.gates.evidence import RehearsalFacts
from gitops.gates.rehearsal_facts import rehearsal_facts
from gitops.gitstore.checkout import ConfigCheckout
from gitops.verify import backup_contract, database_proof, readiness
from gitops.verify.ancestry import GitAncestry
from gitops.verify.backup_contract import BackupEvidence
from gitops.verify.convergence import Outcome, TargetResult, Verification
from gitops.verify.kube import JOBS, KubeApi
from gitops.verify.probes import Probes
from gitops.verify.reconcilers import registry as reconcilers
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

    def text(self) -> str:
        """The human report: per target what is missing or failed, readiness, the record."""
        lines = [f"{self.env} @ {self.revision[:12]}: {self.state} ({self.elapsed:.1f}s)"]
        for result in self.outcome.results:
            row = result.to_dict()
            lines.append(f"  {result.target.label:<24} {row['state']:<8} {row['target']}")
            lines += [f"      missing: {m}" for m in row["missing"]]
            lines += [f"      failed:  {r}" for r in row["reasons"]]
        if self.readiness is not None:
            lines.append(f"rollback readiness: {'ready' if self.readiness.ready else 'NOT ready'}")
            lines += [f"  [{'x' if c.ok else ' '}] {c.name}: {c.detail}" for c in self.readiness.checks]
        lines += _record_lines(self.recorded)
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def report(self) -> Report:
        """What the verb prints, verified or not (`--json`: `to_dict()`)."""
        return Report(data=self.to_dict(), text=self.text)

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


def _record_lines(recorded: dict[str, Any] | None) -> list[str]:
    if not recorded:
        return []
    commit = recorded.get("commit")
    if not recorded.get("changed"):
        return ["recorded: already up to date"]
    if recorded.get("pushed"):
        return [f"recorded and pushed: {commit[:12] if commit else '?'}"]
    return [f"recorded in: {', '.join(recorded.get('files', []))} (commit and push them)"]


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
    return result.target.reconciler.can_go_back(obj, previous)


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
    bundle: EnvBundle,
    repo_root: Path,
    outcome: Outcome,
    api: KubeApi,
    probes: Probes,
    *,
    rehearsals: RehearsalFacts | None = None,
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
        rehearsal=rehearsals,
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
    actor = resolve_actor(options.actor)
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


def _check_reconcile_kind(bundle: EnvBundle) -> None:
    """env.yaml's `reconcile.kind` must name a reconciler of the registry (config/ cannot import it)."""
    kind = bundle.config.reconcile.kind
    if kind not in reconcilers.RECONCILERS:
        known = ", ".join(reconcilers.kinds())
        message = f"reconcile.kind {kind!r} is not a reconciler verify knows (known: {known})"
        raise ConfigError([bundle.doc.problem(("reconcile", "kind"), message)])


def verify(
    options: VerifyOptions, *, connect: Connect = KubeApi.connect, probes: Probes | None = None
) -> VerifyReport:
    """Prove that `options.revision` was reconciled and runs in `options.env`; record it when it does.

    Returns the report when every target is verified; otherwise records what was verified and raises
    the verdict as a VerificationError carrying the report (gitops/errors.py maps it to the exit code)."""
    if not SHA1_RE.match(options.revision):
        raise UsageError(f"--revision must be a full 40-hex commit SHA, got {options.revision!r}")
    if options.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    root = checkout_config_repo(options.config_repo)
    config = load_config(root)
    bundle = config.env(options.env)
    _check_reconcile_kind(bundle)
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
        rehearsals = rehearsal_facts(config, options.env, ())
        assessed = _assess_readiness(bundle, root, outcome, api, probes or Probes(), rehearsals=rehearsals)
    finally:
        api.close()
    report = VerifyReport(
        options.env, options.revision, outcome, assessed, time.monotonic() - started, warnings=warnings
    )
    if options.record:
        report.recorded = _record(bundle, root, report, options)
    if report.state != "verified":
        raise VerificationError(
            f"{options.env} @ {options.revision[:12]}: {report.summary}", report=report.report()
        )
    return report


__all__ = ["VerifyOptions", "VerifyReport", "verify"]
