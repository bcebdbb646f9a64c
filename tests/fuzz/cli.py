"""Drive the CLI in-process and check the property every fuzz target shares: exit 0 or 2, no traceback."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from click.testing import CliRunner

from gitops.cli.main import main

ALLOWED = frozenset({0, 2})


def run_cli(args: Sequence[str], *, allowed: frozenset[int] = ALLOWED) -> tuple[int, dict[str, object]]:
    """Run `odoo-gitops ARGS --json` with stdout/stderr captured; assert an allowed exit code, one JSON
    document on stdout, no traceback or internal error; a 2 is a config or usage error."""
    with CliRunner().isolation() as streams:
        code = main([*args, "--json"])
        sys.stdout.flush()
        sys.stderr.flush()
        out, err = (stream.getvalue().decode("utf-8", "replace") for stream in streams[:2])
    assert code in allowed, (code, out[-2000:], err[-2000:])
    assert "Traceback" not in out + err and "internal error" not in out + err, (out[-2000:], err[-2000:])
    document = json.loads(out) if out.strip() else {}
    if code == 2:
        assert document.get("error") in {"config", "usage"}, document
    return code, document
