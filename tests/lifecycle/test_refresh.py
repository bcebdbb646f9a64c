"""`odoo-gitops refresh SOURCE TARGET`: a gated, audited PR setting the target's `refresh:` blocks; refused
(exit 3) for production, synthetic targets and masking rules that leave a sensitive column unmasked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.configrepo import ConfigRepoFixture, git
from tests.lifecycle.helpers import audit, load_branch, open_pulls, run, yaml_at

BRANCH = "lifecycle/refresh/staging"
ACME = ("--masking", "default", "--tenant", "acme-build")


def test_refresh_opens_a_pr_setting_the_refresh_blocks(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, result, err = run(capsys, config_repo, "refresh", "prod", "staging", *ACME)
    assert code == 0, err
    assert result["branch"] == BRANCH
    env = yaml_at(config_repo, BRANCH, "envs/staging/env.yaml")
    assert env["refresh"]["source"] == "prod" and env["refresh"]["masking"] == "masking/default.yaml"
    assert (env["refresh"]["backup"], env["refresh"]["requested_by"]) == ("latest-verified", "ci-bot")
    values = yaml_at(config_repo, BRANCH, "envs/staging/values.yaml")["refresh"]
    assert values["enabled"] is True
    assert values["source"] == {
        "env": "prod",
        "tenant": "acme-build",
        "host": "postgresql-prod.odoo-prod.svc",
        "name": "acme-build",
        "existingSecret": "odoo-acme-build-database",
        # prod's signing.public_key: the refresh Job restores only a backup whose manifest it signed
        "publicKey": (config_repo.work / "keys" / "cosign.pub").read_text(),
    }
    assert values["masking"]["rules"]["columns"]["res_partner.email"] == "email"
    config = load_branch(config_repo, BRANCH, tmp_path / "branch")
    assert config.env("staging").config.refresh is not None
    (pull,) = open_pulls(config_repo, tmp_path)
    assert "2 approval(s) from cab" in pull.body and "`destructive` rule" in pull.body
    assert "@rel-maria" in pull.body
    (entry,) = [e for e in audit(config_repo, "staging") if e.kind == "refresh"]
    assert entry.data["source"] == "prod" and entry.data["masking"] == "masking/default.yaml"
    # a re-run is the same request: same PR, same content, no new audit entry
    code, again, _ = run(capsys, config_repo, "refresh", "prod", "staging", *ACME)
    assert (code, again["action"], again["pushed"]) == (0, "unchanged", False)
    assert len([e for e in audit(config_repo, "staging") if e.kind == "refresh"]) == 1


def _drop_rule(repo: ConfigRepoFixture, column: str) -> None:
    path = repo.work / "masking" / "default.yaml"
    path.write_text("".join(line for line in path.read_text().splitlines(True) if f"  {column}:" not in line))
    repo.commit_all(f"stop masking {column}")


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("staging", "prod", "--masking", "default"), 3, "production is never overwritten"),
        (("prod", "dev", "--masking", "default"), 3, "synthetic"),
        (("prod", "staging", "--tenant", "acme-build"), 3, "res_partner.email (module base)"),
        (("prod", "staging", "--masking", "default"), 2, "one database per tenant: name one with --tenant"),
        (("prod", "staging", "--masking", "nope"), 2, "masking/nope.yaml not found"),
        (("prod", "qa", "--masking", "default"), 2, "unknown environment 'qa'"),
        (("prod", "prod"), 2, "same environment"),
    ],
)
def test_refresh_refusals(
    config_repo: ConfigRepoFixture,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    code: int,
    needle: str,
) -> None:
    found, _, err = run(capsys, config_repo, "refresh", *args)
    assert found == code and needle in err, err
    assert git(config_repo.remote, "branch", "--list", "lifecycle/*") == ""


def test_an_unmasked_sensitive_column_refuses_the_refresh_naming_it(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    _drop_rule(config_repo, "hr_employee.ssnid")
    code, _, err = run(capsys, config_repo, "refresh", "prod", "staging", *ACME)
    assert code == 3 and "hr_employee.ssnid (module hr)" in err and "1 sensitive column" in err


def test_a_custom_module_extends_the_catalogue(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_repo.work / "masking" / "default.yaml"
    path.write_text(path.read_text() + "sensitive:\n  acme_retention: [acme_retention_line.amount]\n")
    config_repo.commit_all("acme_retention amounts are sensitive")
    code, _, err = run(capsys, config_repo, "refresh", "prod", "staging", *ACME)
    assert code == 3 and "acme_retention_line.amount (module acme_retention)" in err
