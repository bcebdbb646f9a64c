"""The CAB view of a promotion as HTML for the board: the Markdown `pr show` prints (gitops.board.cabtext),
rendered by markdown-it with raw HTML disabled, so the page and the terminal say the same thing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markdown_it import MarkdownIt

from gitops.board.cab import cab_view
from gitops.board.cabtext import cab_markdown
from gitops.board.model import PullGate
from gitops.board.snapshot import window_now
from gitops.config.loader import ConfigRepo
from gitops.gates.policy import Review
from gitops.redact import redact

# CommonMark with tables; raw HTML in the text is shown as text, never passed through.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def cab_html(markdown: str) -> str:
    """Redacted HTML of the CAB Markdown; table headers get scope="col" (one header row per table)."""
    html: str = _MARKDOWN.render(redact(markdown))
    return html.replace("<th>", '<th scope="col">')


def cab_page_html(
    repo: ConfigRepo, pull: PullGate, reviews: Sequence[Review], *, now: datetime
) -> str | None:
    """The CAB view of an evaluated PR (None when its gate could not be evaluated)."""
    if pull.facts is None or pull.verdict is None:
        return None
    verdict = pull.verdict
    timezone = repo.env(pull.target).config.timezone
    window = None if verdict.window is None else window_now(verdict.window, timezone=timezone, gated=True)
    view = cab_view(
        repo, number=pull.number, title=pull.title, facts=pull.facts, verdict=verdict, reviews=reviews,
        window=window, covers=pull.covers,
    )  # fmt: skip
    text = cab_markdown(view, head=pull.branch, head_sha=pull.facts.head, statuses=(), now=now)
    return cab_html(text)
