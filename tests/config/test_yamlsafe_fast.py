"""The libyaml fast path of parse_yaml gives the same documents, lines and errors as the pure loader."""

from __future__ import annotations

import pytest

from gitops.config import yamlsafe
from gitops.errors import ConfigError

DOCS = [
    '# tenant\ntenant: acme\nodoo:\n  dbfilter: "^acme$"\n  workers: 2\nlist:\n  - a\n  - {b: 1}\n',
    "a: 1\nb:\n  c: [1, 2]\n",
    "",
]
BAD = ["a: 1\na: 2\n", "a: [1, 2\n", "a:\n\tb: 1\n"]


def parse_both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    results = []
    for loader in (yamlsafe._C_LOADER, None):
        monkeypatch.setattr(yamlsafe, "_C_LOADER", loader)
        try:
            results.append(yamlsafe.parse_yaml(text, "f.yaml"))
        except ConfigError as exc:  # libyaml words some syntax errors differently: compare where
            results.append([(p.file, p.line, p.message.split(":")[0]) for p in exc.problems])
    return results[0], results[1]


@pytest.mark.parametrize("text", DOCS + BAD)
def test_fast_and_pure_paths_agree(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert yamlsafe._C_LOADER is not None
    fast, pure = parse_both(text, monkeypatch)
    assert fast == pure


def test_aliases_still_go_through_the_counting_loader() -> None:
    bomb = "a: &a [1]\n" + "".join(f"b{i}: *a\n" for i in range(yamlsafe.MAX_ALIASES + 1))
    with pytest.raises(ConfigError, match="aliases"):
        yamlsafe.parse_yaml(bomb, "bomb.yaml")


TYPED = [
    "when: 2026-11-22T10:00:00Z\nday: 2026-11-22\nn: 0x1F\nf: 1.5e3\ninf: .inf\nyes: true\nnone: ~\n",
    "tagged: !!str 123\nint: !!int '5'\nbin: !!binary aGVsbG8=\nset: !!set {a, b}\n",
    "pairs: !!omap [{a: 1}, {b: 2}]\n1: int key\n2.5: float key\nnull: null key\nfalse: bool key\n",
    "- a\n- [b, {c: [d, {e: 'quoted'}]}]\n- \"double\\tquoted\"\n- |\n  block\n  text\n",
    "base: &b {x: 1}\nother: *b\nmerged:\n  <<: *b\n  y: 2\n",
]


@pytest.mark.parametrize("text", TYPED)
def test_values_are_those_of_pyyaml_safe_load(text: str) -> None:
    import yaml

    assert yamlsafe.parse_yaml(text, "f.yaml").data == yaml.load(text, Loader=yaml.SafeLoader)


def test_lines_and_duplicates_match_the_merge_key_path() -> None:
    text = "a: 1\nb:\n  - x\n  - {c: 2, c: 3}\nd:\n  e: [1, 2]\n"
    with pytest.raises(ConfigError) as one:
        yamlsafe.parse_yaml(text, "f.yaml")
    with pytest.raises(ConfigError) as two:  # a comment holding '<<' sends it down the other path
        yamlsafe.parse_yaml(text + "# <<\n", "f.yaml")
    assert one.value.problems == two.value.problems
    assert [(p.line, p.message) for p in one.value.problems] == [(4, "duplicate key 'c' (first at line 4)")]
    good = "a: 1\nb:\n  - x\n  - {c: 2}\nd:\n  e: [1, 2]\n"
    fast, slow = yamlsafe.parse_yaml(good, "f"), yamlsafe.parse_yaml(good + "# <<\n", "f")
    assert fast == slow and fast.lines[("d", "e", 1)] == 6 and fast.lines[("b", 1, "c")] == 4


def test_an_unhashable_key_is_a_yaml_error_with_its_line() -> None:
    with pytest.raises(ConfigError) as err:
        yamlsafe.parse_yaml("ok: 1\n? {a: 1}\n: v\n", "f.yaml")
    assert [(p.line, p.message) for p in err.value.problems] == [
        (2, "YAML syntax error: found unhashable key")
    ]


@pytest.mark.parametrize(
    "text",
    [
        'backup:\n  schedule: "0 3 * * 0"   # a cron schedule: stars in a quoted scalar\n',
        "note: 'R&D * 2'\n# &anchor and *alias in a comment\n",
        "plain: a*b&c\n",
    ],
)
def test_stars_and_ampersands_that_are_no_alias_keep_the_fast_path(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert type(yamlsafe._loader(text)) is yamlsafe._C_LOADER
    fast, pure = parse_both(text, monkeypatch)
    assert fast == pure


@pytest.mark.parametrize("text", ["a: &x 1\nb: *x\n", "a: &x [1]\n", "a: *x\n", 'a: "unclosed * \n'])
def test_an_anchor_an_alias_or_an_unscannable_text_goes_through_the_counting_loader(text: str) -> None:
    assert isinstance(yamlsafe._loader(text), yamlsafe._CountingLoader)
