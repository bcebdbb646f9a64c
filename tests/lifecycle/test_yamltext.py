"""Text edits of YAML that keep every other byte, checked by parsing the result."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from gitops.lifecycle import yamltext

PIPELINE = """# the order
name: odoo
stages:
  - env: dev   # first
    gates: [scan]

  - env: staging
    soak: 24h
# after the stages
other: 1
"""
DUMPED = yaml.safe_dump({"name": "odoo", "stages": [{"env": "dev", "gates": ["scan"]}, {"env": "uat"}]})


def test_a_stage_is_added_after_the_last_and_comments_stay() -> None:
    text = yamltext.add_stage(PIPELINE, {"env": "uat", "gates": ["approvals"]})
    assert text.startswith(PIPELINE.split("# after", maxsplit=1)[0].rstrip("\n"))
    assert "# after the stages\nother: 1\n" in text and "  - env: dev   # first\n" in text
    assert [s["env"] for s in yaml.safe_load(text)["stages"]] == ["dev", "staging", "uat"]


@pytest.mark.parametrize("text", [PIPELINE, DUMPED])
def test_a_stage_is_removed_whatever_the_sequence_indentation(text: str) -> None:
    env = "staging" if "staging" in text else "uat"
    edited = yamltext.remove_stage(text, env)
    assert [s["env"] for s in yaml.safe_load(edited)["stages"]] == ["dev"]
    assert yamltext.add_stage(edited, {"env": "qa"}).count("env: qa") == 1


def test_flow_style_or_missing_stages_are_refused() -> None:
    with pytest.raises(ValueError, match="block-style"):
        yamltext.add_stage("name: x\nstages: [{env: dev}]\n", {"env": "qa"})
    with pytest.raises(ValueError, match="no stage for 'qa'"):
        yamltext.remove_stage(PIPELINE, "qa")


def test_top_level_keys_are_set_replaced_and_removed_in_place() -> None:
    text = "# head\nname: a   # keep\nrefresh:\n  source: prod\n  backup: b1\n\n# tail\nowner: x\n"
    moved = yamltext.set_key(text, "refresh", {"source": "staging"})
    assert moved == "# head\nname: a   # keep\nrefresh:\n  source: staging\n\n# tail\nowner: x\n"
    assert yamltext.set_key(text, "expires", date(2027, 1, 31)).endswith("owner: x\nexpires: 2027-01-31\n")
    assert yamltext.remove_key(text, "refresh") == "# head\nname: a   # keep\n\n# tail\nowner: x\n"
    assert yamltext.remove_key(text, "absent") == text


def test_an_edit_that_would_change_other_data_is_refused() -> None:
    # an anchor used elsewhere: replacing its block in place would change the alias too
    text = "base: &b {x: 1}\nother: *b\n"
    with pytest.raises(ValueError):
        yamltext.set_key(text, "base", {"x": 2})


def test_names_are_replaced_only_as_whole_tokens() -> None:
    text = "host: odoo-staging.svc\nname: prestaging\nhost2: odoo.staging.example.com\n"
    assert yamltext.rename_tokens(text, "staging", "uat") == (
        "host: odoo-uat.svc\nname: prestaging\nhost2: odoo.uat.example.com\n"
    )
