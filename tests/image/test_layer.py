"""The deterministic addons layer."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest

from gitops.errors import ConfigError
from gitops.image.layer import ExtraFile, build_layer


def make_module(root: Path) -> Path:
    module = root / "my_module"
    (module / "models").mkdir(parents=True)
    (module / "__manifest__.py").write_text("{'name': 'x', 'version': '18.0.1.0.0'}\n")
    (module / "models" / "b.py").write_text("b = 1\n")
    (module / "models" / "a.py").write_text("a = 1\n")
    (module / "models" / "__pycache__").mkdir()
    (module / "models" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    script = module / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o775)
    (module / "models" / "a.py").chmod(0o600)
    return module


def layer_for(module: Path, mtime: int = 1_750_000_000):
    return build_layer(
        modules=[("my_module", module)],
        target_dir="/opt/odoo/custom-addons",
        extra_files=[ExtraFile("/etc/odoo/odoo.conf", b"[options]\n")],
        mtime=mtime,
    )


def members(blob: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob))) as tar:
        return tar.getmembers()


def test_entries_sorted_normalised_and_pycache_skipped(tmp_path: Path) -> None:
    module = make_module(tmp_path)
    entries = members(layer_for(module).blob)
    names = [m.name for m in entries]
    assert names == [
        "opt",
        "opt/odoo",
        "opt/odoo/custom-addons",
        "opt/odoo/custom-addons/my_module",
        "opt/odoo/custom-addons/my_module/__manifest__.py",
        "opt/odoo/custom-addons/my_module/models",
        "opt/odoo/custom-addons/my_module/models/a.py",
        "opt/odoo/custom-addons/my_module/models/b.py",
        "opt/odoo/custom-addons/my_module/run.sh",
        "etc/odoo/odoo.conf",
    ]
    modes = {m.name.rsplit("/", 1)[-1]: m.mode for m in entries}
    assert modes["a.py"] == 0o644 and modes["run.sh"] == 0o755 and modes["models"] == 0o755
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in entries} == {(0, 0, "", "", 1_750_000_000)}


def test_same_input_same_digest_regardless_of_file_times(tmp_path: Path) -> None:
    module = make_module(tmp_path)
    first = layer_for(module)
    for path in module.rglob("*"):
        os.utime(path, (1, 1))
    second = layer_for(module)
    assert (first.digest, first.diff_id) == (second.digest, second.diff_id)
    (module / "models" / "b.py").write_text("b = 2\n")
    assert layer_for(module).digest != first.digest
    assert layer_for(make_module(tmp_path / "copy")).digest == first.digest


def _by_name(blob: bytes) -> dict[str, tarfile.TarInfo]:
    return {m.name.removeprefix("opt/odoo/custom-addons/"): m for m in members(blob)}


def _file_bytes(blob: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob))) as tar:
        handle = tar.extractfile(f"opt/odoo/custom-addons/{name}")
        assert handle is not None
        return handle.read()


def test_links_inside_the_addon_stay_links_links_elsewhere_in_the_tree_become_copies(tmp_path: Path) -> None:
    tree = tmp_path / "addons"
    module = make_module(tree)
    (tree / "LICENSE").write_text("LGPL\n")
    (module / "models" / "alias.py").symlink_to("a.py")
    (module / "views").symlink_to("models", target_is_directory=True)
    (module / "LICENSE").symlink_to("../LICENSE")
    layer = build_layer(
        modules=[("my_module", module)],
        target_dir="/opt/odoo/custom-addons",
        extra_files=[],
        mtime=1,
        tree=tree,
    )
    entries = _by_name(layer.blob)
    assert (entries["my_module/models/alias.py"].type, entries["my_module/models/alias.py"].linkname) == (
        tarfile.SYMTYPE,
        "a.py",
    )
    assert (entries["my_module/views"].type, entries["my_module/views"].linkname) == (
        tarfile.SYMTYPE,
        "models",
    )
    assert entries["my_module/LICENSE"].type == tarfile.REGTYPE
    assert _file_bytes(layer.blob, "my_module/LICENSE") == b"LGPL\n"
    assert "LICENSE" not in entries  # only the addon ships, not the rest of the tree


def test_symlinked_addon_directory_ships_as_a_directory(tmp_path: Path) -> None:
    tree = tmp_path / "addons"
    real = make_module(tree / "src")
    (tree / "my_module").symlink_to(real, target_is_directory=True)
    layer = build_layer(
        modules=[("my_module", tree / "my_module")],
        target_dir="/opt/odoo/custom-addons",
        extra_files=[],
        mtime=1,
        tree=tree,
    )
    entries = _by_name(layer.blob)
    assert entries["my_module"].type == tarfile.DIRTYPE
    assert entries["my_module/models/a.py"].type == tarfile.REGTYPE


@pytest.mark.parametrize("tree_given", [True, False])
def test_a_link_out_of_the_tree_is_refused_naming_it(tmp_path: Path, tree_given: bool) -> None:
    tree = tmp_path / "addons"
    module = make_module(tree)
    (tmp_path / "host-secret").write_bytes(b"HOST-ONLY")
    (module / "models" / "leak.py").symlink_to(tmp_path / "host-secret")
    with pytest.raises(ConfigError) as exc:
        build_layer(
            modules=[("my_module", module)],
            target_dir="/opt",
            extra_files=[],
            mtime=1,
            tree=tree if tree_given else None,
        )
    expected = "my_module/models/leak.py" if tree_given else "models/leak.py"
    assert [(p.file, p.line) for p in exc.value.problems] == [(expected, 0)]
    assert "leads out of the addons tree" in exc.value.problems[0].message
    assert exc.value.exit_code == 2


def test_without_a_tree_a_link_to_a_sibling_is_out_of_bounds(tmp_path: Path) -> None:
    module = make_module(tmp_path / "addons")
    (tmp_path / "addons" / "LICENSE").write_text("LGPL\n")
    (module / "LICENSE").symlink_to("../LICENSE")
    with pytest.raises(ConfigError, match="leads out of the addons tree"):
        layer_for(module)


def test_symlinked_addon_out_of_the_tree_is_refused(tmp_path: Path) -> None:
    real = make_module(tmp_path / "elsewhere")
    tree = tmp_path / "addons"
    tree.mkdir()
    (tree / "my_module").symlink_to(real, target_is_directory=True)
    with pytest.raises(ConfigError, match="symlinked addon directory leads out"):
        build_layer(
            modules=[("my_module", tree / "my_module")], target_dir="/opt", extra_files=[], mtime=1, tree=tree
        )


def test_engine_build_context_holds_the_same_entries_as_the_daemonless_layer(tmp_path: Path) -> None:
    from gitops.image.build import _write_context
    from gitops.image.modules import Module

    tree = tmp_path / "addons"
    module = make_module(tree)
    (tree / "LICENSE").write_text("LGPL\n")
    (module / "LICENSE").symlink_to("../LICENSE")
    (module / "models" / "alias.py").symlink_to("a.py")
    context = tmp_path / "context"
    context.mkdir()
    _write_context(
        context,
        modules=[Module(name="my_module", version="18.0.1.0.0", checksum="x", path=module)],
        tree=tree,
        conf=b"",
        dockerfile="FROM scratch\n",
        requirements=(),
    )
    layer = build_layer(
        modules=[("my_module", module)],
        target_dir="/opt/odoo/custom-addons",
        extra_files=[],
        mtime=1,
        tree=tree,
    )
    shipped = _by_name(layer.blob)
    on_disk = {
        f"my_module/{p.relative_to(context / 'addons' / 'my_module').as_posix()}": p
        for p in (context / "addons" / "my_module").rglob("*")
    }
    assert set(on_disk) == set(shipped) - {"opt", "opt/odoo", "opt/odoo/custom-addons", "my_module"}
    for name, path in on_disk.items():
        if shipped[name].issym():
            assert os.readlink(path) == shipped[name].linkname
        elif shipped[name].isfile():
            assert not path.is_symlink() and path.read_bytes() == _file_bytes(layer.blob, name)
    assert (context / "addons" / "my_module" / "LICENSE").read_text() == "LGPL\n"


def test_engine_build_context_refuses_a_link_out_of_the_tree(tmp_path: Path) -> None:
    from gitops.image.build import _write_context
    from gitops.image.modules import Module

    tree = tmp_path / "addons"
    module = make_module(tree)
    (tmp_path / "host-secret").write_text("HOST-ONLY")
    (module / "leak.txt").symlink_to(tmp_path / "host-secret")
    context = tmp_path / "context"
    context.mkdir()
    with pytest.raises(ConfigError, match="leads out of the addons tree"):
        _write_context(
            context,
            modules=[Module(name="my_module", version="18.0.1.0.0", checksum="x", path=module)],
            tree=tree,
            conf=b"",
            dockerfile="",
            requirements=(),
        )
    assert not any(p.read_bytes() == b"HOST-ONLY" for p in context.rglob("*") if p.is_file())
