"""The lazy command group: `--help` lists every verb from the VERBS table with the short help the verb's own
command gives, without importing any verb module; `window check` runs without the outside-system clients
(docker, kubernetes, github, psycopg). Start-up time is bench/bench_cli.py's (no time asserted here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from gitops.cli.main import VERBS, LazyGroup, cli, load_verb

REPO = Path(__file__).resolve().parents[2]
CLIENTS = ("docker", "kubernetes", "github", "psycopg")

PROBE = """
import json, sys
from gitops.cli.main import main
code = main(sys.argv[1:])
sys.stdout.flush()
print("\\n@@MODULES@@" + json.dumps(sorted(sys.modules)))
sys.exit(code)
"""


def run_probe(*args: str) -> tuple[int, str, set[str]]:
    """Run the CLI in a fresh interpreter; (exit code, stdout before the probe + stderr, modules imported)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=120
    )
    out, _, modules = done.stdout.partition("\n@@MODULES@@")
    assert modules, done.stderr
    return done.returncode, out + done.stderr, set(json.loads(modules))


def eager_group() -> click.Group:
    """The same group built the eager way: every verb imported and added."""

    @click.group(
        "odoo-gitops", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110}
    )
    @click.version_option("0", prog_name="odoo-gitops")
    def eager() -> None:
        """odoo-gitops: build, sign, scan, promote and verify Odoo releases through GitOps."""

    for verb in VERBS:
        eager.add_command(load_verb(verb))
    return eager


@pytest.mark.parametrize("width", [60, 80, 200])
def test_help_lists_every_verb_with_the_verbs_own_short_help(width: int) -> None:
    settings = {**cli.context_settings, "terminal_width": width}
    fresh = LazyGroup(name="odoo-gitops", help=cli.help, context_settings=settings, params=cli.params)
    eager = eager_group()
    eager.context_settings["terminal_width"] = width
    lazy_out, eager_out = CliRunner().invoke(fresh, ["--help"]), CliRunner().invoke(eager, ["--help"])
    assert lazy_out.exit_code == eager_out.exit_code == 0, lazy_out.output
    assert lazy_out.output == eager_out.output
    assert not fresh.commands  # listed from the table alone
    for verb in VERBS:
        command = load_verb(verb)
        assert verb.short_help == command.get_short_help_str(limit=10_000), verb.name
        assert f"  {verb.name}  " in lazy_out.output


def test_the_table_names_each_verb_once_and_only_real_commands() -> None:
    assert len({v.name for v in VERBS}) == len(VERBS)
    assert len({v.module for v in VERBS}) == len(VERBS)  # one module per verb


def test_a_table_entry_pointing_at_the_wrong_command_is_refused() -> None:
    wrong = VERBS[0]._replace(name="not-plan")
    with pytest.raises(TypeError, match="is not the click command 'not-plan'"):
        load_verb(wrong)


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_imports_no_verb_module_and_no_client(flag: str) -> None:
    code, out, modules = run_probe(flag)
    assert code == 0
    assert all(f"  {v.name}  " in out for v in VERBS)
    assert not {v.module for v in VERBS} & modules
    assert not [m for m in modules if m.split(".")[0] in (*CLIENTS, "git", "rich", "pydantic")]


def test_window_check_imports_none_of_the_clients(window_repo: Callable[..., Path]) -> None:
    code, out, modules = run_probe(
        "window", "check", "prod", "--at", "2026-01-13T20:30:00+01:00", "--config-repo", str(window_repo())
    )
    assert code == 0, out
    assert out.startswith("OPEN")
    assert "gitops.cli.window" in modules
    assert not [m for m in modules if m.split(".")[0] in CLIENTS]
    assert "git" not in modules and "icalendar" not in modules  # a local config: nothing to clone, no ICS


def test_an_unknown_verb_is_a_usage_error_naming_it() -> None:
    code, out, modules = run_probe("no-such-verb")
    assert code == 2
    assert "No such command 'no-such-verb'" in out
    assert not {v.module for v in VERBS} & modules


def test_every_verb_runs_its_own_help_through_the_lazy_group() -> None:
    runner = CliRunner()
    for verb in VERBS:
        shown = runner.invoke(cli, [verb.name, "--help"])
        assert shown.exit_code == 0, (verb.name, shown.output)
        assert f"Usage: cli {verb.name}" in shown.output or f"{verb.name} [OPTIONS]" in shown.output
