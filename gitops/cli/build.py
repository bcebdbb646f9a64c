"""`odoo-gitops build ADDONS_DIR --base IMAGE@sha256:… --repository REG/REPO [--push]`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from gitops.cli.options import emit, info, json_option
from gitops.errors import UsageError
from gitops.image.build import BuildRequest, BuildResult, build
from gitops.supply.signer import sign_build


def render_build(result: BuildResult) -> str:
    state = "pushed" if result.pushed else "built (not pushed; add --push)"
    lines = [
        f"{state}: {result.image}",
        f"version {result.version}  revision {result.revision[:12]}  method {result.method}",
        f"tags: {', '.join(result.tags)}",
        "modules: " + ", ".join(f"{n} {m['version']}" for n, m in result.modules.items()),
    ]
    return "\n".join(lines)


@click.command("build")
@click.argument("addons_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--base", required=True, metavar="IMAGE@sha256:…", help="Base Odoo image, pinned by digest.")
@click.option("--repository", required=True, metavar="REG/REPO", help="Where the image goes.")
@click.option("--push", is_flag=True, help="Push blobs, manifest and tags to the registry.")
@click.option("--allow-floating-base", is_flag=True, help="Accept a base given by tag (recorded in labels).")
@click.option("--platform", default="linux/amd64", show_default=True, help="Platform picked from an index.")
@click.option("--system-package", "system_packages", multiple=True, help="apt package to install (engine).")
@click.option(
    "--key",
    "key_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="With --push: sign the image and attach SLSA provenance (password from COSIGN_PASSWORD).",
)
@click.option("--timeout", default=60.0, show_default=True, help="Seconds per registry/engine request.")
@json_option
def build_command(  # noqa: PLR0917 (click passes options positionally)
    addons_dir: Path,
    base: str,
    repository: str,
    push: bool,
    allow_floating_base: bool,
    platform: str,
    system_packages: tuple[str, ...],
    key_path: Path | None,
    timeout: float,
    as_json: bool,
) -> None:
    """Build the Odoo image holding the addons in ADDONS_DIR on top of a pinned base image."""
    if key_path and not push:
        raise UsageError("--key signs the pushed image: add --push")
    started = datetime.now(UTC)
    if not push:
        info("note: without --push nothing is uploaded; the digest is what a push would produce")
    result = build(
        BuildRequest(
            addons_dir=addons_dir,
            base=base,
            repository=repository,
            push=push,
            allow_floating_base=allow_floating_base,
            platform=platform,
            system_packages=system_packages,
            timeout=timeout,
        )
    )
    data = result.to_dict()
    if key_path:
        data["signature"] = sign_build(result, key_path, started=started, timeout=timeout).to_dict()
    emit(data, as_json=as_json, human=lambda: render_build(result))
