"""The database-relevant reading of one Odoo field definition: stored or not, its column type, the
attributes a schema comparison looks at (addons/schema.py compares two readings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitops.addons.models import Expr, FieldDef

_COLUMN_TYPES = {
    "boolean": "bool",
    "integer": "int4",
    "monetary": "numeric",
    "char": "varchar",
    "text": "text",
    "html": "text",
    "date": "date",
    "datetime": "timestamp",
    "selection": "varchar",
    "reference": "varchar",
    "many2one": "int4",
    "many2one_reference": "int4",
    "json": "jsonb",
    "properties": "jsonb",
    "properties_definition": "jsonb",
}
# column conversions Odoo's ALTER COLUMN … TYPE … USING col::type performs without losing values
SAFE_CASTS = frozenset(
    {
        ("varchar", "text"),
        ("text", "varchar"),
        ("int4", "int8"),
        ("int4", "numeric"),
        ("int4", "float8"),
        ("float8", "numeric"),
        ("date", "timestamp"),
        ("bool", "int4"),
    }
)
_TRANSLATABLE = frozenset({"char", "text", "html"})


def _major(series: str | None) -> int:
    return int(series.split(".")[0]) if series else 17


@dataclass(frozen=True, kw_only=True)
class FieldFacts:
    """The database-relevant reading of a field definition."""

    type: str
    stored: bool
    column: str | None
    required: Any
    has_default: bool
    index: Any
    translate: Any
    company_dependent: Any
    selection: Any
    comodel: Any
    ondelete: Any
    relation: tuple[Any, Any, Any] | None
    digits: Any
    attachment: Any


def is_set(value: Any) -> bool:
    return isinstance(value, Expr) or bool(value)


def _stored(fdef: FieldDef, series: str | None) -> bool:
    attrs = fdef.attrs
    if "store" in attrs:
        return bool(attrs["store"])
    if attrs.get("company_dependent") and _major(series) < 18:
        return False  # values live in ir.property before 18
    return not (is_set(attrs.get("compute")) or is_set(attrs.get("related")))


def _column(fdef: FieldDef, stored: bool, series: str | None) -> str | None:
    attrs = fdef.attrs
    if not stored or fdef.type in ("one2many", "many2many"):
        return None
    if fdef.type == "binary":
        return None if attrs.get("attachment", True) else "bytea"
    if attrs.get("company_dependent") or (fdef.type in _TRANSLATABLE and is_set(attrs.get("translate"))):
        return "jsonb"
    if fdef.type == "float":
        return "numeric" if is_set(attrs.get("digits")) else "float8"
    return _COLUMN_TYPES.get(fdef.type)


def _selection_keys(attrs: Mapping[str, Any]) -> Any:
    keys: list[Any] = []
    for source in ("selection", "selection_add"):
        value = attrs.get(source)
        if isinstance(value, Expr | str):
            return value if isinstance(value, Expr) else Expr(value)
        for item in value or ():
            if isinstance(item, list | tuple) and item:
                keys.append(item[0])
    return tuple(sorted(set(keys), key=repr)) if keys else None


def _ondelete(fdef: FieldDef) -> Any:
    """Odoo's default for many2one: 'restrict' when required, else 'set null'."""
    value = fdef.attrs.get("ondelete")
    if value is None and fdef.type == "many2one":
        return "restrict" if fdef.attrs.get("required") is True else "set null"
    return value


def field_facts(fdef: FieldDef, series: str | None) -> FieldFacts:
    attrs = fdef.attrs
    stored = _stored(fdef, series)
    m2m = (attrs.get("relation"), attrs.get("column1"), attrs.get("column2"))
    return FieldFacts(
        type=fdef.type,
        stored=stored,
        column=_column(fdef, stored, series),
        required=attrs.get("required", False),
        has_default="default" in attrs,
        index=attrs.get("index", False),
        translate=attrs.get("translate", False),
        company_dependent=attrs.get("company_dependent", False),
        selection=_selection_keys(attrs) if fdef.type in ("selection", "reference") else None,
        comodel=attrs.get("comodel_name"),
        ondelete=_ondelete(fdef),
        relation=m2m if fdef.type == "many2many" else None,
        digits=attrs.get("digits"),
        attachment=attrs.get("attachment", True) if fdef.type == "binary" else None,
    )


def has_table(facts: FieldFacts) -> bool:
    return facts.column is not None or (facts.type == "many2many" and facts.stored)
