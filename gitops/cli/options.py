"""Options shared by every verb and the one way a verb prints its result."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import click

from gitops.errors import Report
from gitops.redact import redact, redact_data

F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")(func)


def config_repo_option(func: F) -> F:
    return click.option(
        "--config-repo",
        "config_repo",
        default=".",
        show_default=True,
        metavar="PATH|URL",
        help="Config repository: a directory or a git URL.",
    )(func)


def _default(value: Any) -> Any:
    from pydantic import BaseModel  # only here: `--help` and most verbs never need it

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):  # sorted: the same facts give the same JSON on every run
        return sorted(value, key=lambda item: json.dumps(item, default=_default, sort_keys=True))
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(data: Any) -> str:
    """One JSON document, every string in it redacted (gitops/redact.py)."""
    plain = json.loads(json.dumps(data, default=_default, ensure_ascii=False))
    return json.dumps(redact_data(plain), indent=2, sort_keys=False, ensure_ascii=False)


# C0 and C1 control characters but tab and newline: escape sequences (CSI, OSC: restyle, clear, retitle,
# write the clipboard), carriage returns that overwrite a line, bells
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def for_terminal(text: str) -> str:
    """Human text, redacted, with every control character but tab and newline shown as '?': PR titles,
    path names and other text an attacker controls cannot restyle, clear or overwrite what a reviewer
    reads (found by the attack tests)."""
    return _CONTROL_RE.sub("?", redact(text))


def print_report(report: Report, *, as_json: bool) -> None:
    """Print a verb's result, redacted: JSON on stdout with --json, otherwise human text. The error
    handler prints a verdict's report (gitops/errors.py) the same way."""
    if as_json:
        sys.stdout.write(to_json(report.data) + "\n")
    else:
        text = report.human()
        if text:
            click.echo(redact(text) if report.styled else for_terminal(text))


def emit(data: Any, *, as_json: bool, human: Callable[[], str] | str) -> None:
    """Print a verb's result (`print_report`). A verdict that says no is not emitted: the verb raises it
    as its error type carrying the report, and gitops/errors.py maps it to its exit code."""
    print_report(Report(data=data, text=human), as_json=as_json)


def info(message: str) -> None:
    """Progress text for humans, redacted; always stderr, so stdout stays one JSON document."""
    click.echo(for_terminal(message), err=True)
