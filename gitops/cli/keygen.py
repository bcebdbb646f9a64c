"""`odoo-gitops keygen --output-dir DIR`: a cosign-compatible key pair (password from COSIGN_PASSWORD)."""

from __future__ import annotations

from pathlib import Path

import click

from gitops.cli.options import emit, json_option
from gitops.supply.signer import keygen


@click.command("keygen")
@click.option(
    "--output-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("."), show_default=True
)
@click.option("--force", is_flag=True, help="Overwrite an existing cosign.key / cosign.pub.")
@json_option
def keygen_command(output_dir: Path, force: bool, as_json: bool) -> None:
    """Write cosign.key (encrypted with $COSIGN_PASSWORD) and cosign.pub into the output directory."""
    result = keygen(output_dir, force=force)
    emit(
        result,
        as_json=as_json,
        human=f"wrote {result['private_key']} and {result['public_key']} (key id {result['key_id'][:16]}…)",
    )
