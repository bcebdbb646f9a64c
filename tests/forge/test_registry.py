"""The forge registry is the one list of forges: `--forge`'s choices, every forge's own options on every verb
that talks to a forge, and which module builds the forge. A forge added to a copy of the registry is offered
and used by the CLI with no other change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner

from gitops.cli.forge_options import forge_options_from
from gitops.cli.main import cli
from gitops.errors import UsageError
from gitops.forge import github, local
from gitops.forge.protocol import ForgeOption, ForgeSettings
from gitops.forge.registry import FORGES, clone_url, forge_factory, forge_kind, forge_option_list
from tests.fixtures.configrepo import ConfigRepoFixture
from tests.forge import fakeforge

REPO = Path(__file__).resolve().parents[2]
FORGE_VERBS = (("promote",), ("rollback",), ("gate", "check"), ("pr", "list"), ("pr", "show"),
               ("pr", "approve"), ("pr", "merge"))  # fmt: skip


def command(*path: str) -> click.Command:
    found: click.Command | None = cli
    for name in path:
        assert isinstance(found, click.Group)
        found = found.get_command(click.Context(found), name)  # the CLI group imports a verb on demand
    assert found is not None
    return found


def test_the_registry_lists_local_then_github() -> None:
    assert list(FORGES.items()) == [("local", local), ("github", github)]
    assert forge_kind("github") is github
    assert [o.name for o in forge_option_list()] == ["github_url", "github_repo"]


def test_a_forge_option_must_carry_its_forges_name() -> None:
    hostile = SimpleNamespace(OPTIONS=(ForgeOption(flag="--tenants", help="shadows promote --tenants"),))
    with pytest.raises(ValueError, match="forge 'evil': option --tenants must start with --evil-"):
        forge_option_list({**FORGES, "evil": hostile})  # type: ignore[dict-item]


def test_an_unknown_forge_is_a_usage_error_naming_the_known_ones() -> None:
    with pytest.raises(UsageError) as err:
        forge_factory(ForgeSettings(kind="gitlab"), "/srv/config.git")
    assert "--forge 'gitlab': expected github or local" in err.value.render()


@pytest.mark.parametrize("path", FORGE_VERBS, ids=" ".join)
def test_every_forge_verb_offers_the_registrys_forges_and_options_as_before(path: tuple[str, ...]) -> None:
    params = {p.name: p for p in command(*path).params if isinstance(p, click.Option)}
    forge = params["forge"]
    assert isinstance(forge.type, click.Choice)
    assert (list(forge.type.choices), forge.default, forge.show_default) == (
        ["local", "github"],
        "local",
        True,
    )
    assert params["github_url"].opts == ["--github-url"] and params["github_url"].default is None
    assert (params["github_repo"].opts, params["github_repo"].metavar) == (["--github-repo"], "OWNER/NAME")
    assert params["actor"].opts == ["--actor"] and params["actor"].default is None
    assert not any(
        p.envvar for p in params.values() if p.name in {"forge", "github_url", "github_repo", "actor"}
    )


def test_a_forge_added_to_a_copy_of_the_registry_is_offered_and_built() -> None:
    forges = {**FORGES, "fake": fakeforge}
    seen: list[ForgeSettings] = []

    @click.command()
    @forge_options_from(forges)
    def verb(*, forge: ForgeSettings) -> None:
        seen.append(forge)

    runner = CliRunner()
    shown = runner.invoke(verb, ["--help"])
    assert "[local|github|fake]" in shown.output and "--fake-greeting TEXT" in shown.output
    done = runner.invoke(verb, ["--forge", "fake", "--fake-greeting", "hi", "--actor", "ines"])
    assert done.exit_code == 0, done.output
    options = {"github_url": None, "github_repo": None, "fake_greeting": "hi"}
    assert seen == [ForgeSettings(kind="fake", actor="ines", options=options)]
    assert runner.invoke(verb, ["--forge", "gitlab"]).exit_code == 2
    assert "fake" not in FORGES  # only the copy changed
    build = forge_factory(seen[0], "/srv/config.git", forges)
    assert clone_url(seen[0], "/srv/config.git", forges) == "/srv/config.git"
    assert isinstance(build(type("Checkout", (), {"branch": "main"})()), fakeforge.FakeForge)  # type: ignore[arg-type]


def test_the_cli_offers_and_uses_a_forge_registered_with_one_line(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    script = tmp_path / "odoo_gitops_with_fake.py"
    script.write_text(
        "import sys\n"
        "from gitops.forge import registry\n"
        "from tests.forge import fakeforge\n"
        "registry.FORGES['fake'] = fakeforge  # the one registry line a new forge adds\n"
        "from gitops.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True)

    for path in FORGE_VERBS:
        shown = run(*path, "--help")
        assert shown.returncode == 0, shown.stderr
        assert "[local|github|fake]" in shown.stdout and "--fake-greeting TEXT" in shown.stdout
    listed = run("pr", "list", "--config-repo", str(config_repo.remote), "--forge", "fake",
                 "--fake-greeting", "hi", "--actor", "ines", "--json")  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    [pull] = json.loads(listed.stdout)["pull_requests"]
    assert (pull["number"], pull["title"], pull["author"]) == (7, "hi from ines", "fake-bot")
    hostile = run("pr", "list", "--config-repo", str(config_repo.remote), "--forge", "fake",
                  "--fake-greeting", "\x1b]0;pwned\x07\x1b[2Jhi", "--actor", "ines")  # fmt: skip
    assert hostile.returncode == 0, hostile.stderr
    # a PR title is anyone's text: `pr list` prints it with control characters replaced, never interpreted
    assert "#7    open    ?]0;pwned??[2Jhi from ines" in hostile.stdout
    assert "\x1b" not in hostile.stdout and "\x07" not in hostile.stdout
