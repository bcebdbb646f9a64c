"""`odoo-gitops sign IMAGE@DIGEST --key KEY`: add a cosign signature under `sha256-<hex>.sig`."""

from __future__ import annotations

from pathlib import Path

import click

from gitops.cli.options import emit, json_option
from gitops.supply.signer import sign


@click.command("sign")
@click.argument("image")
@click.option("--key", "key_path", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--timeout", default=30.0, show_default=True, help="Seconds per registry request.")
@json_option
def sign_command(image: str, key_path: Path, timeout: float, as_json: bool) -> None:
    """Sign IMAGE (pinned by digest) with a cosign private key (password from COSIGN_PASSWORD)."""
    result = sign(image, key_path, timeout=timeout)
    done = "signed" if result.added else "already signed with this key:"
    emit(result.to_dict(), as_json=as_json, human=f"{done} {result.image} ({result.tag})")
