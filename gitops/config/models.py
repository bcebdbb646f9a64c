"""Pydantic models of the config repository's files. Unknown keys are errors everywhere."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

from gitops.config.types import (
    Checksum,
    CommitSha,
    Day,
    Digest,
    Duration,
    ImageRef,
    ModuleName,
    ModuleVersion,
    Name,
    ObjectName,
    RepoPath,
    SemVer,
    Timestamp,
    TimeZone,
)

Severity = Literal["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
ChangeClass = Literal["standard", "normal", "emergency"]
# A reconciler kind's name; the kinds are the registry's (gitops/verify/reconcilers/registry.py),
# checked by verify, which owns them (config/ imports no later stage).
ReconcileKind = Name
# A gate's name; the gates are the registry's (gitops/gates/registry.py), which checks a stage's list
# and names the pipeline file and line of an unknown one (config/ imports no later stage).
GateName = Name
Purpose = Literal["production", "staging", "uat", "training", "project", "development", "demo", "qa"]
DataPolicy = Literal["production", "masked", "synthetic"]
TENANT_PLACEHOLDER = "{tenant}"


class Strict(BaseModel):
    """No unknown keys, and no coercion: every field is typed with pydantic's Strict* types or a validator
    of ours, so `count: '2'`, `count: true` or `enabled: 'no'` are errors, never a guess."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# ---------------------------------------------------------------- env.yaml


class ReconcileTarget(Strict):
    """What Argo CD / Flux object deploys this environment. With `per_tenant`, `name` holds '{tenant}'."""

    kind: ReconcileKind
    name: ObjectName
    namespace: Name = "argocd"
    per_tenant: StrictBool = False
    source: ObjectName | None = Field(
        default=None, description="Flux source name (flux kinds; default: the object's sourceRef/chartRef)"
    )

    @model_validator(mode="after")
    def _tenant_placeholder(self) -> ReconcileTarget:
        if self.per_tenant and TENANT_PLACEHOLDER not in self.name:
            raise ValueError(
                f"per_tenant targets need '{TENANT_PLACEHOLDER}' in name, e.g. 'odoo-prod-{{tenant}}'"
            )
        if not self.per_tenant and TENANT_PLACEHOLDER in self.name:
            raise ValueError(f"name contains '{TENANT_PLACEHOLDER}' but per_tenant is false")
        return self

    def object_name(self, tenant: str | None = None) -> str:
        return self.name.replace(TENANT_PLACEHOLDER, tenant) if tenant else self.name


class Cluster(Strict):
    context: StrictStr | None = None
    server: StrictStr | None = None


class ScanException(Strict):
    """A waived finding. Expired exceptions no longer apply and are reported."""

    id: StrictStr
    package: StrictStr | None = None
    owner: StrictStr
    reason: StrictStr
    expires: Day


class ScanPolicy(Strict):
    """Trivy policy: findings at or above `severity` fail, unless excepted (or unfixed and ignored)."""

    severity: Severity = "HIGH"
    ignore_unfixed: StrictBool = False
    exceptions: tuple[ScanException, ...] = ()
    required: StrictBool = True


class ApprovalRule(Strict):
    count: StrictInt = Field(ge=0)
    from_: tuple[StrictStr, ...] = Field(default=(), alias="from")
    require_backup: StrictBool = False


class EmergencyRule(Strict):
    approvals: ApprovalRule
    require_reason: StrictBool = True
    require_ticket: StrictBool = True
    post_review: StrictBool = True
    label: StrictStr = "emergency"


class GatePolicy(Strict):
    """Who approves what. `from` names teams (keys of `teams`) or single users prefixed with '@'."""

    teams: dict[StrictStr, tuple[StrictStr, ...]] = {}
    approvals: dict[Literal["standard", "normal", "destructive"], ApprovalRule] = {}
    emergency: EmergencyRule | None = None
    reviewers: tuple[StrictStr, ...] = ()
    approval_ttl: Duration | None = None

    def rule(self, name: Literal["standard", "normal", "destructive"]) -> ApprovalRule | None:
        """The rule a change of class `name` is governed by. A class without a rule of its own falls to the
        nearest STRICTER rule that is defined (standard → normal → destructive), and only then to a laxer one,
        so leaving `destructive:` out never lets a schema-destroying change through with no approval (fail
        closed); None only when the policy defines no rule at all."""
        order = {"standard": ("standard", "normal", "destructive"),
                 "normal": ("normal", "destructive", "standard"),
                 "destructive": ("destructive", "normal", "standard")}[name]  # fmt: skip
        return next((self.approvals[n] for n in order if n in self.approvals), None)

    @model_validator(mode="after")
    def _teams_exist(self) -> GatePolicy:
        rules = list(self.approvals.values()) + ([self.emergency.approvals] if self.emergency else [])
        names = [n for rule in rules for n in rule.from_] + list(self.reviewers)
        unknown = sorted({n for n in names if not n.startswith("@") and n not in self.teams})
        if unknown:
            raise ValueError(f"unknown team(s) {', '.join(unknown)}; define them under gate_policy.teams")
        return self


class Signing(Strict):
    public_key: RepoPath = Field(description="path of the cosign public key, relative to the config repo")


class TenantSwitch(Strict):
    enabled: StrictBool = True


class Recovery(Strict):
    """Recovery objectives. A backup counts (for a destructive promotion, for rollback readiness) only when a
    rehearsal of it passed within `rehearsal_max_age` and measured a restore time ≤ `rto` and a backup age
    ≤ `rpo`."""

    rpo: Duration
    rto: Duration
    rehearsal_max_age: Duration = timedelta(days=7)


class RefreshRequest(Strict):
    """A database refresh of this environment from `source` (written by `odoo-gitops refresh`)."""

    source: Name
    tenant: Name | None = Field(default=None, description="the source tenant (multi-tenant sources)")
    backup: StrictStr = Field(default="latest-verified", max_length=200, pattern=r"^[A-Za-z0-9_.:@-]+$")
    masking: RepoPath | None = Field(default=None, description="masking rules, e.g. masking/uat.yaml")
    requested_by: StrictStr = Field(min_length=1, max_length=100)
    requested_at: Timestamp


class EnvConfig(Strict):
    name: Name
    namespace: Name
    timezone: TimeZone
    calendars: tuple[StrictStr, ...] = ()
    cluster: Cluster = Cluster()
    reconcile: ReconcileTarget
    workloads: tuple[ObjectName, ...] = ("odoo-web",)
    scan_policy: ScanPolicy = ScanPolicy()
    gate_policy: GatePolicy = GatePolicy()
    signing: Signing | None = None
    tenants: dict[Name, TenantSwitch] = {}
    owner: StrictStr | None = Field(
        default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$", description="a forge login or team"
    )
    purpose: Purpose | None = None
    expires: Day | None = None
    data_policy: DataPolicy | None = None
    recovery: Recovery | None = None
    refresh: RefreshRequest | None = None

    @property
    def multi_tenant(self) -> bool:
        return bool(self.tenants)

    def enabled_tenants(self) -> list[str]:
        return sorted(name for name, switch in self.tenants.items() if switch.enabled)


# ---------------------------------------------------------------- release.yaml


class ModuleRecord(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)

    version: ModuleVersion
    checksum: Checksum
    schema_: StrictStr | None = Field(
        default=None,
        alias="schema",
        pattern=r"^ss1:[0-9a-f]{64}$",
        description="the module's schema fingerprint (gitops.addons.schema_state), recorded by build",
    )


class Verification(Strict):
    revision: CommitSha
    verified_at: Timestamp
    digest: Digest | None = None
    targets: tuple[StrictStr, ...] = ()


class BackupRecord(Strict):
    id: StrictStr
    completed_at: Timestamp
    location: StrictStr | None = None


class ReleaseRef(Strict):
    """A release we could go back to: the last verified one before the current."""

    image: ImageRef
    version: SemVer
    source_commit: CommitSha
    modules: dict[ModuleName, ModuleRecord] = {}
    schema_fingerprint: Digest | None = None
    verification: Verification | None = None


class EmergencyDeclaration(Strict):
    """The emergency declared by the promotion that wrote the record (promote --emergency R --ticket T)."""

    reason: StrictStr = Field(min_length=1)
    ticket: StrictStr | None = None


class TenantRelease(Strict):
    image: ImageRef
    version: SemVer
    change_class: ChangeClass | None = None
    destructive: StrictBool = False
    promoted_at: Timestamp | None = None
    backup: BackupRecord | None = None
    verification: Verification | None = None


class ReleaseRecord(ReleaseRef):
    """Written only by the toolkit: what runs (or should run) in the environment."""

    change_class: ChangeClass | None = None
    destructive: StrictBool = False
    promoted_from: Name | None = None
    promoted_at: Timestamp | None = None
    backup: BackupRecord | None = None
    emergency: EmergencyDeclaration | None = None
    previous: ReleaseRef | None = None
    tenants: dict[Name, TenantRelease] = {}
    accepted_digests: tuple[Digest, ...] = Field(
        default=(),
        description="digests that also prove this release runs: the platform manifests of a multi-arch "
        "index (nodes may report either the index or the platform manifest digest)",
    )

    @property
    def digest(self) -> str:
        return self.image.partition("@")[2]

    @property
    def repository(self) -> str:
        return self.image.partition("@")[0]


# ---------------------------------------------------------------- pipelines/<app>.yaml

REST = "*"


class Wave(Strict):
    name: Name
    tenants: tuple[StrictStr, ...] = Field(
        min_length=1, description="tenant names, or '*' for every remaining tenant"
    )
    soak: Duration = timedelta(0)


class Stage(Strict):
    env: Name
    soak: Duration = timedelta(0)
    waves: tuple[Wave, ...] = ()
    gates: tuple[GateName, ...] = ("window", "approvals", "scan", "signature")

    @model_validator(mode="after")
    def _rest_last(self) -> Stage:
        for wave in self.waves[:-1]:
            if REST in wave.tenants:
                raise ValueError(
                    f"wave {wave.name!r}: '*' (all remaining tenants) is only allowed in the last wave"
                )
        names = [w.name for w in self.waves]
        if len(names) != len(set(names)):
            raise ValueError("wave names must be unique")
        return self


class Pipeline(Strict):
    name: Name
    stages: tuple[Stage, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_envs(self) -> Pipeline:
        envs = [s.env for s in self.stages]
        dupes = sorted({e for e in envs if envs.count(e) > 1})
        if dupes:
            raise ValueError(f"environment(s) listed twice: {', '.join(dupes)}")
        return self

    def index_of(self, env: str) -> int | None:
        return next((i for i, s in enumerate(self.stages) if s.env == env), None)

    def stage(self, env: str) -> Stage | None:
        index = self.index_of(env)
        return None if index is None else self.stages[index]
