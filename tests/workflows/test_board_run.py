"""board.yml's build job, run step by step against the real CLI, a real config repo and the loopback GitHub:
the site it uploads shows the open promotion PR, and its summary says so."""

from __future__ import annotations

from tests.workflows.conftest import World
from tests.workflows.test_promote_gate_run import promote


def test_the_build_job_writes_the_board_with_the_open_promotion(world: World) -> None:
    number = promote(world)["pr-number"]
    runner = world.runner("board.yml")
    job = runner.run(job="build", inputs={"weeks": 2})
    assert not job.failed, [(s.name, s.outcome, s.stdout, s.stderr) for s in job.steps]
    site = runner.runner_temp / "board"
    assert (site / "index.html").is_file()
    page = (site / f"promotion-{number}.html").read_text()
    assert 'data-state="promoting"' in page
    assert f"| open promotions | #{number} |" in job.summary
    assert "| audit chains | " in job.summary and "BROKEN" not in job.summary
    assert job.step("actions/upload-pages-artifact@fc324d3547104276b827a68afc52ff2a11cc49c9").outcome == (
        "would run"
    )
