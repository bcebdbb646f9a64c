"""Masking rules kept in the config repository: `masking/<name>.yaml`.

    salt_env: ODOO_GITOPS_MASKING_SALT     # the environment variable holding the secret salt (default)
    columns:                               # table.column -> strategy (a name, or a mapping with options)
      res_partner.name: fake_name
      res_partner.email: email
      res_partner.phone: phone
      res_partner_bank.acc_number: iban
      res_partner.ref: hash                # salted hash: equal inputs stay equal (join keys)
      hr_payslip_line.amount: {strategy: noise, percent: 10, group_by: slip_id}
      hr_employee.passport_id: nullify
      res_users.password: {strategy: constant, value: ""}
    sensitive:                             # extends the built-in catalogue (gitops/database/catalogue.py)
      my_addon: [x_contract.salary_note]

Table and column names are PostgreSQL identifiers as Odoo writes them (lowercase letters, digits, `_`);
anything else is refused here, and every name is also quoted when SQL is built (masking_sql.py).
Errors name the file and line, every problem at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from gitops.config.validation import validate
from gitops.config.yamlsafe import Document, load_yaml
from gitops.errors import ConfigError, Problem

# Odoo's table and column names; 63 bytes is PostgreSQL's identifier limit (NAMEDATALEN - 1)
IDENTIFIER_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}\Z")
_MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
DEFAULT_SALT_ENV = "ODOO_GITOPS_MASKING_SALT"


class Strategy(StrEnum):
    FAKE_NAME = "fake_name"
    EMAIL = "email"
    PHONE = "phone"
    IBAN = "iban"
    HASH = "hash"
    NOISE = "noise"
    NULLIFY = "nullify"
    CONSTANT = "constant"


TEXT_STRATEGIES = frozenset(
    {Strategy.FAKE_NAME, Strategy.EMAIL, Strategy.PHONE, Strategy.IBAN, Strategy.HASH}
)


@dataclass(frozen=True, order=True)
class ColumnRef:
    """A column of a table, both checked identifiers."""

    table: str
    column: str

    @classmethod
    def parse(cls, text: str) -> ColumnRef:
        table, sep, column = text.partition(".")
        if not sep or not IDENTIFIER_RE.match(table) or not IDENTIFIER_RE.match(column):
            raise ValueError(
                f"{text!r} is not 'table.column' with lowercase PostgreSQL identifiers ([a-z_][a-z0-9_]*)"
            )
        return cls(table, column)

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"


def _identifier(value: str) -> str:
    if not IDENTIFIER_RE.match(value):
        raise ValueError(f"{value!r} is not a lowercase PostgreSQL identifier ([a-z_][a-z0-9_]*)")
    return value


Identifier = Annotated[StrictStr, AfterValidator(_identifier)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SimpleRule(_Strict):
    strategy: Literal[
        Strategy.FAKE_NAME, Strategy.EMAIL, Strategy.PHONE, Strategy.IBAN, Strategy.HASH, Strategy.NULLIFY
    ]


class NoiseRule(_Strict):
    strategy: Literal[Strategy.NOISE]
    percent: StrictInt | StrictFloat = Field(gt=0, le=50, description="the largest change, in percent")
    group_by: Identifier | None = Field(
        default=None, description="a column whose value picks the factor: rows sharing it move together"
    )


class ConstantRule(_Strict):
    strategy: Literal[Strategy.CONSTANT]
    value: StrictStr | StrictInt | StrictFloat | None


Rule = Annotated[SimpleRule | NoiseRule | ConstantRule, Field(discriminator="strategy")]


class _RulesFile(_Strict):
    salt_env: Annotated[StrictStr, Field(pattern=r"^[A-Z_][A-Z0-9_]{0,127}$")] = DEFAULT_SALT_ENV
    columns: dict[StrictStr, Rule] = {}
    sensitive: dict[StrictStr, list[StrictStr]] = {}


@dataclass(frozen=True)
class MaskingRule:
    column: ColumnRef
    rule: SimpleRule | NoiseRule | ConstantRule
    file: str
    line: int

    @property
    def strategy(self) -> Strategy:
        return self.rule.strategy


@dataclass(frozen=True)
class MaskingRules:
    """Every rule of every masking file, and the sensitive columns they add to the catalogue."""

    rules: tuple[MaskingRule, ...]
    sensitive: dict[str, frozenset[ColumnRef]]
    salt_env: str = DEFAULT_SALT_ENV

    def covered(self) -> frozenset[ColumnRef]:
        return frozenset(rule.column for rule in self.rules)

    def by_table(self) -> dict[str, tuple[MaskingRule, ...]]:
        tables: dict[str, list[MaskingRule]] = {}
        for rule in self.rules:
            tables.setdefault(rule.column.table, []).append(rule)
        return {table: tuple(rules) for table, rules in sorted(tables.items())}


def _shorthand(doc: Document) -> object:
    """`col: email` is `col: {strategy: email}`; YAML null is not a strategy (write `nullify`)."""
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        return data
    columns = {k: {"strategy": v} if isinstance(v, str) else v for k, v in data["columns"].items()}
    return {**data, "columns": columns}


def _check_names(doc: Document, parsed: _RulesFile, problems: list[Problem]) -> list[MaskingRule]:
    rules = []
    for key, rule in parsed.columns.items():
        try:
            ref = ColumnRef.parse(key)
        except ValueError as exc:
            problems.append(doc.problem(("columns", key), str(exc)))
            continue
        rules.append(MaskingRule(ref, rule, doc.file, doc.line_of(("columns", key))))
    for module, columns in parsed.sensitive.items():
        if not _MODULE_RE.match(module):
            problems.append(doc.problem(("sensitive", module), f"{module!r} is not an Odoo module name"))
        for index, text in enumerate(columns):
            try:
                ColumnRef.parse(text)
            except ValueError as exc:
                problems.append(doc.problem(("sensitive", module, index), str(exc)))
    return rules


def parse_rules(docs: Iterable[Document]) -> MaskingRules:
    """Rules from parsed documents; a column ruled twice (in one file or two) is a problem at both lines."""
    problems: list[Problem] = []
    rules: list[MaskingRule] = []
    sensitive: dict[str, set[ColumnRef]] = {}
    salt_envs: set[str] = set()
    for doc in docs:
        if not isinstance(doc.data, dict):
            problems.append(Problem(doc.file, 1, "expected a mapping with 'columns' (and 'sensitive')"))
            continue
        parsed = validate(_RulesFile, doc, problems, data=_shorthand(doc))
        if parsed is None:
            continue
        salt_envs.add(parsed.salt_env)
        rules.extend(_check_names(doc, parsed, problems))
        for module, columns in parsed.sensitive.items():
            refs = {ref for ref in map(_try_parse, columns) if ref is not None}
            sensitive.setdefault(module, set()).update(refs)
    problems.extend(_duplicates(rules))
    if len(salt_envs) > 1:
        problems.append(Problem("masking/", 0, f"files disagree on salt_env: {sorted(salt_envs)}"))
    if problems:
        raise ConfigError(problems)
    return MaskingRules(
        tuple(sorted(rules, key=lambda r: r.column)),
        {module: frozenset(refs) for module, refs in sensitive.items()},
        next(iter(salt_envs), DEFAULT_SALT_ENV),
    )


def _try_parse(text: str) -> ColumnRef | None:
    try:
        return ColumnRef.parse(text)
    except ValueError:
        return None  # reported by _check_names


def _duplicates(rules: list[MaskingRule]) -> list[Problem]:
    first: dict[ColumnRef, MaskingRule] = {}
    problems = []
    for rule in rules:
        if rule.column in first:
            was = first[rule.column]
            message = f"{rule.column} has a rule already ({was.file}:{was.line})"
            problems.append(Problem(rule.file, rule.line, message))
        else:
            first[rule.column] = rule
    return problems


def load_rules(config_root: Path, names: Iterable[str] | None = None) -> MaskingRules:
    """`masking/*.yaml` of a config repository (or only `names`, without the extension)."""
    folder = config_root / "masking"
    if names is None:
        paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    else:
        paths = [folder / f"{name}.yaml" for name in names]
    problems: list[Problem] = []
    docs: list[Document] = []
    for path in paths:
        if not _MODULE_RE.match(path.stem.replace("-", "_")):
            problems.append(Problem(f"masking/{path.name}", 0, "invalid masking file name"))
            continue
        try:
            docs.append(load_yaml(path, display=f"masking/{path.name}"))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return parse_rules(docs)
