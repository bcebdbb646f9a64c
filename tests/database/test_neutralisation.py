"""Neutralisation of a copied Odoo database, against a real PostgreSQL."""

from __future__ import annotations

import pytest

from gitops.database.neutralisation import neutralisation_problems, neutralise
from gitops.database.postgres import connect
from gitops.errors import VerificationError
from tests.database.helpers import server
from tests.fixtures.postgres import PgCluster


def _one(conn: object, query: str) -> object:
    row = conn.execute(query).fetchone()  # type: ignore[attr-defined]
    return row[0]


def test_neutralisation_turns_off_everything_that_reaches_outside(postgres: PgCluster, odoo_db: str) -> None:
    with connect(server(postgres, odoo_db)) as conn:
        assert len(neutralisation_problems(conn)) == 5  # a production copy: all of it is on
        report = neutralise(conn, banner="UAT copy of prod, 2026-12-02")
        assert report.steps["outgoing mail servers off"] == 2
        assert report.steps["scheduled actions off"] == 25
        assert report.steps["bank synchronisation off"] is None  # no account_online_link here
        assert _one(conn, "SELECT count(*) FROM ir_mail_server WHERE active") == 0
        assert _one(conn, "SELECT count(*) FROM fetchmail_server WHERE active") == 0
        assert _one(conn, "SELECT count(*) FROM ir_cron WHERE active") == 0
        assert _one(conn, "SELECT count(*) FROM payment_provider WHERE state <> 'disabled'") == 0
        assert _one(conn, "SELECT count(*) FROM delivery_carrier WHERE prod_environment OR active") == 0
        assert _one(conn, "SELECT count(*) FROM iap_account WHERE account_token NOT LIKE '%+disabled'") == 0
        assert (
            _one(conn, "SELECT value FROM ir_config_parameter WHERE key = 'database.is_neutralized'")
            == "true"
        )
        assert _one(conn, "SELECT value FROM ir_config_parameter WHERE key = 'ribbon.name'") == (
            "UAT copy of prod, 2026-12-02"
        )
        assert neutralisation_problems(conn) == []
        # again: nothing left to change, the IAP tokens are not disabled twice
        again = neutralise(conn, banner="UAT copy of prod, 2026-12-03")
        assert again.steps["IAP accounts disabled"] == 0 and again.steps["outgoing mail servers off"] == 0
        assert _one(conn, "SELECT count(*) FROM ir_config_parameter WHERE key = 'ribbon.name'") == 1


def test_autovacuum_stays_on_when_odoo_says_which_cron_it_is(postgres: PgCluster, odoo_db: str) -> None:
    with connect(server(postgres, odoo_db)) as conn:
        conn.execute(
            "CREATE TABLE ir_model_data (id serial, module varchar, name varchar, model varchar, res_id int)"
        )
        conn.execute(
            "INSERT INTO ir_model_data (module, name, model, res_id) "
            "VALUES ('base', 'autovacuum_job', 'ir.cron', 3)"
        )
        neutralise(conn, banner="UAT")
        assert _one(conn, "SELECT array_agg(id) FROM ir_cron WHERE active") == [3]


def test_a_mail_server_switched_back_on_fails_the_check(postgres: PgCluster, odoo_db: str) -> None:
    # a trigger (a hostile or buggy module) re-activates mail servers: the check after the steps catches it
    with connect(server(postgres, odoo_db)) as conn:
        conn.execute(
            "CREATE FUNCTION keep_on() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN NEW.active := true; RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER keep_on BEFORE UPDATE ON ir_mail_server FOR EACH ROW EXECUTE FUNCTION keep_on()"
        )
        with pytest.raises(VerificationError, match="2 active mail servers"):
            neutralise(conn, banner="UAT")
