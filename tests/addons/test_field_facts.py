"""gitops/addons/field_facts.py: how a field definition reads in the database, by value."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.addons.field_facts import SAFE_CASTS, field_facts, has_table, is_set
from gitops.addons.models import Expr, FieldDef


def fdef(type_: str, **attrs: Any) -> FieldDef:
    return FieldDef(name="x", type=type_, attrs=attrs, file="models/x.py", line=1)


@pytest.mark.parametrize(
    ("field", "series", "stored", "column"),
    [
        (fdef("char"), "17.0", True, "varchar"),
        (fdef("char", translate=True), "17.0", True, "jsonb"),  # translations live in jsonb since 16
        (fdef("float"), "17.0", True, "float8"),
        (fdef("float", digits=(16, 2)), "17.0", True, "numeric"),
        (fdef("float", compute="_c"), "17.0", False, None),
        (fdef("float", compute="_c", store=True), "17.0", True, "float8"),
        (fdef("char", related="partner_id.city"), "17.0", False, None),
        (fdef("binary"), "17.0", True, None),  # an attachment, not a column
        (fdef("binary", attachment=False), "17.0", True, "bytea"),
        (fdef("one2many", comodel_name="a.b"), "17.0", True, None),
        (fdef("char", company_dependent=True), "17.0", False, None),  # ir.property before 18
        (fdef("char", company_dependent=True), "18.0", True, "jsonb"),
        (fdef("many2one", comodel_name="res.partner"), None, True, "int4"),
    ],
)
def test_stored_and_column(field: FieldDef, series: str | None, stored: bool, column: str | None) -> None:
    facts = field_facts(field, series)
    assert (facts.stored, facts.column) == (stored, column)


def test_many2one_ondelete_defaults_like_odoo() -> None:
    assert field_facts(fdef("many2one", comodel_name="a"), "17.0").ondelete == "set null"
    assert field_facts(fdef("many2one", comodel_name="a", required=True), "17.0").ondelete == "restrict"
    assert field_facts(fdef("many2one", comodel_name="a", ondelete="cascade"), "17.0").ondelete == "cascade"


def test_selection_keys_are_read_or_kept_as_an_expression() -> None:
    listed = fdef("selection", selection=[("b", "B"), ("a", "A")], selection_add=[("c", "C")])
    assert field_facts(listed, "17.0").selection == ("a", "b", "c")
    dynamic = fdef("selection", selection=Expr("_states"))
    assert field_facts(dynamic, "17.0").selection == Expr("_states")


def test_a_many2many_has_a_table_and_a_computed_field_none() -> None:
    m2m = field_facts(fdef("many2many", comodel_name="a", relation="r", column1="c1", column2="c2"), "17.0")
    assert m2m.relation == ("r", "c1", "c2")
    assert has_table(m2m)
    assert not has_table(field_facts(fdef("integer", compute="_c"), "17.0"))


def test_an_expression_counts_as_set() -> None:
    assert is_set(Expr("lambda self: 1"))
    assert is_set(True)
    assert not is_set(False)
    assert not is_set(None)


def test_only_lossless_casts_are_safe() -> None:
    assert ("varchar", "text") in SAFE_CASTS
    assert ("text", "int4") not in SAFE_CASTS
    assert ("int8", "int4") not in SAFE_CASTS
