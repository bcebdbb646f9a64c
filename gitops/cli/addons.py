"""`odoo-gitops addons checksums DIR` and `odoo-gitops addons diff OLD_DIR NEW_DIR`."""

from __future__ import annotations

from pathlib import Path

import click

from gitops.addons.changes import to_jsonable
from gitops.addons.checksums import DEFAULT_EXCLUDES, ModuleFacts, compute_checksums, parse_exclude_patterns
from gitops.addons.core import SUPPORTED_SERIES
from gitops.addons.diff import AddonsDiff, diff_addons
from gitops.addons.discovery import discover
from gitops.cli.options import emit, json_option, print_report
from gitops.errors import PolicyError, Report

_DIR = click.Path(exists=True, file_okay=False, path_type=Path)
_series_option = click.option(
    "--series",
    type=click.Choice(SUPPORTED_SERIES),
    default=None,
    help="Odoo series the manifests must target (default: inferred from versions).",
)
_known_option = click.option(
    "--known-module",
    "known_modules",
    multiple=True,
    metavar="NAME",
    help="A module that may be depended on without being in the tree (repeatable).",
)
_exclude_option = click.option(
    "--exclude-patterns",
    default=",".join(DEFAULT_EXCLUDES),
    show_default=True,
    help="Comma-separated fnmatch patterns, as module_auto_update.exclude_patterns.",
)


@click.group(name="addons")
def addons() -> None:
    """Module facts (versions, checksums) and the static schema diff of a release."""


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return str(path)


def _checksums_text(facts: dict[str, ModuleFacts]) -> str:
    return "\n".join(f"{f.checksum}  {name} {f.version}" for name, f in facts.items())


@addons.command(name="checksums")
@click.argument("directory", type=_DIR)
@_series_option
@_known_option
@_exclude_option
@click.option(
    "--lang",
    "langs",
    multiple=True,
    metavar="CODE",
    help="Active language of the target database (repeatable); only their .po files count, as in "
    "click-odoo-update. Default: every .po file counts.",
)
@json_option
def checksums(
    *,
    directory: Path,
    series: str | None,
    known_modules: tuple[str, ...],
    exclude_patterns: str,
    langs: tuple[str, ...],
    as_json: bool,
) -> None:
    """Print version and click-odoo-update checksum of every addon under DIRECTORY."""
    tree = discover([directory], series=series, known_modules=known_modules)
    patterns = parse_exclude_patterns(exclude_patterns)
    facts = compute_checksums(tree, exclude_patterns=patterns, keep_langs=langs)
    data = {
        "series": tree.series,
        "exclude_patterns": list(patterns),
        "addons": {name: {**f.to_dict(), "path": _relative(f.path, directory)} for name, f in facts.items()},
    }
    emit(data, as_json=as_json, human=lambda: _checksums_text(facts))


def _before_after(before: object, after: object) -> str:
    if before is None and after is None:
        return ""
    if before is None:
        return f" {to_jsonable(after)}"
    if after is None:
        return f" (was {to_jsonable(before)})"
    return f" {to_jsonable(before)} → {to_jsonable(after)}"


def _diff_text(diff: AddonsDiff) -> str:
    lines = [
        f"change class: {diff.change_class}{' (destructive)' if diff.destructive else ''}",
        f"schema fingerprint: {diff.schema_fingerprint}",
        f"modules: {len(diff.modules_changed)} changed, {len(diff.modules_added)} added, "
        f"{len(diff.modules_removed)} removed",
    ]
    for change in diff.changes:
        target = ".".join(filter(None, (change.model, change.field)))
        detail = _before_after(change.before, change.after)
        lines.append(
            f"  [{change.severity}] {change.module}: {change.kind}{' ' + target if target else ''}{detail}"
            f"{' — ' + change.message if change.message else ''}"
        )
    for script in diff.migration_scripts:
        lines.append(f"  migration {script.module}: {script.path}")
    lines.extend(f"error: {error.render()}" for error in diff.errors)
    return "\n".join(lines)


@addons.command(name="diff")
@click.argument("old_dir", type=_DIR)
@click.argument("new_dir", type=_DIR)
@_series_option
@_known_option
@_exclude_option
@json_option
def diff(
    *,
    old_dir: Path,
    new_dir: Path,
    series: str | None,
    known_modules: tuple[str, ...],
    exclude_patterns: str,
    as_json: bool,
) -> None:
    """What the addons in NEW_DIR change against OLD_DIR; exit 3 when a consistency rule is broken."""
    result = diff_addons(
        [old_dir],
        [new_dir],
        series=series,
        known_modules=known_modules,
        exclude_patterns=parse_exclude_patterns(exclude_patterns),
    )
    report = Report(data=result.to_dict(), text=lambda: _diff_text(result))
    if result.errors:
        raise PolicyError("the addons break a consistency rule", report=report)
    print_report(report, as_json=as_json)
