"""Fuzz the YAML loader (`gitops.config.yamlsafe`) and the config loader on a generated config repository.

Property: a Document or a `ConfigError` (exit 2 through the CLI), never another exception, never a write.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from gitops.config.yamlsafe import parse_yaml
from gitops.errors import ConfigError
from tests.fixtures.configrepo import copy_examples
from tests.fuzz.cli import run_cli
from tests.fuzz.profiles import FUZZ, FUZZ_CLI, snapshot

pytestmark = pytest.mark.fuzz

ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
    for i in range(9)
)
SEEDS = [
    ALIAS_BOMB,
    "a: &a [*a]\n",  # an alias to itself
    "a: &a {b: *a}\n<<: *a\n",
    "[" * 5_000 + "]" * 5_000,
    "{a: " * 2_000 + "1" + "}" * 2_000,
    "key: value\n\tbad: tab\n",
    "a: 1\na: 2\n",
    "\ufeffa: 1\n",
    "a: !!python/object/apply:os.system ['true']\n",
    "a: !!binary AAAA\n",
    "? [a, b]\n: c\n",
    "--- a\n--- b\n",
    "a: '\x00'\n",
    "x: " + "y" * 100_000 + "\n",
    "enabled: no\ncount: '2'\n",
    "promoted_at: 2026-02-30T00:00:00Z\n",
]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["yes", "no", "on", "off", "~", "0x1f", "1e3", "2026-02-30", ".inf", "<<", "*a", "&a"]),
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _dumped(value: object) -> str:
    return yaml.safe_dump(value, allow_unicode=True)


YAML_TEXT = st.one_of(
    st.text(max_size=300),
    DOCUMENTS.map(_dumped),
    st.tuples(
        DOCUMENTS.map(_dumped),
        st.integers(0, 200),
        st.sampled_from(["&a ", "*a", "<<: *a\n", "\t", ": ", "- ", "{", "'"]),
    ).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]),
)


@FUZZ
@given(text=YAML_TEXT)
@example(text=SEEDS[0])
@example(text=SEEDS[1])
@example(text=SEEDS[2])
@example(text=SEEDS[3])
@example(text=SEEDS[4])
@example(text=SEEDS[5])
@example(text=SEEDS[6])
@example(text=SEEDS[7])
@example(text=SEEDS[8])
@example(text=SEEDS[9])
@example(text=SEEDS[10])
@example(text=SEEDS[11])
@example(text=SEEDS[12])
@example(text=SEEDS[13])
def test_parse_yaml_returns_a_document_or_a_config_error(text: str) -> None:
    try:
        doc = parse_yaml(text, "fuzz.yaml")
    except ConfigError as exc:
        assert exc.exit_code == 2
        assert all(p.file == "fuzz.yaml" and p.line >= 0 for p in exc.problems)
        return
    assert doc.file == "fuzz.yaml"


TARGETS = ("envs/prod/env.yaml", "envs/prod/release.yaml", "pipelines/odoo.yaml", "calendars/payroll.yaml")


@pytest.fixture(scope="module")
def example_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_examples(tmp_path_factory.mktemp("fuzz-config") / "repo")


@FUZZ_CLI
@given(target=st.sampled_from(TARGETS), text=YAML_TEXT)
@example(target="envs/prod/env.yaml", text=SEEDS[0])
@example(target="envs/prod/release.yaml", text=SEEDS[14])
@example(target="calendars/payroll.yaml", text=SEEDS[1])
@example(target="pipelines/odoo.yaml", text=SEEDS[3])
def test_config_loader_on_a_generated_repo_exits_0_or_2_and_writes_nothing(
    example_repo: Path, tmp_path_factory: pytest.TempPathFactory, target: str, text: str
) -> None:
    repo = tmp_path_factory.mktemp("fuzz-repo") / "repo"
    shutil.copytree(example_repo, repo)
    (repo / target).write_text(text, encoding="utf-8", errors="surrogatepass")
    before = snapshot(repo)
    run_cli(
        ["window", "list", "prod", "--from", "2026-03-02", "--to", "2026-03-03", "--config-repo", str(repo)]
    )
    assert snapshot(repo) == before
    shutil.rmtree(repo.parent)
