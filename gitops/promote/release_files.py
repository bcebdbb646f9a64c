"""The files an install changes in the config repository: the target's next release.yaml, and the image
fields and the chart's `release:` block in values.yaml and tenant files."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gitops.config.files import Files
from gitops.config.loader import ConfigRepo, EnvBundle
from gitops.config.models import ReleaseRecord
from gitops.config.release_file import read_back
from gitops.config.yamlsafe import decode_text
from gitops.errors import ConfigError
from gitops.gates.content import hash_files
from gitops.gates.policy import rule_name
from gitops.promote.edit import ChartRelease, ImageFields, edit_image_value, render_release
from gitops.promote.promotion import Install
from gitops.promote.pullfacts import allowed_path, release_path
from gitops.promote.run_state import RunState


def _previous(current: ReleaseRecord | None) -> dict[str, Any] | None:
    if current is None:
        return None
    if current.verification is not None:
        return {
            "image": current.image,
            "version": current.version,
            "source_commit": current.source_commit,
            "modules": {n: m.model_dump() for n, m in current.modules.items()},
            "schema_fingerprint": current.schema_fingerprint,
            "verification": current.verification.model_dump(exclude_defaults=True),
        }
    return current.previous.model_dump(exclude_defaults=True) if current.previous else None


def _dump(model: Any) -> dict[str, Any] | None:
    return model.model_dump(exclude_defaults=True) if model is not None else None


def new_release_data(current: ReleaseRecord | None, install: Install, run: RunState) -> dict[str, Any]:
    """The target's next release.yaml, keys in ReleaseRecord order (unchanged keys → unchanged lines).

    Every wave records its change class and destructive flag with its tenants (the gate binds approvals to
    them); a backup is recorded with what the PR installs (the env, or the wave's tenants)."""
    tenants = {
        t: s.model_dump(exclude_defaults=True) for t, s in (current.tenants if current else {}).items()
    }
    own_backup = run.backup if not install.completes_env else None
    for tenant in install.tenants:
        tenants[tenant] = {
            "image": install.image,
            "version": install.version,
            "change_class": install.schema.change_class,
            "destructive": install.schema.destructive or None,
            "promoted_at": run.promoted_at,
            "backup": _dump(own_backup),
        }
    if current is not None and not install.completes_env:
        data = current.model_dump(exclude_defaults=True)
        data.pop("tenants", None)
        data.pop("emergency", None)
        return {**data, "emergency": _dump(run.emergency), "tenants": tenants}
    return {
        "image": install.image,
        "version": install.version,
        "source_commit": install.source_commit,
        "modules": {n: m.model_dump() for n, m in sorted(install.modules.items())},
        "schema_fingerprint": install.schema.fingerprint,
        "change_class": install.schema.change_class,
        "destructive": install.schema.destructive or None,
        "promoted_from": install.source,
        "promoted_at": run.promoted_at,
        "backup": _dump(run.backup),
        "emergency": _dump(run.emergency),
        "previous": _previous(current),
        "tenants": tenants,
    }


def chart_release(target: EnvBundle, install: Install) -> ChartRelease:
    """The `release:` block the chart's hooks read: which modules to update, and whether to back up first."""
    return hooks_for(target, install, install.schema.change_class, install.schema.destructive)


def hooks_for(target: EnvBundle, install: Install, change_class: str, destructive: bool) -> ChartRelease:
    """`chart_release` of `install` were its schema diff of `change_class` (`destructive` or not)."""
    rule = target.config.gate_policy.rule(rule_name(change_class, destructive))
    schema_change = change_class != "standard" or destructive
    return ChartRelease(
        version=install.version,
        changed_modules=tuple(c.name for c in install.changes if c.change != "removed"),
        schema_change=schema_change,
        backup_required=destructive or bool(schema_change and rule and rule.require_backup),
    )


EditKey = tuple[str, bytes | None, ImageFields, ChartRelease, bool]
Edits = dict[EditKey, tuple[str, Any]]
"""Values and tenant files as edited: (path, bytes before, image, `release:` block, value before known) ->
(text, the value YAML reads from it or None). Filled ahead of time by `prepare_edits`."""


def edited_paths(target: EnvBundle, install: Install) -> list[str]:
    """The files `install` may change, release.yaml first."""
    rel_dir = target.dir.relative_to(target.dir.parents[1]).as_posix()
    paths = [f"{rel_dir}/release.yaml"]
    if install.completes_env:
        paths.append(f"{rel_dir}/values.yaml")
    paths += [f"{rel_dir}/tenants/{t}.yaml" for t in install.tenants]
    return paths


def _loaded_value(target: EnvBundle, path: str, raw: bytes | None, loaded: Files) -> Any:
    """The value the config load read from `path` when `raw` are the bytes it read (else None)."""
    tenant = path.rpartition("/tenants/")[2].removesuffix(".yaml") if "/tenants/" in path else None
    doc = target.tenant_values.get(tenant) if tenant is not None else target.values
    if doc is None or raw is None:
        return None
    try:
        same = loaded.read(path) == raw
    except (OSError, ValueError):
        return None
    return doc.data if same else None


def install_files(
    current: Mapping[str, bytes | None],
    target: EnvBundle,
    install: Install,
    release: dict[str, Any],
    *,
    read_backs: dict[str, Any] | None = None,
    loaded: Files | None = None,
    edits: Edits | None = None,
) -> dict[str, bytes]:
    """The files `install` changes, given the `current` bytes of its paths (`edited_paths`):
    release.yaml, the image fields and the chart's `release:` block of values.yaml and tenant files.
    `read_backs` (when given) receives each text written -> the value YAML reads from it, when that is
    certain without parsing: release.yaml's (gitops.config.release_file.read_back), and a values or tenant
    file's when `loaded` (the files the config was loaded from) holds the bytes it was edited from
    (gitops.promote.edit.edit_image_value). `edits`: files already edited (`prepare_edits`)."""
    release_path, *values_paths = edited_paths(target, install)
    wanted = {release_path: render_release(release)}
    if read_backs is not None and (value := read_back(release)) is not None:
        read_backs[wanted[release_path]] = value
    hooks = chart_release(target, install)
    known = loaded if read_backs is not None else None
    edited = _edit_values(values_paths, current, target, install, hooks=hooks, loaded=known, edits=edits)
    for path, (text, value) in edited.items():
        wanted[path] = text
        if read_backs is not None and value is not None:
            read_backs[text] = value
    changed = {path: text.encode("utf-8") for path, text in wanted.items()}
    return {path: data for path, data in changed.items() if data != current.get(path)}


def _edit_values(
    paths: list[str],
    current: Mapping[str, bytes | None],
    target: EnvBundle,
    install: Install,
    *,
    hooks: ChartRelease,
    loaded: Files | None,
    edits: Edits | None,
    stop: Callable[[], bool] | None = None,
) -> dict[str, tuple[str, Any]]:
    """Each values or tenant file of `paths` edited (from `edits` when there), until `stop()` says so."""
    image = ImageFields(*install.image.split("@", 1))
    edits = {} if edits is None else edits
    done: dict[str, tuple[str, Any]] = {}
    for n, path in enumerate(paths):
        if stop is not None and n % 50 == 0 and stop():
            break
        raw = current[path]
        key = (path, raw, image, hooks, loaded is not None)
        if key not in edits:
            before = _loaded_value(target, path, raw, loaded) if loaded is not None else None
            edits[key] = edit_image_value(
                decode_text(raw or b"", path), image, display=path, release=hooks, old_value=before
            )
        done[path] = edits[key]
    return done


def prepare_edits(
    current: Mapping[str, bytes | None],
    target: EnvBundle,
    install: Install,
    *,
    loaded: Files,
    edits: Edits,
    likely: tuple[str, bool],
    stop: Callable[[], bool],
) -> None:
    """Edit the values and tenant files of `install` into `edits` ahead of time, while its schema diff is not
    known yet, until `stop()`: for the `release:` blocks of the `likely` change class, destructive or not (the
    class the source's release recorded: the CPU is shared with the diff, a guess is not made for every
    class). A file that cannot be edited is left for `install_files` to report."""
    change, destructive = likely
    blocks = dict.fromkeys(
        hooks_for(target, install, change, flag) for flag in (destructive, not destructive)
    )
    paths = edited_paths(target, install)[1:]
    for hooks in blocks:
        try:
            _edit_values(paths, current, target, install, hooks=hooks, loaded=loaded, edits=edits, stop=stop)
        except ConfigError:
            return
        if stop():
            return


def written_content(
    repo: ConfigRepo,
    target: str,
    parent: Mapping[str, bytes | None],
    changed: Mapping[str, bytes],
    known: Mapping[str, Any] | None = None,
) -> str:
    """The content hash the gate computes (gitops.promote.pullfacts.head_content) of a commit that writes
    `changed` on top of a commit of main (its merge base with main is that parent, whose bytes of the
    paths a promotion edits are `parent`), without reading the commit back from git."""
    enabled = repo.env(target).config.enabled_tenants()
    head = {**parent, **changed}
    wanted = sorted({release_path(target), *(p for p in changed if allowed_path(target, p, enabled))})
    texts = {p: raw.decode("utf-8", "replace") if (raw := head.get(p)) is not None else None for p in wanted}
    return hash_files(
        texts,
        release_path=release_path(target),
        known=known,
    )
