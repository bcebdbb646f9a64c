"""The CAB Markdown as HTML: raw HTML and links in PR-controlled text stay text, tables get header scopes,
secrets are redacted."""

from __future__ import annotations

from gitops.board.cabtext import lit
from gitops.board.site_cab import cab_html


def test_raw_html_in_the_markdown_is_shown_as_text() -> None:
    html = cab_html('## Reviews\n\n- <script>alert(1)</script> <img src="http://x/y.png">\n')
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_pr_controlled_text_cannot_become_a_link_or_markup() -> None:
    title = "[click](http://evil.example) **bold** `code` <b>x</b>"
    html = cab_html(f"## #7 {lit(title)}\n")
    assert "<a " not in html and "<strong>" not in html and "<code>" not in html and "<b>" not in html
    assert "[click]" in html


def test_tables_have_header_scopes() -> None:
    html = cab_html("| module | change |\n|---|---|\n| acme | changed |\n")
    assert html.count('<th scope="col">') == 2
    assert "<th>" not in html


def test_secrets_are_redacted() -> None:
    html = cab_html("- scan: ok: pulled https://user:hunter2secret@registry.example/acme\n")
    assert "hunter2secret" not in html
