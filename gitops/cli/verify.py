"""`odoo-gitops verify ENV --revision SHA`: wait until Argo CD / Flux reconciled SHA and the release runs."""

from __future__ import annotations

from pathlib import Path

import click

from gitops.cli.options import config_repo_option, info, json_option, print_report
from gitops.verify.service import VerifyOptions, verify


@click.command("verify")
@click.argument("env")
@click.option(
    "--revision", required=True, metavar="SHA", help="The promotion's merge commit on the config repo."
)
@click.option(
    "--timeout", type=float, default=600.0, show_default=True, help="Seconds to wait before giving up."
)
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), help="Kubeconfig file.")
@click.option("--context", help="Kubeconfig context (default: cluster.context in env.yaml).")
@click.option("--branch", default="main", show_default=True, help="The config repo's branch.")
@click.option("--no-record", "no_record", is_flag=True, help="Do not write the verification back.")
@click.option(
    "--push",
    is_flag=True,
    help="Commit and push the record in a local --config-repo (a URL is always committed and pushed).",
)
@config_repo_option
@json_option
def verify_command(  # noqa: PLR0917 (click passes options as arguments)
    env: str,
    revision: str,
    timeout: float,
    kubeconfig: Path | None,
    context: str | None,
    branch: str,
    no_record: bool,
    push: bool,
    config_repo: str,
    as_json: bool,
) -> None:
    """Wait until ENV reconciled --revision and runs the release digest. Exit 4 if not, 1 if the API fails."""
    info(f"verifying {env} at {revision[:12]} (timeout {timeout:g}s)…")
    report = verify(
        VerifyOptions(
            env=env,
            revision=revision,
            timeout=timeout,
            kubeconfig=kubeconfig,
            context=context,
            config_repo=config_repo,
            record=not no_record,
            push=push,
            branch=branch,
        )
    )
    print_report(report.report(), as_json=as_json)
