"""The deterministic addons layer."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

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
