"""Rendering: hostile names are escaped and cannot name files outside the site, the index stays small at
500 tenants (pages of 100), every cell links to a page that exists, and nothing refers outside the site."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from gitops.board.site_input import Cell, slug
from gitops.board.site_render import PAGE_SIZE, render_site
from tests.board_site.conftest import make_site

HOSTILE = '<script>alert(1)</script>"onmouseover="x'


def test_hostile_names_are_escaped_everywhere() -> None:
    site = make_site(names=[HOSTILE, "../../etc/passwd", "ok"])
    site = replace(site, promotions=(replace(site.promotions[0], id="../../x", verdict=HOSTILE),))
    pages = render_site(site)
    for name, content in pages.items():
        assert "/" not in name and not name.startswith("."), name
        text = content.decode()
        assert "<script>" not in text, name
        assert 'onmouseover="x' not in text, name
    assert "promotion-x.html" in pages  # the id became a safe file name


@pytest.mark.parametrize(("raw", "safe"), [("../../x", "x"), ("Prod EU", "prod-eu"), ("", "x"), ("..", "x")])
def test_slug(raw: str, safe: str) -> None:
    assert slug(raw) == safe


def test_500_tenants_are_paginated_and_every_cell_links_to_a_page() -> None:
    pages = render_site(make_site(tenants=500))
    boards = sorted(name for name in pages if name == "index.html" or name.startswith("board-"))
    assert len(boards) == -(-501 // PAGE_SIZE)  # 500 tenants plus the env-wide row
    assert len(pages["index.html"]) < 60_000
    for name in boards:
        for href in re.findall(r'<td class="cell [^"]*"[^>]*><a href="([^"#]+)', pages[name].decode()):
            assert href in pages, (name, href)


def test_nothing_refers_outside_the_site() -> None:
    pages = render_site(make_site())
    for name, content in pages.items():
        text = content.decode()
        assert not re.search(r'(src|href)="(https?:)?//', text), name
        assert "@import" not in text and "url(" not in text, name


def test_an_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown board state"):
        Cell(env="prod", tenant="t", state="green")


def test_values_are_redacted_on_every_page() -> None:
    site = make_site()
    leaky = replace(site.promotions[0], verdict="clone of https://ci:hunter2secret@git.example/c.git failed")
    pages = render_site(replace(site, promotions=(leaky,)))
    assert all(b"hunter2secret" not in content for content in pages.values())
    assert b"https://***@git.example/c.git" in pages["promotion-7.html"]
