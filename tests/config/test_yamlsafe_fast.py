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
