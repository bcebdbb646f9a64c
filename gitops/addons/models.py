"""Read Odoo model classes from an addon's Python files with `ast` (never imported, never executed).

For each class deriving from `models.Model` / `TransientModel` / `AbstractModel` we keep what shapes the
database: `_name`, `_inherit`, `_inherits`, `_auto`, `_table`, `_parent_store`, `_sql_constraints`, Odoo 19
`models.Constraint` / `Index` / `UniqueIndex` attributes, and every `fields.X(...)` definition with its
arguments (literal values, or the source text of anything computed at import time).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gitops.addons.files import AddonFiles, DirFiles, walk_files
from gitops.addons.manifest import literal_value
from gitops.errors import Problem

MODEL_BASES = {"Model": "model", "TransientModel": "transient", "AbstractModel": "abstract"}
CONSTRAINT_CLASSES = frozenset({"Constraint", "Index", "UniqueIndex"})
MODEL_ATTRIBUTES = ("_inherits", "_auto", "_table", "_parent_store")
FIELD_TYPES = {
    "Boolean": "boolean",
    "Integer": "integer",
    "Float": "float",
    "Monetary": "monetary",
    "Char": "char",
    "Text": "text",
    "Html": "html",
    "Date": "date",
    "Datetime": "datetime",
    "Selection": "selection",
    "Binary": "binary",
    "Image": "binary",
    "Many2one": "many2one",
    "One2many": "one2many",
    "Many2many": "many2many",
    "Reference": "reference",
    "Many2oneReference": "many2one_reference",
    "Json": "json",
    "Properties": "properties",
    "PropertiesDefinition": "properties_definition",
}
# positional parameters of each field class, in order (odoo/fields.py constructors)
POSITIONAL = {
    "many2one": ("comodel_name", "string"),
    "one2many": ("comodel_name", "inverse_name", "string"),
    "many2many": ("comodel_name", "relation", "column1", "column2", "string"),
    "selection": ("selection", "string"),
    "reference": ("selection", "string"),
    "float": ("string", "digits"),
    "monetary": ("string", "currency_field"),
    "many2one_reference": ("string",),
}
_SKIPPED_DIRS = frozenset({"tests", "migrations", "upgrades", "static", "__pycache__", "node_modules"})


@dataclass(frozen=True)
class Expr:
    """A value the source computes (a lambda, a method name reference, a call): kept as its source text."""

    source: str

    def to_json(self) -> dict[str, str]:
        return {"expr": self.source}


@dataclass(frozen=True, kw_only=True)
class FieldDef:
    """One field definition (or override) as written: its type and the arguments given."""

    name: str
    type: str
    attrs: Mapping[str, Any]
    file: str
    line: int

    def merged_over(self, previous: FieldDef | None) -> FieldDef:
        """Odoo's override rule: same type → attributes accumulate; a new type starts afresh."""
        if previous is None or previous.type != self.type:
            return self
        return replace(self, attrs=MappingProxyType({**previous.attrs, **self.attrs}))


@dataclass(frozen=True, kw_only=True)
class ModelDef:
    """What the classes of one or more modules say about one model (`_name`)."""

    name: str
    kind: str
    creates: bool
    attrs: Mapping[str, Any]
    constraints: Mapping[str, Any]
    fields: Mapping[str, FieldDef]
    file: str
    line: int

    def merged_over(self, previous: ModelDef | None) -> ModelDef:
        if previous is None:
            return self
        fields = dict(previous.fields)
        for name, fdef in self.fields.items():
            fields[name] = fdef.merged_over(fields.get(name))
        return ModelDef(
            name=self.name,
            kind=previous.kind if previous.creates and not self.creates else self.kind,
            creates=previous.creates or self.creates,
            attrs=MappingProxyType({**previous.attrs, **self.attrs}),
            constraints=MappingProxyType({**previous.constraints, **self.constraints}),
            fields=MappingProxyType(fields),
            file=self.file,  # the latest class: where this layer's changes are written
            line=self.line,
        )


@dataclass(frozen=True, kw_only=True)
class ModuleSchema:
    """The models one addon defines or extends, and the files it could not parse (fail closed)."""

    module: str
    models: Mapping[str, ModelDef] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


def literal(node: ast.expr) -> Any:
    """The literal value of `node`, or an `Expr` holding its source text."""
    try:
        return literal_value(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return Expr(ast.unparse(node))


def _callee_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _model_kind(node: ast.ClassDef) -> str | None:
    for base in node.bases:
        name = _callee_name(base)
        if name in MODEL_BASES:
            return MODEL_BASES[name]
    return None


def _field_def(name: str, call: ast.Call, file: str) -> FieldDef | None:
    type_name = FIELD_TYPES.get(_callee_name(call.func) or "")
    if type_name is None:
        return None
    attrs: dict[str, Any] = {}
    for param, arg in zip(POSITIONAL.get(type_name, ("string",)), call.args, strict=False):
        attrs[param] = literal(arg)
    for keyword in call.keywords:
        if keyword.arg is not None:
            attrs[keyword.arg] = literal(keyword.value)
    return FieldDef(name=name, type=type_name, attrs=MappingProxyType(attrs), file=file, line=call.lineno)


def _sql_constraints(value: Any) -> dict[str, Any]:
    if isinstance(value, Expr):
        return {"_sql_constraints": value}
    result: dict[str, Any] = {}
    for item in value if isinstance(value, list | tuple) else ():
        if isinstance(item, tuple | list) and len(item) >= 2:
            result[f"sql:{item[0]}"] = item[1]
    return result


class _ClassBody:
    """Collects the model-relevant assignments of one class body."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.attrs: dict[str, Any] = {}
        self.constraints: dict[str, Any] = {}
        self.fields: dict[str, FieldDef] = {}

    def visit(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            self._assign(stmt.targets[0].id, stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            self._assign(stmt.target.id, stmt.value)

    def _assign(self, name: str, value: ast.expr) -> None:
        if isinstance(value, ast.Call):
            callee = _callee_name(value.func)
            if callee in CONSTRAINT_CLASSES:
                self.constraints[name] = f"{callee}({', '.join(ast.unparse(a) for a in value.args)})"
                return
            fdef = _field_def(name, value, self.file)
            if fdef is not None:
                self.fields[name] = fdef
                return
        if name == "_sql_constraints":
            self.constraints.update(_sql_constraints(literal(value)))
        elif name in (*MODEL_ATTRIBUTES, "_name", "_inherit"):
            self.attrs[name] = literal(value)


def _as_names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _model_def(node: ast.ClassDef, kind: str, file: str) -> ModelDef | None:
    body = _ClassBody(file)
    for stmt in node.body:
        body.visit(stmt)
    name = body.attrs.pop("_name", None)
    parents = _as_names(body.attrs.pop("_inherit", None))
    model = name if isinstance(name, str) else (parents[0] if parents else None)
    if model is None:
        return None
    return ModelDef(
        name=model,
        kind=kind,
        creates=isinstance(name, str) and name not in parents,
        attrs=MappingProxyType(body.attrs),
        constraints=MappingProxyType(body.constraints),
        fields=MappingProxyType(body.fields),
        file=file,
        line=node.lineno,
    )


def parse_python(source: bytes, file: str) -> tuple[list[ModelDef], Problem | None]:
    """Model definitions in one Python file, or the syntax problem that stopped parsing."""
    try:
        tree = ast.parse(source, filename=file)
    except SyntaxError as exc:
        return [], Problem(file, exc.lineno or 1, f"cannot parse: {exc.msg}")
    except (ValueError, RecursionError, MemoryError) as exc:
        return [], Problem(file, 1, f"cannot parse: {exc}")
    models: list[ModelDef] = []
    for node in _class_defs(tree.body):
        if (kind := _model_kind(node)) is not None and (model := _model_def(node, kind, file)) is not None:
            models.append(model)
    return models, None


def _class_defs(body: list[ast.stmt]) -> Iterator[ast.ClassDef]:
    """Classes defined at module level, also inside `if` / `try` blocks (statements only, no expressions)."""
    for stmt in body:
        if isinstance(stmt, ast.ClassDef):
            yield stmt
        elif isinstance(stmt, ast.If | ast.Try | ast.TryStar | ast.With):
            for block in ("body", "orelse", "finalbody"):
                yield from _class_defs(getattr(stmt, block, []))
            for handler in getattr(stmt, "handlers", []):
                yield from _class_defs(handler.body)


def python_files(files: AddonFiles) -> Iterator[str]:
    """The addon's Python files that can define models, in `os.walk` order (tests, migrations and assets
    left out)."""
    for relpath in walk_files(files, skip_dir=_SKIPPED_DIRS):
        if relpath.endswith(".py") and relpath.rpartition("/")[2] != "__manifest__.py":
            yield relpath


ParsedFiles = dict[tuple[str, bytes], tuple[list[ModelDef], Problem | None]]
"""`parse_python`'s answers by (file name, bytes): a file both sides of a diff hold is parsed once."""


def parse_module(module: str, addon: Path | AddonFiles, parsed: ParsedFiles | None = None) -> ModuleSchema:
    """Every model class of one addon (a directory, or files read from git objects), merged per model in
    file order; `parsed` keeps each file's models for the next call (the other side of a diff)."""
    files = DirFiles(addon) if isinstance(addon, Path) else addon
    parsed = {} if parsed is None else parsed
    models: dict[str, ModelDef] = {}
    problems: list[Problem] = []
    for relpath in python_files(files):
        where = files.display(relpath)
        try:
            source = files.read(relpath)
        except OSError as exc:
            problems.append(Problem(where, 0, f"cannot read: {exc.strerror}"))
            continue
        if (where, source) not in parsed:
            parsed[where, source] = parse_python(source, where)
        found, problem = parsed[where, source]
        if problem is not None:
            problems.append(problem)
        for model in found:
            models[model.name] = model.merged_over(models.get(model.name))
    return ModuleSchema(module=module, models=MappingProxyType(models), problems=tuple(problems))
