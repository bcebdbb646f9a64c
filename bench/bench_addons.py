"""Benchmark: addon checksums vs click-odoo-contrib's addon_hash, and a full static diff of two trees.

Generates a tree of 320 addons (~21,000 files: models, views, data, i18n, static assets, tests, migrations),
a copy with 10 changed modules, then measures in the same run:
  1. our checksums vs click-odoo-contrib `_addon_hash.addon_hash` over the same addon directories
     (results must be identical), on the realistic tree and with nothing excluded (every file hashed);
  2. `diff_addons(old, new)` end to end (discovery + checksums of both trees + parsing changed modules),
     printed with its ratio to the checksum-only time of one tree.
Run: /work/venv/bin/python bench/bench_addons.py [--addons N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from click_odoo_contrib._addon_hash import addon_hash

from gitops.addons.checksums import DEFAULT_EXCLUDES, addon_checksum
from gitops.addons.diff import AddonsDiff, diff_addons
from gitops.addons.discovery import discover

LANGS = ("fr", "de", "es", "it", "nl", "pt_BR", "zh_CN", "ja")
FIELD_TYPES = (
    "Char()",
    "Text()",
    "Integer()",
    "Float(digits=(16, 2))",
    "Boolean()",
    "Date()",
    "Many2one('res.partner', ondelete='set null')",
    "Selection([('a', 'A'), ('b', 'B')])",
)


def _blob(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(size)


_WORDS = ("record", "field", "model", "partner", "invoice", "line", "amount", "state", "name", "value", "é")
_CORPUS = " ".join(random.Random(1).choice(_WORDS) for _ in range(200_000))


def _text(rng: random.Random, size: int) -> str:
    start = rng.randrange(len(_CORPUS) - size)
    return _CORPUS[start : start + size] + "\n"


def _models_source(module: str, index: int, rng: random.Random, extra_fields: int = 0) -> str:
    lines = ["from odoo import api, fields, models", "", ""]
    lines += [
        f"class Model{index}(models.Model):",
        f'    _name = "{module}.model{index}"',
        f'    _description = "Model {index}"',
        "",
    ]
    for n in range(12 + extra_fields):
        lines.append(f"    field_{n} = fields.{FIELD_TYPES[(n + index) % len(FIELD_TYPES)]}")
    lines += ["", "    def action_do(self):", "        for rec in self:", "            rec.name = 'x'", ""]
    lines += [f"    def helper_{k}(self):\n        return {k}\n" for k in range(rng.randint(3, 10))]
    return "\n".join(lines) + "\n"


def _manifest(name: str, version: str, depends: list[str], data: list[str]) -> str:
    return (
        f"{{\n    'name': '{name}',\n    'version': '{version}',\n    'depends': {depends!r},\n"
        f"    'data': {data!r},\n    'license': 'AGPL-3',\n    'installable': True,\n}}\n"
    )


def write_addon(root: Path, name: str, index: int, rng: random.Random, names: list[str]) -> int:
    """One realistic addon: ~66 files. Returns the number of files written."""
    path = root / name
    files: dict[str, bytes | str] = {"__init__.py": "from . import models\n", "README.rst": _text(rng, 2000)}
    n_models = rng.randint(4, 8)
    files["models/__init__.py"] = "".join(f"from . import model_{m}\n" for m in range(n_models))
    for m in range(n_models):
        files[f"models/model_{m}.py"] = _models_source(name, m, rng)
        files[f"views/model_{m}_views.xml"] = "<odoo>\n" + _text(rng, rng.randint(1500, 5000)) + "</odoo>\n"
    files["security/ir.model.access.csv"] = "id,name,model_id:id\n" + _text(rng, 600)
    files["data/data.xml"] = '<odoo noupdate="1">\n' + _text(rng, 800) + "</odoo>\n"
    for lang in LANGS:
        files[f"i18n/{lang}.po"] = _text(rng, rng.randint(5000, 30000))
    files[f"i18n/{name}.pot"] = _text(rng, 8000)
    for k in range(rng.randint(14, 22)):
        files[f"static/src/js/widget_{k}.js"] = _text(rng, rng.randint(500, 6000))
    for k in range(rng.randint(4, 8)):
        files[f"static/src/scss/style_{k}.scss"] = _text(rng, 700)
        files[f"static/src/xml/tmpl_{k}.xml"] = _text(rng, 900)
    files["static/description/icon.png"] = _blob(rng, 6000)
    files["static/description/index.html"] = _text(rng, 3000)
    for k in range(rng.randint(4, 8)):
        files[f"tests/test_{k}.py"] = _text(rng, 2500)
    files["tests/__init__.py"] = ""
    for k in range(2):
        files[f"readme/{('DESCRIPTION', 'USAGE')[k]}.md"] = _text(rng, 400)
    files["migrations/17.0.1.0.0/post-migrate.py"] = "def migrate(cr, version):\n    pass\n"
    data = [
        "security/ir.model.access.csv",
        "data/data.xml",
        *[f"views/model_{m}_views.xml" for m in range(n_models)],
    ]
    depends = ["base", "mail", *rng.sample(names[:index], min(index, rng.randint(0, 3)))]
    files["__manifest__.py"] = _manifest(name, "17.0.1.0.0", depends, data)
    for relpath, content in files.items():
        target = path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return len(files)


def generate(root: Path, count: int) -> tuple[list[str], int]:
    rng = random.Random(42)
    names = [f"custom_{rng.choice(('sale', 'stock', 'hr', 'account', 'crm'))}_{i:03d}" for i in range(count)]
    total = sum(write_addon(root / f"repo_{i % 6}", name, i, rng, names) for i, name in enumerate(names))
    return names, total


def change_modules(root: Path, names: list[str], count: int) -> None:
    """Edit `count` modules: new stored fields, a removed field with a migration script, a version bump."""
    rng = random.Random(7)
    for name in rng.sample(names, count):
        path = next(root.glob(f"repo_*/{name}"))
        model = path / "models" / "model_0.py"
        source = model.read_text().replace("    field_3 = ", "    field_3_renamed = ")
        model.write_text(
            source.replace("    def action_do", "    extra = fields.Char(index=True)\n\n    def action_do")
        )
        manifest = path / "__manifest__.py"
        manifest.write_text(manifest.read_text().replace("17.0.1.0.0", "17.0.1.1.0"))
        script = path / "migrations" / "17.0.1.1.0" / "pre-migrate.py"
        script.parent.mkdir(parents=True)
        script.write_text("def migrate(cr, version):\n    cr.execute('ALTER TABLE x RENAME COLUMN a TO b')\n")


def timed(func: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def measure(repeat: int, cases: dict[str, Callable[[], object]]) -> dict[str, tuple[float, object]]:
    """Best time of each case; rounds interleave the cases so that load changes hit them alike."""
    best: dict[str, tuple[float, object]] = {}
    for _ in range(repeat):
        for name, func in cases.items():
            elapsed, result = timed(func)
            if name not in best or elapsed < best[name][0]:
                best[name] = (elapsed, result)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--addons", type=int, default=320)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-addons-") as tmp:
        old, new = Path(tmp) / "old", Path(tmp) / "new"
        names, files = generate(old, args.addons)
        shutil.copytree(old, new, symlinks=True)
        change_modules(new, names, args.changed)
        paths = [addon.path for addon in discover([old]).addons.values()]
        print(
            f"tree: {len(paths)} addons, {files} files per tree; {args.changed} modules changed in the copy"
        )
        print(
            f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (times are best of "
            f"{args.repeat} interleaved rounds)"
        )
        patterns = list(DEFAULT_EXCLUDES)
        best = measure(
            args.repeat,
            {
                "ours": lambda: [addon_checksum(p) for p in paths],
                "reference": lambda: [addon_hash(str(p), patterns, []) for p in paths],
                "ours_all": lambda: [addon_checksum(p, ()) for p in paths],
                "reference_all": lambda: [addon_hash(str(p), [], []) for p in paths],
                "diff": lambda: diff_addons([old], [new], series="17.0"),
            },
        )
        if best["ours"][1] != best["reference"][1] or best["ours_all"][1] != best["reference_all"][1]:
            raise SystemExit("FAIL: checksums differ from click-odoo-contrib's addon_hash")
        ours, ref = best["ours"][0], best["reference"][0]
        ours_all, ref_all = best["ours_all"][0], best["reference_all"][0]
        print(
            f"checksums, default excludes: ours {ours:.3f} s, click-odoo-contrib addon_hash {ref:.3f} s, "
            f"ratio {ours / ref:.2f} (target <= 1.0); results identical"
        )
        print(
            f"checksums, nothing excluded: ours {ours_all:.3f} s, addon_hash {ref_all:.3f} s, "
            f"ratio {ours_all / ref_all:.2f}; results identical"
        )
        diff_time, diff = best["diff"]
        assert isinstance(diff, AddonsDiff)
        assert len(diff.modules_changed) == args.changed and not diff.errors, diff.to_dict()["errors"]
        print(
            f"full diff (discover + checksums of both trees + parse the {len(diff.modules_changed)} changed "
            f"modules): {diff_time:.3f} s (target < 2 s), ratio to checksum-only of one tree "
            f"{diff_time / ours:.2f}; {len(diff.changes)} changes, class {diff.change_class}, "
            f"destructive {diff.destructive}"
        )
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
