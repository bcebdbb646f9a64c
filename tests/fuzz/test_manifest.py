"""Fuzz the manifest reader (`gitops.addons.manifest`) directly and through `addons checksums`.

Property: a manifest or problems with file:line (exit 2 through the CLI), never an exception, never a write.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gitops.addons.manifest import check_shape, check_version, parse_manifest
from tests.fuzz.cli import run_cli
from tests.fuzz.profiles import FUZZ, FUZZ_CLI, snapshot

pytestmark = pytest.mark.fuzz

GOOD = "{'name': 'X', 'version': '17.0.1.0.0', 'depends': ['base']}\n"
SEEDS = [
    "{'name': 'X', 'version': " + "+".join(["1"] * 300_000) + "}\n",
    "import os\n" + GOOD,
    "{'name': " + "[" * 100_000 + "]" * 100_000 + "}\n",
    "{'name': " + "-" * 300_000 + "1}\n",
    "{**{}}\n",
    "{1: 2, (1,): 3}\n",
    "{'version': 17.0}\n",
    "{'name': 'x', 'name': 'y'}\n",
    "\x00",
    "\xff\xfe",
    "{'depends': 'base', 'installable': 'no', 'external_dependencies': {'python': 'x'}}\n",
    "{'name': b'x', 'version': 1e309}\n",
    "{'data': [" + ",".join(["'a.xml'"] * 50_000) + "]}\n",
]

LITERALS = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=10),
        st.binary(max_size=4),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=4),
    ),
    max_leaves=15,
)
KEYS = st.sampled_from(
    ["name", "version", "depends", "data", "demo", "installable", "external_dependencies", "x"]
)
MANIFESTS = st.one_of(
    st.text(max_size=200),
    st.dictionaries(KEYS, LITERALS, max_size=6).map(lambda d: repr(d) + "\n"),
    st.tuples(
        st.dictionaries(KEYS, LITERALS, max_size=4).map(repr),
        st.sampled_from(["", "import os\n", "x = 1\n", "'''doc'''\n", "# c\n", "if 1:\n  pass\n"]),
        st.sampled_from(["", "\n", "\nprint(1)\n", "\n{}\n", ";"]),
    ).map(lambda t: t[1] + t[0] + t[2]),
)


def _check(text: str, tmp: Path) -> None:
    path = tmp / "__manifest__.py"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    manifest, problems = parse_manifest(path, display="addon/__manifest__.py")
    assert all(p.file == "addon/__manifest__.py" and p.line >= 0 for p in problems)
    if manifest is not None:
        for problem in [*check_shape(manifest), *check_version(manifest, "17.0")]:
            assert problem.file == "addon/__manifest__.py"


@FUZZ
@given(text=MANIFESTS)
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
def test_parse_manifest_returns_a_manifest_or_problems(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    _check(text, tmp_path_factory.mktemp("manifest"))


@FUZZ_CLI
@given(text=MANIFESTS)
@example(text=SEEDS[0])
@example(text=SEEDS[1])
@example(text=SEEDS[10])
def test_addons_checksums_exits_0_or_2_and_writes_nothing(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    root = tmp_path_factory.mktemp("addons")
    (root / "fuzzed").mkdir()
    (root / "fuzzed" / "__manifest__.py").write_bytes(text.encode("utf-8", "surrogatepass"))
    (root / "fuzzed" / "models.py").write_text("x = 1\n")
    before = snapshot(root)
    run_cli(["addons", "checksums", str(root)])
    assert snapshot(root) == before
    shutil.rmtree(root)
