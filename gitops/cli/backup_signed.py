"""Which backup `backup restore` may restore: only one whose manifest's signature verifies with the backup
key (`--public-key`, or the source environment's `signing.public_key`), whose signed manifest names it
(not an older backup replayed under a newer name) and whose bytes match the manifest. A manifest swapped
after its rehearsal is refused before anything is restored (exit 3)."""

from __future__ import annotations

from pathlib import Path

from gitops.cli.options import info
from gitops.config.loader import load_config
from gitops.database.backups import check_backup, manifest_path, read_manifest
from gitops.errors import PolicyError, UsageError, VerificationError
from gitops.supply import blob_signature, keys

LATEST_VERIFIED = "latest-verified"
_SUFFIX = ".manifest.json"


def manifest_key(config_root: Path, env: str, public_key: Path | None) -> bytes:
    """The public key ENV's backup manifests are signed with: --public-key, else env.yaml's
    `signing.public_key` (as on the config repository's main)."""
    if public_key is not None:
        return keys.read_public_key(public_key)
    signing = load_config(config_root).env(env).config.signing
    if signing is None:
        raise UsageError(
            f"envs/{env}/env.yaml sets no signing.public_key: the backup manifest's signature cannot be "
            "checked", hint="set signing.public_key, or pass --public-key",
        )  # fmt: skip
    return keys.read_public_key(config_root / signing.public_key)


def restore_key(config_root: Path, *, public_key: Path | None, source_env: str | None) -> bytes:
    """The public key the restored backup's manifest must be signed with."""
    if public_key is None and source_env is None:
        raise UsageError(
            "backup restore needs the key the backup's manifest is signed with",
            hint="pass --public-key FILE, or --source-env ENV (its env.yaml signing.public_key)",
        )
    return manifest_key(config_root, source_env or "", public_key)


def check_signed(backup: Path, pem: bytes) -> str:
    """The key id that signed `backup`'s manifest; PolicyError (exit 3) when the signature is missing or
    bad, or the signed manifest is another backup's."""
    key_id = blob_signature.verify_file(manifest_path(backup), pem, what="backup manifest")
    named = read_manifest(backup).file
    if named != backup.name:
        raise PolicyError(
            f"{manifest_path(backup).name}: the signed manifest is for {named!r}, not {backup.name!r} "
            "(renamed or replayed)"
        )
    return key_id


def signed_backup(backup: Path, pem: bytes) -> Path:
    """`backup` once its signature holds (its bytes are checked by the restore), or for DIR/latest-verified
    the newest backup in DIR whose signature and bytes hold. None there: exit 3 when a signature was refused,
    else 4; nothing is restored either way."""
    keys.load_public_key(pem, where="the backup key")  # a bad key is a usage error, not a refused backup
    if backup.name != LATEST_VERIFIED:
        check_signed(backup, pem)
        return backup
    refused: list[str] = []
    for candidate in newest_first(backup.parent):
        try:
            check_signed(candidate, pem)
            check_backup(candidate)
        except PolicyError as exc:
            refused.append(exc.message)
            info(f"skipped {candidate.name}: {exc.message}")
            continue
        except (VerificationError, UsageError) as exc:
            info(f"skipped {candidate.name}: {exc.message}")
            continue
        return candidate
    folder = backup.parent
    if refused:
        why = f"{folder}: no backup with a valid signature (for {LATEST_VERIFIED})"
        raise PolicyError(why, reasons=refused)
    raise VerificationError(f"{folder}: no backup whose bytes match its manifest (for {LATEST_VERIFIED})")


def newest_first(folder: Path) -> list[Path]:
    """The backups in `folder` that have a manifest, the newest manifest first."""
    found = [p for p in folder.glob(f"*{_SUFFIX}") if p.is_file() and not p.name.startswith(".")]
    found.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    return [p.with_name(p.name[: -len(_SUFFIX)]) for p in found]
