"""The proof's search: values as COPY writes them, found by one grep -F over the dump (no database)."""

from __future__ import annotations

from pathlib import Path

from gitops.database.masking_proof import Baseline, Sampled, copy_escaped, search_dump, search_patterns
from gitops.database.masking_rules import ColumnRef, MaskingRule, SimpleRule, Strategy


def _sampled(column: str, values: dict[int, object]) -> Sampled:
    rule = MaskingRule(ColumnRef.parse(column), SimpleRule(strategy=Strategy.HASH), "masking/t.yaml", 2)
    return Sampled(rule, values)


def test_values_are_searched_as_copy_text_writes_them() -> None:
    assert copy_escaped("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"


def test_short_values_and_numbers_are_not_searched() -> None:
    baseline = Baseline(
        (
            _sampled("res_partner.name", {1: "Amelie A4519284", 2: "Li", 3: "     x"}),
            _sampled("t.amount", {1: 12.5}),
        ),
        {},
        (),
    )
    assert search_patterns(baseline) == {"Amelie A4519284": "res_partner.name"}


def test_the_dump_search_counts_leaks_per_column(tmp_path: Path) -> None:
    dump = tmp_path / "dump.sql"
    dump.write_text(
        "COPY public.res_partner (id, name, comment) FROM stdin;\n"
        "1\tu0f3@example.invalid\tcalled Amelie A4519284 today\n"
        "2\th1234\tline one\\nline two\n\\.\n"
    )
    baseline = Baseline(
        (
            _sampled("res_partner.name", {1: "Amelie A4519284", 2: "Bruno B77aa01c"}),
            _sampled("res_partner.comment", {2: "line one\nline two", 3: "never there"}),
        ),
        {},
        (),
    )
    assert search_dump(dump, search_patterns(baseline)) == {"res_partner.name": 1, "res_partner.comment": 1}
    assert search_dump(dump, {}) == {}
