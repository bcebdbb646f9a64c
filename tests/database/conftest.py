"""PostgreSQL fixtures for the database tests (imported here rather than registered for every test)."""

from tests.fixtures.odoo_database import odoo_db, odoo_template
from tests.fixtures.postgres import postgres, postgres_bin

__all__ = ["odoo_db", "odoo_template", "postgres", "postgres_bin"]
