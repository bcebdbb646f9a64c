"""The built-in catalogue of sensitive columns of core Odoo models, and the coverage check.

Keyed by the Odoo module that creates the column: a database running `hr` has `hr_employee`'s private
fields, one without it has not. A config repository extends the catalogue with `sensitive:` in its masking
files (gitops/database/masking_rules.py). A `masked` environment refuses a refresh while `coverage` returns
anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gitops.database.masking_rules import ColumnRef, MaskingRules


def _cols(table: str, *columns: str) -> tuple[ColumnRef, ...]:
    return tuple(ColumnRef(table, column) for column in columns)


# Columns checked against Odoo 16-18's models (res.partner, res.partner.bank, res.users, hr.employee,
# hr.payslip(.line), account.move(.line), mail.message, mail.mail).
BUILTIN: Mapping[str, frozenset[ColumnRef]] = {
    "base": frozenset(
        _cols(
            "res_partner",
            "name",
            "complete_name",
            "email",
            "phone",
            "mobile",
            "street",
            "street2",
            "vat",
            "comment",
        )
        + _cols("res_partner_bank", "acc_number", "sanitized_acc_number", "acc_holder_name")
        + _cols("res_users", "login", "password", "signature")
    ),
    "hr": frozenset(
        _cols(
            "hr_employee",
            "name",
            "work_email",
            "work_phone",
            "mobile_phone",
            "private_email",
            "private_phone",
            "private_street",
            "identification_id",
            "passport_id",
            "ssnid",
            "birthday",
        )
    ),
    "hr_payroll": frozenset(
        _cols("hr_payslip", "name", "basic_wage", "net_wage") + _cols("hr_payslip_line", "amount", "total")
    ),
    "account": frozenset(
        _cols("account_move", "ref", "narration", "amount_untaxed", "amount_tax", "amount_total")
        + _cols("account_move_line", "name", "debit", "credit", "balance", "price_unit")
    ),
    "mail": frozenset(
        _cols("mail_message", "body", "email_from", "subject")
        + _cols("mail_mail", "body_html", "email_to")
        + _cols("res_partner", "email_normalized")
    ),
}


@dataclass(frozen=True, order=True)
class Uncovered:
    """A sensitive column no rule masks, and the module that makes it sensitive."""

    module: str
    column: ColumnRef

    def render(self) -> str:
        return f"{self.column} (module {self.module})"


def catalogue_with(
    rules: MaskingRules, base: Mapping[str, frozenset[ColumnRef]] = BUILTIN
) -> dict[str, frozenset[ColumnRef]]:
    """The built-in catalogue extended by the `sensitive:` entries of the masking files."""
    merged = {module: set(columns) for module, columns in base.items()}
    for module, columns in rules.sensitive.items():
        merged.setdefault(module, set()).update(columns)
    return {module: frozenset(columns) for module, columns in merged.items()}


def coverage(
    rules: MaskingRules, modules: Iterable[str], catalogue: Mapping[str, frozenset[ColumnRef]] | None = None
) -> list[Uncovered]:
    """Sensitive columns of `modules` (the modules the environment runs) that no rule covers, sorted.
    `catalogue` defaults to the built-in one extended by the rules' `sensitive:` entries."""
    known = catalogue_with(rules) if catalogue is None else catalogue
    covered = rules.covered()
    return sorted(
        Uncovered(module, column)
        for module in set(modules)
        for column in known.get(module, frozenset())
        if column not in covered
    )
