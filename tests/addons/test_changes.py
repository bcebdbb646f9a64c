"""gitops/addons/changes.py: the values a schema diff is made of. What an approval binds to is what changes,
never where it is written; source values become JSON deterministically."""

from __future__ import annotations

import json

from gitops.addons.changes import DESTRUCTIVE, INFO, SCHEMA, Change, DiffError, to_jsonable
from gitops.addons.models import Expr


def test_source_values_become_json_deterministically() -> None:
    value = {"selection": (("a", "A"), ("b", "B")), 1: Expr("lambda self: self.env.user"), "s": {3, 1, 2}}
    assert to_jsonable(value) == {
        "selection": [["a", "A"], ["b", "B"]],
        "1": {"expr": "lambda self: self.env.user"},
        "s": [1, 2, 3],
    }
    json.dumps(to_jsonable(value))  # serialisable as is
    assert to_jsonable(frozenset({"b", "a"})) == ["a", "b"]


def change(**overrides: object) -> Change:
    base: dict[str, object] = {
        "kind": "field_removed", "module": "acme_payroll_bridge", "severity": DESTRUCTIVE,
        "model": "hr.payslip", "field": "x_bank", "before": {"type": "char"}, "after": None,
        "message": "x_bank removed", "file": "models/payslip.py", "line": 12,
    }  # fmt: skip
    return Change(**{**base, **overrides})  # type: ignore[arg-type]


def test_the_fingerprint_is_what_changes_not_where_it_is_written() -> None:
    moved = change(file="models/other.py", line=99, message="reworded")
    assert moved.fingerprint_data() == change().fingerprint_data()
    assert change(after={"type": "text"}).fingerprint_data() != change().fingerprint_data()
    assert change(severity=SCHEMA).fingerprint_data() != change().fingerprint_data()
    assert change().to_dict() == {**change().fingerprint_data(), "message": "x_bank removed",
                                  "file": "models/payslip.py", "line": 12}  # fmt: skip


def test_only_info_changes_leave_the_schema_alone() -> None:
    assert change(severity=INFO).touches_schema is False
    assert change(severity=SCHEMA).touches_schema is True
    assert change(severity=DESTRUCTIVE).touches_schema is True


def test_a_broken_rule_says_where() -> None:
    at_line = DiffError(
        rule="r", module="m", message="renamed without a migration", file="models/a.py", line=3
    )
    assert at_line.render() == "models/a.py:3: m: renamed without a migration"
    assert (
        DiffError(rule="r", module="m", message="x", file="__manifest__.py").render()
        == "__manifest__.py: m: x"
    )
    assert DiffError(rule="r", module="m", message="x").render() == "m: x"
    assert at_line.to_dict() == {"rule": "r", "module": "m", "message": "renamed without a migration",
                                 "file": "models/a.py", "line": 3}  # fmt: skip
