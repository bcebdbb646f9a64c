"""Build the board (gitops.board.model) from values: the config repository as loaded from main, the open
PRs' gate verdicts and the audit chains. A pure function of its arguments and `now`.

Nothing here decides a promotion or a gate itself: wave states and refusals are `make_plan`'s (what `plan`
prints), window verdicts are `window_state`'s (what the gate uses), gate states are the `GateVerdict`s
`evaluate_pull` gave (what `gate check` publishes). This module only says which cells they concern.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from gitops.board.freezes import next_freeze
from gitops.board.model import (
    AuditCheck,
    Board,
    Cell,
    CellState,
    EnvBoard,
    NextPromotion,
    PullGate,
    WindowNow,
)
from gitops.board.rehearsals import rehearsal_view
from gitops.config.loader import ConfigRepo, EnvBundle
from gitops.config.models import ReleaseRecord, Verification
from gitops.errors import GitopsError
from gitops.gates.evidence import WindowState
from gitops.gates.registry import stage_gates
from gitops.promote.plan import make_plan, resolve_waves
from gitops.promote.stage_seams import WindowCheck, window_state
from gitops.promote.waves import WavePlan, tenant_image

NO_AUDIT = AuditCheck(ok=True, entries=0)


def ordered_envs(repo: ConfigRepo, wanted: Sequence[str] = ()) -> list[str]:
    """Environments in pipeline order (then any outside a pipeline, by name); `wanted` filters (unknown
    names are a usage error naming the known ones)."""
    for name in wanted:
        repo.env(name)
    seen: list[str] = []
    for pipeline in sorted(repo.pipelines.values(), key=lambda p: p.name):
        seen += [s.env for s in pipeline.stages if s.env in repo.envs and s.env not in seen]
    seen += sorted(set(repo.envs) - set(seen))
    return [e for e in seen if not wanted or e in wanted]


def previous_stage(repo: ConfigRepo, env: str) -> str | None:
    try:
        pipeline = repo.pipeline_for(env)
    except GitopsError:
        return None
    index = pipeline.index_of(env) or 0
    return pipeline.stages[index - 1].env if index > 0 else None


def next_promotion(
    repo: ConfigRepo, env: str, *, now: datetime, window_check: WindowCheck
) -> NextPromotion | None:
    """`plan <previous stage> <env>` as a value (the same function `plan` and `promote` call)."""
    source = previous_stage(repo, env)
    if source is None:
        return None
    try:
        plan = make_plan(repo, source, env, now=now, window_check=window_check)
    except GitopsError as exc:
        return NextPromotion(
            source=source, version=None, allowed=False, up_to_date=False, next_wave=None,
            next_tenants=(), refusals=(), waves=(), error=str(exc),
        )  # fmt: skip
    chosen = plan.next_wave
    return NextPromotion(
        source=source,
        version=plan.version_to,
        allowed=plan.allowed,
        up_to_date=plan.up_to_date,
        next_wave=chosen.wave if chosen else None,
        next_tenants=chosen.tenants if chosen else (),
        refusals=plan.refusals,
        waves=plan.wave_states,
    )


def window_now(state: WindowState, *, timezone: str, gated: bool) -> WindowNow:
    """The gate's window verdict with the env's time zone."""
    return WindowNow(
        open=state.open,
        gated=gated,
        blocked_by=state.blocked_by,
        open_until=state.open_until,
        next_open=state.next_open,
        timezone=timezone,
    )


def env_window(repo: ConfigRepo, env: EnvBundle, now: datetime, check: WindowCheck) -> WindowNow:
    state = window_state(repo, env.name, now, check)
    return window_now(state, timezone=env.config.timezone, gated="window" in _gates(repo, env.name))


def _gates(repo: ConfigRepo, env: str) -> tuple[str, ...]:
    try:
        return stage_gates(repo, env)
    except GitopsError:
        return ()


def _cell_release(
    release: ReleaseRecord | None, tenant: str | None
) -> tuple[str | None, str | None, Verification | None]:
    """(image, version, verification) main records for the cell: the tenant's own record, else the env's."""
    if release is None:
        return None, None, None
    own = release.tenants.get(tenant) if tenant else None
    if own is not None:
        return own.image, own.version, own.verification
    return release.image, release.version, release.verification


def has_drift(release: ReleaseRecord | None, image: str | None, verification: Verification | None) -> bool:
    """Main's digest for the cell is not the one its last verification recorded (or nothing is verified).

    A verification that recorded no digest proves nothing about the digest: drift (fail closed)."""
    if image is None or verification is None or verification.digest is None:
        return True
    digest = image.rpartition("@")[2]
    # the platform manifests of the environment's image, never of a tenant's own release
    accepted = {digest, *(release.accepted_digests if release and image == release.image else ())}
    return verification.digest not in accepted


def soak_left(verified_at: datetime | None, soak: timedelta, now: datetime) -> timedelta | None:
    """What remains of `soak` after the verification (None: nothing, or not verified)."""
    if verified_at is None or soak <= timedelta(0):
        return None
    left = soak - (now - verified_at)
    return left if left > timedelta(0) else None


def cell_state(pull: PullGate | None, drift: bool) -> tuple[CellState, str]:
    """The cell's state and a one-line reason (the rule documented in gitops.board.model)."""
    if pull is not None:
        gate = f"PR #{pull.number} gate {pull.state}: {pull.description}"
        if pull.state in ("failure", "error"):
            return "blocked", gate
        return "promoting", gate
    if drift:
        return "drifted", "main's digest is not the last verified one (run odoo-gitops verify)"
    return "verified", "main's digest is the verified one"


def _wave_of(waves: Sequence[WavePlan], tenant: str | None) -> WavePlan | None:
    return next((w for w in waves if tenant in w.tenants), None)


def _covering(pulls: Sequence[PullGate], tenant: str | None) -> PullGate | None:
    """The newest open PR that changes the cell's release."""
    return next((p for p in sorted(pulls, key=lambda p: -p.number) if tenant in p.covers), None)


def env_cells(repo: ConfigRepo, env: EnvBundle, pulls: Sequence[PullGate], now: datetime) -> tuple[Cell, ...]:
    tenants: list[str | None] = list(env.config.enabled_tenants()) or [None]
    waves = _waves(repo, env)
    stage_soak = _stage_soak(repo, env.name)
    cells = []
    for tenant in tenants:
        image, version, verification = _cell_release(env.release, tenant)
        wave = _wave_of(waves, tenant)
        soak = max(stage_soak, wave.soak if wave else timedelta(0))
        verified_at = verification.verified_at if verification else None
        drift = has_drift(env.release, image, verification)
        pull = _covering(pulls, tenant)
        state, why = cell_state(pull, drift)
        cells.append(
            Cell(
                env=env.name,
                tenant=tenant,
                wave=wave.name if wave and tenant else None,
                version=version,
                image=image,
                verified_at=verified_at,
                verified_digest=verification.digest if verification else None,
                soak_left=None if drift else soak_left(verified_at, soak, now),
                drift=drift,
                state=state,
                why=why,
                pull=pull.number if pull else None,
            )
        )
    return tuple(cells)


def _waves(repo: ConfigRepo, env: EnvBundle) -> tuple[WavePlan, ...]:
    try:
        return resolve_waves(repo.pipeline_for(env.name), env)
    except GitopsError:
        return ()


def _stage_soak(repo: ConfigRepo, env: str) -> timedelta:
    try:
        stage = repo.pipeline_for(env).stage(env)
    except GitopsError:
        return timedelta(0)
    return stage.soak if stage else timedelta(0)


def covered_cells(
    repo: ConfigRepo,
    target: str,
    head_release: ReleaseRecord | None,
    wave_tenants: Sequence[str],
    completes_env: bool,
) -> tuple[str | None, ...]:
    """The cells an open PR changes: tenants whose image differs between main and the PR's head, plus the
    tenants its branch edits (None stands for an environment without tenants)."""
    env = repo.env(target)
    enabled = env.config.enabled_tenants()
    if not enabled:
        return (None,)
    if head_release is None:
        return tuple(enabled) if completes_env else tuple(t for t in enabled if t in wave_tenants)
    changed = {t for t in enabled if tenant_image(head_release, t) != tenant_image(env.release, t)}
    return tuple(t for t in enabled if t in changed or t in wave_tenants)


def build_board(
    repo: ConfigRepo,
    *,
    now: datetime,
    pulls: Sequence[PullGate],
    audits: Mapping[str, AuditCheck],
    window_check: WindowCheck,
    envs: Sequence[str] = (),
    source: str = "",
    commit: str | None = None,
) -> Board:
    """The board of `envs` (default: every environment, in pipeline order) as of `now`."""
    boards = []
    for name in ordered_envs(repo, envs):
        env = repo.env(name)
        mine = tuple(sorted((p for p in pulls if p.target == name), key=lambda p: p.number))
        boards.append(
            EnvBoard(
                name=name,
                timezone=env.config.timezone,
                gates=_gates(repo, name),
                version=env.release.version if env.release else None,
                image=env.release.image if env.release else None,
                window=env_window(repo, env, now, window_check),
                next_freeze=next_freeze(
                    [repo.calendars[c] for c in env.config.calendars], now, timezone=env.config.timezone
                ),
                promotion=next_promotion(repo, name, now=now, window_check=window_check),
                pulls=mine,
                cells=env_cells(repo, env, mine, now),
                audit=audits.get(name, NO_AUDIT),
                rehearsal=rehearsal_view(repo, name, now),
            )
        )
    return Board(generated_at=now, source=source, commit=commit, envs=tuple(boards))
