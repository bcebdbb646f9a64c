"""The terminal rendering of the board, from values: hostile names stay text, the summary's limit, the rule
that picks matrix or summary."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from gitops.board.model import Board, Cell
from gitops.board.snapshot import build_board
from gitops.board.terminal import clean, fits_matrix, render_status, summary
from gitops.config.loader import load_config
from gitops.promote.stage_seams import engine_window_check
from tests.fixtures.configrepo import copy_examples
from tests.fixtures.promote import NOW


def example_board(tmp_path: Path) -> Board:
    repo = load_config(copy_examples(tmp_path / "config"))
    return build_board(repo, now=NOW, pulls=(), audits={}, window_check=engine_window_check)


def cell(tenant: str, **extra: Any) -> Cell:
    values: dict[str, Any] = {
        "env": "prod", "tenant": tenant, "wave": None, "version": "1.0.0", "image": None, "verified_at": None,
        "verified_digest": None, "soak_left": None, "drift": True, "state": "drifted", "why": "why",
        "pull": None,
    }  # fmt: skip
    return Cell(**{**values, **extra})


def test_control_characters_never_reach_the_terminal() -> None:
    assert clean("a\x1b[2Jb\x07c\x9bd\ne") == "a?[2Jb?c?d?e"


def test_a_hostile_source_is_printed_as_text(tmp_path: Path) -> None:
    board = example_board(tmp_path)
    hostile = Board(
        generated_at=NOW, source="[bold red]x\x1b]8;;http://evil\x07", commit=None, envs=board.envs
    )
    out = render_status(hostile, color=True)
    assert "[bold red]x?]8;;http://evil?" in out  # the markup is text, the escape is gone
    assert out.count("\x1b]") == 0


def test_the_summary_lists_at_most_the_limit(tmp_path: Path) -> None:
    board = example_board(tmp_path)
    prod = board.env("prod")
    many = Board(
        generated_at=NOW, source="s", commit=None,
        envs=(prod.__class__(**{**prod.__dict__, "cells": tuple(cell(f"t{i:02d}") for i in range(45))}),),
    )  # fmt: skip
    assert not fits_matrix(many)
    from gitops.board.terminal import render

    out = render(summary(many, limit=40), color=False)
    assert "t39" in out and "t40" not in out
    assert "… and 5 more not verified (--json lists every cell)" in out


def test_soak_left_replaces_the_date(tmp_path: Path) -> None:
    board = example_board(tmp_path)
    prod = board.env("prod")
    soaking = cell("acme-build", state="verified", drift=False, verified_at=NOW, version="1.5.0",
                   image="r@sha256:" + "ab" * 32, soak_left=timedelta(hours=3, minutes=1))  # fmt: skip
    one = Board(generated_at=NOW, source="s", commit=None,
                envs=(prod.__class__(**{**prod.__dict__, "cells": (soaking,)}),))  # fmt: skip
    out = render_status(one, color=False)
    assert "verified soak 3h01m\n" in out
    assert "1.5.0 abababab 12-08\n" in out
