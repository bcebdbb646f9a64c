"""gitops.addons.commit_diff: the addons evidence read from git objects equals `diff_addons` on checkouts
of the same two commits, field by field, on generated addon trees committed to a real git repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops.addons import commit_diff
from gitops.addons.checksums import addon_checksum
from gitops.addons.commit_diff import diff_commits
from gitops.addons.diff import diff_addons
from gitops.errors import ConfigError
from gitops.promote.stage_seams import compute_schema_diff
from tests.addons.test_checksums import TREES_STRATEGY
from tests.fixtures.addons import write_addon

NAMES = ("alpha", "beta", "gamma", "delta")
PLACES = ("", "repo_a", "repo_b/nested", ".hidden", "node_modules")
VERSIONS = ("17.0.1.0.0", "17.0.1.1.0", "17.0.2.0.0", "16.0.1.0.0", "1.0")
MODELS = (
    None,
    "class A(models.Model):\n    _name = 'x.a'\n    name = fields.Char()\n",
    "class A(models.Model):\n    _name = 'x.a'\n    name = fields.Char(required=True)\n"
    "    qty = fields.Integer()\n",
    "class B(models.Model):\n    _inherit = 'x.a'\n    qty = fields.Float()\n    note = fields.Text()\n",
    "class A(models.Model):\n    _name = 'x.a'\n  broken = (\n",
)
XML = (b'<odoo noupdate="1"><data/></odoo>\n', b'<odoo><data noupdate="0"/></odoo>\n', b"<odoo/>\n")
DATA = ("views/v.xml", "data/d.xml", "data/../views/v.xml", "missing.xml", "views/")
LINKS = ("file", "dir", "copy", "up", "addon", "setup", "dangling", "loop", "stray")
SCRIPTS = (None, ("17.0.1.1.0", b"def migrate(cr, v):\n    pass\n"), ("2.0", b"def migrate(cr, v):\n    x\n"))

ADDON = st.fixed_dictionaries(
    {
        "place": st.sampled_from(PLACES),
        "version": st.sampled_from(VERSIONS),
        "depends": st.lists(
            st.sampled_from(("base", "mail", *NAMES, "unknown_mod")), max_size=3, unique=True
        ),
        "data": st.lists(st.sampled_from(DATA), max_size=3, unique=True),
        "xml": st.tuples(st.sampled_from(XML), st.sampled_from(XML)),
        "models": st.sampled_from(MODELS),
        "script": st.sampled_from(SCRIPTS),
        "extra": TREES_STRATEGY,
        "links": st.lists(st.sampled_from(LINKS), max_size=3),
    }
)
SIDE = st.dictionaries(st.sampled_from(NAMES), ADDON, max_size=4)


def _files(spec: dict[str, Any]) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {"views/v.xml": spec["xml"][0], "data/d.xml": spec["xml"][1]}
    if spec["models"] is not None:
        files |= {
            "__init__.py": b"from . import models\n",
            "models/__init__.py": b"from . import models\n",
            "models/models.py": ("from odoo import fields, models\n\n\n" + spec["models"]).encode(),
        }
    if spec["script"] is not None:
        folder, script = spec["script"]
        files[f"migrations/{folder}/pre-migrate.py"] = script
    for relpath, content in spec["extra"].items():
        if relpath != "__manifest__.py" and not any(
            relpath.startswith(other + "/") or other.startswith(relpath + "/") for other in files
        ):
            files[relpath] = content
    return files


def _link(link: Path, target: Path) -> None:
    if not link.exists() and not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(target, link.parent))


def write_links(root: Path, side: dict[str, dict[str, Any]]) -> None:
    """Symbolic links that resolve inside the repository: within the addon (a file, a directory), to a file
    of another addon (shipped as a copy), to a directory out of the addon (refused), a second path to an
    addon (at the top, or setuptools-odoo's setup/<addon>/odoo/addons/<addon>)."""
    homes = {name: (root / spec["place"] if spec["place"] else root) / name for name, spec in side.items()}
    for name, spec in side.items():
        home, other = homes[name], homes[min(homes)]
        for kind in spec.get("links", ()):
            if kind == "file":
                _link(home / "views/alias.xml", home / "views/v.xml")
            elif kind == "dir":
                _link(home / "alias_dir", home / "views")
            elif kind == "copy":
                _link(home / "data/shared.xml", other / "views/v.xml")
            elif kind == "up":
                _link(home / "up", home.parent)
            elif kind == "addon":
                _link(root / f"linked_{name}", home)
            elif kind == "setup":
                _link(root / f"setup/{name}/odoo/addons/{name}", home)
            elif kind == "dangling":
                _link(home / "broken.xml", home / "nothing.xml")
            elif kind == "loop":
                _link(home / "loop_a", home / "loop_b")
                _link(home / "loop_b", home / "loop_a")
            else:  # outside every addon: discovery does not look at it
                _link(root / "docs/stray", root / "nowhere")


def write_side(root: Path, side: dict[str, dict[str, Any]]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, spec in side.items():
        write_addon(
            root / spec["place"] if spec["place"] else root,
            name,
            version=spec["version"],
            depends=spec["depends"],
            files=_files(spec),
            data=spec["data"],
        )
    write_links(root, side)


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}  # fmt: skip
    out = subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)
    return out.stdout.decode().strip()


def commit_side(repo: Path, side: dict[str, dict[str, Any]], message: str) -> str:
    """Replace the work tree of `repo` by `side` and commit it."""
    for entry in repo.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    write_side(repo, side)
    (repo / "README.md").write_text(message + "\n")  # never an empty commit
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def outcome(run: Any) -> tuple[str, Any]:
    try:
        return "diff", run().to_dict()
    except ConfigError as exc:
        return "config-error", sorted((p.file, p.line, p.message) for p in exc.problems)


def compare(base: Path, old: dict[str, Any] | None, new: dict[str, Any]) -> tuple[str, Any]:
    repo, old_dir, new_dir = base / "repo", base / "old", base / "new"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    first = commit_side(repo, old, "old") if old is not None else None
    second = commit_side(repo, new, "new")
    write_side(old_dir, old or {})
    write_side(new_dir, new)
    from_dirs = outcome(lambda: diff_addons([old_dir], [new_dir]))
    from_git = outcome(lambda: diff_commits(repo, first, second, displays=(old_dir, new_dir)))
    assert from_git == from_dirs
    # the promote path: paths repository-relative in both commits, so an addon equal in both (same tree id,
    # same place) is loaded once for both
    relative = outcome(lambda: diff_commits(repo, first, second))
    assert relative == repository_relative(from_dirs, old_dir, new_dir)
    return from_git


def repository_relative(found: tuple[str, Any], *roots: Path) -> tuple[str, Any]:
    """An outcome with the checkouts' directories cut from its paths (the root itself named "."); problems
    then equal in both commits are one problem, as ConfigError keeps each once."""
    text = json.dumps(found[1])
    for root in roots:
        text = text.replace(json.dumps(str(root) + "/")[1:-1], "").replace(json.dumps(str(root))[1:-1], ".")
    value = json.loads(text)
    return found[0], sorted({tuple(p) for p in value}) if found[0] == "config-error" else value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(old=SIDE, new=SIDE, keep=st.lists(st.booleans(), min_size=4, max_size=4))
def test_generated_trees_give_the_same_evidence_from_git_objects_as_from_checkouts(
    old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], keep: list[bool]
) -> None:
    # some addons identical in both commits (equal tree ids: the path that reads nothing of them)
    new = {**new, **{n: old[n] for n, k in zip(NAMES, keep, strict=True) if k and n in old}}
    with tempfile.TemporaryDirectory() as tmp:
        compare(Path(tmp), old, new)


def _good(version: str = "17.0.1.0.0", models: str | None = MODELS[1]) -> dict[str, Any]:
    return {"place": "repo_a", "version": version, "depends": ["base"], "data": ["views/v.xml"],
            "xml": (XML[0], XML[0]), "models": models, "script": None,
            "extra": {"static/a.js": b"js"}}  # fmt: skip


def test_a_real_change_and_a_first_release(tmp_path: Path) -> None:
    old = {"alpha": _good(), "beta": _good()}
    new = {"alpha": _good("17.0.1.1.0", MODELS[2]), "beta": _good(), "gamma": _good()}
    kind, evidence = compare(tmp_path / "a", old, new)
    assert kind == "diff"
    assert (evidence["modules_changed"], evidence["modules_added"]) == (["alpha"], ["gamma"])
    assert {c["field"] for c in evidence["changes"] if c["model"] == "x.a"} >= {"name", "qty"}
    kind, first = compare(tmp_path / "b", None, new)
    assert first["modules_added"] == ["alpha", "beta", "gamma"]


def test_checksums_are_click_odoo_updates_and_paths_repository_relative(tmp_path: Path) -> None:
    repo, checkout = tmp_path / "repo", tmp_path / "checkout"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    first = commit_side(repo, {"alpha": _good()}, "one")
    second = commit_side(repo, {"alpha": _good("17.0.1.1.0", MODELS[2])}, "two")
    write_side(checkout, {"alpha": _good("17.0.1.1.0", MODELS[2])})
    diff = diff_commits(repo, first, second)
    assert diff_commits(repo, first, "main").to_dict() == diff.to_dict()  # a branch: pinned to its tree
    after = diff.modules["alpha"].after
    assert after is not None and after.checksum == addon_checksum(checkout / "repo_a" / "alpha")
    assert {c.file for c in diff.changes} <= {"repo_a/alpha/__manifest__.py", "repo_a/alpha/models/models.py"}


def test_unchanged_addons_are_neither_read_nor_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    side = {name: _good() for name in NAMES}
    first = commit_side(repo, side, "one")
    second = commit_side(repo, {**side, "beta": _good("17.0.1.1.0", MODELS[2])}, "two")
    read: list[str] = []
    original = commit_diff.BlobTree.preload

    def recording(self: commit_diff.BlobTree, paths: Any, other: Any = None) -> None:
        paths = list(paths)
        read.extend(p for p in paths if self.ids[p] not in self.contents)
        if other is not None:
            other = (other[0], list(other[1]))
            read.extend(p for p in other[1] if other[0].ids[p] not in self.contents)
        original(self, paths, other)

    monkeypatch.setattr(commit_diff.BlobTree, "preload", recording)
    diff = diff_commits(repo, first, second)
    assert diff.modules_changed == ("beta",)
    others = [p for p in read if not p.startswith("repo_a/beta/") and not p.endswith("/__manifest__.py")]
    assert others == []  # of the unchanged addons only the manifests were read (discovery checks them all)
    assert any(p.startswith("repo_a/beta/") for p in read)


def test_links_out_of_the_repository_are_refused_before_anything_is_parsed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    first = commit_side(repo, {"alpha": _good()}, "one")
    for target in ("/etc/hostname", "../../../../outside.xml", "../../../.."):
        link = repo / "repo_a/alpha/views/link.xml"
        link.unlink(missing_ok=True)
        link.symlink_to(target)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", f"link to {target}")
        second = git(repo, "rev-parse", "HEAD")
        with pytest.raises(ConfigError) as refused:
            compute_schema_diff(repo, first, second)  # exit 2, as extracting `git archive` refused it
        assert [(p.file, p.message) for p in refused.value.problems] == [
            ("repo_a/alpha/views/link.xml", "symlink leads out of the addons repository")
        ]


def test_links_inside_the_repository_are_followed_in_memory(tmp_path: Path) -> None:
    old = {"alpha": _good(), "beta": _good()}
    new = {"alpha": {**_good("17.0.1.1.0", MODELS[2]), "links": ["file", "dir", "copy", "setup"]},
           "beta": {**_good(), "links": ["addon"]}}  # fmt: skip
    kind, evidence = compare(tmp_path / "ok", old, new)
    assert kind == "diff" and evidence["modules_changed"] == ["alpha"]  # linked_beta: a second path to beta
    kind, problems = compare(tmp_path / "up", old, {**new, "beta": {**_good(), "links": ["up"]}})
    assert kind == "config-error"
    assert [p[2] for p in problems] == [
        "symlinked directory leaves its addon (-> ..); click-odoo-update does not enter it and the image "
        "could not hold it"
    ]
    kind, problems = compare(
        tmp_path / "broken", old, {**new, "beta": {**_good(), "links": ["dangling", "loop"]}}
    )
    assert kind == "config-error"
    assert [p[2] for p in problems] == [  # broken.xml, loop_a, loop_b
        "symlink is dangling or loops (-> nothing.xml)",
        "symlink is dangling or loops (-> loop_b)",
        "symlink is dangling or loops (-> loop_a)",
    ]


def test_an_unknown_commit_is_an_outside_failure(tmp_path: Path) -> None:
    from gitops.errors import ExternalError

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    first = commit_side(repo, {"alpha": _good()}, "one")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    for commit in ("0" * 40, "--output=leak.tar", "-h"):  # unknown, and options in disguise
        with pytest.raises(ExternalError, match=f"cannot read commit '{commit}' of the addons repository"):
            diff_commits(repo, first, commit)
        with pytest.raises(ExternalError, match=f"cannot read commit '{commit}' of the addons repository"):
            diff_commits(repo, commit, first)  # the old one: diff-tree fails, its ls-tree names it
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written


def test_a_file_both_sides_hold_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gitops.addons import models

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    first = commit_side(repo, {"alpha": _good()}, "one")
    second = commit_side(repo, {"alpha": _good("17.0.1.1.0", MODELS[2])}, "two")
    expected = diff_commits(repo, first, second).to_dict()
    parsed: list[str] = []
    original = models.parse_python

    def counting(source: bytes, file: str) -> Any:
        parsed.append(file)
        return original(source, file)

    monkeypatch.setattr(models, "parse_python", counting)
    assert diff_commits(repo, first, second).to_dict() == expected
    assert sorted(parsed) == [  # models.py differs between the commits; both __init__.py files do not
        "repo_a/alpha/__init__.py",
        "repo_a/alpha/models/__init__.py",
        "repo_a/alpha/models/models.py",
        "repo_a/alpha/models/models.py",
    ]


def test_files_that_become_directories_between_the_commits(tmp_path: Path) -> None:
    """The old commit's listing is the new one with diff-tree's differences undone: a file that becomes a
    directory (and back), a removed sub-tree, names sorting around "/" (x, x.txt, x-y, x/)."""
    old = {"alpha": {**_good(), "extra": {"x": b"file", "x.txt": b"a", "x-y/z": b"b", "gone/a/b": b"c"}},
           "beta": {**_good(), "extra": {"y/inner": b"dir"}}}  # fmt: skip
    new = {"alpha": {**_good("17.0.1.1.0", MODELS[2]), "extra": {"x/inner": b"dir", "x.txt": b"a"}},
           "beta": {**_good(), "extra": {"y": b"file", "new/dir/f": b"d"}}}  # fmt: skip
    for first, second in ((old, new), (new, old)):
        kind, evidence = compare(tmp_path / str(len(list(tmp_path.iterdir()))), first, second)
        assert kind == "diff" and evidence["modules_changed"] == ["alpha", "beta"]


def test_the_trees_are_let_go_of_without_the_cycle_collector(tmp_path: Path) -> None:
    """A parser's recursive closure that held a reader kept a whole tree (tens of thousands of objects at
    real size) for the cycle collector; the trees now hold nothing once the diff is made."""
    import gc

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    first = commit_side(repo, {"alpha": _good(), "beta": _good()}, "one")
    second = commit_side(repo, {"alpha": _good("17.0.1.1.0", MODELS[2]), "beta": _good()}, "two")
    gc.collect()
    gc.disable()
    try:
        assert diff_commits(repo, first, second).modules_changed == ("alpha",)
        held = [o for o in gc.get_objects() if isinstance(o, commit_diff.BlobTree) and (o.ids or o.contents)]
    finally:
        gc.enable()
    assert held == []


def test_an_unchanged_addon_is_loaded_once_but_what_it_names_outside_is_read_in_each_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """alpha is the same directory in both commits (loaded once, its manifest checks shared), but its data
    file `../beta/views/v.xml` leaves it: that one exists in the first commit only."""
    from gitops.addons import discovery

    alpha = {**_good(), "data": ["views/v.xml", "../beta/views/v.xml", "missing.xml"]}
    old = {"alpha": alpha, "beta": _good()}
    new = {"alpha": alpha, "gamma": _good()}
    loaded: list[Path] = []
    original = discovery.load_addon

    def counting(path: Path, *args: Any, **kwargs: Any) -> Any:
        loaded.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(commit_diff, "load_addon", counting)
    kind, problems = compare(tmp_path, old, new)
    assert kind == "config-error"
    relative = [(p[0].rpartition("/repo_a/")[2], p[2]) for p in problems if "/new/" in p[0]]
    assert relative == [
        ("alpha/__manifest__.py", "data file '../beta/views/v.xml' does not exist"),
        ("alpha/__manifest__.py", "data file 'missing.xml' does not exist"),
    ]
    assert (
        loaded.count(Path("repo_a/alpha")) == 1
    )  # the repository-relative run: loaded for both commits once
    assert loaded.count(tmp_path / "new/repo_a/alpha") == 1  # apart displays: loaded per commit
