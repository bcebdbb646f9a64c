"""gitops/promote/installer.py: the machinery promote and rollback share, against a real git config repository
and the local forge: the context a run opens (clone, promotion heads, window verdict in the background),
what it does for an install (nothing when the target runs it already; one branch, one PR, one audit entry;
nothing new on a re-run) and the commit it pushes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gitops.audit import AuditEntry, read_entries
from gitops.config.loader import load_config
from gitops.config.models import ReleaseRecord
from gitops.forge.protocol import ForgeSettings
from gitops.forge.registry import forge_factory
from gitops.promote.auditing import read_log, record_audit
from gitops.promote.installer import (
    Later,
    PromotionContext,
    _commit_message,
    in_background,
    install_release,
    open_context,
    window_verdict,
)
from gitops.promote.promotion import Install, PromoteOptions, Seams, branch_name
from gitops.promote.pullfacts import read_pull
from gitops.promote.stage_seams import RegistrySupplyChecks, SchemaDiff, engine_window_check
from tests.fixtures.configrepo import git
from tests.fixtures.promote import CLOSED, NOW, Stage, release_data

REPO = Path(__file__).resolve().parents[2]


def install(version: str = "1.6.0", **overrides: object) -> Install:
    record = ReleaseRecord.model_validate(release_data(version))
    base = Install(
        kind="promotion", source="dev", target="staging", image=record.image, version=version,
        source_commit=record.source_commit, modules=dict(record.modules),
        schema=SchemaDiff(computed=True, change_class="normal", destructive=False,
                          fingerprint=record.schema_fingerprint),
        wave=None, tenants=(), completes_env=True, changes=(),
    )  # fmt: skip
    return replace(base, **overrides)  # type: ignore[arg-type]


def context(stage: Stage, tmp_path: Path, name: str) -> PromotionContext:
    remote = str(stage.repo.remote)
    seams = Seams(
        forge=forge_factory(ForgeSettings(kind="local", actor="ci-bot"), remote),
        supply=RegistrySupplyChecks(),
        window_check=engine_window_check,
    )
    options = PromoteOptions(remote=remote, workdir=tmp_path / name, actor="ci-bot", now=NOW)
    return open_context(options, seams, "staging")


def promotion_runs(stage: Stage) -> list[AuditEntry]:
    stage.pull()
    return [e for e in read_entries(stage.repo.work / "audit" / "staging.jsonl") if e.kind == "promotion"]


@pytest.fixture
def ctx(stage: Stage, tmp_path: Path) -> Iterator[PromotionContext]:
    yield context(stage, tmp_path, "run1")


# ---------------------------------------------------------------- pure parts


def test_the_commit_message_says_what_and_carries_the_trailers() -> None:
    message, trailers = _commit_message(install())
    assert message == "Promote staging to 1.6.0"
    assert trailers == {
        "Promoted-From": "dev",
        "Image-Digest": install().image.partition("@")[2],
        "Change-Class": "normal",
    }
    destructive = replace(install().schema, destructive=True)
    wave = install(kind="rollback", wave="canary", schema=destructive)
    message, trailers = _commit_message(wave)
    assert message == "Roll back staging to 1.6.0 (canary)"
    assert trailers["Change-Class"] == "normal destructive"


def test_background_work_returns_its_value_or_raises_its_error_to_the_waiter() -> None:
    assert in_background(lambda: 41 + 1)() == 42

    def fail() -> int:
        raise ValueError("boom")

    wait = in_background(fail)
    with pytest.raises(ValueError, match="boom"):
        wait()


def test_late_work_starts_once_asked_runs_once_and_hands_back_its_error() -> None:
    """The window verdict is kept off the CPU while the run decides: it starts when install_release asks
    (or when first waited for), once, on a worker thread."""
    runs: list[str] = []
    later = Later(lambda: runs.append(threading.current_thread().name) or len(runs))
    time.sleep(0.05)
    assert runs == []
    later.start()
    later.start()
    assert later() == 1 and later() == 1 and len(runs) == 1 and runs[0] != threading.current_thread().name

    def fail() -> int:
        raise ValueError("no calendar")

    with pytest.raises(ValueError, match="no calendar"):
        Later(fail)()


def test_the_window_is_checked_only_where_the_stage_gates_on_it() -> None:
    repo = load_config(REPO)
    assert window_verdict(repo, "dev", NOW, engine_window_check) is None  # dev: no window gate
    at_now = window_verdict(repo, "prod", NOW, engine_window_check)
    assert at_now is not None and at_now.open is True
    frozen = window_verdict(repo, "prod", CLOSED, engine_window_check)
    assert frozen is not None and frozen.open is False
    assert frozen.blocked_by  # says which window


# ---------------------------------------------------------------- against git and the local forge


def test_a_run_opens_on_a_clone_of_main_with_the_remotes_promotion_heads(
    stage: Stage, ctx: PromotionContext
) -> None:
    assert ctx.repo.env("staging").release is not None
    assert ctx.repo.env("staging").release.version == "1.5.0"  # type: ignore[union-attr]
    assert ctx.promotion_heads() == {}
    assert ctx.now == NOW
    window = ctx.window()
    assert window is not None and window.open is True
    git(stage.repo.work, "push", "-q", "origin", "HEAD:refs/heads/promote/staging/x")
    git(stage.repo.work, "push", "-q", "origin", "HEAD:refs/heads/feature/y")
    later = context(stage, ctx.options.workdir.parent, "run2")
    assert set(later.promotion_heads()) == {"promote/staging/x"}


def test_what_the_target_runs_already_is_not_pushed(stage: Stage, ctx: PromotionContext) -> None:
    before = git(stage.repo.remote, "for-each-ref", "--format=%(refname)")
    result = install_release(ctx, install("1.5.0"))
    assert result.action == "up-to-date"
    assert result.notes == ("staging already runs 1.5.0; nothing to do",)
    assert (result.branch, result.pull, result.audit_seq, result.pushed) == (None, None, None, False)
    assert git(stage.repo.remote, "for-each-ref", "--format=%(refname)") == before


def test_an_install_is_one_branch_one_pr_and_one_audit_entry_and_a_rerun_adds_none(
    stage: Stage, ctx: PromotionContext, tmp_path: Path
) -> None:
    wanted = install()
    result = install_release(ctx, wanted)
    branch = branch_name("promotion", "staging", "1.6.0", wanted.image, None)
    assert (result.action, result.branch, result.pushed) == ("created", branch, True)
    assert result.pull is not None and result.pull.head == branch
    assert result.head_sha == git(stage.repo.remote, "rev-parse", branch)
    message = git(stage.repo.remote, "log", "-1", "--format=%B", branch)
    assert message.startswith("Promote staging to 1.6.0")
    assert "Promoted-From: dev" in message
    assert git(stage.repo.remote, "diff", "--name-only", f"main...{branch}").split() == [
        "envs/staging/release.yaml",
        "envs/staging/values.yaml",
    ]
    values = git(stage.repo.remote, "show", f"{branch}:envs/staging/values.yaml")
    assert wanted.image.partition("@")[2] in values
    main = git(stage.repo.remote, "show", "main:envs/staging/release.yaml")
    assert "version: 1.5.0" in main  # main is untouched until the merge
    assert [(e.seq, e.data["branch"], e.data["content_hash"]) for e in promotion_runs(stage)] == [
        (result.audit_seq, branch, result.content_hash)
    ]

    again = install_release(context(stage, tmp_path, "run2"), wanted)
    assert (again.action, again.pushed, again.head_sha) == ("unchanged", False, result.head_sha)
    assert again.pull is not None and again.pull.number == result.pull.number
    assert len(promotion_runs(stage)) == 1


@pytest.mark.parametrize(
    "reason",
    [
        'db "hot" fix: it\'s down, ünïcode\nand a second line',
        "outage \U0001f525 (outside the BMP: JSON would write a surrogate pair YAML rejects)",
    ],
)
def test_the_hash_promote_records_is_the_one_the_gate_computes_from_the_head(
    stage: Stage, tmp_path: Path, reason: str
) -> None:
    """promote hashes the release.yaml it rendered from the value it rendered (no parse when the read-back
    is certain, a parse when it is not); the gate parses the head's files: both must agree."""
    remote = str(stage.repo.remote)
    seams = Seams(
        forge=forge_factory(ForgeSettings(kind="local", actor="ci-bot"), remote),
        supply=RegistrySupplyChecks(),
        window_check=engine_window_check,
    )
    options = PromoteOptions(
        remote=remote, workdir=tmp_path / "run", actor="ci-bot", now=NOW,
        emergency_reason=reason, emergency_ticket="INC-7", backup_id="bk-1",
    )  # fmt: skip
    ctx = open_context(options, seams, "staging")
    result = install_release(ctx, install())
    assert result.pull is not None and result.head_sha is not None and result.content_hash
    gate = open_context(replace(options, workdir=tmp_path / "gate"), seams, "staging")
    facts = read_pull(gate.checkout, gate.repo, result.pull)
    assert facts.content_hash == result.content_hash
    assert facts.run is not None and facts.run.data["content_hash"] == result.content_hash
    assert facts.emergency is not None and facts.emergency.reason == reason.strip()
    assert facts.backup_ids == ("bk-1",) and not facts.problems


TENANT_LAYOUTS = {  # prod's tenants, each file in a layout the line edit meets in real repositories
    "acme-build": '# acme\nimage:\n  repository: "old/odoo"  # quoted\n  pullPolicy: IfNotPresent\n'
    "  digest: 'sha256:1'\nodoo:\n  dbfilter: ^acme$\n",
    "globex-consult": "tenant: globex\r\nrelease:\r\n  version: 1.3.2\r\n  note: kept\r\n",
    "initech-services": "base: &b {cpu: 1}\nresources: *b\n",  # anchors: parsed, not derived
    "northwind-civil": "# nothing but a comment\n",
}


def test_the_hash_of_hundreds_of_tenant_files_is_known_from_the_edit_and_equals_the_gate_s(
    stage: Stage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """promote hashes the tenant files it wrote from the values it wrote (no read-back from git, no parse of
    plain block YAML) when its commit sits on main; on a branch an earlier run left it reads them back.
    Either way the gate, which parses the head's files, computes the same hash."""
    import gitops.promote.installer as installer

    for tenant, text in TENANT_LAYOUTS.items():
        (stage.repo.work / f"envs/prod/tenants/{tenant}.yaml").write_bytes(text.encode())
    stage.repo.commit_all("tenant files in several layouts")
    remote = str(stage.repo.remote)
    seams = Seams(
        forge=forge_factory(ForgeSettings(kind="local", actor="ci-bot"), remote),
        supply=RegistrySupplyChecks(),
        window_check=engine_window_check,
    )
    options = PromoteOptions(remote=remote, workdir=tmp_path / "run", actor="ci-bot", now=NOW)
    wave = install(target="prod", source="staging", tenants=tuple(TENANT_LAYOUTS), completes_env=False)
    read_back: list[str] = []
    real = installer.head_content
    monkeypatch.setattr(installer, "head_content", lambda *a, **k: read_back.append(a[3]) or real(*a, **k))

    first = install_release(open_context(options, seams, "prod"), wave)
    assert first.pull is not None and first.head_sha is not None and read_back == []  # known, not read back
    gate = open_context(replace(options, workdir=tmp_path / "gate"), seams, "prod")
    facts = read_pull(gate.checkout, gate.repo, first.pull)
    assert (facts.content_hash, facts.problems) == (first.content_hash, ())
    assert set(facts.tenants) == set(TENANT_LAYOUTS)

    # a second run with an emergency changes release.yaml: its commit goes on the branch, not on main
    urgent = replace(options, workdir=tmp_path / "run2", emergency_reason="outage", emergency_ticket="INC-1")
    second = install_release(open_context(urgent, seams, "prod"), wave)
    assert second.pushed and second.head_sha != first.head_sha
    assert read_back == [second.head_sha]  # read back from git: its merge base is not its parent
    gate = open_context(replace(options, workdir=tmp_path / "gate2"), seams, "prod")
    facts = read_pull(gate.checkout, gate.repo, second.pull)  # type: ignore[arg-type]
    assert (facts.content_hash, facts.problems) == (second.content_hash, ())
    assert second.content_hash != first.content_hash


def test_the_audit_log_read_ahead_is_taken_only_at_the_commit_it_was_read_at(
    stage: Stage, tmp_path: Path
) -> None:
    """install_release reads the target's audit log at main's commit of the clone while it pushes; the audit
    first builds on that commit with those bytes, leased on it: when another writer appended meanwhile, that
    push is refused and the next attempt fetches and reads the log again (its entry is kept, the chain goes
    on from it)."""
    first = context(stage, tmp_path, "first")
    record_audit(first.checkout, "staging", "ci-bot", [("note", {"n": 1}, "note:1")], NOW)
    run = context(stage, tmp_path, "run")
    ahead = read_log(run.checkout, "staging", run.cloned_main)
    assert ahead[0] == run.cloned_main and ahead[1] is not None and b'"note:1"' in ahead[1]
    other = context(stage, tmp_path, "other")  # another writer appends after the read
    record_audit(other.checkout, "staging", "ops", [("note", {"n": 2}, "note:2")], NOW)
    seq = record_audit(run.checkout, "staging", "ci-bot", [("note", {"n": 3}, "note:3")], NOW, log=ahead)
    stage.pull()
    entries = read_entries(stage.repo.work / "audit" / "staging.jsonl")
    assert [e.key for e in entries][-3:] == ["note:1", "note:2", "note:3"] and seq == entries[-1].seq
    # at the tip, the bytes read ahead are what is appended to (here: made up, to show they are taken)
    last = context(stage, tmp_path, "last")
    record_audit(last.checkout, "staging", "ci-bot", [("note", {}, "note:4")], NOW, fetch_first=False,
                 log=(last.cloned_main, None))  # fmt: skip
    stage.pull()
    assert [e.key for e in read_entries(stage.repo.work / "audit" / "staging.jsonl")] == ["note:4"]
