"""Coverage of the sensitive columns of the modules an environment runs."""

from __future__ import annotations

from gitops.config.yamlsafe import parse_yaml
from gitops.database.catalogue import BUILTIN, Uncovered, coverage
from gitops.database.masking_rules import ColumnRef, parse_rules


def _rules(text: str):  # type: ignore[no-untyped-def]
    return parse_rules([parse_yaml(text, "masking/default.yaml")])


def test_every_builtin_column_of_a_module_must_be_covered() -> None:
    rules = _rules("columns:\n  res_partner.name: fake_name\n")
    missing = coverage(rules, ["base"])
    assert Uncovered("base", ColumnRef("res_partner", "email")) in missing
    assert Uncovered("base", ColumnRef("res_partner", "name")) not in missing
    assert len(missing) == len(BUILTIN["base"]) - 1


def test_modules_not_installed_need_no_rules() -> None:
    assert coverage(_rules("columns: {}\n"), ["web", "sale"]) == []


def test_full_coverage_is_empty() -> None:
    lines = "".join(f"  {col}: nullify\n" for cols in BUILTIN.values() for col in cols)
    assert coverage(_rules("columns:\n" + lines), BUILTIN) == []


def test_the_config_repo_extends_the_catalogue() -> None:
    rules = _rules("sensitive:\n  x_payroll: [x_bonus.amount]\ncolumns: {}\n")
    assert coverage(rules, ["x_payroll"]) == [Uncovered("x_payroll", ColumnRef("x_bonus", "amount"))]
