"""`odoo-gitops scan IMAGE@DIGEST [--env ENV | --policy FILE] [--sarif FILE] [--attest --key KEY]`."""

from __future__ import annotations

from pathlib import Path

import click

from gitops.cli.options import config_repo_option, json_option, print_report
from gitops.errors import PolicyError, Report, UsageError
from gitops.supply.policyfile import resolve_policy
from gitops.supply.scan import ScanOutcome, ScanRequest, scan


def render_scan(outcome: ScanOutcome) -> str:
    lines = [
        f"{'PASSED' if outcome.verdict.passed else 'FAILED'}: {outcome.report.image}"
        f" (policy {outcome.policy_source})",
        outcome.report.summary(),
    ]
    lines += [f"  - {r}" for r in outcome.verdict.reasons()]
    if outcome.attested:
        lines.append("signed scan attestation stored next to the image")
    return "\n".join(lines)


@click.command("scan")
@click.argument("image")
@click.option("--env", "env", default=None, help="Judge with this environment's scan_policy (config repo).")
@click.option("--policy", "policy_file", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.option(
    "--sarif", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write SARIF here."
)
@click.option("--attest", is_flag=True, help="Store a passing result as a signed attestation (needs --key).")
@click.option("--key", "key_path", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.option("--timeout", default=900.0, show_default=True, help="Seconds trivy may take.")
@config_repo_option
@json_option
def scan_command(  # noqa: PLR0917 (click passes options positionally)
    image: str,
    env: str | None,
    policy_file: Path | None,
    sarif: Path | None,
    attest: bool,
    key_path: Path | None,
    timeout: float,
    config_repo: str,
    as_json: bool,
) -> None:
    """Scan IMAGE (pinned by digest) with trivy and judge the findings; exit 3 when the policy fails."""
    if attest and not key_path:
        raise UsageError("--attest needs --key KEY (the cosign private key)")
    policy, source = resolve_policy(policy_file=policy_file, env=env, config_repo=config_repo)
    outcome = scan(
        ScanRequest(
            image=image,
            policy=policy,
            policy_source=source,
            sarif=sarif,
            attest_key=key_path if attest else None,
            timeout=timeout,
        )
    )
    report = Report(data=outcome.to_dict(), text=lambda: render_scan(outcome))
    if not outcome.verdict.passed:
        raise PolicyError(f"the scan of {image} fails its policy", report=report)
    print_report(report, as_json=as_json)
