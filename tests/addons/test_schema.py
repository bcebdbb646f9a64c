"""gitops/addons/schema.py: comparing two field definitions, and the shortcut that skips equal ones."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gitops.addons.field_facts import field_facts
from gitops.addons.models import Expr, FieldDef, ModelDef
from gitops.addons.schema import compare_models, same_definition


def fdef(type_: str, **attrs: Any) -> FieldDef:
    return FieldDef(name="x", type=type_, attrs=attrs, file="models/x.py", line=1)


def model(field: FieldDef) -> dict[str, ModelDef]:
    return {
        "a.b": ModelDef(
            name="a.b",
            kind="model",
            creates=True,
            attrs={},
            constraints={},
            fields={"x": field},
            file="models/x.py",
            line=1,
        )
    }


def changes(old: FieldDef, new: FieldDef) -> list[tuple[str, Any, Any]]:
    found = compare_models(
        "m", before=model(old), after=model(new), touched={"a.b": frozenset({"x"})}, series="17.0"
    )
    return [(c.kind, c.before, c.after) for c in found]


def test_the_same_definition_reports_nothing() -> None:
    field = fdef("many2one", comodel_name="res.partner", required=True)
    assert same_definition(field, field)
    assert changes(field, field) == []


def test_equal_values_of_another_type_are_still_compared() -> None:
    # 1 == True, but Odoo's many2one ondelete default reads `required is True`
    old, new = (
        fdef("many2one", comodel_name="res.partner", required=1),
        fdef("many2one", comodel_name="res.partner", required=True),
    )
    assert old.attrs == new.attrs and not same_definition(old, new)
    assert changes(old, new) == [("field_ondelete", "set null", "restrict")]


def test_selection_keys_sorted_by_repr_are_still_compared() -> None:
    # equal lists, but -0.0 and 0.0 sort apart from -1 by their repr: the facts' key tuples differ
    old = fdef("selection", selection=[(0.0, "a"), (-1, "b")])
    new = fdef("selection", selection=[(-0.0, "a"), (-1, "b")])
    assert old.attrs == new.attrs and not same_definition(old, new)
    assert field_facts(old, "17.0").selection != field_facts(new, "17.0").selection
    assert [kind for kind, _, _ in changes(old, new)] == ["field_selection"]


# values that are equal (==) to each other in each group, of different types or reprs
GROUPS = (
    (0, False, 0.0, -0.0),
    (1, True, 1.0),
    (None,),
    ("x",),
    (Expr("x"),),
    ((1, 2), (True, 2.0)),
    (
        [(True, "a"), (0.0, "b"), (-1, "c")],
        [(1, "a"), (-0.0, "b"), (-1, "c")],
        [(1.0, "a"), (0, "b"), (-1, "c")],
    ),
)
KEYS = st.sampled_from(
    ["required", "store", "compute", "related", "translate", "index", "company_dependent", "default",
     "selection", "selection_add", "ondelete", "attachment", "digits", "relation", "comodel_name"]
)  # fmt: skip
TYPES = st.sampled_from(["char", "many2one", "many2many", "selection", "binary", "float", "text"])


@settings(max_examples=300, deadline=None, database=None)
@given(type_=TYPES, chosen=st.dictionaries(KEYS, st.sampled_from(GROUPS), max_size=5), data=st.data())
def test_the_shortcut_only_skips_definitions_whose_facts_are_equal(
    type_: str, chosen: dict[str, tuple[Any, ...]], data: st.DataObject
) -> None:
    # two definitions with equal attributes (==), often of other types: the shortcut must tell them apart
    old = {key: data.draw(st.sampled_from(group)) for key, group in chosen.items()}
    new = {key: data.draw(st.sampled_from(group)) for key, group in chosen.items()}
    a, b = fdef(type_, **old), fdef(type_, **new)
    assert a.attrs == b.attrs
    if same_definition(a, b):
        for series in ("16.0", "17.0", "18.0", None):
            assert facts_or_error(a, series) == facts_or_error(b, series)
        assert changes(a, b) == []
    else:
        assert repr(a.attrs) != repr(b.attrs)


def facts_or_error(field: FieldDef, series: str | None) -> object:
    try:
        return field_facts(field, series)
    except TypeError as exc:  # e.g. `selection=1`: not iterable (both sides alike)
        return type(exc)
