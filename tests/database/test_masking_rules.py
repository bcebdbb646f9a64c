"""Masking rules: the model, file and line in every error, hostile identifiers refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.config.yamlsafe import parse_yaml
from gitops.database.masking_rules import ColumnRef, NoiseRule, Strategy, load_rules, parse_rules
from gitops.errors import ConfigError

GOOD = """\
columns:
  res_partner.name: fake_name
  res_partner.email: email
  hr_payslip_line.amount: {strategy: noise, percent: 10, group_by: slip_id}
  res_users.password: {strategy: constant, value: ""}
sensitive:
  my_addon: [x_contract.salary_note]
"""


def test_rules_parse_shorthand_and_options() -> None:
    rules = parse_rules([parse_yaml(GOOD, "masking/default.yaml")])
    by_column = {str(r.column): r for r in rules.rules}
    assert by_column["res_partner.name"].strategy is Strategy.FAKE_NAME
    noise = by_column["hr_payslip_line.amount"].rule
    assert isinstance(noise, NoiseRule) and noise.percent == 10 and noise.group_by == "slip_id"
    assert by_column["res_partner.email"].line == 3
    assert rules.sensitive == {"my_addon": frozenset({ColumnRef("x_contract", "salary_note")})}
    assert rules.salt_env == "ODOO_GITOPS_MASKING_SALT"


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ('columns:\n  "res_partner.name\\"; DROP TABLE x; --": email\n', 2, "not 'table.column'"),
        ("columns:\n  Res_Partner.name: email\n", 2, "not 'table.column'"),
        ("columns:\n  res_partner.name: {strategy: noise, percent: 10, group_by: 'a\"b'}\n", 2, "identifier"),
        ("columns:\n  res_partner: email\n", 2, "not 'table.column'"),
        ("columns:\n  res_partner.name: shuffle\n", 2, "strategy"),
        ("columns:\n  res_partner.name: ~\n", 2, ""),
        ("columns:\n  a.b: {strategy: noise, percent: 90}\n", 2, "percent"),
        ("columns:\n  a.b: {strategy: email, extra: 1}\n", 2, "unknown key"),
        ("salt_env: 'X; rm -rf /'\n", 1, "salt_env"),
        ("sensitive:\n  mod: ['x.y z']\n", 2, "not 'table.column'"),
        ("columns:\n  a.b: email\n  a.b: hash\n", 3, "duplicate key"),
        (f"columns:\n  {'a' * 64}.b: email\n", 2, "not 'table.column'"),
    ],
)
def test_bad_rules_name_file_and_line(text: str, line: int, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rules([parse_yaml(text, "masking/bad.yaml")])
    problem = info.value.problems[0]
    assert (problem.file, problem.line) == ("masking/bad.yaml", line)
    assert needle in problem.message


def test_a_column_ruled_in_two_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "masking").mkdir()
    (tmp_path / "masking" / "a.yaml").write_text("columns:\n  res_partner.name: email\n")
    (tmp_path / "masking" / "b.yaml").write_text("columns:\n\n  res_partner.name: hash\n")
    with pytest.raises(ConfigError) as info:
        load_rules(tmp_path)
    assert [(p.file, p.line) for p in info.value.problems] == [("masking/b.yaml", 3)]
    assert "masking/a.yaml:2" in info.value.problems[0].message


def test_no_masking_folder_means_no_rules(tmp_path: Path) -> None:
    assert load_rules(tmp_path).rules == ()
