"""`odoo-gitops verify-signature IMAGE@DIGEST --key PUB`: exit 3 unless a valid signature covers it."""

from __future__ import annotations

from pathlib import Path

import click

from gitops.cli.options import json_option, print_report
from gitops.errors import PolicyError, Report
from gitops.supply.signer import verify_signature


@click.command("verify-signature")
@click.argument("image")
@click.option("--key", "public_key", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--timeout", default=30.0, show_default=True, help="Seconds per registry request.")
@json_option
def verify_signature_command(image: str, public_key: Path, timeout: float, as_json: bool) -> None:
    """Check the cosign signatures of IMAGE against the public key."""
    evidence = verify_signature(image, public_key, timeout=timeout)
    verdict = "verified" if evidence.ok else "NOT verified"
    report = Report(
        data={"image": image, **evidence.to_dict()}, text=f"{verdict}: {image}\n  {evidence.reason}"
    )
    if not evidence.ok:
        raise PolicyError(f"no valid signature covers {image}", report=report)
    print_report(report, as_json=as_json)
