"""Masking rules as SQL: one set-based UPDATE per table, every name quoted by psycopg's `sql.Identifier`.
The salt reaches the session as COPY data into a temporary table: it is never part of a statement or of
a bind parameter, which the server may log.

Strategies (NULL stays NULL everywhere; `h` is md5(salt || value), so equal inputs give equal outputs
across tables and runs with the same salt, and nothing can be reversed without the salt):

- fake_name: a first and a last name from built-in lists (`FIRST_NAMES`, `LAST_NAMES`), picked by `h`;
- email: `u<16 hex of h>@example.invalid` (a valid address no mail server delivers to);
- phone: every digit replaced by the digit at the same position of a digit string derived from `h`, every
  other character kept (`+32 470 12 34 56` keeps its `+`, spaces and length);
- iban: the country code kept, the BBAN replaced by digits from `h` with the same length, and the two check
  digits recomputed (ISO 13616 mod 97), so the result validates (spaces dropped); other account numbers
  as phone;
- hash: `h` + 32 hex of sha256(salt || value): equal join keys stay equal;
- noise: value × (1 ± percent), rounded to cents, the factor picked by the row's `id` (or `group_by`:
  rows sharing it, e.g. the lines of one move, move together, so totals stay consistent);
- nullify: NULL; constant: the given value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from psycopg import sql

from gitops.database.masking_rules import TEXT_STRATEGIES, ConstantRule, MaskingRule, NoiseRule, Strategy

FIRST_NAMES = (
    "Ada", "Alan", "Ayla", "Basil", "Bea", "Cato", "Cleo", "Dara", "Edda", "Emil", "Faye", "Finn", "Gaia",
    "Gil", "Hana", "Ivo", "Juno", "Kai", "Lena", "Lior", "Mara", "Milo", "Nia", "Odo", "Pia", "Quin", "Rhea",
    "Rui", "Sami", "Tess", "Ugo", "Vera", "Wren", "Xena", "Yara", "Zeno",
)  # fmt: skip
LAST_NAMES = (
    "Abbot", "Birch", "Calder", "Dunmore", "Elwood", "Fairley", "Garrow", "Hallam", "Ingram", "Jessop",
    "Kestrel", "Lowther", "Marlow", "Norwood", "Oakley", "Pembury", "Quarry", "Radley", "Selwyn", "Thorne",
    "Upton", "Varley", "Wexley", "Yardley",
)  # fmt: skip
TEXT_TYPES = frozenset({"text", "character varying", "character"})
NUMBER_TYPES = frozenset({"numeric", "double precision", "real", "integer", "bigint", "smallint"})
SALT = sql.SQL("odoo_gitops_salt.salt")
# the salt reaches the session through COPY data into a temporary table (dropped at commit): unlike a
# statement or a bind parameter, COPY data never appears in the server log, whatever log_statement says
SALT_TABLE = "odoo_gitops_salt"
EMAIL_DOMAIN = "example.invalid"


@dataclass(frozen=True)
class ColumnInfo:
    data_type: str
    nullable: bool


def _hash(value: sql.Composable) -> sql.Composable:
    return sql.SQL("md5({} || {}::text)").format(SALT, value)


def _bits(hexa: sql.Composable, start: int) -> sql.Composable:
    """32 bits of a hex string as a non-negative bigint."""
    return sql.SQL("('x' || substr({}, {}, 8))::bit(32)::bigint").format(hexa, sql.Literal(start))


def _digits(value: sql.Composable) -> sql.Composable:
    """32 decimal digits derived from the salted hash (its hex letters mapped to digits)."""
    return sql.SQL("translate({}, 'abcdef', '012345')").format(_hash(value))


def _array(values: Sequence[str]) -> sql.Composable:
    return sql.SQL("(ARRAY[{}]::text[])").format(sql.SQL(", ").join(sql.Literal(v) for v in values))


def fake_name(col: sql.Composable) -> sql.Composable:
    h = _hash(col)
    return sql.SQL("{first}[1 + {a} % {nf}] || ' ' || {last}[1 + {b} % {nl}]").format(
        first=_array(FIRST_NAMES),
        last=_array(LAST_NAMES),
        a=_bits(h, 1),
        b=_bits(h, 9),
        nf=sql.Literal(len(FIRST_NAMES)),
        nl=sql.Literal(len(LAST_NAMES)),
    )


def email(col: sql.Composable) -> sql.Composable:
    return sql.SQL("CASE WHEN {c} = '' THEN {c} ELSE 'u' || substr({h}, 1, 16) || {d} END").format(
        c=col, h=_hash(col), d=sql.Literal("@" + EMAIL_DOMAIN)
    )


MAX_PHONE_DIGITS = 32  # the digits one hash gives; longer values (rare) go through a digit map


def _per_row(col: sql.Composable, body: sql.Composable) -> sql.Composable:
    """`body` over `x.c` (the value) and `x.d` (32 digits of its salted hash), the hash computed once per row:
    OFFSET 0 keeps the planner from copying the hash expression into every use."""
    return sql.SQL("(SELECT {b} FROM (SELECT {c} AS c, {d} AS d OFFSET 0) AS x)").format(
        b=body, c=col, d=_digits(col)
    )


def _phone(value: sql.Composable, digits: sql.Composable) -> sql.Composable:
    """Every digit of `value` replaced, in order, by the next of `digits`; other characters kept: the value
    becomes a format() template with one %s per digit, filled from the digits split into characters."""
    template = sql.SQL("regexp_replace(replace({}, '%', '%%'), '[0-9]', '%s', 'g')").format(value)
    return sql.SQL(
        "CASE WHEN length({v}) <= {n} THEN format({t}, VARIADIC string_to_array({d}, NULL)) "
        "ELSE translate({v}, '0123456789', substr({d}, 1, 10)) END"
    ).format(v=value, n=sql.Literal(MAX_PHONE_DIGITS), t=template, d=digits)


def phone(col: sql.Composable) -> sql.Composable:
    return _phone(col, _digits(col))


def iban(col: sql.Composable) -> sql.Composable:
    compact = sql.SQL("upper(replace({}, ' ', ''))").format(col)
    # digits of the compact form: 'BE71 0961 …' and 'BE710961…' (sanitized_acc_number) mask alike
    bban = sql.SQL("substr(x.d, 1, length(x.c) - 4)")
    check = sql.SQL(
        "lpad((98 - mod(({b} || (ascii(substr(x.c, 1, 1)) - 55)::text"
        " || (ascii(substr(x.c, 2, 1)) - 55)::text || '00')::numeric, 97))::text, 2, '0')"
    ).format(b=bban)
    body = sql.SQL(
        "CASE WHEN x.c ~ '^[A-Z]{{2}}[0-9]{{2}}[0-9A-Z]{{8,30}}$' THEN left(x.c, 2) || {check} || {bban} "
        "ELSE {other} END"
    ).format(check=check, bban=bban, other=_phone(sql.SQL("x.c"), sql.SQL("x.d")))
    return _per_row(compact, body)


def salted_hash(col: sql.Composable) -> sql.Composable:
    digest = sql.SQL("encode(sha256(convert_to({} || {}::text, 'UTF8')), 'hex')").format(SALT, col)
    return sql.SQL("'h' || substr({}, 1, 32)").format(digest)


def noise(col: sql.Composable, rule: NoiseRule) -> sql.Composable:
    key = sql.Identifier(rule.group_by or "id")
    unit = sql.SQL("({} / 4294967295.0)").format(_bits(_hash(key), 1))
    spread = sql.Literal(round(float(rule.percent) / 100, 6))
    return sql.SQL("round({c}::numeric * (1 + {s} * (2 * {u} - 1)), 2)").format(c=col, s=spread, u=unit)


def expression(rule: MaskingRule) -> sql.Composable:
    col = sql.Identifier(rule.column.column)
    strategy = rule.strategy
    if strategy is Strategy.NULLIFY:
        return sql.SQL("NULL")
    if isinstance(rule.rule, ConstantRule):
        return sql.Literal(rule.rule.value)
    if isinstance(rule.rule, NoiseRule):
        body = noise(col, rule.rule)
    else:
        builders = {
            Strategy.FAKE_NAME: fake_name,
            Strategy.EMAIL: email,
            Strategy.PHONE: phone,
            Strategy.IBAN: iban,
            Strategy.HASH: salted_hash,
        }
        body = builders[strategy](col)
    return sql.SQL("CASE WHEN {c} IS NULL THEN NULL ELSE {b} END").format(c=col, b=body)


def update_statement(table: str, rules: Sequence[MaskingRule]) -> sql.Composed:
    """One UPDATE of `table` setting every ruled column; the salt is read from the session's salt table."""
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(rule.column.column), expression(rule)) for rule in rules
    )
    return sql.SQL(
        "UPDATE {t} SET {a} FROM (SELECT salt FROM pg_temp.{s} LIMIT 1) AS odoo_gitops_salt"
    ).format(t=sql.Identifier("public", table), a=assignments, s=sql.Identifier(SALT_TABLE))


def rule_problem(rule: MaskingRule, columns: Mapping[str, ColumnInfo]) -> str | None:
    """Why `rule` cannot apply to the table whose columns are `columns`, or None."""
    info = columns.get(rule.column.column)
    if info is None:
        return f"{rule.column}: no such column in the database"
    strategy = rule.strategy
    if strategy is Strategy.NULLIFY and not info.nullable:
        return f"{rule.column} is NOT NULL: use 'constant' instead of 'nullify'"
    if strategy in TEXT_STRATEGIES and info.data_type not in TEXT_TYPES:
        return f"{rule.column} is {info.data_type}: '{strategy.value}' needs a text column"
    if isinstance(rule.rule, NoiseRule):
        if info.data_type not in NUMBER_TYPES:
            return f"{rule.column} is {info.data_type}: 'noise' needs a number column"
        key = rule.rule.group_by or "id"
        if key not in columns:
            return f"{rule.column}: noise is keyed by {key!r}, which the table does not have"
    return None
