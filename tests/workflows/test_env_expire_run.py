"""env-expire.yml, run step by step against the real CLI, a real config repo and the loopback GitHub: one
retirement PR per expired environment, mentioning its owner, and none more on the next scheduled run."""

from __future__ import annotations

from tests.lifecycle.helpers import add_env
from tests.workflows.conftest import World


def test_the_scheduled_run_retires_each_expired_env_once(world: World) -> None:
    add_env(world.repo, "jv-north", expires="2026-01-31", owner="dev-bob")
    add_env(world.repo, "uat-next", expires="2099-12-31", owner="dev-chen")
    job = world.run("env-expire.yml")
    assert not job.failed, "\n".join(f"{s.name}: {s.outcome} {s.stderr[-1500:]}" for s in job.steps)
    assert job.outputs == {"expired": "1"}
    (pull,) = world.github.pulls.values()
    assert pull.head == "lifecycle/expire/jv-north" and "@dev-bob" in pull.body
    assert f"| jv-north | {world.github.host}" in job.summary or "| jv-north |" in job.summary

    again = world.run("env-expire.yml")
    assert not again.failed and again.outputs == {"expired": "1"}
    assert len(world.github.pulls) == 1
    assert "| unchanged |" in again.summary
