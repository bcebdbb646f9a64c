"""The values a diff is made of: one `Change` per signal, one `DiffError` per broken consistency rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from gitops.addons.models import Expr

Severity = Literal["info", "schema", "destructive"]
INFO: Severity = "info"
SCHEMA: Severity = "schema"
DESTRUCTIVE: Severity = "destructive"


def to_jsonable(value: Any) -> Any:
    """Manifest/AST values as JSON values (tuples → lists, `Expr` → {"expr": source})."""
    if isinstance(value, Expr):
        return value.to_json()
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((to_jsonable(v) for v in value), key=repr)
    return value


@dataclass(frozen=True, kw_only=True)
class Change:
    """One thing a release changes in a module; `severity` says what it can do to the database."""

    kind: str
    module: str
    severity: Severity
    model: str | None = None
    field: str | None = None
    before: Any = None
    after: Any = None
    message: str = ""
    file: str | None = None
    line: int = 0

    @property
    def touches_schema(self) -> bool:
        return self.severity != INFO

    def fingerprint_data(self) -> dict[str, Any]:
        """The part an approval binds to: what changes, not where in the source it is written."""
        return {
            "kind": self.kind,
            "module": self.module,
            "model": self.model,
            "field": self.field,
            "before": to_jsonable(self.before),
            "after": to_jsonable(self.after),
            "severity": self.severity,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.fingerprint_data(), "message": self.message, "file": self.file, "line": self.line}


@dataclass(frozen=True, kw_only=True)
class DiffError:
    """A consistency rule the release breaks (exit 3: policy said no)."""

    rule: str
    module: str
    message: str
    file: str | None = None
    line: int = 0

    def render(self) -> str:
        where = (
            f"{self.file}:{self.line}: " if self.file and self.line else f"{self.file}: " if self.file else ""
        )
        return f"{where}{self.module}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "module": self.module,
            "message": self.message,
            "file": self.file,
            "line": self.line,
        }
