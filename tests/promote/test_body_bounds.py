"""gitops/promote/body.py keeps a PR body under BODY_BUDGET (GitHub refuses more than 65,536 characters)
at any number of tenants, modules, schema changes and any length of free text; the marker the tool reads
back survives, and small promotions still list every tenant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitops.config.loader import EnvBundle, load_config
from gitops.config.models import EmergencyDeclaration
from gitops.promote import body as pr_body
from gitops.promote.marker import parse_marker
from gitops.promote.plan import ModuleChange
from gitops.promote.publishing import facts_of, marker_of
from gitops.promote.stage_seams import SchemaDiff
from tests.fixtures.configrepo import copy_examples
from tests.promote.test_publishing import install, where


@pytest.fixture
def prod(tmp_path: Path) -> EnvBundle:
    return load_config(copy_examples(tmp_path / "cfg")).env("prod")


def body_for(prod: EnvBundle, *, tenants: int, **kw: Any) -> tuple[str, Any]:
    names = tuple(f"tenant-{i:05d}" for i in range(tenants))
    around = kw.pop("where", {})
    the_install = install(tenants=names, **kw)
    facts = facts_of(the_install, where(prod, **around))
    marker = marker_of(the_install, facts, "promote/prod/1.5.0-abc-canary", None).bind("a" * 40)
    return pr_body.render_body(facts, marker.render()), marker


@pytest.mark.parametrize("tenants", [500, 2_000, 10_000, 50_000])
def test_the_body_stays_under_the_budget_at_any_tenant_count(prod: EnvBundle, tenants: int) -> None:
    body, marker = body_for(prod, tenants=tenants)
    assert len(body) < pr_body.BODY_BUDGET < pr_body.GITHUB_BODY_LIMIT
    assert f"| tenants | **{tenants}** tenants in wave `canary`" in body
    assert "<details><summary>" in body and "tenant-00000, tenant-00001" in body
    fits = tenants * len("tenant-00000, ") <= pr_body.TENANT_LIST_CHARS  # 500 do, 2,000 do not
    assert (f"tenant-{tenants - 1:05d}" in body) is fits  # else the tail is counted, not listed
    assert (" more (see the PR's changed files)" in body) is not fits
    assert parse_marker(body) == marker  # the marker survives, with a count instead of the names
    assert (marker.tenants, marker.tenant_count) == ((), tenants)


def test_a_small_wave_lists_every_tenant_once_in_the_table_and_in_the_marker(prod: EnvBundle) -> None:
    body, marker = body_for(prod, tenants=pr_body.TENANTS_LISTED)
    names = [f"tenant-{i:05d}" for i in range(pr_body.TENANTS_LISTED)]
    assert "| tenants | " + ", ".join(names) + " |" in body
    assert "<details>" not in body
    assert (marker.tenants, marker.tenant_count) == (tuple(names), None)


def test_the_size_does_not_grow_with_the_tenants_above_the_threshold(prod: EnvBundle) -> None:
    sizes = [len(body_for(prod, tenants=n)[0]) for n in (2_000, 10_000)]
    assert abs(sizes[1] - sizes[0]) < 100  # only the digits of the counts differ


def test_hostile_tenant_names_cannot_break_out_of_the_collapsed_list(prod: EnvBundle) -> None:
    names = ("a</details>-->", "b|c", *(f"t{i}" for i in range(60)))
    the_install = install(tenants=names)
    facts = facts_of(the_install, where(prod))
    body = pr_body.render_body(facts, marker_of(the_install, facts, "b", None).render())
    assert body.count("</details>") == 1
    assert "a&lt;/details&gt;--&gt;" in body and "b\\|c" in body


def test_large_module_and_schema_tables_are_capped_and_counted(prod: EnvBundle) -> None:
    modules = tuple(
        ModuleChange(
            name=f"mod_{i}",
            change="changed",
            from_version="1.0",
            to_version="1.1",
            from_checksum="a",
            to_checksum="b",
        )
        for i in range(2_000)
    )
    changes = tuple(
        {
            "severity": "safe",
            "kind": "field_added",
            "module": f"mod_{i}",
            "model": "res.partner",
            "field": f"x_{i}",
            "before": None,
            "after": "char",
        }
        for i in range(5_000)
    )
    schema = SchemaDiff(
        computed=True, change_class="normal", destructive=False, fingerprint="fp", changes=changes
    )
    body, marker = body_for(prod, tenants=10_000, changes=modules, schema=schema)
    assert len(body) < pr_body.BODY_BUDGET
    assert f"… and {2_000 - pr_body.TABLE_ROWS} more modules" in body
    assert f"… and {5_000 - pr_body.TABLE_ROWS} more schema changes" in body
    assert parse_marker(body) == marker


def test_free_text_is_clipped_in_the_body_and_the_marker(prod: EnvBundle) -> None:
    reason = "r" * 200_000
    declared = EmergencyDeclaration(reason=reason, ticket="T" * 100_000)
    body, marker = body_for(prod, tenants=3, where={"emergency": declared})
    assert len(body) < pr_body.BODY_BUDGET
    assert f"{200_000 - pr_body.TEXT_CHARS} more characters" in body
    assert marker.emergency_reason is not None and len(marker.emergency_reason) < 2 * pr_body.TEXT_CHARS
    assert parse_marker(body) == marker


def test_bounded_keeps_the_marker_at_the_end() -> None:
    text = "x" * 200_000 + "\n\n<!-- odoo-gitops:promotion QUJD -->\n"
    cut = pr_body.bounded(text)
    assert len(cut) <= pr_body.BODY_BUDGET
    assert cut.endswith("<!-- odoo-gitops:promotion QUJD -->\n")
    assert "cut: the text exceeded GitHub's size limit" in cut
    assert pr_body.bounded("short") == "short"


def test_a_63_character_environment_gets_an_env_label_github_accepts(prod: EnvBundle) -> None:
    long_env = "e" * 63  # the longest name the config allows
    facts = facts_of(install(target=long_env), where(prod))
    [env_label] = [x for x in pr_body.labels(facts, cab_required=False) if x.startswith("env:")]
    assert len(env_label) == pr_body.LABEL_MAX and pr_body.managed(env_label)
    other = facts_of(install(target="e" * 62 + "f"), where(prod))
    assert env_label not in pr_body.labels(other, cab_required=False)  # still one label per environment
    assert pr_body.fit_label("env:prod") == "env:prod"
