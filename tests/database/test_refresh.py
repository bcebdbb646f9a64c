"""Masked refresh against a real PostgreSQL with an Odoo-shaped database of 100k partners: neutralise, mask
in SQL, prove (none of >= 10,000 sampled originals in a pg_dump), fail closed by dropping the copy."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from gitops.database.masking_proof import MIN_SAMPLE
from gitops.database.refresh import mask_and_prove
from gitops.errors import ConfigError, PolicyError, VerificationError
from tests.database.helpers import SALT, default_rules, rules_without, server
from tests.fixtures.postgres import PgCluster


def _column(cluster: PgCluster, db: str, query: str) -> list[object]:
    with cluster.connect(db) as conn:
        return [row[0] for row in conn.execute(query).fetchall()]  # type: ignore[arg-type]


def _iban_valid(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def test_masked_copy_holds_none_of_the_sampled_originals(
    postgres: PgCluster, odoo_template: str, odoo_db: str, tmp_path: Path
) -> None:
    record = tmp_path / "proof.json"
    outcome = mask_and_prove(
        server(postgres, odoo_db), default_rules(), SALT, banner="UAT copy", record=record
    )
    proof = outcome.proof
    assert proof.passed, proof.problems
    assert proof.sampled_values >= MIN_SAMPLE
    assert proof.searched_values >= MIN_SAMPLE // 2
    assert proof.leaks == {} and proof.row_counts_equal and proof.foreign_keys_intact
    written = json.loads(record.read_text())
    assert written["passed"] is True and written["sampled_values"] == proof.sampled_values
    assert outcome.masking.tables["res_partner"] == 100_000

    # independently of the proof: originals from the untouched template are gone from the copy
    query = "SELECT name FROM res_partner"
    before, after = set(_column(postgres, odoo_template, query)), set(_column(postgres, odoo_db, query))
    assert before and not before & after
    emails_before = set(_column(postgres, odoo_template, "SELECT email FROM res_partner"))
    assert not emails_before & set(_column(postgres, odoo_db, "SELECT email FROM res_partner"))
    _assert_formats_and_consistency(postgres, odoo_db)


def _assert_formats_and_consistency(postgres: PgCluster, odoo_db: str) -> None:
    with postgres.connect(odoo_db) as conn:
        emails = conn.execute("SELECT email, email_normalized FROM res_partner LIMIT 500").fetchall()
        assert all(re.fullmatch(r"u[0-9a-f]{16}@example\.invalid", str(e)) and e == n for e, n in emails)
        phones = conn.execute("SELECT phone FROM res_partner LIMIT 500").fetchall()
        assert all(re.fullmatch(r"\+\d\d 4\d{8}|\+\d{2} \d{9}", str(p)) for (p,) in phones)
        ibans = conn.execute(
            "SELECT acc_number, sanitized_acc_number FROM res_partner_bank LIMIT 500"
        ).fetchall()
        assert all(_iban_valid(str(a)) and a == s and str(a).startswith("BE") for a, s in ibans)
        # a move and its lines moved by the same factor: debit and credit still balance (to rounding)
        unbalanced = conn.execute(
            "SELECT count(*) FROM (SELECT move_id, abs(sum(debit) - sum(credit)) AS gap "
            "FROM account_move_line GROUP BY move_id) g WHERE gap > 0.02"
        ).fetchone()
        assert unbalanced == (0,)
        ratio = conn.execute(
            "SELECT min(amount_total / NULLIF(amount_untaxed + amount_tax, 0)) FROM account_move"
        )
        assert abs(Decimal(str(ratio.fetchone()[0])) - 1) <= Decimal("0.01")  # type: ignore[index]
        logins = conn.execute("SELECT count(DISTINCT login), count(*) FROM res_users").fetchone()
        assert logins is not None and logins[0] == logins[1]


def test_an_uncovered_sensitive_column_refuses_and_drops_the_copy(postgres: PgCluster, odoo_db: str) -> None:
    rules = rules_without("hr_employee.ssnid", "mail_message.body")
    with pytest.raises(PolicyError) as info:
        mask_and_prove(server(postgres, odoo_db), rules, SALT, banner="UAT")
    assert "hr_employee.ssnid (module hr)" in info.value.reasons
    assert "mail_message.body (module mail)" in info.value.reasons
    assert odoo_db not in postgres.databases()


def test_a_failed_proof_drops_the_copy_and_records_why(
    postgres: PgCluster, odoo_db: str, tmp_path: Path
) -> None:
    # a custom module keeps a copy of the partner's name that no rule (and no catalogue entry) knows about
    with postgres.connect(odoo_db) as conn:
        conn.execute("ALTER TABLE res_partner ADD COLUMN x_name_copy varchar")
        conn.execute("UPDATE res_partner SET x_name_copy = name WHERE id % 2 = 0")
    record = tmp_path / "proof.json"
    with pytest.raises(VerificationError, match="masking proof failed"):
        mask_and_prove(
            server(postgres, odoo_db), default_rules(), SALT, banner="UAT", record=record, purge=False
        )
    assert odoo_db not in postgres.databases()
    written = json.loads(record.read_text())
    assert written["passed"] is False and written["dropped"] is True
    assert written["leaks"]["res_partner.name"] > 0
    assert SALT not in record.read_text()


def test_a_rule_that_cannot_apply_names_its_line_and_drops_the_copy(
    postgres: PgCluster, odoo_db: str
) -> None:
    with postgres.connect(odoo_db) as conn:
        conn.execute("ALTER TABLE res_partner DROP COLUMN street2")
    with pytest.raises(ConfigError) as info:
        mask_and_prove(server(postgres, odoo_db), default_rules(), SALT, banner="UAT")
    problem = info.value.problems[0]
    assert problem.file == "masking/default.yaml" and problem.line > 1
    assert "res_partner.street2: no such column" in problem.message
    assert odoo_db not in postgres.databases()
