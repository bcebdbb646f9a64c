"""Small helpers shared by the database tests."""

from __future__ import annotations

from pathlib import Path

from gitops.config.yamlsafe import parse_yaml
from gitops.database.masking_rules import MaskingRules, load_rules, parse_rules
from gitops.database.postgres import Server
from tests.fixtures.postgres import PgCluster

REPO = Path(__file__).resolve().parents[2]
SALT = "test-salt-6f1c9e0a2b7d4e58"


def default_rules() -> MaskingRules:
    return load_rules(REPO)


def rules_without(*columns: str) -> MaskingRules:
    lines = [
        line
        for line in (REPO / "masking" / "default.yaml").read_text().splitlines()
        if not any(line.strip().startswith(f"{c}:") for c in columns)
    ]
    return parse_rules([parse_yaml("\n".join(lines) + "\n", "masking/default.yaml")])


def server(cluster: PgCluster, dbname: str) -> Server:
    return Server.from_dsn(cluster.dsn(dbname))
