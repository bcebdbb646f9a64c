"""Neutralise a copied Odoo database the way Odoo's own `neutralize` does, set-based, then check it.

Each step runs only when its table (and column) exists, so a database without `payment` or `delivery`
is fine. What is switched off: outgoing and incoming mail servers, queued outgoing mail, scheduled actions
(except Odoo's autovacuum), payment and delivery providers, IAP accounts, bank synchronisation. What is
switched on: `database.is_neutralized` (Odoo's own flag, which shows its banner) and `ribbon.name` (the
banner of OCA's web_environment_ribbon) with the environment's banner text.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitops.database.postgres import Connection
from gitops.errors import VerificationError

_AUTOVACUUM = (
    "id NOT IN (SELECT res_id FROM ir_model_data WHERE module = 'base' AND name = 'autovacuum_job' "
    "AND model = 'ir.cron')"
)


@dataclass(frozen=True)
class Step:
    name: str
    table: str
    column: str  # a column the statement needs (checked before running it)
    statement: str


STEPS: tuple[Step, ...] = (
    Step("outgoing mail servers off", "ir_mail_server", "active",
         "UPDATE ir_mail_server SET active = false WHERE active"),
    Step("incoming mail servers off", "fetchmail_server", "active",
         "UPDATE fetchmail_server SET active = false WHERE active"),
    Step("queued outgoing mail cancelled", "mail_mail", "state",
         "UPDATE mail_mail SET state = 'cancel' WHERE state IN ('outgoing', 'exception')"),
    Step("scheduled actions off", "ir_cron", "active", "UPDATE ir_cron SET active = false WHERE active"),
    Step("payment providers disabled", "payment_provider", "state",
         "UPDATE payment_provider SET state = 'disabled' WHERE state IS DISTINCT FROM 'disabled'"),
    Step("delivery providers in test mode and off", "delivery_carrier", "prod_environment",
         "UPDATE delivery_carrier SET prod_environment = false, active = false "
         "WHERE prod_environment OR active"),
    Step("IAP accounts disabled", "iap_account", "account_token",
         "UPDATE iap_account SET account_token = account_token || '+disabled' "
         "WHERE account_token NOT LIKE '%+disabled'"),
    Step("bank synchronisation off", "account_online_link", "auto_sync",
         "UPDATE account_online_link SET auto_sync = false WHERE auto_sync"),
)  # fmt: skip

BANNER_KEYS = ("database.is_neutralized", "ribbon.name")


@dataclass(frozen=True)
class NeutralisationReport:
    steps: dict[str, int | None]  # step -> rows changed (None: the table is not in this database)
    banner: str

    def to_dict(self) -> dict[str, object]:
        return {"steps": self.steps, "banner": self.banner}


def _has_column(conn: Connection, table: str, column: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
        "AND column_name = %s",
        (table, column),
    ).fetchone()
    return row is not None


def _set_parameter(conn: Connection, key: str, value: str) -> None:
    conn.execute("UPDATE ir_config_parameter SET value = %s WHERE key = %s", (value, key))
    conn.execute(
        "INSERT INTO ir_config_parameter (key, value) SELECT %s, %s "
        "WHERE NOT EXISTS (SELECT 1 FROM ir_config_parameter WHERE key = %s)",
        (key, value, key),
    )


def _statement(conn: Connection, step: Step) -> str:
    if step.table == "ir_cron" and _has_column(conn, "ir_model_data", "res_id"):
        return step.statement + " AND " + _AUTOVACUUM
    return step.statement


def neutralise(conn: Connection, *, banner: str) -> NeutralisationReport:
    """Apply every step (one transaction), set the banner, then check; VerificationError if anything
    that could reach the outside world is still on."""
    changed: dict[str, int | None] = {}
    with conn.transaction():
        for step in STEPS:
            if not _has_column(conn, step.table, step.column):
                changed[step.name] = None
                continue
            changed[step.name] = conn.execute(_statement(conn, step)).rowcount
        if _has_column(conn, "ir_config_parameter", "key"):
            _set_parameter(conn, BANNER_KEYS[0], "true")
            _set_parameter(conn, BANNER_KEYS[1], banner)
    problems = neutralisation_problems(conn)
    if problems:
        raise VerificationError("the database is not neutralised: " + "; ".join(problems))
    return NeutralisationReport(changed, banner)


_CHECKS = (
    ("ir_mail_server", "active", "SELECT count(*) FROM ir_mail_server WHERE active", "active mail servers"),
    ("fetchmail_server", "active", "SELECT count(*) FROM fetchmail_server WHERE active",
     "active incoming mail servers"),
    ("payment_provider", "state", "SELECT count(*) FROM payment_provider WHERE state <> 'disabled'",
     "payment providers not disabled"),
    ("delivery_carrier", "prod_environment",
     "SELECT count(*) FROM delivery_carrier WHERE prod_environment", "delivery providers in production mode"),
)  # fmt: skip


def neutralisation_problems(conn: Connection) -> list[str]:
    """What is still on (empty when the database is neutralised)."""
    problems = []
    for table, column, query, what in _CHECKS:
        if _has_column(conn, table, column):
            count = conn.execute(query).fetchone()
            if count and count[0]:
                problems.append(f"{count[0]} {what}")
    if _has_column(conn, "ir_config_parameter", "key"):
        row = conn.execute(
            "SELECT value FROM ir_config_parameter WHERE key = %s", (BANNER_KEYS[0],)
        ).fetchone()
        if row is None or row[0] != "true":
            problems.append(f"{BANNER_KEYS[0]} is not set")
    return problems
