"""Compare two views of the models one module touches and say what that does to the database.

Severity rules (what `-u` does in Odoo):
- `destructive`: can lose data — a stored field or a model removed, a column type Odoo cannot cast safely,
  `required` added to an existing column without a default, a stored field no longer stored, translations or
  company-dependent values folded away, selection keys removed, a comodel or many2many table changed.
- `schema`: changes the schema without losing data — new tables, columns, indexes, constraints, NOT NULL
  dropped, non-stored fields becoming stored (recomputed over every row).
- `info`: no table or column involved (non-stored fields, abstract models, metadata).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gitops.addons.changes import DESTRUCTIVE, INFO, SCHEMA, Change, Severity
from gitops.addons.field_facts import SAFE_CASTS, FieldFacts, field_facts, has_table, is_set
from gitops.addons.models import FieldDef, ModelDef

# attributes that mean something else (or nothing) once the type changes: the type change covers them
_TYPE_SPECIFIC = frozenset({"stored", "relation", "selection", "attachment", "digits"})


class _Recorder:
    """Collects the changes of one module, with its name filled in."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.changes: list[Change] = []

    def add(
        self,
        kind: str,
        severity: Severity,
        *,
        model: str | None = None,
        field: str | None = None,
        before: Any = None,
        after: Any = None,
        message: str = "",
        file: str | None = None,
        line: int = 0,
    ) -> None:
        self.changes.append(
            Change(
                kind=kind,
                module=self.module,
                severity=severity,
                model=model,
                field=field,
                before=before,
                after=after,
                message=message,
                file=file,
                line=line,
            )
        )


def _type_severity(old: FieldFacts, new: FieldFacts) -> Severity:
    if not has_table(old):
        return SCHEMA if has_table(new) else INFO
    if old.column is None or new.column is None:  # a many2many table left behind, or the column dropped
        return DESTRUCTIVE
    if old.column != new.column and (old.column, new.column) not in SAFE_CASTS:
        return DESTRUCTIVE
    return SCHEMA


def _flag_severity(before: Any, after: Any, *, adding: Severity, removing: Severity) -> Severity:
    return adding if is_set(after) and not is_set(before) else removing if is_set(before) else adding


AttributeRule = Callable[[FieldFacts, FieldFacts], Severity]


def _required_rule(old: FieldFacts, new: FieldFacts) -> Severity:
    if is_set(new.required) and not is_set(old.required):
        return DESTRUCTIVE if old.column is not None and not new.has_default else SCHEMA
    return SCHEMA


def _selection_rule(old: FieldFacts, new: FieldFacts) -> Severity:
    if isinstance(old.selection, tuple) and isinstance(new.selection, tuple):
        return DESTRUCTIVE if set(old.selection) - set(new.selection) else INFO
    return DESTRUCTIVE  # keys not knowable statically: fail closed


_ATTRIBUTE_RULES: tuple[tuple[str, str, AttributeRule], ...] = (
    ("stored", "field_store", lambda o, n: SCHEMA if n.stored else DESTRUCTIVE),
    ("required", "field_required", _required_rule),
    ("index", "field_index", lambda o, n: SCHEMA),
    (
        "translate",
        "field_translate",
        lambda o, n: _flag_severity(o.translate, n.translate, adding=SCHEMA, removing=DESTRUCTIVE),
    ),
    (
        "company_dependent",
        "field_company_dependent",
        lambda o, n: _flag_severity(
            o.company_dependent, n.company_dependent, adding=SCHEMA, removing=DESTRUCTIVE
        ),
    ),
    ("selection", "field_selection", _selection_rule),
    ("comodel", "field_comodel", lambda o, n: DESTRUCTIVE),
    ("ondelete", "field_ondelete", lambda o, n: SCHEMA),
    ("relation", "field_relation", lambda o, n: DESTRUCTIVE),
    ("digits", "field_digits", lambda o, n: SCHEMA),
    ("attachment", "field_attachment", lambda o, n: DESTRUCTIVE),
)


def same_definition(old: FieldDef, new: FieldDef) -> bool:
    """True when the two definitions give the same facts, so comparing them reports nothing: facts are read
    from a definition's type and attributes only. The same object (a file both sides hold is parsed once),
    or equal attributes whose repr is equal too: `==` alone would call `1` and `True` (or `0.0` and `-0.0`)
    the same, while the facts tell them apart (`required is True`, selection keys sorted by repr)."""
    if old is new:
        return True
    try:
        return old.type == new.type and old.attrs == new.attrs and repr(old.attrs) == repr(new.attrs)
    except RecursionError:  # a literal nested beyond repr's depth: compare the facts the long way
        return False


def _compare_field(rec: _Recorder, model: str, old: FieldDef, new: FieldDef, series: str | None) -> None:
    if same_definition(old, new):
        return
    before, after = field_facts(old, series), field_facts(new, series)
    if before.type != after.type:
        rec.add(
            "field_type",
            _type_severity(before, after),
            before=before.type,
            after=after.type,
            message=f"column {before.column or '-'} → {after.column or '-'}",
            model=model,
            field=new.name,
            file=new.file,
            line=new.line,
        )
    for attribute, kind, rule in _ATTRIBUTE_RULES:
        old_value, new_value = getattr(before, attribute), getattr(after, attribute)
        if old_value == new_value or (attribute in _TYPE_SPECIFIC and before.type != after.type):
            continue
        in_db = has_table(before) or has_table(after)
        severity = rule(before, after) if in_db else INFO
        message = "computed over every existing row" if kind == "field_store" and after.stored else ""
        rec.add(
            kind,
            severity,
            model=model,
            field=new.name,
            before=old_value,
            after=new_value,
            message=message,
            file=new.file,
            line=new.line,
        )


def _field_added(rec: _Recorder, model: str, new: FieldDef, series: str | None) -> None:
    facts = field_facts(new, series)
    severity = SCHEMA if has_table(facts) else INFO
    message = f"new column ({facts.column})" if facts.column else "no column"
    rec.add(
        "field_added",
        severity,
        model=model,
        field=new.name,
        after=new.type,
        message=message,
        file=new.file,
        line=new.line,
    )


def _field_removed(
    rec: _Recorder, model: str, old: FieldDef, added: Mapping[str, FieldDef], series: str | None
) -> None:
    facts = field_facts(old, series)
    twins = sorted(name for name, f in added.items() if f.type == old.type)
    message = "column dropped (DROP COLUMN … CASCADE)" if has_table(facts) else "no column"
    if twins and has_table(facts):
        message += f"; renamed to {', '.join(twins)}? a rename needs a pre-migrate script"
    rec.add(
        "field_removed",
        DESTRUCTIVE if has_table(facts) else INFO,
        model=model,
        field=old.name,
        before=old.type,
        message=message,
        file=old.file,
        line=old.line,
    )


def _model_severity(model: ModelDef, *, removing: bool) -> Severity:
    if model.kind == "abstract":
        return INFO
    if removing and model.kind == "model" and model.attrs.get("_auto", True) is not False:
        return DESTRUCTIVE
    return SCHEMA


_MODEL_DEFAULTS: Mapping[str, Any] = {"_auto": True, "_parent_store": False, "_inherits": {}, "_table": None}


def _compare_model_attrs(rec: _Recorder, old: ModelDef, new: ModelDef) -> None:
    for attr in sorted(set(old.attrs) | set(new.attrs)):
        before = old.attrs.get(attr, _MODEL_DEFAULTS.get(attr))
        after = new.attrs.get(attr, _MODEL_DEFAULTS.get(attr))
        if before == after:
            continue
        destructive = attr == "_table" or (attr == "_inherits" and is_set(before))
        rec.add(
            "model_attribute",
            DESTRUCTIVE if destructive else SCHEMA,
            model=new.name,
            field=attr,
            before=before,
            after=after,
            file=new.file,
            line=new.line,
        )
    for name in sorted(set(old.constraints) | set(new.constraints)):
        before, after = old.constraints.get(name), new.constraints.get(name)
        if before != after:
            kind = (
                "constraint_added"
                if before is None
                else "constraint_removed"
                if after is None
                else "constraint"
            )
            rec.add(
                kind,
                SCHEMA,
                model=new.name,
                field=name,
                before=before,
                after=after,
                file=new.file,
                line=new.line,
            )


def _compare_fields(
    rec: _Recorder, old: ModelDef, new: ModelDef, touched: Iterable[str], series: str | None
) -> None:
    added = {n: new.fields[n] for n in touched if n in new.fields and n not in old.fields}
    for name in sorted(touched):
        before, after = old.fields.get(name), new.fields.get(name)
        if before is not None and after is not None:
            _compare_field(rec, new.name, before, after, series)
        elif after is not None:
            _field_added(rec, new.name, after, series)
        elif before is not None:
            _field_removed(rec, new.name, before, added, series)


def compare_models(
    module: str,
    *,
    before: Mapping[str, ModelDef],
    after: Mapping[str, ModelDef],
    touched: Mapping[str, frozenset[str]],
    series: str | None,
) -> list[Change]:
    """Changes of `module` to the models it touches (`touched`: model → field names it defines).

    `before` / `after` are the merged views (dependencies, then the module) without and with the release.
    """
    rec = _Recorder(module)
    for name in sorted(touched):
        old, new = before.get(name), after.get(name)
        old_exists = old is not None and old.creates
        new_exists = new is not None and new.creates
        if new is not None and new_exists and not old_exists:
            rec.add(
                "model_added",
                _model_severity(new, removing=False),
                model=name,
                after=sorted(new.fields),
                file=new.file,
                line=new.line,
            )
        elif old is not None and old_exists and not new_exists:
            rec.add(
                "model_removed",
                _model_severity(old, removing=True),
                model=name,
                before=sorted(old.fields),
                message="table dropped",
                file=old.file,
                line=old.line,
            )
        elif old is not None and new is not None:
            _compare_model_attrs(rec, old, new)
            _compare_fields(rec, old, new, touched[name], series)
        elif new is not None:  # extension of a model outside the tree, new in this module
            _compare_fields(rec, _empty_like(new), new, touched[name], series)
        elif old is not None:
            _compare_fields(rec, old, _empty_like(old), touched[name], series)
    return rec.changes


def _empty_like(model: ModelDef) -> ModelDef:
    return ModelDef(
        name=model.name,
        kind=model.kind,
        creates=False,
        attrs={},
        constraints={},
        fields={},
        file=model.file,
        line=model.line,
    )
