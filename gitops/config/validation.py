"""Turn pydantic validation errors into Problems located by file and line."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gitops.config.yamlsafe import Document
from gitops.errors import Problem

M = TypeVar("M", bound=BaseModel)


def _describe(error: Any) -> str:
    loc = ".".join(str(part) for part in error["loc"]) or "(document)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{loc}: unknown key"
    if kind == "missing":
        return f"{loc}: required key is missing"
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    return f"{loc}: {message} (got {error.get('input')!r})" if kind.endswith("_type") else f"{loc}: {message}"


def problems_from(exc: ValidationError, doc: Document, prefix: tuple[str | int, ...] = ()) -> list[Problem]:
    """One Problem per pydantic error, with the line of the closest key the document knows."""
    problems = []
    for error in exc.errors():
        loc = tuple(
            part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-"))
        )
        problems.append(doc.problem((*prefix, *loc), _describe({**error, "loc": loc})))
    return problems


def validate(
    model: type[M],
    doc: Document,
    problems: list[Problem],
    *,
    prefix: tuple[str | int, ...] = (),
    data: Any = None,
) -> M | None:
    """Validate `data` (default: the document's data) into `model`, appending problems instead of raising."""
    payload = doc.data if data is None else data
    if payload is None:
        payload = {}
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems.extend(problems_from(exc, doc, prefix))
        return None
